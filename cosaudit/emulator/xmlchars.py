"""Characters an XML 1.0 document cannot carry, and what the emulator does with them.

``xmlcodec.build`` escapes markup but cannot make ``\\x01`` legal: one such character in an answer
makes the whole body unparsable. So the emulator never echoes one (documented choices):

* request inputs it echoes — ``DataId``, ``UserInfo`` fields, object keys, URLs (in an XML body,
  a query or the path) — are refused with 400 ``InvalidArgument``;
* text it extracts from images and web pages has them replaced by U+FFFD before it is judged
  and echoed;
* error bodies replace them in ``Message`` and ``Resource``.

>>> replace_illegal("a\\x01b")
'a\\ufffdb'
"""

from __future__ import annotations

import re

__all__ = ["ILLEGAL", "REPLACEMENT", "has_illegal", "replace_illegal"]

# C0 controls but tab, LF and CR; lone surrogates; the non-characters U+FFFE and U+FFFF.
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def has_illegal(text: str) -> bool:
    """Whether ``text`` holds a character XML 1.0 cannot carry."""
    return ILLEGAL.search(text) is not None


def replace_illegal(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return ILLEGAL.sub(REPLACEMENT, text)
