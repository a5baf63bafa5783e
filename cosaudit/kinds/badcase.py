"""Badcase reports: tell the service a verdict was wrong (``POST /report/badcase``)."""

from __future__ import annotations

from datetime import datetime

from .. import inputs
from ..errors import InvalidInput
from ..session import Session
from ..wire import xmlcodec

__all__ = ["report_badcase"]

# ContentType: what the sample is.
_TEXT, _IMAGE = 1, 2


async def report_badcase(
    session: Session,
    *,
    label: str,
    suggested_label: str,
    text: str | None = None,
    url: str | None = None,
    job_id: str | None = None,
    moderation_time: datetime | str | None = None,
) -> str | None:
    """Report one wrong verdict; returns the service's request id.

    The report does not change the stored result; confirmed reports improve later
    moderation. Give the sample as ``text`` (sent base64-encoded, ``ContentType`` 1) or as an
    image ``url`` (``ContentType`` 2).
    """
    source = inputs.one_source(text=text, url=url)
    request = {
        "ContentType": _TEXT if source == "text" else _IMAGE,
        # The service expects the base64 of the UTF-8 text; the same 10,000-character cap as
        # text moderation applies, since the sample is a text that was moderated.
        "Text": inputs.text_content(text, "Text") if text is not None else None,
        "Url": inputs.url(url, "Url") if url is not None else None,
        "Label": inputs.label(label, "Label"),
        "SuggestedLabel": inputs.label(suggested_label, "SuggestedLabel"),
        "JobId": inputs.job_id(job_id, "JobId") if job_id is not None else None,
        "ModerationTime": inputs.moderation_time(moderation_time),
    }
    if label == suggested_label:
        raise InvalidInput("SuggestedLabel", f"is the label the service gave ({label!r})")
    body = xmlcodec.build("Request", request)
    response = await session.request("POST", "/report/badcase", body=body)
    return response.request_id
