"""Typed usage of the public API, checked by ``mypy --strict`` (``nox -s typecheck``).

Not a test module: it is never run, only type-checked, so a signature change that breaks
users' type checking breaks the build.
"""

from __future__ import annotations

from cosaudit import (
    AuditClient,
    Credentials,
    Freeze,
    ImageInput,
    ImageJob,
    JobState,
    PollPolicy,
    Result,
    RetryEvent,
    RetryPolicy,
    TextJob,
    Timeouts,
    UserInfo,
    WebpageJob,
    jobs_table,
)


async def provider() -> Credentials:
    return Credentials("AKID", "key", "token", expires_at=1_700_000_000.0)


def on_retry(event: RetryEvent) -> None:
    print(event.method, event.attempt, event.wait, type(event.error).__name__)


async def usage() -> None:
    async with AuditClient(
        bucket="examplebucket-1250000000",
        region="ap-guangzhou",
        credentials=provider,
        endpoint="http://127.0.0.1:8765",
        timeouts=Timeouts(connect=2, read=10, total=None),
        retry=RetryPolicy(attempts=3),
        poll=PollPolicy(initial=0.5, timeout=120),
        on_retry=on_retry,
    ) as client:
        text: TextJob = await client.text.moderate("hello", user_info=UserInfo(token_id="u1"))
        submitted: TextJob = await client.text.submit(object="a.txt", freeze=Freeze(porn_score=90))
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
