"""A bulk run's submission rate: a fixed cap, or adaptive (:mod:`.adaptive_rate`).

``rate=N`` sends at most N submissions a second (a token bucket, :mod:`.token_bucket`);
``rate="adaptive"`` starts at :data:`~.adaptive_rate.DEFAULT_START_RATE` and follows what the
service accepts, cutting on ``SlowDown`` and regrowing; ``rate=None`` (the default of
``moderate_many``) sends as fast as ``concurrency`` allows.

The bucket is hand-written rather than aiolimiter's ``AsyncLimiter``, which is otherwise the
well-kept choice: the adaptive rate changes the rate on every answer and the limiter must be
charged for resends it did not schedule, while ``AsyncLimiter`` fixes its rate at construction,
reads the event loop's clock (tests could not inject one) and has no way to spend capacity
without waiting for it. One bucket serves both modes, so a fixed and an adaptive rate mean the
same thing by "N a second".

Only submissions are paced: a job's queries are bounded by the polling policy, and a throttled
query is retried by the session like any other. A run of several kinds has one rate for all its
submissions (the run's, as ``--rate`` reads); a ``SlowDown`` from one kind's API slows them all.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Literal

from ..errors import InvalidInput, ThrottledError
from ..retrying import RetryEvent
from .adaptive_rate import AdaptiveRate
from .token_bucket import TokenBucket

__all__ = ["Rate", "RateLimiter", "rate_limiter"]

Rate = float | Literal["adaptive"] | None
"""Submissions per second: a number, ``"adaptive"``, or None for no cap."""


class RateLimiter:
    """Waits before each submission of a run, and hears of every answer to one.

    Args:
        bucket: the token bucket submissions take from.
        adaptive: steers the bucket's rate from the answers, or None for a fixed rate.
        clock, sleep: the bucket's clock, and waits (injectable, as the run's).
    """

    __slots__ = ("_clock", "_lock", "_sleep", "adaptive", "bucket")

    def __init__(
        self,
        bucket: TokenBucket,
        adaptive: AdaptiveRate | None,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.bucket = bucket
        self.adaptive = adaptive
        self._clock = clock
        self._sleep = sleep
        # One waiter at a time, in arrival order (asyncio.Lock is FIFO): the others queue
        # behind it instead of each polling the bucket.
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        mode = "adaptive" if self.adaptive is not None else "fixed"
        return f"<RateLimiter {mode} {self.bucket.rate:.1f}/s>"

    async def acquire(self) -> float:
        """Wait until a submission may be sent, and take its token; returns the time (on the
        bucket's clock) it may be sent at, for :meth:`answered`."""
        async with self._lock:
            delay = self.bucket.delay()
            if delay > 0:
                await self._sleep(delay)
            # One sleep, not a loop (an injected sleep that does not move the clock must not
            # spin): should the rate have been cut meanwhile, the token is taken into debt and
            # the next submission waits the longer.
            self.bucket.charge()
            return self._clock()

    def answered(self, error: BaseException | None, sent: float | None = None) -> None:
        """A submission ``sent`` at that time was answered: accepted (``error`` None) or
        refused with ``error``."""
        if self.adaptive is not None:
            self.adaptive.received(isinstance(error, ThrottledError), sent)

    def resent(self, event: RetryEvent, sent: float | None = None) -> None:
        """The session is about to resend a submission first ``sent`` at that time (its own
        retry): the failed attempt's answer counts like any other, and the resend spends a
        token it did not wait for."""
        self.answered(event.error, sent)
        self.bucket.charge()


def rate_limiter(
    rate: Rate, *, monotonic: Callable[[], float], sleep: Callable[[float], Awaitable[None]]
) -> RateLimiter | None:
    """The limiter for ``rate`` (None when there is no cap); InvalidInput for a bad ``rate``."""
    if rate is None:
        return None
    if rate == "adaptive":
        bucket = TokenBucket(0.0, monotonic)
        return RateLimiter(bucket, AdaptiveRate(bucket, monotonic), monotonic, sleep)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf:
        raise InvalidInput(
            "rate", f"must be a number of submissions per second > 0, 'adaptive' or None, "
            f"got {rate!r}"
        )  # fmt: skip
    # No floor: botocore's 0.5/s keeps an adaptive rate from stalling, but a rate the user
    # chose (say 0.1/s against a strict quota) is theirs.
    return RateLimiter(TokenBucket(float(rate), monotonic, floor=0.0), None, monotonic, sleep)
