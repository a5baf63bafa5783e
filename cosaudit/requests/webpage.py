"""The request of webpage moderation (``POST /webpage/auditing``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from attrs import define, field

from .. import inputs
from ..userinfo import UserInfoFields
from .common import (
    Request,
    as_user_info,
    biz_type_field,
    callback_field,
    check_user_info,
    checked,
    conf_tree,
    detect_type_field,
    user_info_tree,
)

__all__ = ["WebpageRequest"]


@define(frozen=True, slots=True, kw_only=True)
class WebpageRequest(Request):
    """The page at ``url``: its text and images."""

    url: str = field(validator=checked("Input.Url", inputs.url))
    data_id: str | None = field(default=None, validator=checked("Input.DataId", inputs.data_id))
    user_info: UserInfoFields | None = field(
        default=None, converter=as_user_info, validator=check_user_info
    )
    biz_type: str | None = biz_type_field()
    detect_type: str | Iterable[str] | None = detect_type_field()
    callback: str | None = callback_field()
    return_highlight_html: bool = field(default=False, converter=bool)

    def to_body(self) -> dict[str, Any]:
        return {
            "Input": {
                "Url": self.url,
                "DataId": self.data_id,
                "UserInfo": user_info_tree(self.user_info, "Input.UserInfo"),
            },
            "Conf": conf_tree(self, ReturnHighlightHtml=self.return_highlight_html),
        }
