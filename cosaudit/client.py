"""The entry point: :class:`AuditClient`, one attribute per moderation kind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, overload

from .config import PollPolicy, RetryPolicy, Timeouts
from .credentials import Credentials, CredentialsProvider
from .endpoints import Endpoints, Service, endpoint_from_env
from .errors import InvalidInput
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
from .listing import MAX_KEYS, ROOT, ObjectEntry, page_query, read_page
from .session import RetryEvent, Session
from .wire import xmlcodec
from .wire.signing import Signer

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .bulk import BulkItems as Items
    from .bulk import BulkOptions, BulkRun
    from .callbacks import CallbackReceiver
    from .models import (
        AudioJob,
        DocumentJob,
        ImageJob,
        Job,
        TextJob,
        VideoJob,
        VirusJob,
        WebpageJob,
    )

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
            When None, ``$COSAUDIT_ENDPOINT_URL`` if set (for tests, like botocore's
            ``AWS_ENDPOINT_URL``; ``cosaudit emulator --print-env`` exports it).
        timeouts, retry, poll: per-request limits, the retry policy for failed requests, and
            the polling policy for jobs that are not final yet.
        max_response_bytes: the largest answer read (16 MiB); a video of thousands of
            snapshots that all hit, with sound, can answer more.
        callbacks: a :class:`~cosaudit.callbacks.CallbackReceiver`: every asynchronous
            submit of a kind that calls back carries its URL (unless it names a callback of
            its own), and ``wait``/``moderate``/``moderate_many`` resolve from the pushed
            result, polling only when none comes within the receiver's ``grace``.
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
        max_response_bytes: int = xmlcodec.DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        callbacks: CallbackReceiver | None = None,
    ) -> None:
        self.session = Session(
            Endpoints(bucket, region, endpoint if endpoint is not None else endpoint_from_env()),
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
            max_response_bytes=max_response_bytes,
        )
        poll = poll or PollPolicy()
        pushed = {"callbacks": callbacks}
        self.text = TextModeration(self.session, poll, monotonic, sleep, **pushed)
        self.image = ImageModeration(self.session, poll, monotonic, sleep, **pushed)
        self.webpage = WebpageModeration(self.session, poll, monotonic, sleep, **pushed)
        self.video = VideoModeration(self.session, poll, monotonic, sleep, **pushed)
        self.audio = AudioModeration(self.session, poll, monotonic, sleep, **pushed)
        self.document = DocumentModeration(self.session, poll, monotonic, sleep, **pushed)
        self.live = LiveModeration(self.session, poll, monotonic, sleep, **pushed)
        self.virus = VirusDetection(self.session, poll, monotonic, sleep)
        self.callbacks = callbacks
        self._monotonic = monotonic
        self._sleep = sleep

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

    def list_objects(
        self, *, prefix: str = "", marker: str = "", max_keys: int = MAX_KEYS
    ) -> AsyncIterator[ObjectEntry]:
        """The bucket's objects whose keys start with ``prefix``, in key order (UTF-8 bytes).

        ::

            async for entry in client.list_objects(prefix="uploads/"):
                print(entry.key, entry.size, entry.last_modified)

        COS ``GET Bucket`` on the bucket's COS host (page 436/7734), one page of ``max_keys``
        entries (1 to 1,000) a request, fetched as you iterate; each page is a query, retried
        like any other. ``marker`` starts after that key (exclusive), e.g. to go on from the
        last key a previous run saw.

        Raises:
            InvalidInput: an argument is wrong (at once, before anything is sent).
            ServiceError: the service refused a page (``NoSuchBucket``, ``AccessDenied``...).
        """
        # Checked now, not at the first iteration; later pages only move the marker on (a
        # listed key may hold what a prefix may not, such as a control character).
        return self._list_pages(page_query(prefix, marker, max_keys), marker)

    async def _list_pages(self, query: dict[str, str], marker: str) -> AsyncIterator[ObjectEntry]:
        while True:
            response = await self.session.request(
                "GET", "/", service=Service.COS, params=query, root=ROOT
            )
            page = read_page(response, marker)
            for entry in page.entries:
                yield entry
            if page.next_marker is None:
                return
            marker = page.next_marker
            query = {**query, "marker": marker}

    @overload
    def moderate_many(
        self, items: Items, *, kind: Literal["text"], **options: Unpack[BulkOptions]
    ) -> BulkRun[TextJob]: ...
    @overload
    def moderate_many(
        self, items: Items, *, kind: Literal["image"], **options: Unpack[BulkOptions]
    ) -> BulkRun[ImageJob]: ...
    @overload
    def moderate_many(
        self, items: Items, *, kind: Literal["webpage"], **options: Unpack[BulkOptions]
    ) -> BulkRun[WebpageJob]: ...
    @overload
    def moderate_many(
        self, items: Items, *, kind: Literal["video"], **options: Unpack[BulkOptions]
    ) -> BulkRun[VideoJob]: ...
    @overload
    def moderate_many(
        self, items: Items, *, kind: Literal["audio"], **options: Unpack[BulkOptions]
    ) -> BulkRun[AudioJob]: ...
    @overload
    def moderate_many(
        self, items: Items, *, kind: Literal["document"], **options: Unpack[BulkOptions]
    ) -> BulkRun[DocumentJob]: ...
    @overload
    def moderate_many(
        self, items: Items, *, kind: Literal["virus"], **options: Unpack[BulkOptions]
    ) -> BulkRun[VirusJob]: ...
    @overload
    def moderate_many(
        self, items: Items, *, kind: str | None = None, **options: Unpack[BulkOptions]
    ) -> BulkRun[Job]: ...
    def moderate_many(
        self, items: Items, *, kind: str | None = None, **options: Unpack[BulkOptions]
    ) -> BulkRun[Any]:
        """Moderate many items with bounded concurrency; results stream as jobs finish.

        ::

            async with client.moderate_many(keys, kind="text", journal="run.jsonl") as run:
                async for result in run:        # completion order; result.id is the DataId
                    print(result.id, result.status, result.job and result.job.label)
            print(run.summary)

        Args:
            items: any iterable or async iterable, pulled as slots free up (never held):
                object keys or http(s) URLs, or mappings of the kind's ``submit`` arguments.
                An item's id, sent as its DataId, is its ``data_id``, else the string item or
                its ``object``/``url``, else a digest (see :func:`cosaudit.bulk.item_id`).
            kind: ``"text"``, ``"image"``, ``"webpage"``, ``"video"``, ``"audio"``,
                ``"document"`` or ``"virus"`` (whose submit takes no DataId: the id then
                lives in the journal only). Not ``"live"``: a stream runs until cancelled.
                Omitted, each item names its own kind, so one run takes several: a request
                model (``TextRequest(...)``) by its type, a mapping by its ``"kind"`` key
                (``{"kind": "image", "object": "a.png"}``); a plain string is refused, since
                it could be a key, a URL or text.

        Options (all keyword):
            concurrency: items between the input and you at most (submitting, polling, or
                waiting to be handed over); 64 by default.
            journal: a file recording every submission and result. Running again with the
                same file resumes: finished items are skipped, submitted ones waited for by
                JobId, never resubmitted (format and guarantees: :mod:`cosaudit.journal`).
            fsync: put the journal's records on disk before each submission is sent (the
                default: safe against power cuts); False trusts the OS cache (safe against
                crashes of the process, not of the machine).
            on_ambiguous: when a submission may or may not have been accepted,
                ``"report"`` it (the default: status ``ambiguous``) or ``"resubmit"`` it
                (flagged ``possible_duplicate``). Leave the client's
                ``RetryPolicy.ambiguous_submit`` at ``REPORT``: under ``RETRY`` the session
                resends before the runner hears of it, and those possible duplicates reach
                only the ``on_retry`` hook, not the run's counts.
            timeout: seconds to poll each job (default ``poll.timeout``); a job still
                pending then is reported ``pending`` and waited for again on resume.
            retry: item-level retries after the session's own per-request ones (a refused
                submission, a poll that failed); default 3 attempts within 300 s.
            progress: a tqdm bar: ``True`` draws ``tqdm.auto`` in Jupyter and on stderr in a
                terminal (nothing when stderr is not one); a file draws there regardless; a
                tqdm-like factory is used as given (see :mod:`cosaudit.bulk.progress`).
            rate: submissions per second at most (a token bucket, no burst at start);
                ``"adaptive"`` to start at 20/s and follow what the service accepts, cutting on
                ``SlowDown`` and regrowing as botocore's adaptive retry mode does
                (:mod:`cosaudit.bulk.adaptive_rate`); None (the default) for no cap beyond
                ``concurrency``. Queries are not paced.
            shard: ``"I/N"`` (or a :class:`~cosaudit.bulk.Shard`) to take only the items
                whose id hashes to shard I of N (0-based), ``"auto/N"`` to read I from
                ``JOB_COMPLETION_INDEX`` (a Kubernetes Indexed Job). Give each shard its own
                journal (:func:`cosaudit.bulk.shard_journal`) and a rate of the account's quota
                divided by N: the quota is shared.

        Raises:
            InvalidInput: an argument is wrong (at once), or an item cannot be given an id,
                or the journal is another kind's or in use (on entering ``async with``).
        """
        from .bulk import BulkRun
        from .requests import BULK_KINDS

        if kind is None:
            kinds = {name: getattr(self, name) for name in BULK_KINDS}
            return BulkRun(
                kinds, items, name="mixed", sleep=self._sleep, monotonic=self._monotonic, **options
            )
        moderation = getattr(self, kind, None) if isinstance(kind, str) else None
        if kind == "live":
            raise InvalidInput("kind", "a live stream runs until cancelled; not a bulk kind")
        if not (hasattr(moderation, "submit") and hasattr(moderation, "wait")):
            known = ", ".join(
                name
                for name, value in vars(self).items()
                if hasattr(value, "wait") and name != "live"
            )
            raise InvalidInput("kind", f"unknown kind {kind!r}; one of {known}")
        return BulkRun(
            moderation,  # type: ignore[arg-type]
            items,
            name=kind,
            sleep=self._sleep,
            monotonic=self._monotonic,
            **options,
        )
