"""A token bucket's arithmetic: how long until a request may be sent at a rate that may change.

Pure bookkeeping over an injected monotonic clock, no waiting: :class:`cosaudit.bulk.rate.
RateLimiter` waits, :mod:`cosaudit.bulk.adaptive_rate` changes the rate. The rules are
botocore's ``TokenBucket`` (``botocore/retries/bucket.py``): the bucket starts empty (no burst at
start), fills at the rate and holds at most one second's worth (at least one token), an adaptive
rate is never below 0.5/s (a fixed rate the user gave is honoured as given), and a new rate
first credits the tokens earned at the old one. One addition:
:meth:`TokenBucket.charge` spends a token for a request sent without asking (a resend inside the
session's own retries), going into debt if need be, so the requests actually sent stay within
the rate; the debt is at most one second's worth, so a storm of resends slows the next
submissions down without stalling them for long after it has passed.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["MIN_RATE", "TokenBucket"]

MIN_RATE = 0.5  # requests/s: botocore's floor, so a run never stalls outright


class TokenBucket:
    """Tokens earned at ``rate`` per second on ``clock``; one a request.

    ``floor``: the least rate tokens fill at (botocore's :data:`MIN_RATE` for an adaptive rate,
    which must never stall; 0 for a fixed rate, which is honoured as given).
    """

    __slots__ = ("_capacity", "_clock", "_fill", "_floor", "_last", "_rate", "tokens")

    def __init__(self, rate: float, clock: Callable[[], float], floor: float = MIN_RATE) -> None:
        self._clock = clock
        self._floor = floor
        self.tokens = 0.0
        self._last = clock()
        self._fill = self._capacity = self._rate = 0.0
        self.rate = rate

    def __repr__(self) -> str:
        return f"<TokenBucket {self._rate:g}/s tokens={self.tokens:.2f}>"

    @property
    def rate(self) -> float:
        """The rate asked for (tokens fill at ``max(rate, floor)``)."""
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        self._refill()  # tokens earned so far count at the old rate
        self._rate = value
        self._fill = max(value, self._floor)
        self._capacity = max(value, 1.0)
        self.tokens = min(self.tokens, self._capacity)

    def delay(self, amount: float = 1.0) -> float:
        """Seconds until ``amount`` tokens are there (0 when they are now)."""
        self._refill()
        return max(0.0, (amount - self.tokens) / self._fill)

    def take(self, amount: float = 1.0) -> bool:
        """Take ``amount`` tokens if they are there; whether it did."""
        self._refill()
        if self.tokens < amount:
            return False
        self.tokens -= amount
        return True

    def charge(self, amount: float = 1.0) -> None:
        """Spend ``amount`` tokens for a request already sent, into debt if need be (one
        second's worth at most)."""
        self._refill()
        self.tokens = max(self.tokens - amount, -self._capacity)

    def drain(self) -> None:
        """Drop the tokens saved up (a debt stays): no burst may follow."""
        self._refill()
        self.tokens = min(self.tokens, 0.0)

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self._capacity, self.tokens + (now - self._last) * self._fill)
        self._last = now
