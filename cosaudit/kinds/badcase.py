"""Badcase reports: tell the service a verdict was wrong (``POST /report/badcase``)."""

from __future__ import annotations

from datetime import datetime

from ..requests import BadcaseReport
from ..session import Session
from ..wire import xmlcodec

__all__ = ["report_badcase"]


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
    report = BadcaseReport(
        text=text,
        url=url,
        label=label,
        suggested_label=suggested_label,
        job_id=job_id,
        moderation_time=moderation_time,
    )
    body = xmlcodec.build("Request", report.to_body())
    response = await session.request("POST", "/report/badcase", body=body)
    return response.request_id
