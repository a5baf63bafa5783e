"""Adaptive rate: find and hold the highest submission rate the service accepts.

The algorithm is botocore's adaptive retry mode (``botocore/retries/adaptive.py``,
``throttling.py``, ``bucket.py``; Apache-2.0, re-implemented here, not imported), which is
CUBIC congestion control (RFC 8312) applied to a request rate:

* Every answer is recorded by :class:`RateClocker`, a measured send rate: answers counted in
  half-second buckets, smoothed (``0.8 * latest + 0.2 * before``).
* A throttled answer (``SlowDown``) remembers the rate sent at, ``w_max = min(measured rate,
  current rate)``, and cuts the rate to ``0.7 * w_max`` (:class:`CubicCalculator`).
* Any other answer regrows the rate along ``0.4 * (t - k)**3 + w_max``, ``t`` the seconds since
  the last throttle and ``k = cbrt(w_max * 0.3 / 0.4)``: fast at first, flat near ``w_max``
  (where the service said no last time), then probing beyond it ever faster.
* The rate is never set above twice the measured rate, so a run that cannot use its rate (too
  few items in flight) does not bank an allowance it would burst later.

One difference from botocore is about concurrency: a throttle cuts once per generation of
requests. Answers to submissions sent before the last cut say nothing new (the cut was already
the answer to that overload), so they neither cut again nor regrow the rate; botocore, written
for clients sending a request at a time per thread, cuts on every one, and 256 submissions in
flight into one overload would bring the rate down to its floor in one go (0.7**20 < 0.001).
TCP's CUBIC likewise cuts at most once per round trip.

A cut also drops the tokens the bucket has saved up (up to a second's worth when the run sent
below its rate): sent at once, they would land in the overload the cut answers, and cut again.

Two more, both about the start. botocore sends unlimited until its first
throttle; a bulk run at high concurrency would then open with a storm of ``SlowDown``. Here the
rate starts at ``start`` (:data:`DEFAULT_START_RATE`) on the flat part of the curve, as if the
last throttle had happened ``k`` seconds earlier at that rate, and the measured rate starts at
``start`` too (botocore's starts at 0, which with the ×2 cap would pin a limiter enabled from
the first request to the 0.5/s floor).

Pure bookkeeping over an injected monotonic clock: :class:`cosaudit.bulk.rate.RateLimiter` does
the waiting and reports each answer to :meth:`AdaptiveRate.received`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .token_bucket import TokenBucket

__all__ = ["DEFAULT_START_RATE", "AdaptiveRate", "CubicCalculator", "RateClocker"]

# The service publishes no per-API rate for submissions (page 436/48278's live-stream cancel, 20
# requests/s, is the only rate it documents), so a run starts at that one published figure. CUBIC
# regrowth takes it to 10x within about ten seconds when the service accepts more.
DEFAULT_START_RATE = 20.0

SCALE = 0.4  # CUBIC's C
BETA = 0.7  # the share of the rate kept on a throttle
SMOOTHING = 0.8  # the weight of the latest half-second in the measured rate
TIME_BUCKET = 0.5  # seconds over which answers are counted
MAX_GROWTH = 2.0  # the rate never exceeds this many times the measured rate


class CubicCalculator:
    """The CUBIC curve: the rate to send at, after a throttle or any other answer."""

    __slots__ = ("k", "last_fail", "w_max")

    def __init__(self, w_max: float, last_fail: float) -> None:
        self.w_max = w_max
        self.k = self._zero_point(w_max)
        self.last_fail = last_fail

    def __repr__(self) -> str:
        return f"<CubicCalculator w_max={self.w_max:g} k={self.k:.2f} last_fail={self.last_fail:g}>"

    @staticmethod
    def _zero_point(w_max: float) -> float:
        """Seconds after a throttle at which the curve is back at ``w_max``."""
        return float((w_max * (1 - BETA) / SCALE) ** (1 / 3))

    def success(self, now: float) -> float:
        """The rate for an answer that was not throttled, at ``now``."""
        return SCALE * (now - self.last_fail - self.k) ** 3 + self.w_max

    def throttled(self, rate: float, now: float) -> float:
        """The rate after a throttle at ``now`` while sending at ``rate``."""
        self.w_max = rate
        self.k = self._zero_point(rate)
        self.last_fail = now
        return rate * BETA


class RateClocker:
    """The measured send rate: answers per second, counted per half second and smoothed."""

    __slots__ = ("_clock", "_count", "_last_bucket", "rate")

    def __init__(self, clock: Callable[[], float], rate: float = 0.0) -> None:
        self._clock = clock
        self.rate = rate
        self._count = 0
        self._last_bucket = float(math.floor(clock()))

    def __repr__(self) -> str:
        return f"<RateClocker {self.rate:.1f}/s>"

    def record(self) -> float:
        """Count one answer; the measured rate, updated once a half-second has passed."""
        bucket = math.floor(self._clock() / TIME_BUCKET) * TIME_BUCKET
        self._count += 1
        if bucket > self._last_bucket:
            latest = self._count / (bucket - self._last_bucket)
            self.rate = latest * SMOOTHING + self.rate * (1 - SMOOTHING)
            self._count = 0
            self._last_bucket = bucket
        return self.rate


class AdaptiveRate:
    """Sets a :class:`TokenBucket`'s rate from the answers it hears of.

    Args:
        bucket: the bucket whose rate this steers; set to ``start`` here.
        clock: monotonic seconds (the bucket's clock).
        start: the rate to start at (requests/s).
    """

    __slots__ = ("_bucket", "_clock", "cubic", "last_cut", "measured")

    def __init__(
        self, bucket: TokenBucket, clock: Callable[[], float], start: float = DEFAULT_START_RATE
    ) -> None:
        self._bucket = bucket
        self._clock = clock
        now = clock()
        self.cubic = CubicCalculator(start, now)
        self.cubic.last_fail = now - self.cubic.k  # start on the flat part, at ``start``
        self.measured = RateClocker(clock, start)
        self.last_cut = -math.inf
        bucket.rate = start

    def __repr__(self) -> str:
        return f"<AdaptiveRate {self._bucket.rate:.1f}/s measured={self.measured.rate:.1f}/s>"

    @property
    def rate(self) -> float:
        """The rate submissions are sent at now."""
        return self._bucket.rate

    def received(self, throttled: bool, sent: float | None = None) -> float:
        """An answer came back, ``throttled`` (``SlowDown``) or not, to a request ``sent`` at
        that time (on the clock; None: unknown, taken as news); returns the new rate."""
        measured = self.measured.record()
        now = self._clock()
        if throttled:
            if sent is not None and sent < self.last_cut:
                return self._bucket.rate  # the overload it reports was already answered
            rate = self.cubic.throttled(min(measured, self._bucket.rate), now)
            self.last_cut = now
            self._bucket.drain()  # tokens saved up at the old rate would burst into the overload
        else:
            rate = self.cubic.success(now)
        self._bucket.rate = min(rate, MAX_GROWTH * measured)
        return self._bucket.rate
