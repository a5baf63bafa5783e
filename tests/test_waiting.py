"""The polling coordinator, driven by an injected clock: nothing here really waits."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest

from cosaudit.config import PollPolicy
from cosaudit.errors import JobFailed, JobTimeout, ServerError
from cosaudit.models import JobState, TextJob, structure
from cosaudit.waiting import wait_for_job


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def job(state: str, **extra: str) -> TextJob:
    return structure(TextJob, {"JobId": "st1", "State": state, **extra})


def scripted(states: list[str], time: FakeTime) -> tuple[Callable[[], object], list[float]]:
    polled_at: list[float] = []

    async def fetch() -> TextJob:
        polled_at.append(time.now)
        state = states.pop(0) if len(states) > 1 else states[0]
        return job(state)

    return fetch, polled_at


POLICY = PollPolicy(initial=1.0, multiplier=2.0, maximum=5.0, jitter=0.0, timeout=100.0)


async def test_polls_until_final_slowing_down_to_the_cap() -> None:
    time = FakeTime()
    fetch, polled_at = scripted(
        ["Submitted", "Auditing", "Auditing", "Auditing", "Auditing", "Success"], time
    )
    result = await wait_for_job(
        fetch, job_id="st1", policy=POLICY, clock=time.clock, sleep=time.sleep
    )
    assert result.state is JobState.SUCCESS
    assert time.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert polled_at == [0.0, 1.0, 3.0, 7.0, 12.0, 17.0]


def test_default_schedule_starts_fast_and_backs_off_to_15_seconds() -> None:
    # Chosen with benchmarks/polling.py: about 3 polls on jobs of 0.2-2 s (see PollPolicy).
    policy = PollPolicy()
    waits = [policy.interval(n) for n in range(1, 13)]
    assert waits[:4] == pytest.approx([0.25, 0.375, 0.5625, 0.84375])
    assert waits[-1] == 15.0 and waits[-2] < 15.0
    assert (policy.jitter, policy.timeout) == (0.1, 600.0)


async def test_jitter_stays_within_its_band() -> None:
    time = FakeTime()
    fetch, _ = scripted(["Auditing"] * 6 + ["Success"], time)
    policy = PollPolicy(initial=1.0, multiplier=1.5, maximum=10.0, jitter=0.2, timeout=100.0)
    await wait_for_job(
        fetch, job_id="st1", policy=policy, clock=time.clock, sleep=time.sleep, rng=random.Random(7)
    )
    for n, slept in enumerate(time.sleeps, start=1):
        assert 0.8 * policy.interval(n) <= slept <= 1.2 * policy.interval(n)
    assert len(set(time.sleeps)) == len(time.sleeps)


async def test_timeout_never_oversleeps_and_carries_last_job() -> None:
    time = FakeTime()
    fetch, polled_at = scripted(["Auditing"], time)
    with pytest.raises(JobTimeout) as caught:
        await wait_for_job(
            fetch, job_id="st1", policy=POLICY, timeout=10.0, clock=time.clock, sleep=time.sleep
        )
    assert time.now == pytest.approx(10.0)
    assert polled_at[-1] == pytest.approx(10.0)  # a last look exactly at the deadline
    assert caught.value.job.state is JobState.AUDITING
    assert caught.value.job_id == "st1"
    assert caught.value.timeout == 10.0


@pytest.mark.parametrize("pending", ["Snapshoting", "Queued-Unknown-State", "Submitted"])
async def test_pending_states(pending: str) -> None:
    time = FakeTime()
    fetch, polled_at = scripted([pending, pending, "Success"], time)
    await wait_for_job(fetch, job_id="st1", policy=POLICY, clock=time.clock, sleep=time.sleep)
    assert len(polled_at) == 3


async def test_failed_raises_with_the_job() -> None:
    time = FakeTime()

    async def fetch() -> TextJob:
        return job("Failed", Code="ResourceNotFound", Message="no such object")

    with pytest.raises(JobFailed) as caught:
        await wait_for_job(fetch, job_id="st1", policy=POLICY, clock=time.clock, sleep=time.sleep)
    assert caught.value.code == "ResourceNotFound"
    assert caught.value.job.message == "no such object"
    returned = await wait_for_job(
        fetch,
        job_id="st1",
        policy=POLICY,
        raise_on_failure=False,
        clock=time.clock,
        sleep=time.sleep,
    )
    assert returned.state is JobState.FAILED


async def test_a_final_job_in_hand_needs_no_poll() -> None:
    time = FakeTime()
    fetch, polled_at = scripted(["Auditing"], time)
    done = job("Success")
    assert (
        await wait_for_job(
            fetch, job_id="st1", policy=POLICY, first=done, clock=time.clock, sleep=time.sleep
        )
        is done
    )
    assert polled_at == []


async def test_a_pending_job_in_hand_waits_before_polling() -> None:
    time = FakeTime()
    fetch, polled_at = scripted(["Auditing", "Success"], time)
    await wait_for_job(
        fetch,
        job_id="st1",
        policy=POLICY,
        first=job("Submitted"),
        clock=time.clock,
        sleep=time.sleep,
    )
    assert polled_at == [1.0, 3.0]


async def test_request_errors_are_not_polled_over() -> None:
    time = FakeTime()
    calls = []

    async def fetch() -> TextJob:
        calls.append(1)
        raise ServerError(500, "InternalError", "boom", request_id="r1")

    with pytest.raises(ServerError):
        await wait_for_job(fetch, job_id="st1", policy=POLICY, clock=time.clock, sleep=time.sleep)
    assert len(calls) == 1


async def test_cancelling_stops_polling_at_once() -> None:
    polls: list[int] = []
    asleep = asyncio.Event()
    never = asyncio.Event()

    async def fetch() -> TextJob:
        polls.append(1)
        return job("Auditing")

    async def sleep(_: float) -> None:
        asleep.set()
        await never.wait()

    task = asyncio.create_task(wait_for_job(fetch, job_id="st1", policy=POLICY, sleep=sleep))
    await asleep.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert polls == [1]
