"""The request of live stream moderation (``POST /video/auditing`` with ``Type=live_video``)."""

from __future__ import annotations

from typing import Any, ClassVar

from attrs import Attribute, define, field

from .. import inputs
from ..errors import InvalidInput
from ..userinfo import UserInfoFields
from .common import (
    Request,
    as_user_info,
    callback_field,
    callback_type_field,
    check_user_info,
    checked,
    conf_tree,
    data_id_field,
    input_tree,
)

__all__ = ["LiveRequest"]


def _required_biz_type(_: object, __: Attribute[Any], value: str | None) -> None:
    if value is None or value == "":
        raise InvalidInput("Conf.BizType", "is required for a live stream")
    inputs.biz_type(value)


@define(frozen=True, slots=True, kw_only=True)
class LiveRequest(Request):
    """Watch the stream at ``url`` (``rtmp://``, or ``http(s)://`` for HLS/FLV).

    Args:
        biz_type: the moderation policy; required for live streams.
        callback_type: 1 calls back every frame and segment, 2 only those that hit.
        storage_path: a folder of the bucket to record the stream to
            (``<path>/<JobId>.m3u8`` and its ``.ts`` segments).
    """

    kind: ClassVar[str] = "live"

    # BizType first: a missing policy is the first thing to say about a live request.
    biz_type: str = field(validator=_required_biz_type)
    url: str = field(validator=checked("Input.Url", inputs.live_url))
    data_id: str | None = data_id_field()
    user_info: UserInfoFields | None = field(
        default=None, converter=as_user_info, validator=check_user_info
    )
    callback: str | None = callback_field()
    callback_type: int | None = callback_type_field()
    storage_path: str | None = field(
        default=None, validator=checked("StorageConf.Path", inputs.object_key)
    )

    def to_body(self) -> dict[str, Any]:
        path = self.storage_path
        return {
            "Type": "live_video",
            "Input": input_tree(self, Url=self.url),
            "Conf": conf_tree(self),
            "StorageConf": {"Path": path} if path is not None else None,
        }
