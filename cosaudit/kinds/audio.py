"""Audio moderation: speech and sound of an audio (or video) file, asynchronous."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import AudioJob
from ..requests import AudioRequest, Freeze, UserInfoLike
from ._base import JobKind


class AudioModeration(JobKind[AudioJob, AudioRequest]):
    """``client.audio``: ``POST /audio/auditing`` and ``GET /audio/auditing/<jobId>``.

    A video file may be given too: its sound track is moderated.
    """

    model = AudioJob
    request_type = AudioRequest
    path = "/audio/auditing"
    calls_back = "audio"

    async def submit(
        self,
        *,
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
    ) -> AudioJob:
        """Start a job for one audio file, a COS ``object`` or a ``url`` (``State=Submitted``)."""
        return await self.submit_request(
            AudioRequest(
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
        *,
        object: str | None = None,
        url: str | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        freeze: Freeze | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> AudioJob:
        """Submit an audio file and wait for its final result (``timeout`` seconds at most)."""
        request = AudioRequest(
            object=object,
            url=url,
            data_id=data_id,
            user_info=user_info,
            biz_type=biz_type,
            detect_type=detect_type,
            freeze=freeze,
        )
        return await self.moderate_request(
            request, timeout=timeout, raise_on_failure=raise_on_failure
        )
