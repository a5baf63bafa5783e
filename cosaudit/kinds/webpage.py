"""Webpage moderation: the page's text and images, always asynchronous."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import WebpageJob
from ..requests import UserInfoLike, WebpageRequest
from ._base import JobKind


class WebpageModeration(JobKind[WebpageJob, WebpageRequest]):
    """``client.webpage``: ``POST /webpage/auditing`` and ``GET /webpage/auditing/<jobId>``."""

    model = WebpageJob
    request_type = WebpageRequest
    path = "/webpage/auditing"
    calls_back = "webpage"

    async def submit(
        self,
        url: str,
        *,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        callback: str | None = None,
        return_highlight_html: bool = False,
    ) -> WebpageJob:
        """Start a job for the page at ``url`` (``State=Submitted``)."""
        return await self.submit_request(
            WebpageRequest(
                url=url,
                data_id=data_id,
                user_info=user_info,
                biz_type=biz_type,
                detect_type=detect_type,
                callback=callback,
                return_highlight_html=return_highlight_html,
            )
        )

    async def moderate(
        self,
        url: str,
        *,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        return_highlight_html: bool = False,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> WebpageJob:
        """Submit the page and wait for its final result (``timeout`` seconds at most)."""
        request = WebpageRequest(
            url=url,
            data_id=data_id,
            user_info=user_info,
            biz_type=biz_type,
            detect_type=detect_type,
            return_highlight_html=return_highlight_html,
        )
        return await self.moderate_request(
            request, timeout=timeout, raise_on_failure=raise_on_failure
        )
