"""The client against every fault the emulator injects, each asserting the exact outcome.

What the caller sees (a result, or which typed error carrying what) and what the emulator
recorded (how many jobs exist, how many requests came): a submission may be lost to a fault but
is never duplicated unless the caller chose ``AmbiguousSubmit.RETRY``, and then each possible
duplicate is a counted ``RetryEvent``. Time is injected; the only real waits are 50 ms read
timeouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeTime

from cosaudit import (
    AmbiguousSubmit,
    AuditClient,
    Credentials,
    JobFailed,
    JobState,
    JobTimeout,
    PollPolicy,
    RetryBudget,
    RetryEvent,
    RetryPolicy,
    SlowDownPause,
    SubmissionUnknown,
    Timeouts,
)
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.faults import JOB_FAILURE_CODES
from cosaudit.errors import (
    AuthError,
    ConnectionLost,
    MalformedResponse,
    RequestTimeout,
    ServerError,
    ThrottledError,
)

QUERY = "GET /text/auditing/{jobId}"
SUBMIT = "POST /text/auditing"
FAST_POLL = PollPolicy(initial=0.01, maximum=0.05, timeout=10)
READ_TIMEOUT = Timeouts(read=0.05, total=None)


@pytest.fixture
async def emu(bucket_dir: Path) -> AsyncIterator[Emulator]:
    """Jobs final on their second query; faults drawn from a fixed seed."""
    async with Emulator(EmulatorConfig(bucket_dir=bucket_dir, final_after_polls=2, seed=7)) as e:
        yield e


def client_for(emu: Emulator, **kwargs: Any) -> AuditClient:
    time = kwargs.pop("time", None) or FakeTime()
    kwargs.setdefault("poll", FAST_POLL)
    kwargs.setdefault("credentials", Credentials(emu.config.secret_id, emu.config.secret_key))
    return AuditClient(
        bucket="examplebucket-1250000000",
        region="ap-guangzhou",
        endpoint=emu.url,
        monotonic=time,
        sleep=time.sleep,
        **kwargs,
    )


def data_ids(emu: Emulator) -> list[str | None]:
    return [job.request["Input"].get("DataId") for job in emu.jobs.values()]


# --- connection resets: before or after the service processed the submission ----------------------


@pytest.mark.parametrize(("phase", "jobs"), [("after", 1), ("before", 0)])
async def test_a_reset_submission_is_reported_unknown_and_never_resent(
    emu: Emulator, phase: str, jobs: int
) -> None:
    emu.faults.add("reset", phase=phase, count=1, method="POST")
    async with client_for(emu) as client:
        with pytest.raises(SubmissionUnknown) as caught:
            await client.text.submit(object="texts/hello.txt", data_id="post-1")
    unknown = caught.value
    assert (unknown.kind, unknown.data_id) == ("text", "post-1")
    assert isinstance(unknown.cause, ConnectionLost)
    # the client cannot tell the two apart: that is why it reports instead of guessing
    assert emu.stats.requests[SUBMIT] == 1
    assert data_ids(emu) == ["post-1"] * jobs


async def test_retry_policy_after_a_reset_before_processing_makes_one_job(emu: Emulator) -> None:
    emu.faults.add("reset", phase="before", count=1, method="POST")
    events: list[RetryEvent] = []
    retry = RetryPolicy(ambiguous_submit=AmbiguousSubmit.RETRY)
    async with client_for(emu, retry=retry, on_retry=events.append) as client:
        job = await client.text.submit(object="texts/hello.txt", data_id="post-2")
    assert [e.reason for e in events] == ["ambiguous_submit"]
    assert data_ids(emu) == ["post-2"] and job.job_id in emu.jobs


async def test_retry_policy_after_a_reset_after_processing_counts_the_duplicate(
    emu: Emulator,
) -> None:
    emu.faults.add("reset", phase="after", count=1, method="POST")
    events: list[RetryEvent] = []
    retry = RetryPolicy(ambiguous_submit=AmbiguousSubmit.RETRY)
    async with client_for(emu, retry=retry, on_retry=events.append) as client:
        await client.text.submit(object="texts/hello.txt", data_id="post-3")
    # the duplicate the caller accepted is there, and it was told: one ambiguous resend
    assert data_ids(emu) == ["post-3", "post-3"]
    assert [e.reason for e in events] == ["ambiguous_submit"]


async def test_a_reset_single_image_get_is_reported_unknown_not_resent(emu: Emulator) -> None:
    # The single-image GET makes a billed job; aiohttp silently resends a GET once on a
    # dropped connection, which made a second job with no RetryEvent and no error.
    emu.faults.add("reset", phase="after", count=1, method="GET")
    events: list[RetryEvent] = []
    async with client_for(emu, on_retry=events.append) as client:
        with pytest.raises(SubmissionUnknown) as caught:
            await client.image.moderate(object="images/clean.png", data_id="img-1")
    assert (caught.value.kind, caught.value.data_id) == ("image", "img-1")
    assert isinstance(caught.value.cause, ConnectionLost)
    assert dict(emu.stats.submits) == {"image": 1} and events == []


async def test_a_reset_query_is_resent(emu: Emulator) -> None:
    async with client_for(emu) as client:
        job = await client.text.submit(object="texts/hello.txt")
        emu.faults.add("reset", phase="before", count=1, method="GET")
        got = await client.text.get(job.job_id)
    assert got.job_id == job.job_id
    assert emu.stats.faults["reset-before"] == 1


# --- HTTP errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["unavailable", "slowdown"])
async def test_a_turned_away_submission_is_resent_and_makes_one_job(
    emu: Emulator, kind: str
) -> None:
    emu.faults.add(kind, count=1, method="POST")
    events: list[RetryEvent] = []
    async with client_for(emu, on_retry=events.append) as client:
        job = await client.text.moderate(object="texts/hello.txt", data_id="d1")
    assert job.state is JobState.SUCCESS
    assert emu.stats.requests[SUBMIT] == 2 and data_ids(emu) == ["d1"]
    assert [e.reason for e in events] == ["transient"]


@pytest.mark.parametrize(("phase", "jobs"), [("before", 0), ("after", 1)])
async def test_a_500_on_submit_is_reported_unknown(emu: Emulator, phase: str, jobs: int) -> None:
    emu.faults.add("internal-error", phase=phase, count=1, method="POST")
    async with client_for(emu) as client:
        with pytest.raises(SubmissionUnknown) as caught:
            await client.text.submit(object="texts/hello.txt", data_id="d5")
    cause = caught.value.cause
    assert isinstance(cause, ServerError) and (cause.status, cause.code) == (500, "InternalError")
    assert caught.value.request_id
    assert emu.stats.requests[SUBMIT] == 1 and len(emu.jobs) == jobs


async def test_a_500_on_a_query_is_retried(emu: Emulator) -> None:
    async with client_for(emu) as client:
        job = await client.text.submit(object="texts/hello.txt")
        emu.faults.add("internal-error", count=2, method="GET")
        got = await client.text.get(job.job_id)
    assert got.job_id == job.job_id and emu.stats.requests[QUERY] == 3


# --- slow answers ---------------------------------------------------------------------------------


async def test_a_slow_submission_is_a_read_timeout_reported_unknown(emu: Emulator) -> None:
    emu.faults.add("slow", delay=60, count=1, method="POST")
    async with client_for(emu, timeouts=READ_TIMEOUT) as client:
        with pytest.raises(SubmissionUnknown) as caught:
            await client.webpage.submit("https://example.com/", data_id="page-9")
    assert isinstance(caught.value.cause, RequestTimeout)
    assert (caught.value.kind, caught.value.data_id) == ("webpage", "page-9")
    assert data_ids(emu) == ["page-9"]  # processed, then answered too late


async def test_a_slow_query_is_cut_by_the_read_timeout_and_resent(emu: Emulator) -> None:
    events: list[RetryEvent] = []
    async with client_for(emu, timeouts=READ_TIMEOUT, on_retry=events.append) as client:
        job = await client.text.submit(object="texts/hello.txt")
        emu.faults.add("slow", delay=60, count=1, method="GET")
        got = await client.text.get(job.job_id)
    assert got.job_id == job.job_id
    assert [type(e.error) for e in events] == [RequestTimeout]


# --- bodies that are not the documented XML -------------------------------------------------------


@pytest.mark.parametrize("kind", ["truncated", "malformed", "wrong-type"])
async def test_a_garbled_query_answer_is_typed_and_resent(emu: Emulator, kind: str) -> None:
    async with client_for(emu, retry=RetryPolicy(attempts=1)) as client:
        job = await client.text.submit(object="texts/hello.txt")
        emu.faults.add(kind, count=1, method="GET")
        with pytest.raises(MalformedResponse) as caught:
            await client.text.get(job.job_id)
        assert caught.value.status == 200 and caught.value.request_id
    async with client_for(emu) as client:
        emu.faults.add(kind, count=1, method="GET")
        got = await client.text.get(job.job_id)
    assert got.job_id == job.job_id


@pytest.mark.parametrize("kind", ["truncated", "malformed", "wrong-type"])
async def test_a_garbled_submit_answer_is_typed_and_never_resent(emu: Emulator, kind: str) -> None:
    emu.faults.add(kind, count=1, method="POST")
    retry = RetryPolicy(ambiguous_submit=AmbiguousSubmit.RETRY)  # even so: a 200 was accepted
    async with client_for(emu, retry=retry) as client:
        with pytest.raises(MalformedResponse) as caught:
            await client.text.submit(object="texts/hello.txt", data_id="d7")
    assert caught.value.status == 200 and caught.value.request_id
    assert emu.stats.requests[SUBMIT] == 1 and data_ids(emu) == ["d7"]


# --- jobs that never finish or fail ---------------------------------------------------------------


async def test_a_stuck_job_times_out_carrying_the_last_job(emu: Emulator) -> None:
    emu.faults.add("stuck", count=1)
    time = FakeTime()
    async with client_for(emu, time=time, poll=PollPolicy()) as client:
        job = await client.text.submit(object="texts/hello.txt")
        with pytest.raises(JobTimeout) as caught:
            await client.text.wait(job.job_id, timeout=120)
    assert time.now == pytest.approx(120)
    last = caught.value.job
    assert last.job_id == job.job_id and last.state is JobState.AUDITING
    assert emu.stats.requests[QUERY] == len(time.sleeps) + 1  # at once, then after each wait


@pytest.mark.parametrize("code", sorted(JOB_FAILURE_CODES))
async def test_a_failed_job_raises_job_failed_with_its_code(emu: Emulator, code: str) -> None:
    emu.faults.add("job-failed", code=code, count=2)
    async with client_for(emu) as client:
        with pytest.raises(JobFailed) as caught:
            await client.text.moderate(object="texts/hello.txt")
        returned = await client.text.moderate(object="texts/hello.txt", raise_on_failure=False)
    assert (caught.value.code, caught.value.message) == (code, JOB_FAILURE_CODES[code])
    assert caught.value.job.state is JobState.FAILED
    assert (returned.state, returned.code) == (JobState.FAILED, code)


# --- clock skew -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "answer"),
    [(1200.0, "AccessDenied"), (-1200.0, "RequestTimeTooSkewed"), (3600.0, "RequestTimeTooSkewed")],
)
async def test_a_skewed_service_clock_is_corrected_with_one_re_sign(
    emu: Emulator, offset: float, answer: str
) -> None:
    emu.faults.clock_offset = offset
    events: list[RetryEvent] = []
    async with client_for(emu, on_retry=events.append) as client:
        first = await client.text.moderate("hello")
        second = await client.image.moderate(object="images/clean.png")  # the COS host
        assert client.session.clock_offset == pytest.approx(offset, abs=3)
    assert first.is_final and second.is_final
    assert [(e.reason, type(e.error).__name__) for e in events] == [("clock_skew", "AuthError")]
    assert getattr(events[0].error, "code", None) == answer
    assert emu.stats.auth_failures == 1


# --- a dead or throttling service -----------------------------------------------------------------


async def test_a_dead_service_fails_fast_once_the_budget_is_spent(emu: Emulator) -> None:
    async with client_for(emu) as client:
        job = await client.text.submit(object="texts/hello.txt")
    dead = emu.faults.add("unavailable", method="GET")  # every query, for good
    retry = RetryPolicy(attempts=4, budget=RetryBudget(capacity=15, retry_cost=5))
    async with client_for(emu, retry=retry) as client:
        for _ in range(4):
            with pytest.raises(ServerError):
                await client.text.get(job.job_id)
        # 4 attempts, then 3 tokens' worth of retries were spent: 4 + 1 + 1 + 1 - 0
        assert emu.stats.requests[QUERY] == 4 + 1 + 1 + 1
        emu.faults.remove(dead)
        await client.text.get(job.job_id)
        assert client.session.budget is not None and client.session.budget.available == 1


async def test_sustained_slowdown_pauses_the_session(emu: Emulator) -> None:
    throttle = emu.faults.add("slowdown", method="POST")
    time = FakeTime()
    pause = SlowDownPause(threshold=3, window=10, initial=2, maximum=8)
    retry = RetryPolicy(attempts=3, initial=0.1, maximum=0.1, slowdown=pause)
    async with client_for(emu, time=time, retry=retry) as client:
        with pytest.raises(ThrottledError) as caught:
            await client.text.moderate("hello")
        assert (caught.value.status, caught.value.code) == (429, "SlowDown")
        sent = emu.stats.requests[SUBMIT]
        emu.faults.remove(throttle)
        results = await asyncio.gather(*(client.text.moderate("hello") for _ in range(3)))
    assert sent == 3
    assert all(job.is_final for job in results)
    # three throttles opened the breaker for 2 s: all three waited it out before sending
    assert time.sleeps[2:] == pytest.approx([2.0, 2.0, 2.0])  # after the two backoffs
    assert emu.stats.requests[SUBMIT] == 6


# --- credentials ----------------------------------------------------------------------------------


async def test_an_expired_token_is_refreshed_once_through_the_provider(emu: Emulator) -> None:
    emu.add_key("AKIDtemporary", "temp-secret", token="sts-token")
    issued: list[Credentials] = []

    async def provider() -> Credentials:
        issued.append(Credentials("AKIDtemporary", "temp-secret", "sts-token"))
        return issued[-1]

    events: list[RetryEvent] = []
    async with client_for(emu, credentials=provider, on_retry=events.append) as client:
        emu.faults.add("error", status=400, code="ExpiredToken", count=1)
        job = await client.text.moderate("hello")
        emu.faults.add("error", status=400, code="ExpiredToken", count=2)
        with pytest.raises(AuthError) as caught:
            await client.text.moderate("hello")
    assert job.is_final and caught.value.code == "ExpiredToken"
    assert len(issued) == 3  # the first keys, then one refresh per call: never a loop
    assert [e.reason for e in events] == ["credentials", "credentials"]
