"""Bucket listing: COS ``GET Bucket`` (List Objects, Tencent Cloud page 436/7734; in English
436/30614) as typed entries, one page at a time.

Pure (no I/O): :func:`page_query` checks the arguments and spells a page's query, and
:func:`read_page` turns the answer's ``<ListBucketResult>`` into :class:`ObjectEntry` values and
the marker of the next page. :meth:`cosaudit.AuditClient.list_objects` sends the pages.

Every page asks for ``encoding-type=url`` (as the official Python SDK does): a key may hold a
character XML cannot carry, so keys and markers come back percent-encoded and are decoded here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from attrs import define

from .errors import InvalidInput, LimitExceeded, MalformedResponse
from .inputs import require_str
from .messages import Response

__all__ = ["MAX_KEYS", "ROOT", "ListingPage", "ObjectEntry", "page_query", "read_page"]

MAX_KEYS = 1000
"""The most entries one page may hold (``max-keys``), and the default."""
ROOT = "ListBucketResult"
_KEY_MAX_BYTES = 850  # COS object key limit: a longer prefix or marker matches nothing


@define(frozen=True, slots=True)
class ObjectEntry:
    """One object of a listing.

    Attributes:
        key: the object key (decoded), e.g. ``uploads/cat.png``.
        size: bytes.
        last_modified: when it was last written (timezone-aware).
        etag: the ``ETag`` as COS lists it, quotes included (``"<md5>"`` for a simple upload).
    """

    key: str
    size: int
    last_modified: datetime
    etag: str


@define(frozen=True, slots=True)
class ListingPage:
    """One answer of ``GET Bucket``: its entries, and the marker of the next page (None: last)."""

    entries: tuple[ObjectEntry, ...]
    next_marker: str | None


def _bounded_text(value: object, field: str) -> str:
    text = require_str(value, field)
    size = len(text.encode("utf-8"))
    if size > _KEY_MAX_BYTES:
        raise LimitExceeded(field, _KEY_MAX_BYTES, size, "bytes")
    return text


def _max_keys(value: object) -> int:
    """``max_keys`` as given, if it is a whole number from 1 to :data:`MAX_KEYS`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_KEYS:
        raise InvalidInput(
            "max_keys", f"must be a whole number from 1 to {MAX_KEYS}, not {value!r}"
        )
    return value


def page_query(prefix: str, marker: str, max_keys: int) -> dict[str, str]:
    """The query of one page, each argument checked (:class:`InvalidInput` names it).

    ``prefix`` and ``marker`` are strings of at most 850 UTF-8 bytes (the longest key);
    empty ones are left out of the query.
    """
    query = {"encoding-type": "url", "max-keys": str(_max_keys(max_keys))}
    if _bounded_text(prefix, "prefix"):
        query["prefix"] = prefix
    if _bounded_text(marker, "marker"):
        query["marker"] = marker
    return query


def _malformed(detail: str, response: Response) -> MalformedResponse:
    return MalformedResponse(
        f"listing: {detail}", status=response.status, request_id=response.request_id
    )


def _text(node: Mapping[str, Any], name: str) -> str | None:
    value = node.get(name)
    return value if isinstance(value, str) else None


def _datetime(text: str) -> datetime | None:
    # COS writes "2020-12-10T03:37:30.000Z"; fromisoformat takes "Z" only from Python 3.11.
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _entry(node: Any, response: Response) -> ObjectEntry:
    if not isinstance(node, Mapping):
        raise _malformed("a <Contents> has no child elements", response)
    key = _text(node, "Key")
    if not key:
        raise _malformed("a <Contents> has no <Key>", response)
    key = unquote(key)
    size_text = (_text(node, "Size") or "").strip()
    if not size_text.isascii() or not size_text.isdigit():
        raise _malformed(f"{key!r} has no whole-number <Size>", response)
    modified = _datetime((_text(node, "LastModified") or "").strip())
    if modified is None:
        raise _malformed(f"{key!r} has no <LastModified> with a time zone", response)
    return ObjectEntry(
        key, int(size_text), modified.astimezone(timezone.utc), _text(node, "ETag") or ""
    )


def read_page(response: Response, marker: str) -> ListingPage:
    """The entries of one ``<ListBucketResult>``, and where the next page starts.

    ``marker`` is the one this page was asked from: a truncated answer whose next marker does
    not move past it is :class:`MalformedResponse` (listing on would loop forever). Without a
    ``NextMarker``, a truncated page continues from its last key (as S3-style listings do).
    """
    body = response.body
    contents = body.get("Contents")
    nodes: list[Any] = (
        [] if contents is None else contents if isinstance(contents, list) else [contents]
    )
    entries = tuple(_entry(node, response) for node in nodes)
    truncated = (_text(body, "IsTruncated") or "").strip().lower()
    if truncated not in ("true", "false"):
        raise _malformed("<IsTruncated> is not true or false", response)
    if truncated == "false":
        return ListingPage(entries, None)
    encoded = _text(body, "NextMarker")
    following = unquote(encoded) if encoded else (entries[-1].key if entries else "")
    if following <= marker:
        raise _malformed(
            f"truncated, but the next page would start at {following!r}, not after {marker!r}",
            response,
        )
    return ListingPage(entries, following)
