"""Text moderation: synchronous for inline content, asynchronous for objects and URLs."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import TextJob
from ..requests import Freeze, TextRequest, UserInfoLike
from ._base import JobKind


class TextModeration(JobKind[TextJob, TextRequest]):
    """``client.text``: ``POST /text/auditing`` and ``GET /text/auditing/<jobId>``."""

    model = TextJob
    request_type = TextRequest
    path = "/text/auditing"
    calls_back = "text"

    async def submit(
        self,
        *,
        content: str | None = None,
        object: str | None = None,
        url: str | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        callback: str | None = None,
        callback_version: str | None = None,
        callback_type: int | None = None,
        freeze: Freeze | None = None,
    ) -> TextJob:
        """Submit one text; returns the job as the service answered.

        ``object`` (a COS key) or ``url`` start an asynchronous job (``State=Submitted``);
        ``content`` (at most 10,000 characters) is moderated at once and the answer is final.
        """
        return await self.submit_request(
            TextRequest(
                content=content,
                object=object,
                url=url,
                data_id=data_id,
                user_info=user_info,
                biz_type=biz_type,
                detect_type=detect_type,
                callback=callback,
                callback_version=callback_version,
                callback_type=callback_type,
                freeze=freeze,
            )
        )

    async def moderate(
        self,
        content: str | None = None,
        *,
        object: str | None = None,
        url: str | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> TextJob:
        """Moderate a text and return the final result.

        Inline ``content`` uses the synchronous API; ``object``/``url`` submit a job and wait
        for it (``timeout`` seconds at most).
        """
        request = TextRequest(
            content=content,
            object=object,
            url=url,
            data_id=data_id,
            user_info=user_info,
            biz_type=biz_type,
            detect_type=detect_type,
        )
        return await self.moderate_request(
            request, timeout=timeout, raise_on_failure=raise_on_failure
        )
