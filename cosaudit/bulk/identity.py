"""An item's id: its DataId in every run, which is how a resume recognises it.

An object key or URL is its own id (a URL's query and user info, which may hold a pre-signed
URL's signature or a password, replaced by their digest); a mapping's or request's id is its
``data_id``, else its ``object`` or ``url`` by the same rule (as the ``batch`` command's lines),
else ``sha256:`` of its canonical JSON.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, cast
from urllib.parse import urlsplit

import attrs

from ..errors import InvalidInput
from ..inputs import MAX_DATA_ID_BYTES
from ..requests import Request

__all__ = ["BulkItem", "BulkItems", "earlier_item_id", "item_id"]

BulkItem = str | Mapping[str, Any] | Request
"""An item: an object key or http(s) URL, a mapping of the kind's request fields (its
``submit`` arguments: ``{"object": "a.txt", "data_id": "post-1", "biz_type": "..."}``,
``{"content": "..."}``, a JSON line), or the kind's request (``TextRequest(...)``)."""

BulkItems = Iterable[BulkItem] | AsyncIterable[BulkItem]


def item_id(item: BulkItem) -> str:
    """The id an item is submitted (as DataId) and journaled under; the same in every run."""
    if isinstance(item, str):
        ident = _without_secrets(item)
        size = len(ident.encode("utf-8", "surrogatepass"))
        return ident if 0 < size <= MAX_DATA_ID_BYTES else _digest(item)
    if isinstance(item, Mapping | Request):
        given = item.get("data_id") if isinstance(item, Mapping) else getattr(item, "data_id", None)
        if given is None:
            named = _named(item)
            return item_id(named) if named else _digest(item)
        if not isinstance(given, str):
            raise InvalidInput("items", f"data_id must be a str, got {type(given).__name__}")
        return given
    raise InvalidInput(
        "items",
        "an item is a str or a mapping of submit arguments (or the kind's request), "
        f"not {type(item).__name__}",
    )


def earlier_item_id(item: BulkItem) -> str | None:
    """The ``sha256:`` id earlier versions gave an item that now takes its object key or URL as
    id, so a resume still knows it from their journals; None when the id did not change."""
    if not isinstance(item, Mapping | Request) or _named(item) is None:
        return None
    given = item.get("data_id") if isinstance(item, Mapping) else getattr(item, "data_id", None)
    if given is not None:
        return None
    try:
        return _digest(item)
    except InvalidInput:
        return None


def _named(item: Mapping[str, Any] | Request) -> str | None:
    """The object key or URL an item names, which is its id when it gives no ``data_id``."""
    for field in ("object", "url"):
        value = item.get(field) if isinstance(item, Mapping) else getattr(item, field, None)
        if isinstance(value, str) and value:
            return value
    return None


def _without_secrets(item: str) -> str:
    """A URL with its query and user info replaced by a digest of the whole URL.

    A pre-signed URL carries a signature (``q-signature``, ``X-Amz-Signature``...) in its query;
    it must not be written to the journal or sent as a DataId. The digest keeps URLs that
    differ only there distinct.
    """
    if not item.startswith(("http://", "https://")):
        return item
    parts = urlsplit(item)
    if not parts.query and not parts.fragment and "@" not in parts.netloc:
        return item
    host = parts.netloc.rpartition("@")[2]
    digest = hashlib.sha256(item.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{parts.scheme}://{host}{parts.path}?sha256={digest}"


def _digest(item: BulkItem) -> str:
    try:
        canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), default=_plain)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("items", f"give each item a data_id: {exc}") from None
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, bytes | bytearray):
        return {"bytes.sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, enum.Enum):
        return value.value
    if attrs.has(type(value)):
        fields = attrs.asdict(cast("attrs.AttrsInstance", value), recurse=False)
        return {k: v for k, v in fields.items() if k != "raw"}
    if isinstance(value, tuple | frozenset | set):
        return sorted(value, key=repr) if not isinstance(value, tuple) else list(value)
    raise TypeError(f"cannot derive a stable id from a {type(value).__name__}")
