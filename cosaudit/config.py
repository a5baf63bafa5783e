"""Timeouts and the two separate policies: retrying one request, and polling one job."""

from __future__ import annotations

from attrs import define, field
from attrs.validators import ge, gt

__all__ = ["PollPolicy", "RetryPolicy", "Timeouts"]


@define(frozen=True, slots=True)
class Timeouts:
    """Limits for one HTTP attempt, in seconds.

    Args:
        connect: establishing the connection (a pooled one is reused at no cost).
        read: waiting for each chunk of the answer.
        total: the whole attempt, or None for no limit.
    """

    connect: float = field(default=5.0, validator=gt(0))
    read: float = field(default=30.0, validator=gt(0))
    total: float | None = 60.0

    def __attrs_post_init__(self) -> None:
        if self.total is not None and self.total <= 0:
            raise ValueError(f"total must be positive or None, got {self.total}")


@define(frozen=True, slots=True)
class RetryPolicy:
    """Retrying one HTTP request that failed in a way that may pass.

    Exponential backoff with full jitter: attempt *n* waits a random time up to
    ``min(maximum, initial * 2**(n-1))``. A query (GET) is retried on connection errors,
    timeouts, malformed answers, 5xx and 429; a submission (POST) only where the service
    cannot have accepted it (connection refused, 429 ``SlowDown``, 503), so a job is never
    submitted twice.

    Args:
        attempts: attempts in all, the first included (1 disables retrying).
        deadline: seconds after which no new attempt starts.
    """

    attempts: int = field(default=4, validator=ge(1))
    initial: float = field(default=0.2, validator=ge(0))
    maximum: float = field(default=5.0, validator=ge(0))
    deadline: float = field(default=30.0, validator=gt(0))


@define(frozen=True, slots=True)
class PollPolicy:
    """Polling a job until it is final: fast at first, then slower.

    The *n*-th wait is ``min(maximum, initial * multiplier**(n-1))`` seconds, scaled by a
    random factor in ``[1 - jitter, 1 + jitter]`` and never past the caller's deadline.

    Args:
        timeout: default overall deadline in seconds for ``wait``/``moderate``.
    """

    initial: float = field(default=1.0, validator=gt(0))
    multiplier: float = field(default=1.5, validator=ge(1))
    maximum: float = field(default=15.0, validator=gt(0))
    jitter: float = field(default=0.1, validator=ge(0))
    timeout: float = field(default=600.0, validator=gt(0))

    def interval(self, attempt: int) -> float:
        """The un-jittered wait after poll number ``attempt`` (1-based)."""
        return float(min(self.maximum, self.initial * self.multiplier ** (attempt - 1)))
