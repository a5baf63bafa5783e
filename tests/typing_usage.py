"""Typed usage of the public API, checked by ``mypy --strict`` (``nox -s typecheck``).

Not a test module: it is never run, only type-checked, so a signature change that breaks
users' type checking breaks the build.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

from cosaudit import (
    AmbiguousSubmit,
    AudioJob,
    AuditClient,
    BulkItem,
    BulkResult,
    BulkRun,
    BulkSummary,
    Credentials,
    DocumentJob,
    Freeze,
    ImageInput,
    ImageJob,
    ItemStatus,
    JobState,
    JobTimeout,
    LiveJob,
    ObjectEntry,
    PollPolicy,
    Result,
    RetryBudget,
    RetryEvent,
    RetryPolicy,
    SlowDownPause,
    SubmissionUnknown,
    TextJob,
    TextRequest,
    Timeouts,
    UserInfo,
    VideoJob,
    VideoRequest,
    VirusJob,
    WebpageJob,
    jobs_table,
)
from cosaudit.bulk import Collected, Shard, shard_journal
from cosaudit.bulk.records import JSONValue, record
from cosaudit.models import Job
from cosaudit.requests import structure


async def provider() -> Credentials:
    return Credentials("AKID", "key", "token", expires_at=1_700_000_000.0)


def on_retry(event: RetryEvent) -> None:
    print(event.method, event.attempt, event.wait, type(event.error).__name__, event.reason)


async def usage() -> None:
    async with AuditClient(
        bucket="examplebucket-1250000000",
        region="ap-guangzhou",
        credentials=provider,
        endpoint="http://127.0.0.1:8765",
        timeouts=Timeouts(connect=2, read=10, total=None),
        retry=RetryPolicy(
            attempts=3,
            deadline=20.0,
            budget=RetryBudget(capacity=50),
            slowdown=SlowDownPause(threshold=3, initial=1.0),
            ambiguous_submit=AmbiguousSubmit.RETRY,
        ),
        poll=PollPolicy(initial=0.5, timeout=120),
        on_retry=on_retry,
    ) as client:
        text: TextJob = await client.text.moderate("hello", user_info=UserInfo(token_id="u1"))
        try:
            submitted: TextJob = await client.text.submit(
                object="a.txt", data_id="a", freeze=Freeze(porn_score=90)
            )
        except SubmissionUnknown as unknown:
            ids: tuple[str | None, ...] = unknown.data_ids
            print(unknown.kind, unknown.data_id, ids, unknown.status, unknown.cause)
            raise
        done: TextJob = await client.text.wait(submitted.job_id or "", timeout=30.0)
        image: ImageJob = await client.image.moderate(content=b"...")
        batch: tuple[ImageJob, ...] = await client.image.moderate_batch(
            ["a.jpg", ImageInput(url="https://example.com/b.png", data_id="b")]
        )
        page: WebpageJob = await client.webpage.moderate("https://example.com/")
        state: JobState | str | None = done.state
        verdict: Result | int | None = text.verdict
        sensitive: bool = image.is_sensitive or page.is_suspicious
        print(jobs_table([text, done, image, *batch]), state, verdict, sensitive)

        video: VideoJob = await client.video.moderate(
            object="a.mp4", snapshot_count=10, snapshot_mode="Interval", snapshot_interval=2.5
        )
        frame_ms: int | None = video.snapshots[0].snapshot_time if video.snapshots else None
        audio: AudioJob = await client.audio.moderate(url="https://example.com/a.mp3")
        words: tuple[str, ...] = audio.hit_keywords("Porn")
        offsets: list[int | None] = [section.offset_time for section in audio.sections]
        document: DocumentJob = await client.document.moderate(object="a", file_type="docx")
        pages: list[int | None] = [p.page_number for p in document.pages]
        live: LiveJob = await client.live.submit("rtmp://example.com/live/1", biz_type="b1")
        now: LiveJob = await client.live.get(live.job_id or "")
        taken: datetime | None = now.snapshots[0].snapshot_at if now.snapshots else None
        stopped: LiveJob = await client.live.cancel(live.job_id or "")
        try:
            await client.live.wait(live.job_id or "", timeout=60)
        except JobTimeout as timed_out:
            print(timed_out.job)
        virus: VirusJob = await client.virus.moderate(object="a.zip")
        infected: list[str | None] = [v.virus_name for v in virus.viruses]
        request_id: str | None = await client.report_badcase(
            text="hello",
            label="Porn",
            suggested_label="Normal",
            moderation_time=datetime.now(timezone.utc),
        )
        print(frame_ms, words, offsets, pages, taken, stopped, infected, request_id)
        print(jobs_table([video, audio, document, now, virus]))

        request = TextRequest(object="a.txt", data_id="a", user_info={"token_id": "u1"})
        sent: TextJob = await client.text.submit_request(request)
        final: TextJob = await client.text.moderate_request(request, timeout=30.0)
        clip = structure({"object": "a.mp4", "snapshot_count": 10}, VideoRequest)
        frames: VideoJob = await client.video.moderate_request(clip, raise_on_failure=False)
        print(sent, final, frames)


async def listing() -> AsyncIterator[BulkItem]:
    yield "posts/1.txt"
    yield {"object": "posts/2.txt", "data_id": "post-2", "biz_type": "abc"}


async def bulk_usage(client: AuditClient) -> BulkSummary:
    texts: BulkRun[TextJob] = client.moderate_many(
        listing(),
        kind="text",
        concurrency=32,
        journal="audit.jsonl",
        fsync=False,
        on_ambiguous="resubmit",
        timeout=120.0,
        retry=RetryPolicy(attempts=5),
    )
    async with texts as run:
        async for result in run:
            first: BulkResult[TextJob] = result
            if first.status is ItemStatus.SUCCEEDED and first.job is not None:
                print(first.id, first.job.label, first.job.is_sensitive, first.possible_duplicate)
            elif first.status is ItemStatus.AMBIGUOUS:
                print("reconcile", first.id, first.code)
    requested: BulkRun[TextJob] = client.moderate_many([TextRequest(content="hi")], kind="text")
    async with requested:
        print([result.id async for result in requested])
    images: BulkRun[ImageJob] = client.moderate_many(
        ["a.jpg", "b.png"], kind="image", rate="adaptive", shard="auto/4"
    )
    paced: BulkRun[TextJob] = client.moderate_many(
        ["a.txt"], kind="text", rate=50, shard=Shard(0, 2), journal=shard_journal("r", Shard(0, 2))
    )
    found: float | None = paced.rate
    print(found)
    async with images:
        done: list[ImageJob | None] = [result.job async for result in images]
    print(done, images.summary.handed_over)
    mixed: BulkRun[Job] = client.moderate_many(
        [TextRequest(content="hi"), {"kind": "image", "object": "a.jpg"}]
    )
    async with mixed:
        kinds: list[str | None] = [result.kind async for result in mixed]
    print(kinds)
    kept: Collected[TextJob] = await client.moderate_many(
        ["a.txt"], kind="text", progress=True
    ).collect()
    rows: list[dict[str, JSONValue]] = kept.to_records()
    word: str | None = kept[0].verdict
    print(
        rows,
        word,
        kept.summary.verdicts,
        kept.summary.items_per_second,
        record(kept[0], kind="text"),
    )
    return run.summary


async def bucket_usage(client: AuditClient) -> list[str]:
    from cosaudit.formats import guess_kind

    objects: AsyncIterator[ObjectEntry] = client.list_objects(prefix="uploads/", max_keys=500)
    keys: list[str] = []
    async for entry in objects:
        when: datetime = entry.last_modified
        kind: str | None = guess_kind(entry.key)
        print(entry.size + 1, entry.etag.strip('"'), when.isoformat(), kind)
        keys.append(entry.key)
    async for later in client.list_objects(prefix="uploads/", marker=keys[-1]):
        print(later.key)
    return keys


async def testing_usage() -> None:
    from cosaudit.testing import Emulated, emulated

    async with emulated(job_duration=5) as cos:
        env: Emulated = cos
        env.clock.advance(5)
        env.faults.add("slowdown", count=1)
        (env.bucket_dir / "a.txt").write_text("hello")
        async with env.client() as client:
            job: TextJob = await client.text.moderate("hello")
        print(job.label, env.url, env.bucket, [str(r) for r in env.requests])


async def callbacks_usage(credentials: Credentials) -> list[LiveJob]:
    from aiohttp import web

    from cosaudit.callbacks import Callback, CallbackReceiver, Reply, parse_callback

    public = "https://example.com/cosaudit/callback"
    async with CallbackReceiver("127.0.0.1", 8080, public_url=public, grace=5.0) as receiver:
        receiver.rotate()
        receiver.retire()
        async with AuditClient(
            bucket="examplebucket-1250000000",
            region="ap-guangzhou",
            credentials=credentials,
            callbacks=receiver,
        ) as client:
            text: TextJob = await client.text.moderate(object="a.txt")
            assert text.is_final
            updates = [update async for update in client.live.watch("av123")]
    mounted = CallbackReceiver(public_url=public, trust="token")
    mounted.mount(web.Application(), "/cosaudit/callback")
    asgi = mounted.asgi
    assert callable(asgi)
    reply: Reply = mounted.handle("POST", "token=x", {"Content-Type": "application/json"}, b"{}")
    assert reply.status in (200, 400, 403)
    callback: Callback = parse_callback(b'{"EventName": "ReviewText", "JobsDetail": {}}')
    assert callback.job("text").job_id == callback.job_id
    return updates
