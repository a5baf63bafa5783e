"""The request of text moderation (``POST /text/auditing``)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any, ClassVar

from attrs import define, field

from .. import inputs
from ..errors import InvalidInput
from ..inputs import sized
from ..userinfo import UserInfoFields
from .common import (
    Freeze,
    Request,
    as_freeze,
    as_user_info,
    biz_type_field,
    callback_field,
    callback_type_field,
    callback_version_field,
    check_freeze,
    check_user_info,
    checked,
    conf_tree,
    data_id_field,
    detect_type_field,
    freeze_needs_object,
    input_tree,
    object_field,
    url_field,
)

__all__ = ["TextRequest"]


@define(frozen=True, slots=True, kw_only=True)
class TextRequest(Request):
    """One text: inline ``content`` (moderated at once) or a COS ``object`` key or ``url`` (a job).

    >>> TextRequest(content="hello", data_id="post-1").synchronous
    True
    """

    kind: ClassVar[str] = "text"

    content: str | None = field(
        default=None, repr=sized, validator=checked("Input.Content", inputs.text_content)
    )
    object: str | None = object_field()
    url: str | None = url_field()
    data_id: str | None = data_id_field()
    user_info: UserInfoFields | None = field(
        default=None, converter=as_user_info, validator=check_user_info
    )
    biz_type: str | None = biz_type_field()
    detect_type: str | Iterable[str] | None = detect_type_field(kind="text")
    callback: str | None = callback_field()
    callback_version: str | None = callback_version_field()
    callback_type: int | None = callback_type_field()
    freeze: Freeze | None = field(default=None, converter=as_freeze, validator=check_freeze)

    def __attrs_post_init__(self) -> None:
        if self.content is not None and self.object is None and self.url is None:
            source = "content"  # the synchronous call's case, checked without building a dict
        else:
            source = inputs.one_source(content=self.content, object=self.object, url=self.url)
        if source == "content" and self.callback is not None:
            # The service ignores it for inline content; refusing beats silently dropping.
            raise InvalidInput("Conf.Callback", "needs object or url input")
        freeze_needs_object(self.freeze, source)

    @property
    def synchronous(self) -> bool:
        return self.content is not None

    def to_body(self) -> dict[str, Any]:
        content = self.content
        return {
            "Input": input_tree(
                self,
                Content=(
                    base64.b64encode(content.encode("utf-8")).decode("ascii")
                    if content is not None
                    else None
                ),
                Object=self.object,
                Url=self.url,
            ),
            "Conf": conf_tree(self),
        }
