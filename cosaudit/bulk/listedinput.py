"""A bulk input read from a bucket listing (``cosaudit batch --prefix P --kind K|auto``): one
request per listed object, known by its key, read page by page as the run pulls (never held).

With ``kind="auto"`` each key's extension picks the kind (:func:`cosaudit.formats.guess_kind`);
an object no kind lists (no extension, an archive, ``.json``) is skipped and counted, never
guessed. Folder markers (keys ending in ``/``) are skipped too.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

import attrs
from attrs import define, field

from ..formats import guess_kind
from ..listing import ObjectEntry
from ..requests import BULK_KINDS, Request, structure
from .identity import item_id

__all__ = ["Listed"]

#: Skipped keys a summary names (the rest are counted).
SHOWN = 10


@define
class Listed:
    """Requests for the objects of ``entries``; :attr:`skipped` counts those it left out."""

    entries: AsyncIterable[ObjectEntry]
    kind: str
    skipped: int = 0
    skipped_keys: list[str] = field(factory=list)

    def __aiter__(self) -> AsyncIterator[Request]:
        return self._requests()

    async def _requests(self) -> AsyncIterator[Request]:
        for_auto = self.kind == "auto"
        async for entry in self.entries:
            key = entry.key
            kind = guess_kind(key) if for_auto else self.kind
            if kind is None or key.endswith("/"):
                self.skipped += 1
                if len(self.skipped_keys) < SHOWN:
                    self.skipped_keys.append(key)
                continue
            model = BULK_KINDS[kind]
            data = {"object": key}
            if "data_id" in attrs.fields_dict(model):  # not virus detection
                data["data_id"] = item_id(key)
            yield structure(data, model)
