"""A bulk run's submission rate: the token bucket's and CUBIC's arithmetic on an injected clock,
then runs against the emulator's rate limits with one manual clock shared by client and
emulator, so simulated seconds pass at once and every figure is exact.

The emulator judges: its ``SlowDown`` answers (``stats.throttled``) say whether a run kept to
the limit, not the runner's own word.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from conftest import ManualClock, client_for

from cosaudit import InvalidInput, ItemStatus, RetryPolicy, SlowDownPause
from cosaudit.bulk import DEFAULT_START_RATE
from cosaudit.bulk.adaptive_rate import AdaptiveRate, CubicCalculator, RateClocker
from cosaudit.bulk.token_bucket import TokenBucket
from cosaudit.emulator import Emulator, EmulatorConfig

# All retrying by the runner (through its limiter), none by the session, nor its SlowDown
# pause: their sleeps would each move the shared clock, and concurrent sleeps would add up.
NO_SESSION_RETRY = RetryPolicy(attempts=1, slowdown=None)
ITEM_RETRY = RetryPolicy(attempts=20, initial=0.0, maximum=0.0, deadline=1e6)


# -- the arithmetic --------------------------------------------------------------------------


def test_bucket_starts_empty_and_fills_at_its_rate() -> None:
    clock = ManualClock(0.0)
    bucket = TokenBucket(4.0, clock)
    assert bucket.delay() == pytest.approx(0.25) and not bucket.take()
    clock.advance(0.25)
    assert bucket.delay() == 0.0 and bucket.take() and not bucket.take()
    clock.advance(10.0)  # holds one second's worth, not ten
    assert [bucket.take() for _ in range(5)] == [True] * 4 + [False]


def test_new_rate_credits_tokens_earned_at_the_old_one_and_has_a_floor() -> None:
    clock = ManualClock(0.0)
    bucket = TokenBucket(10.0, clock)
    clock.advance(0.5)  # 5 tokens at 10/s
    bucket.rate = 2.0  # capacity 2: the 5 are cut to 2
    assert bucket.tokens == pytest.approx(2.0)
    bucket.rate = 0.01  # below the 0.5/s floor: fills at 0.5/s, holds one token
    assert bucket.tokens == pytest.approx(1.0) and bucket.take()
    assert bucket.delay() == pytest.approx(2.0)


def test_a_charge_goes_into_debt_and_delays_what_follows() -> None:
    clock = ManualClock(0.0)
    bucket = TokenBucket(2.0, clock)
    bucket.charge()
    bucket.charge()  # two resends sent without asking
    assert bucket.tokens == pytest.approx(-2.0)
    assert bucket.delay() == pytest.approx(1.5)


def test_debt_is_at_most_one_seconds_worth() -> None:
    clock = ManualClock(0.0)
    bucket = TokenBucket(2.0, clock)
    for _ in range(10):
        bucket.charge()
    assert bucket.tokens == pytest.approx(-2.0)


def test_cubic_cuts_to_seventy_percent_and_regrows_to_the_old_rate_after_k() -> None:
    cubic = CubicCalculator(0.0, 0.0)
    assert cubic.throttled(100.0, 10.0) == pytest.approx(70.0)
    k = (100 * 0.3 / 0.4) ** (1 / 3)
    assert cubic.k == pytest.approx(k)
    assert cubic.success(10.0) == pytest.approx(70.0)
    assert cubic.success(10.0 + k) == pytest.approx(100.0)  # the plateau at w_max
    assert cubic.success(10.0 + k + 2) == pytest.approx(100 + 0.4 * 8)  # probing beyond it


def test_measured_rate_counts_half_seconds_and_smooths() -> None:
    clock = ManualClock(100.0)
    measured = RateClocker(clock)
    for _ in range(9):
        clock.advance(0.05)
        measured.record()  # still within the first half-second: no figure yet
    assert measured.rate == 0.0
    clock.advance(0.1)  # 100.55: the next bucket
    assert measured.record() == pytest.approx(0.8 * 10 / 0.5)


def test_adaptive_starts_at_its_start_rate_and_cuts_on_slowdown() -> None:
    clock = ManualClock(0.0)
    bucket = TokenBucket(0.0, clock)
    adaptive = AdaptiveRate(bucket, clock, start=50.0)
    assert bucket.rate == 50.0
    assert adaptive.received(throttled=False) == pytest.approx(50.0)  # on the plateau
    assert adaptive.received(throttled=True) == pytest.approx(35.0)  # 0.7 * min(50, 50)
    assert adaptive.received(throttled=True) == pytest.approx(24.5)  # cut again from 35


def test_one_overload_cuts_once_and_drops_saved_tokens() -> None:
    clock = ManualClock(0.0)
    bucket = TokenBucket(0.0, clock)
    adaptive = AdaptiveRate(bucket, clock, start=50.0)
    clock.advance(0.2)  # 10 tokens saved up: nothing was sent (same half-second)
    sent_before = clock()
    clock.advance(0.01)
    assert adaptive.received(throttled=True, sent=sent_before) == pytest.approx(35.0)
    assert bucket.tokens <= 0  # no burst into the overload the cut answers
    # Further answers to requests sent before that cut report the same overload: no news.
    for _ in range(20):
        assert adaptive.received(throttled=True, sent=sent_before) == pytest.approx(35.0)
    clock.advance(0.01)
    sent_after = clock()
    assert adaptive.received(throttled=True, sent=sent_after) == pytest.approx(24.5)


def test_adaptive_never_grows_past_twice_the_measured_rate() -> None:
    clock = ManualClock(0.0)
    bucket = TokenBucket(0.0, clock)
    adaptive = AdaptiveRate(bucket, clock, start=50.0)
    clock.advance(60.0)  # a minute with no answer at all: CUBIC alone would say 50 + 0.4*60^3
    # One answer in the last bucket: measured = 0.8 * 1/60 + 0.2 * 50 = 10.01
    assert adaptive.received(throttled=False) == pytest.approx(2 * (0.8 / 60 + 0.2 * 50))


@pytest.mark.parametrize("rate", [0, -1, math.inf, math.nan, True, "fast", "20"])
def test_a_bad_rate_is_refused_at_once(emulator: Emulator, rate: Any) -> None:
    client = client_for(emulator)
    with pytest.raises(InvalidInput, match="rate"):
        client.moderate_many(["a.txt"], kind="text", rate=rate)


# -- against the emulator --------------------------------------------------------------------


@pytest.fixture
def shared() -> ManualClock:
    return ManualClock(1_000.0)


@pytest.fixture
async def limited(shared: ManualClock, request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
    """An emulator whose text API takes ``request.param`` requests/s on the shared clock."""
    config = EmulatorConfig(clock=shared, qps={"text": request.param})
    async with Emulator(config) as emu:
        yield emu


def texts(count: int) -> Iterator[dict[str, str]]:
    return ({"content": f"post {i}", "data_id": f"t{i}"} for i in range(count))


@pytest.mark.parametrize("limited", [10.0], indirect=True)
async def test_a_fixed_rate_bounds_submissions(limited: Emulator, shared: ManualClock) -> None:
    start = shared()
    async with (
        client_for(limited, monotonic=shared, sleep=shared.sleep, retry=NO_SESSION_RETRY) as client,
        client.moderate_many(
            texts(50), kind="text", concurrency=16, rate=10, retry=RetryPolicy(attempts=1)
        ) as run,
    ):
        statuses = [result.status async for result in run]
    # 50 submissions at 10/s from an empty bucket: the last one 5 s after the start, and not
    # one over the emulator's limit of 10/s (a single SlowDown would fail its item).
    assert statuses == [ItemStatus.SUCCEEDED] * 50
    assert limited.stats.throttled["text"] == 0 and limited.stats.submits["text"] == 50
    assert shared() - start == pytest.approx(5.0)
    assert run.rate == 10.0


@pytest.mark.parametrize("limited", [10.0], indirect=True)
async def test_a_fixed_rate_below_the_adaptive_floor_is_honoured(
    limited: Emulator, shared: ManualClock
) -> None:
    start = shared()
    async with (
        client_for(limited, monotonic=shared, sleep=shared.sleep, retry=NO_SESSION_RETRY) as client,
        client.moderate_many(texts(3), kind="text", rate=0.2) as run,
    ):
        statuses = [result.status async for result in run]
    # 0.2/s, not botocore's 0.5/s floor (that is the adaptive rate's): one each 5 s.
    assert statuses == [ItemStatus.SUCCEEDED] * 3
    assert shared() - start == pytest.approx(15.0)


@pytest.mark.parametrize("limited", [10.0], indirect=True)
async def test_without_a_rate_the_same_run_is_throttled(
    limited: Emulator, shared: ManualClock
) -> None:
    """The control of the test above: it is the rate that keeps the run under the limit."""
    async with (
        client_for(limited, monotonic=shared, sleep=shared.sleep, retry=NO_SESSION_RETRY) as client,
        client.moderate_many(
            texts(50), kind="text", concurrency=16, retry=RetryPolicy(attempts=1)
        ) as run,
    ):
        statuses = [result.status async for result in run]
    # The clock stands still: after the emulator's burst of 10, every submission is refused.
    assert statuses.count(ItemStatus.FAILED) == limited.stats.throttled["text"] == 40
    assert run.rate is None


async def follow(emu: Emulator, clock: ManualClock, count: int, **options: Any) -> dict[str, float]:
    """An adaptive run of ``count`` texts; the figures of its second half (simulated time)."""
    start = clock()
    marks: list[float] = []
    half: tuple[float, int, int] | None = None
    async with client_for(
        emu, monotonic=clock, sleep=clock.sleep, retry=NO_SESSION_RETRY
    ) as client:
        run = client.moderate_many(
            texts(count), kind="text", rate="adaptive", retry=ITEM_RETRY, **options
        )
        async with run:
            async for result in run:
                assert result.ok
                marks.append(clock())
                if half is None and len(marks) >= count // 2:
                    half = (clock(), emu.stats.throttled["text"], emu.stats.submits["text"])
    assert half is not None
    when, throttled, accepted = half
    later_throttled = emu.stats.throttled["text"] - throttled
    later_accepted = emu.stats.submits["text"] - accepted
    return {
        "elapsed": clock() - start,
        "rate": later_accepted / (clock() - when),
        "throttled": later_throttled / (later_throttled + later_accepted),
        "final": run.rate or 0.0,
    }


@pytest.mark.parametrize("limited", [10.0], indirect=True)
async def test_adaptive_started_too_fast_converges_on_the_limit(
    limited: Emulator, shared: ManualClock
) -> None:
    # Starts at 20/s against a limit of 10/s: cut on SlowDown, then held at the limit. CUBIC
    # probes past the limit once a cycle, a cycle lasting about cbrt(limit) seconds: at 10/s
    # that is one or two SlowDown in some 40 requests (4 to 5 %; under 1 % at 40/s, below).
    figures = await follow(limited, shared, 500, concurrency=32)
    assert figures["rate"] >= 0.9 * 10, figures
    assert figures["throttled"] <= 0.08, figures
    assert limited.stats.submits["text"] == 500  # every throttled one went through later


@pytest.mark.parametrize("limited", [40.0], indirect=True)
async def test_adaptive_grows_to_a_limit_above_its_start(
    limited: Emulator, shared: ManualClock
) -> None:
    figures = await follow(limited, shared, 1000, concurrency=64)
    assert DEFAULT_START_RATE < 40
    assert figures["rate"] >= 0.9 * 40, figures
    assert figures["throttled"] <= 0.02, figures


async def test_slowdown_the_session_retried_reaches_the_adaptive_rate(
    emulator: Emulator, shared: ManualClock
) -> None:
    """The session resends a throttled submission itself (its RetryPolicy); the runner never
    sees that answer, yet the adaptive rate must hear of it and cut."""

    async def run_once(throttle: bool) -> tuple[float | None, int]:
        if throttle:
            emulator.faults.fail_next(1, status=429, code="SlowDown")
        client = client_for(emulator, monotonic=shared, sleep=shared.sleep)
        async with client, client.moderate_many(texts(5), kind="text", rate="adaptive") as run:
            assert [result.ok async for result in run] == [True] * 5
        return run.rate, run.summary.retries

    rate, item_retries = await run_once(throttle=False)
    assert rate == pytest.approx(DEFAULT_START_RATE, rel=0.01) and item_retries == 0
    rate, item_retries = await run_once(throttle=True)
    assert item_retries == 0  # the session's retry, not the runner's
    assert rate is not None and rate < 0.8 * DEFAULT_START_RATE


@pytest.mark.parametrize(("rate", "paused"), [("adaptive", False), (None, True), (100, True)])
async def test_only_an_adaptive_run_does_without_the_sessions_slowdown_pause(
    emulator: Emulator, shared: ManualClock, rate: Any, paused: bool
) -> None:
    """Two controllers on one signal fight: under an adaptive rate, a SlowDown the session
    retried cuts the rate and does not trip the session's pause (here at the first one)."""
    emulator.faults.fail_next(1, status=429, code="SlowDown")
    retry = RetryPolicy(slowdown=SlowDownPause(threshold=1))
    client = client_for(emulator, monotonic=shared, sleep=shared.sleep, retry=retry)
    async with client, client.moderate_many(texts(3), kind="text", rate=rate) as run:
        assert [result.ok async for result in run] == [True] * 3
    pause = client.session.slowdown
    assert pause is not None and (pause.paused_until > -math.inf) is paused
