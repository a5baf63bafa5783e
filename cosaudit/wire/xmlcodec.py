"""XML in and out: xmltodict with caps for answers, a small serializer for request bodies.

Trees are the xmltodict shape: a mapping of element name to a string, a nested mapping, or a
list of either for repeated siblings; ``None`` values are left out when building.

:func:`parse` is ``xmltodict.parse(body, disable_entities=True)`` with its default options, plus
what xmltodict lacks: a byte cap before parsing, a DTD refused in any encoding, and caps on
nesting depth and element count, checked by a wrapper around xmltodict's start-element handler
that its ``expat=`` hook lets in. The caps cost 5 % of a parse: 1,026 k instructions for the
text answer of ``benchmarks.hot_path`` against 977 k for xmltodict alone, 15.4 G for the
emulator's 14 MB video answer against 14.7 G (the hand-written handlers this replaced took
431 k and 6.7 G: every answer now costs what xmltodict costs).

:func:`build` stays hand-written: it writes what ``xmltodict.unparse(tree, full_document=False)``
writes (a test compares them) at a seventh to a tenth of the cost. Measured with unparse in its
place (a preprocessor leaving ``None`` out, which unparse would write as an empty element): a
request body of ``benchmarks.hot_path`` took 152 k instructions instead of 21 k, 9 % of what
raw aiohttp plus xmltodict spend on a whole request; the emulator, which builds every answer
here, spent 376-404 µs of CPU per synchronous text answer instead of 231-279, and 243-271 per
job query instead of 129-150 (``benchmarks.emulator_rps``, alternating runs); the emulator's
densest video answer (12.3 MB as the client parsed it) took 1.42 s of CPU to write, not 0.14.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from xml.parsers import expat
from xml.sax.saxutils import escape

import xmltodict

__all__ = ["BYTES_PER_ELEMENT", "DEFAULT_MAX_BYTES", "MAX_DEPTH", "XMLError", "build", "parse"]

# Responses of this API are a few kilobytes; webpage results with HighlightHtml can reach a few
# megabytes. Anything far larger is hostile or broken, not a result.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
# The deepest documented response nests under 10 elements. Every open element costs memory and
# time: 14 MB of nested "<a>" took 12 s and 890 MB to parse (xmltodict) before this cap.
MAX_DEPTH = 64
# Answers average some 21 bytes an element (the emulator's 10,000-snapshot video with every
# scene hit: 14.0 MB, 660,022 elements), so at one element per 16 bytes of the byte cap every
# answer the byte cap admits fits, while a flood of "<a/>" (4 bytes) or '<a b=""/>' is cut at
# a quarter of its elements: 16 MB of them take 3-4.5 s of CPU and up to 513 MB to parse
# uncapped (1.2-1.8 s and 53-306 MB with the cap).
BYTES_PER_ELEMENT = 16


class XMLError(ValueError):
    """A body that is not acceptable XML (malformed, too large, or declaring entities)."""


def _emit(name: str, value: Any, out: list[str]) -> None:
    # Exact classes first: the emulator builds every answer here, element by element, and an
    # isinstance check against Mapping costs more than the rest of the element.
    if value is None:
        return
    cls = value.__class__
    if cls is str:
        text = value
    elif cls is int:
        text = str(value)  # digits: nothing to escape
    elif cls is list or cls is tuple or isinstance(value, list | tuple):
        for item in value:
            _emit(name, item, out)
        return
    elif cls is dict or isinstance(value, Mapping):
        out.append(f"<{name}>")
        for child, child_value in value.items():
            _emit(child, child_value, out)
        out.append(f"</{name}>")
        return
    elif cls is bool:
        text = "true" if value else "false"
    else:
        text = str(value)
    if "&" in text or "<" in text or ">" in text:
        text = escape(text)
    out.append(f"<{name}>{text}</{name}>")


def build(root: str, tree: Mapping[str, Any]) -> bytes:
    """Serialize ``{child: value}`` under ``<root>`` as UTF-8 (no declaration, no whitespace)."""
    out: list[str] = []
    _emit(root, tree, out)
    return "".join(out).encode("utf-8")


def parse(
    body: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_elements: int | None = None,
) -> dict[str, Any]:
    """Parse a response body with xmltodict (its default shape), refusing DTDs and oversized input.

    Raises :class:`XMLError`; never expands entities (billion-laughs bodies fail fast), and
    refuses elements nested more than ``max_depth`` deep and more than ``max_elements``
    elements in all (by default one per :data:`BYTES_PER_ELEMENT` bytes of ``max_bytes``).
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    if len(data) > max_bytes:
        raise XMLError(f"body of {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    # A DTD has no place in this API; refusing it outright closes entity-expansion attacks.
    # This catches it in UTF-8 and the one-byte encodings; the parser's doctype handler in any.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XMLError("body declares a DTD or entities")
    limit = max_bytes // BYTES_PER_ELEMENT if max_elements is None else max_elements
    # The smallest element, "<a/>", takes at least 4 bytes in any encoding: a body of at most 4
    # bytes per allowed element cannot hold too many, and is parsed without counting.
    guard = _Guard(max_depth, limit if len(data) // 4 > limit else None)
    try:
        parsed = xmltodict.parse(data, expat=guard, disable_entities=True)
    except XMLError:
        raise
    except (expat.ExpatError, ValueError) as exc:  # ValueError: xmltodict's entity refusal
        raise XMLError(f"malformed XML: {exc}") from exc
    if not isinstance(parsed, dict):
        raise XMLError("XML body has no root element")
    return parsed


def _forbid_doctype(*_: object) -> None:
    # The byte check in parse() misses a DOCTYPE in UTF-16 and the like; expat sees it in any.
    raise XMLError("body declares a DTD or entities")


class _Guard:
    """The ``expat`` module xmltodict.parse is handed, adding the depth and element caps.

    xmltodict calls ``ParserCreate`` and sets its handlers and options on what it gets: this
    object records them (in its ``__dict__``) and ``Parse`` makes the real expat parser with
    them, its start-element handler wrapped by the caps and a doctype handler that refuses.
    Recording and applying once cost less than forwarding each setting through a
    ``__setattr__``; the wrapper is one Python call per element (~5 % of a parse).
    """

    # __dict__ takes what xmltodict sets; our own state stays in slots, out of its way.
    __slots__ = ("__dict__", "_args", "_max_depth", "_max_elements")

    def __init__(self, max_depth: int, max_elements: int | None) -> None:
        self._max_depth = max_depth
        self._max_elements = max_elements
        self._args: tuple[str | None, str | None] = (None, None)

    def ParserCreate(
        self, encoding: str | None = None, namespace_separator: str | None = None
    ) -> _Guard:
        self._args = (encoding, namespace_separator)
        return self

    def Parse(self, data: bytes, final: bool = False) -> int:
        parser = expat.ParserCreate(*self._args)
        settings: dict[str, Any] = self.__dict__
        for name, value in settings.items():
            setattr(parser, name, value)
        parser.StartElementHandler, parser.EndElementHandler = _capped(
            settings["StartElementHandler"],
            settings["EndElementHandler"],
            self._max_depth,
            self._max_elements,
        )
        parser.StartDoctypeDeclHandler = _forbid_doctype
        return parser.Parse(data, final)


def _capped(
    start: Callable[[str, list[str]], None],
    end: Callable[[str], None],
    max_depth: int,
    max_elements: int | None,
) -> tuple[Callable[[str, list[str]], None], Callable[[str], None]]:
    """xmltodict's start- and end-element handlers, refusing elements past the caps.

    An element's attributes count towards ``max_elements`` too: 16 MB of attributes on one
    element cost as much to parse as 16 MB of elements.
    """
    # xmltodict keeps the open elements in its handler's ``path`` (the path it hands its
    # callbacks): its length is the depth, so the end handler needs no wrapper (3 % of a
    # parse). ``path`` is not public API: without it, count the open elements ourselves.
    path = getattr(getattr(start, "__self__", None), "path", None)
    if not isinstance(path, list):
        path = []
        inner_start, inner_end = start, end

        def start(name: str, attributes: list[str]) -> None:
            path.append(name)
            inner_start(name, attributes)

        def end(name: str) -> None:
            path.pop()
            inner_end(name)

    open_elements: list[Any] = path
    left = max_elements if max_elements is not None else -1

    def start_element(name: str, attributes: list[str]) -> None:
        if len(open_elements) >= max_depth:
            raise XMLError(f"elements nest deeper than the limit of {max_depth}")
        start(name, attributes)

    def counted_start(name: str, attributes: list[str]) -> None:
        nonlocal left
        left -= 1 + len(attributes) // 2  # ordered attributes: name, value, name, value...
        if left < 0:
            raise XMLError(f"body has more than the limit of {max_elements} elements")
        if len(open_elements) >= max_depth:  # as start_element: a frame per element costs 2 %
            raise XMLError(f"elements nest deeper than the limit of {max_depth}")
        start(name, attributes)

    return (start_element if max_elements is None else counted_start), end
