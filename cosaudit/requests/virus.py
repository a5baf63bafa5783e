"""The request of virus detection (``POST /virus/detect``)."""

from __future__ import annotations

from typing import Any

from attrs import define, field

from .. import inputs
from .common import Request, callback_field, checked

__all__ = ["VirusRequest"]


@define(frozen=True, slots=True, kw_only=True)
class VirusRequest(Request):
    """Scan one file, a COS ``object`` or a ``url`` (an archive's members are scanned too)."""

    object: str | None = field(default=None, validator=checked("Input.Object", inputs.object_key))
    url: str | None = field(default=None, validator=checked("Input.Url", inputs.url))
    callback: str | None = callback_field()

    def __attrs_post_init__(self) -> None:
        inputs.one_source(object=self.object, url=self.url)

    def to_body(self) -> dict[str, Any]:
        return {
            "Input": {"Object": self.object, "Url": self.url},
            # DetectType is required and has one value; the moderation scene names do not apply.
            "Conf": {"DetectType": "Virus", "Callback": self.callback},
        }
