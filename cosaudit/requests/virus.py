"""The request of virus detection (``POST /virus/detect``)."""

from __future__ import annotations

from typing import Any, ClassVar

from attrs import define

from .. import inputs
from .common import Request, callback_field, object_field, url_field

__all__ = ["VirusRequest"]


@define(frozen=True, slots=True, kw_only=True)
class VirusRequest(Request):
    """Scan one file, a COS ``object`` or a ``url`` (an archive's members are scanned too)."""

    kind: ClassVar[str] = "virus"

    object: str | None = object_field()
    url: str | None = url_field()
    callback: str | None = callback_field()

    def __attrs_post_init__(self) -> None:
        inputs.one_source(object=self.object, url=self.url)

    def to_body(self) -> dict[str, Any]:
        return {
            "Input": {"Object": self.object, "Url": self.url},
            # DetectType is required and has one value; the moderation scene names do not apply.
            "Conf": {"DetectType": "Virus", "Callback": self.callback},
        }
