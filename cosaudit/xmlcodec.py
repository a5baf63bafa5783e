"""XML in and out: a small serializer for request bodies and a guarded xmltodict parser.

Trees are the xmltodict shape: a mapping of element name to a string, a nested mapping, or a
list of either for repeated siblings; ``None`` values are left out when building.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.parsers.expat import ExpatError
from xml.sax.saxutils import escape

import xmltodict

__all__ = ["DEFAULT_MAX_BYTES", "XMLError", "build", "parse"]

# Responses of this API are a few kilobytes; webpage results with HighlightHtml can reach a few
# megabytes. Anything far larger is hostile or broken, not a result.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


class XMLError(ValueError):
    """A body that is not acceptable XML (malformed, too large, or declaring entities)."""


def _emit(name: str, value: Any, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, list | tuple):
        for item in value:
            _emit(name, item, out)
        return
    if isinstance(value, Mapping):
        out.append(f"<{name}>")
        for child, child_value in value.items():
            _emit(child, child_value, out)
        out.append(f"</{name}>")
        return
    text = ("true" if value else "false") if isinstance(value, bool) else escape(str(value))
    out.append(f"<{name}>{text}</{name}>")


def build(root: str, tree: Mapping[str, Any]) -> bytes:
    """Serialize ``{child: value}`` under ``<root>`` as UTF-8 (no declaration, no whitespace)."""
    out: list[str] = []
    _emit(root, tree, out)
    return "".join(out).encode("utf-8")


def parse(body: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Parse a response body into the xmltodict shape, refusing DTDs and oversized input.

    Raises :class:`XMLError`; never expands entities (billion-laughs bodies fail fast).
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    if len(data) > max_bytes:
        raise XMLError(f"body of {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    # A DTD has no place in this API; refusing it outright closes entity-expansion attacks.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XMLError("body declares a DTD or entities")
    try:
        parsed = xmltodict.parse(data, disable_entities=True)
    except (ExpatError, ValueError) as exc:
        raise XMLError(f"malformed XML: {exc}") from exc
    if not isinstance(parsed, dict):
        raise XMLError("XML body has no root element")
    return parsed
