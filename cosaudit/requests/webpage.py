"""The request of webpage moderation (``POST /webpage/auditing``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

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
    data_id_field,
    detect_type_field,
    input_tree,
)

__all__ = ["WebpageRequest"]


@define(frozen=True, slots=True, kw_only=True)
class WebpageRequest(Request):
    """The page at ``url``: its text and images."""

    kind: ClassVar[str] = "webpage"

    url: str = field(validator=checked("Input.Url", inputs.url))
    data_id: str | None = data_id_field()
    user_info: UserInfoFields | None = field(
        default=None, converter=as_user_info, validator=check_user_info
    )
    biz_type: str | None = biz_type_field()
    detect_type: str | Iterable[str] | None = detect_type_field(kind="webpage")
    callback: str | None = callback_field()
    return_highlight_html: bool = field(default=False, converter=bool)

    def to_body(self) -> dict[str, Any]:
        return {
            "Input": input_tree(self, Url=self.url),
            "Conf": conf_tree(self, ReturnHighlightHtml=self.return_highlight_html),
        }
