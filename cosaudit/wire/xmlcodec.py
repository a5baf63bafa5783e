"""XML in and out: a small serializer for request bodies and a guarded parser.

Trees are the xmltodict shape: a mapping of element name to a string, a nested mapping, or a
list of either for repeated siblings; ``None`` values are left out when building.

:func:`parse` gives exactly what ``xmltodict.parse(body, disable_entities=True)`` gives with its
default options (a test compares the two on generated documents), from its own lean expat
handlers: every response goes through it, and xmltodict's general-purpose handlers cost four
times as much per element.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.parsers import expat
from xml.sax.saxutils import escape

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
# a quarter of its elements: 16 MB of them took 4-5 s and up to 520 MB to parse uncapped.
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
    """Parse a response body into the xmltodict shape, refusing DTDs and oversized input.

    Raises :class:`XMLError`; never expands entities (billion-laughs bodies fail fast), and
    refuses elements nested more than ``max_depth`` deep and more than ``max_elements``
    elements in all (by default one per :data:`BYTES_PER_ELEMENT` bytes of ``max_bytes``).
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    if len(data) > max_bytes:
        raise XMLError(f"body of {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    # A DTD has no place in this API; refusing it outright closes entity-expansion attacks.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XMLError("body declares a DTD or entities")
    limit = max_bytes // BYTES_PER_ELEMENT if max_elements is None else max_elements
    # The smallest element, "<a/>", takes 4 bytes: a body of at most 4 bytes per allowed element
    # cannot hold too many, and is parsed without counting (counting cost 4 % of a parse).
    counted = len(data) // 4 > limit
    try:
        parsed = _tree(data, max_depth, limit if counted else None)
    except XMLError:
        raise
    except (expat.ExpatError, ValueError) as exc:
        raise XMLError(f"malformed XML: {exc}") from exc
    if not isinstance(parsed, dict):
        raise XMLError("XML body has no root element")
    return parsed


def _forbid_entities(*_: object) -> None:
    raise ValueError("entities are disabled")


def _forbid_doctype(*_: object) -> None:
    # The byte check in parse() misses a DOCTYPE in UTF-16; expat sees it in any encoding.
    raise XMLError("body declares a DTD or entities")


def _tree(data: bytes, max_depth: int = MAX_DEPTH, max_elements: int | None = None) -> Any:
    """The xmltodict shape of ``data``: attributes as ``@name``, text beside children as
    ``#text``, text stripped and ``None`` when blank, repeated siblings as a list; elements
    are counted against ``max_elements`` unless it is None."""
    parser = expat.ParserCreate()
    parser.buffer_text = True  # one text callback per run of text, as xmltodict asks too
    parser.ordered_attributes = True
    # The enclosing elements' (item, mark) pairs, flattened: item, mark, item, mark, ... An
    # element's text is chunks[mark:] when it ends (its children took theirs out already): one
    # list for the document, where a list per element made work for the garbage collector.
    stack: list[Any] = []
    item: dict[str, Any] | None = None
    chunks: list[str] = []
    mark = 0
    deepest = 2 * max_depth  # two stack entries per open element

    def start(_name: str, attributes: list[str]) -> None:
        nonlocal item, mark
        if len(stack) >= deepest:
            raise XMLError(f"elements nest deeper than the limit of {max_depth}")
        stack.append(item)
        stack.append(mark)
        item = (
            {"@" + attributes[i]: attributes[i + 1] for i in range(0, len(attributes), 2)}
            if attributes
            else None
        )
        mark = len(chunks)

    def end(name: str) -> None:
        nonlocal item, mark
        value: Any = None
        count = len(chunks) - mark
        if count:
            value = chunks.pop() if count == 1 else "".join(chunks[mark:])
            del chunks[mark:]
            value = value.strip() or None
        if item is not None:
            if value:
                item["#text"] = value
            value = item
        mark = stack.pop()
        item = stack.pop()
        if item is None:
            item = {name: value}
        elif name in item:
            existing = item[name]
            if isinstance(existing, list):
                existing.append(value)
            else:
                item[name] = [existing, value]
        else:
            item[name] = value

    parser.StartElementHandler = start
    if max_elements is not None:
        left = max_elements

        def counted_start(name: str, attributes: list[str]) -> None:
            nonlocal left
            left -= 1
            if left < 0:
                raise XMLError(f"body has more than the limit of {max_elements} elements")
            start(name, attributes)

        parser.StartElementHandler = counted_start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chunks.append
    parser.EntityDeclHandler = _forbid_entities
    parser.StartDoctypeDeclHandler = _forbid_doctype
    parser.Parse(data, True)
    return item
