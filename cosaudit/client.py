"""The entry point: :class:`AuditClient`, one attribute per moderation kind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from .config import PollPolicy, RetryPolicy, Timeouts
from .credentials import Credentials, CredentialsProvider
from .endpoints import Endpoints
from .kinds import (
    AudioModeration,
    DocumentModeration,
    ImageModeration,
    LiveModeration,
    TextModeration,
    VideoModeration,
    VirusDetection,
    WebpageModeration,
    report_badcase,
)
from .session import RetryEvent, Session
from .signing import Signer

__all__ = ["AuditClient"]


class AuditClient:
    """An asyncio client for one bucket's content moderation.

    ::

        async with AuditClient(bucket="examplebucket-1250000000", region="ap-guangzhou",
                               credentials=Credentials.from_env()) as client:
            job = await client.text.moderate("some text")
            if job.is_sensitive: ...

    Args:
        credentials: fixed :class:`Credentials`, an async provider of fresh ones (temporary
            keys), or None to read them from the environment.
        endpoint: send requests to this ``scheme://host:port`` (e.g. the emulator) instead of
            the bucket's hosts; the real host names are still signed and sent as ``Host``.
        timeouts, retry, poll: per-request limits, the retry policy for failed requests, and
            the polling policy for jobs that are not final yet.
        clock, monotonic, sleep: injectable time, so tests never wait.
    """

    def __init__(
        self,
        *,
        bucket: str,
        region: str,
        credentials: Credentials | CredentialsProvider | None = None,
        endpoint: str | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        signer: Signer | None = None,
        limit: int = 100,
        verify_ssl: bool = True,
        on_retry: Callable[[RetryEvent], None] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.session = Session(
            Endpoints(bucket, region, endpoint),
            credentials if credentials is not None else Credentials.from_env(),
            timeouts=timeouts,
            retry=retry,
            signer=signer,
            clock=clock,
            monotonic=monotonic,
            sleep=sleep,
            limit=limit,
            verify_ssl=verify_ssl,
            on_retry=on_retry,
        )
        poll = poll or PollPolicy()
        self.text = TextModeration(self.session, poll, monotonic, sleep)
        self.image = ImageModeration(self.session, poll, monotonic, sleep)
        self.webpage = WebpageModeration(self.session, poll, monotonic, sleep)
        self.video = VideoModeration(self.session, poll, monotonic, sleep)
        self.audio = AudioModeration(self.session, poll, monotonic, sleep)
        self.document = DocumentModeration(self.session, poll, monotonic, sleep)
        self.live = LiveModeration(self.session, poll, monotonic, sleep)
        self.virus = VirusDetection(self.session, poll, monotonic, sleep)

    def __repr__(self) -> str:
        endpoints = self.session.endpoints
        where = f" via {endpoints.endpoint}" if endpoints.endpoint else ""
        return f"<AuditClient {endpoints.bucket} {endpoints.region}{where}>"

    async def __aenter__(self) -> AuditClient:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Open the connection pool, for a client that lives as long as your service.

        ``async with`` does it for you; a client opens once.
        """
        await self.session.open()

    async def close(self) -> None:
        """Close the connections; closing twice is harmless."""
        await self.session.close()

    async def report_badcase(
        self,
        *,
        label: str,
        suggested_label: str,
        text: str | None = None,
        url: str | None = None,
        job_id: str | None = None,
        moderation_time: datetime | str | None = None,
    ) -> str | None:
        """Report a wrong verdict on a ``text`` or an image ``url``; returns the request id.

        ``label`` is what the service said (``Porn``), ``suggested_label`` what it should
        have said (``Normal``); ``job_id`` and ``moderation_time`` help it find the record.
        The stored result does not change.
        """
        return await report_badcase(
            self.session,
            label=label,
            suggested_label=suggested_label,
            text=text,
            url=url,
            job_id=job_id,
            moderation_time=moderation_time,
        )
