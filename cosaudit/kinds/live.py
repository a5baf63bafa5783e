"""Live stream moderation: a stream watched until it ends or is cancelled."""

from __future__ import annotations

from collections.abc import AsyncIterator

from .. import inputs
from ..config import PollPolicy
from ..models import LiveJob
from ..requests import LiveRequest, UserInfoLike
from ._base import JobKind


class LiveModeration(JobKind[LiveJob, LiveRequest]):
    """``client.live``: ``POST /video/auditing`` with ``Type=live_video``,
    ``GET /video/auditing/<jobId>`` and ``POST /video/cancel_auditing/<jobId>``.

    A live job stays ``Auditing`` while the stream runs; :meth:`get` shows the frames and
    sound judged so far. It ends when the stream ends (at most 5 hours), when it fails, or
    when :meth:`cancel` stops it. The service allows 10 live jobs at a time per account by
    default and refuses more.
    """

    model = LiveJob
    request_type = LiveRequest
    path = "/video/auditing"
    calls_back = "live"

    async def submit(
        self,
        url: str,
        *,
        biz_type: str,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        callback: str | None = None,
        callback_type: int | None = None,
        storage_path: str | None = None,
    ) -> LiveJob:
        """Start watching the stream at ``url`` (``rtmp://``, or ``http(s)://`` for HLS/FLV).

        Args:
            biz_type: the moderation policy; required for live streams.
            callback_type: 1 calls back every frame and segment, 2 only those that hit.
                Live jobs call back repeatedly while they run.
            storage_path: a folder of the bucket to record the stream to
                (``<path>/<JobId>.m3u8`` and its ``.ts`` segments).
        """
        return await self.submit_request(
            LiveRequest(
                url=url,
                biz_type=biz_type,
                data_id=data_id,
                user_info=user_info,
                callback=callback,
                callback_type=callback_type,
                storage_path=storage_path,
            )
        )

    async def cancel(self, job_id: str) -> LiveJob:
        """Stop a live job (``POST /video/cancel_auditing/<jobId>``).

        Returns the service's answer (``job_id``, ``data_id``, ``creation_time``; it has no
        ``State``); :meth:`get` then reports the job final. Cancelling is retried like a
        query: cancelling a job twice leaves it cancelled, so a second request is harmless.
        The service documents no final state for a cancelled job; the emulator reports
        ``Cancelled``, which counts as final.
        """
        with self._kind_hint(job_id):
            response = await self._session.request(
                "POST", f"/video/cancel_auditing/{inputs.job_id(job_id)}", idempotent=True
            )
        return self._job(response)

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        raise_on_failure: bool = True,
        policy: PollPolicy | None = None,
    ) -> LiveJob:
        """Poll until the live job is final: the stream ended, the job failed, or someone
        cancelled it.

        Meaningful for a bounded stream (a recording, an event of known length). A stream
        that runs on is not final at the deadline: :class:`~cosaudit.errors.JobTimeout` is
        raised carrying the last job seen, with everything judged so far; the job keeps
        running until :meth:`cancel`.
        """
        return await super().wait(
            job_id, timeout=timeout, raise_on_failure=raise_on_failure, policy=policy
        )

    async def watch(
        self, job_id: str, *, policy: PollPolicy | None = None
    ) -> AsyncIterator[LiveJob]:
        """Yield the live job as each callback reports it, until it is final.

        ::

            async for update in client.live.watch(job.job_id):
                for snapshot in update.snapshot: ...

        With a callback receiver (``AuditClient(callbacks=...)``), each push is yielded as it
        arrives: its body in ``token`` trust (a live callback's ``Snapshot`` list holds the
        frames of that callback), else the job as one query then shows it (everything so
        far). While no push comes for the receiver's ``grace`` seconds, and without a
        receiver, the job is polled on ``policy`` (default ``poll``) and each answer yielded.
        Stop early by leaving the loop; the stream runs on until :meth:`cancel`.
        """
        inputs.job_id(job_id)
        fetch = lambda: self.get(job_id)  # noqa: E731
        policy = policy or self.poll
        receiver = self._callbacks
        if receiver is None:
            from ..callbacks.receiver import CallbackReceiver

            # No pushes can come: a receiver of no address, never served, only paces the polls.
            receiver = CallbackReceiver(public_url="http://127.0.0.1/", grace=0.0)
        from ..callbacks.waiting import watch_pushes

        async for job in watch_pushes(
            receiver, job_id, "live", fetch=fetch, policy=policy, sleep=self._sleep
        ):
            yield job
