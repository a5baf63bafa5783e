"""Video moderation: frames captured from the video (and, if asked, its sound), asynchronous."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import VideoJob
from ..requests import Freeze, UserInfoLike, VideoRequest
from ._base import JobKind


class VideoModeration(JobKind[VideoJob, VideoRequest]):
    """``client.video``: ``POST /video/auditing`` and ``GET /video/auditing/<jobId>``.

    Frames are captured by ``snapshot_mode``: ``Interval`` (one every ``snapshot_interval``
    seconds, at most ``snapshot_count``; with no interval, ``snapshot_count`` frames),
    ``Average`` (``snapshot_count`` frames spread evenly; the interval is ignored) or ``Fps``
    (``snapshot_interval`` frames per second; with none, ``snapshot_count`` frames in all).
    Each captured frame is billed as an image.
    """

    model = VideoJob
    request_type = VideoRequest
    path = "/video/auditing"
    calls_back = "video"

    async def submit(
        self,
        *,
        object: str | None = None,
        url: str | None = None,
        snapshot_count: int,
        snapshot_mode: str | None = None,
        snapshot_interval: float | None = None,
        detect_content: bool | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        callback: str | None = None,
        callback_version: str | None = None,
        callback_type: int | None = None,
        freeze: Freeze | None = None,
    ) -> VideoJob:
        """Start a job for one video, a COS ``object`` or a ``url`` (``State=Submitted``).

        Args:
            snapshot_count: frames to capture, 1 to 10,000 (``Conf.Snapshot.Count``).
            snapshot_mode: ``Interval`` (the service's default), ``Average`` or ``Fps``.
            snapshot_interval: seconds between frames (frames per second for ``Fps``),
                in (0, 60], to the millisecond.
            detect_content: also moderate the sound (``AudioSection`` results).
        """
        return await self.submit_request(
            VideoRequest(
                object=object,
                url=url,
                snapshot_count=snapshot_count,
                snapshot_mode=snapshot_mode,
                snapshot_interval=snapshot_interval,
                detect_content=detect_content,
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
        snapshot_count: int,
        snapshot_mode: str | None = None,
        snapshot_interval: float | None = None,
        detect_content: bool | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        freeze: Freeze | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> VideoJob:
        """Submit a video and wait for its final result (``timeout`` seconds at most)."""
        request = VideoRequest(
            object=object,
            url=url,
            snapshot_count=snapshot_count,
            snapshot_mode=snapshot_mode,
            snapshot_interval=snapshot_interval,
            detect_content=detect_content,
            data_id=data_id,
            user_info=user_info,
            biz_type=biz_type,
            detect_type=detect_type,
            freeze=freeze,
        )
        return await self.moderate_request(
            request, timeout=timeout, raise_on_failure=raise_on_failure
        )
