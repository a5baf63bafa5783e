"""The live state of a :class:`~cosaudit.config.SlowDownPause`: a small circuit breaker, one per
session.

Pure bookkeeping over an injected monotonic clock: the retry loop
(:class:`~cosaudit.request_retrying.RequestRetrying`) reports each throttling answer
(:meth:`SlowDownPauseState.throttled`) and each success (:meth:`SlowDownPauseState.succeeded`),
and asks :meth:`SlowDownPauseState.delay` before sending. After ``threshold`` throttles within
``window`` seconds the breaker opens for a pause that doubles on each further trip, so a
session stops hammering a service that keeps saying ``SlowDown``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from .config import SlowDownPause

__all__ = ["SlowDownPauseState"]


class SlowDownPauseState:
    """Counts ``SlowDown`` answers and says how long every request must wait before sending."""

    __slots__ = ("_clock", "_recent", "last_status", "paused_until", "policy", "trips")

    def __init__(self, policy: SlowDownPause, clock: Callable[[], float]) -> None:
        self.policy = policy
        self._clock = clock
        self._recent: deque[float] = deque()
        self.trips = 0
        self.paused_until = -math.inf
        self.last_status = 429

    def __repr__(self) -> str:
        return f"<SlowDownPauseState trips={self.trips} recent={len(self._recent)}>"

    def delay(self) -> float:
        """Seconds a request must still wait before it is sent (0 when not paused)."""
        return max(0.0, self.paused_until - self._clock())

    def throttled(self, status: int) -> float | None:
        """Record one throttling answer; return the pause it started, if it started one."""
        now = self._clock()
        self.last_status = status
        if now < self.paused_until:
            # Answers to requests sent before the pause began say nothing new.
            return None
        recent = self._recent
        recent.append(now)
        while recent and recent[0] <= now - self.policy.window:
            recent.popleft()
        if len(recent) < self.policy.threshold:
            return None
        pause = min(self.policy.maximum, self.policy.initial * 2.0**self.trips)
        self.trips += 1
        self.paused_until = now + pause
        recent.clear()
        return pause

    def succeeded(self) -> None:
        """A request succeeded: forget the throttles and the doubling.

        A pause already running is kept (requests already waiting finish their wait); only
        the count towards the next one starts again from zero.
        """
        self._recent.clear()
        self.trips = 0
