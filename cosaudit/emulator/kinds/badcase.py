"""Badcase reports: ``POST /report/badcase`` (the "result feedback" pages), answered
``<Response><RequestId/>``.

Validation (400 ``InvalidArgument``): ``ContentType`` is required and 1 (text) or 2 (image);
``Label`` and ``SuggestedLabel`` are required; ``ContentType`` 1 needs ``Text``, base64 of UTF-8
text; 2 needs ``Url``. The field the other content type uses is ignored (the image page's own
sample sends ``ContentType`` 1 with a ``Url``: by the table that is a text report without its
text, so it is refused). Label values are not checked against a list: the service's labels are
open-ended. Reports change nothing; they are kept in ``Emulator.badcases``.
"""

from __future__ import annotations

import re

from aiohttp import web

from cosaudit.emulator.badcases import BadCase
from cosaudit.emulator.kinds.base import (
    Call,
    Route,
    decode_base64,
    echoable,
    invalid,
    optional_int,
    parse_request,
    text_field,
)

__all__ = ["ROUTES", "report"]


def _required(value: str | None, name: str) -> str:
    if value is None:
        raise invalid(f"{name} is required.")
    return echoable(value, name)


async def report(call: Call) -> web.Response:
    request = parse_request(call.body, max_bytes=call.service.config.max_body_bytes)
    content_type = optional_int(text_field(request, "ContentType"), "ContentType", low=1, high=2)
    if content_type is None:
        raise invalid("ContentType is required (1 text, 2 image).")
    label = _required(text_field(request, "Label"), "Label")
    suggested = _required(text_field(request, "SuggestedLabel"), "SuggestedLabel")
    text = url = None
    if content_type == 1:
        encoded = _required(text_field(request, "Text"), "Text (ContentType 1)")
        try:
            text = decode_base64(encoded, "Text").decode("utf-8")
        except UnicodeDecodeError:
            raise invalid("Text must be base64 of UTF-8 text.") from None
    else:
        url = _required(text_field(request, "Url"), "Url (ContentType 2)")
    job_id = text_field(request, "JobId")
    moderation_time = text_field(request, "ModerationTime")
    call.service.badcases.add(
        BadCase(
            content_type=content_type,
            label=label,
            suggested_label=suggested,
            text=text,
            url=url,
            job_id=job_id,
            moderation_time=moderation_time,
            request_id=call.request_id,
        )
    )
    return call.answer({"RequestId": call.request_id})


ROUTES = (Route("POST", re.compile(r"/report/badcase"), report, "/report/badcase"),)
