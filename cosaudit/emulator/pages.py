"""Web pages: the visible text and image links of an HTML page, and its highlighted copy.

Visible text skips ``script``, ``style`` and ``template``; each text node is whitespace-collapsed
and nodes are joined by newlines. Characters XML cannot carry (raw, or from a character
reference such as ``&#12;``) become U+FFFD in the text and in image URLs; callers replace them in
the HTML before highlighting it (:func:`cosaudit.emulator.xmlchars.replace_illegal`).

Highlighting wraps each hit keyword found in a text node (not in
``script``/``style``/``title``/``textarea``, where markup would not render) in
``<span class="cosaudit-highlight" style="background-color:yellow">…</span>``; everything else is
copied through unchanged apart from end tags, which are re-emitted as ``</tag>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from attrs import define

from cosaudit.emulator.xmlchars import replace_illegal

__all__ = ["HIGHLIGHT_OPEN", "Page", "highlight", "parse_page"]

HIGHLIGHT_OPEN = '<span class="cosaudit-highlight" style="background-color:yellow">'
_HIDDEN = frozenset({"script", "style", "template"})
_NO_MARKUP = frozenset({"script", "style", "title", "textarea", "template"})


@define(frozen=True, slots=True)
class Page:
    """What moderation looks at on a page: its text and its absolute http(s) image URLs."""

    text: str
    images: tuple[str, ...]


class _Reader(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self._base_url = base_url
        self._hidden = 0
        self.texts: list[str] = []
        self.images: dict[str, None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "img":
            src = dict(attrs).get("src")
            if src:
                url = replace_illegal(urljoin(self._base_url, src.strip()))
                if urlsplit(url).scheme in ("http", "https"):
                    self.images.setdefault(url, None)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._hidden:
            self.texts.append(replace_illegal(text))


def parse_page(html: str, base_url: str) -> Page:
    """The visible text and image links (resolved against ``base_url``, deduplicated)."""
    reader = _Reader(base_url)
    reader.feed(html)
    reader.close()
    return Page("\n".join(reader.texts), tuple(reader.images))


class _Highlighter(HTMLParser):
    def __init__(self, pattern: re.Pattern[str]) -> None:
        super().__init__(convert_charrefs=False)
        self._pattern = pattern
        self._raw = 0
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _NO_MARKUP:
            self._raw += 1
        self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _NO_MARKUP and self._raw:
            self._raw -= 1
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._raw:
            self.out.append(data)
        else:
            self.out.append(self._pattern.sub(lambda m: f"{HIGHLIGHT_OPEN}{m[0]}</span>", data))

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")


def highlight(html: str, keywords: Iterable[str]) -> str:
    """``html`` with every occurrence of ``keywords`` (any case) in text nodes wrapped."""
    words = sorted({k for k in keywords if k}, key=len, reverse=True)
    if not words:
        return html
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    highlighter = _Highlighter(pattern)
    highlighter.feed(html)
    highlighter.close()
    return "".join(highlighter.out)
