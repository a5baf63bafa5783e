"""xmlcodec.parse gives exactly what xmltodict gives, and refuses what it must.

``parse`` is ``xmltodict.parse`` with caps around it; xmltodict with its defaults is the shape
every model and the emulator were written against, so generated documents — repeated siblings,
attributes, mixed content, whitespace, CDATA, comments, character references — must come out
identical: the caps must change nothing in what they let through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st

from cosaudit.wire import xmlcodec

NAMES = st.sampled_from(["A", "B", "Code", "x-y", "ns:tag", "Ü"])
TEXT = st.text(
    alphabet=st.sampled_from([" ", "\n", "\t", "a", "Z", "1", "&", "<", ">", '"', "'", "中", "é"]),
    max_size=8,
)


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(NAMES)
    attributes = draw(st.dictionaries(st.sampled_from(["id", "k", "Type"]), TEXT, max_size=2))
    opening = name + "".join(f" {key}={quoteattr(value)}" for key, value in attributes.items())
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 0 if depth >= 3 else 4))):
        kind = draw(st.sampled_from(["text", "child", "child", "cdata", "comment", "pi", "ref"]))
        if kind == "text":
            parts.append(escape(draw(TEXT)))
        elif kind == "child":
            parts.append(draw(elements(depth + 1)))
        elif kind == "cdata":
            parts.append(f"<![CDATA[{draw(TEXT).replace(']]>', '')}]]>")
        elif kind == "comment":
            parts.append(f"<!--{draw(TEXT).replace('-', '')}-->")
        elif kind == "pi":
            parts.append("<?note some data?>")
        else:
            parts.append(draw(st.sampled_from(["&amp;", "&lt;", "&#65;", "&#x4E2D;", "&quot;"])))
    if not parts and draw(st.booleans()):
        return f"<{opening}/>"
    return f"<{opening}>{''.join(parts)}</{name}>"


@settings(max_examples=120, deadline=None)
@given(root=elements(), declaration=st.booleans(), padding=st.sampled_from(["", "\n", "  \n"]))
def test_parse_matches_xmltodict(root: str, declaration: bool, padding: str) -> None:
    prolog = '<?xml version="1.0" encoding="utf-8"?>\n' if declaration else ""
    body = (prolog + padding + root + padding).encode("utf-8")
    assert xmlcodec.parse(body) == xmltodict.parse(body, disable_entities=True)


def test_parse_shapes() -> None:
    body = b"<R><A>1</A><A/><B k='v'>t</B><C> <D>x</D> tail </C><E>  </E></R>"
    assert xmlcodec.parse(body) == {
        "R": {
            "A": ["1", None],
            "B": {"@k": "v", "#text": "t"},
            "C": {"D": "x", "#text": "tail"},
            "E": None,
        }
    }


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"<A>",
        b"<A></B>",
        b"<A/><B/>",
        b"not xml",
        b"<A>&undefined;</A>",
        b'<?xml version="1.0"?><!DOCTYPE A [<!ENTITY e "x">]><A>&e;</A>',
        # A DTD that the byte check cannot see (UTF-16) is still refused by the parser.
        '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE A [<!ENTITY e "x">]><A>&e;</A>'.encode(
            "utf-16"
        ),
    ],
)
def test_parse_refuses_bad_documents(body: bytes) -> None:
    with pytest.raises(xmlcodec.XMLError):
        xmlcodec.parse(body)


# (codec, declared encoding or None, byte-order mark): every way expat reads a body.
ENCODINGS = {
    "utf-8": ("utf-8", None, b""),
    "utf-8 with BOM": ("utf-8", None, b"\xef\xbb\xbf"),
    "utf-16 LE with BOM": ("utf-16-le", None, b"\xff\xfe"),
    "utf-16 BE with BOM": ("utf-16-be", None, b"\xfe\xff"),
    "utf-16 LE declared": ("utf-16-le", "UTF-16LE", b""),
    "utf-16 BE declared": ("utf-16-be", "UTF-16BE", b""),
    "utf-16 declared with BOM": ("utf-16-le", "UTF-16", b"\xff\xfe"),
    "iso-8859-1 declared": ("iso-8859-1", "ISO-8859-1", b""),
}
DTDS = {
    "internal entity": '<!DOCTYPE R [<!ENTITY e "x">]>',
    "entity bomb": '<!DOCTYPE R [<!ENTITY a "aa"><!ENTITY b "&a;&a;&a;">]>',
    "external entity": '<!DOCTYPE R [<!ENTITY e SYSTEM "file:///etc/hostname">]>',
    "parameter entity": '<!DOCTYPE R [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p"> %p;]>',
    "external DTD": '<!DOCTYPE R SYSTEM "http://127.0.0.1:1/r.dtd">',
    "bare DOCTYPE": "<!DOCTYPE R>",
}


def _encoded(encoding: str, dtd: str, content: str) -> bytes:
    codec, declared, bom = ENCODINGS[encoding]
    prolog = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    return bom + (prolog + dtd + f"<R><A>{content}</A></R>").encode(codec)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_parse_reads_every_encoding(encoding: str) -> None:
    # the control for the test below: each body is read, so a refusal there is the DTD's
    assert xmlcodec.parse(_encoded(encoding, "", "é")) == {"R": {"A": "é"}}


@pytest.mark.parametrize("dtd", list(DTDS))
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_parse_refuses_a_dtd_in_every_encoding(encoding: str, dtd: str) -> None:
    content = "&e;" if "entity" in dtd else ""
    with pytest.raises(xmlcodec.XMLError, match="declares a DTD or entities"):
        xmlcodec.parse(_encoded(encoding, DTDS[dtd], content))


def test_parse_refuses_nesting_past_the_depth_limit() -> None:
    def nested(depth: int) -> bytes:
        return b"<a>" * depth + b"</a>" * depth

    assert xmlcodec.parse(nested(5), max_depth=5) == {"a": {"a": {"a": {"a": {"a": None}}}}}
    with pytest.raises(xmlcodec.XMLError, match="nest deeper than the limit of 5"):
        xmlcodec.parse(nested(6), max_depth=5)
    # counted or not (a large body is counted), the depth limit holds
    with pytest.raises(xmlcodec.XMLError, match="nest deeper than the limit of 5"):
        xmlcodec.parse(nested(6), max_depth=5, max_elements=6)


def test_parse_refuses_oversized_bodies() -> None:
    with pytest.raises(xmlcodec.XMLError, match="exceeds the limit of 10 bytes"):
        xmlcodec.parse(b"<A>0123456789</A>", max_bytes=10)


def _reference_build(name: str, value: Any, out: list[str]) -> None:
    """The first, plainer serializer: build must give the same bytes for every tree."""
    if value is None:
        return
    if isinstance(value, list | tuple):
        for item in value:
            _reference_build(name, item, out)
        return
    if isinstance(value, Mapping):
        out.append(f"<{name}>")
        for child, child_value in value.items():
            _reference_build(child, child_value, out)
        out.append(f"</{name}>")
        return
    text = ("true" if value else "false") if isinstance(value, bool) else escape(str(value))
    out.append(f"<{name}>{text}</{name}>")


LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
TREES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(NAMES, children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(tree=st.dictionaries(NAMES, TREES, max_size=5))
def test_build_matches_the_reference_serializer(tree: dict[str, Any]) -> None:
    out: list[str] = []
    _reference_build("Request", tree, out)
    assert xmlcodec.build("Request", tree) == "".join(out).encode("utf-8")


# The trees xmltodict.unparse writes as build does: no None (unparse writes an empty element,
# build leaves it out) and no sequence directly inside a sequence (unparse writes its repr).
UNPARSE_LEAVES = st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
UNPARSE_TREES = st.recursive(
    UNPARSE_LEAVES,
    lambda children: st.one_of(
        st.dictionaries(NAMES, children, max_size=4),
        st.lists(
            st.one_of(UNPARSE_LEAVES, st.dictionaries(NAMES, children, max_size=4)), max_size=3
        ),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(tree=st.dictionaries(NAMES, UNPARSE_TREES, max_size=5))
def test_build_writes_what_xmltodict_unparse_writes(tree: dict[str, Any]) -> None:
    # build is hand-written for speed (figures in xmlcodec's docstring), not a dialect of its own
    expected = xmltodict.unparse({"Request": tree}, full_document=False).encode("utf-8")
    assert xmlcodec.build("Request", tree) == expected


def test_parse_counts_elements_against_a_limit() -> None:
    ten = b"<R>" + b"<a/>" * 9 + b"</R>"  # the root counts too
    assert xmlcodec.parse(ten, max_elements=10) == {"R": {"a": [None] * 9}}
    with pytest.raises(xmlcodec.XMLError, match="more than the limit of 9 elements"):
        xmlcodec.parse(ten, max_elements=9)


def test_the_element_limit_follows_the_byte_limit() -> None:
    # by default one element per BYTES_PER_ELEMENT bytes the byte limit allows
    limit = 4096 // xmlcodec.BYTES_PER_ELEMENT
    fits = b"<R>" + b"<a/>" * (limit - 1) + b"</R>"
    assert len(xmlcodec.parse(fits, max_bytes=4096)["R"]["a"]) == limit - 1
    with pytest.raises(xmlcodec.XMLError, match=f"more than the limit of {limit} elements"):
        xmlcodec.parse(b"<R>" + b"<a/>" * limit + b"</R>", max_bytes=4096)
    assert xmlcodec.DEFAULT_MAX_BYTES // xmlcodec.BYTES_PER_ELEMENT == 1_048_576


def test_the_caps_hold_without_xmltodicts_private_path() -> None:
    # The depth cap reads xmltodict's open-element list, which is not public API; handlers
    # without it (a future xmltodict) are counted by our own wrappers instead.
    from cosaudit.wire.xmlcodec import _capped

    seen: list[str] = []
    start, end = _capped(lambda name, attrs: seen.append(name), lambda name: None, 2, 10)
    start("a", [])
    start("b", [])
    end("b")
    start("c", [])
    with pytest.raises(xmlcodec.XMLError, match="deeper than the limit of 2"):
        start("d", [])
    assert seen == ["a", "b", "c"]


def test_attributes_count_towards_the_element_cap() -> None:
    flood = b"<a " + b" ".join(b'x%d=""' % i for i in range(100)) + b"/>"
    with pytest.raises(xmlcodec.XMLError, match="more than the limit of 50 elements"):
        xmlcodec.parse(flood, max_elements=50)
    assert xmlcodec.parse(flood, max_elements=101)["a"]["@x0"] == ""
