"""Timeouts and the two separate policies: retrying one request, and polling one job.

Retrying has three parts besides backoff, each a frozen value here and documented in the
README's "Under faults" section: the session-wide :class:`RetryBudget`, the
:class:`SlowDownPause` on sustained throttling, and :class:`AmbiguousSubmit`, what to do when
a submission may or may not have been accepted.
"""

from __future__ import annotations

import math
from enum import Enum

from attrs import define, field
from attrs.validators import ge, gt, instance_of, optional

__all__ = [
    "AmbiguousSubmit",
    "PollPolicy",
    "RetryBudget",
    "RetryPolicy",
    "SlowDownPause",
    "Timeouts",
]


def _finite(instance: object, attribute: object, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{getattr(attribute, 'name', 'value')} must be finite, got {value!r}")


@define(frozen=True, slots=True)
class Timeouts:
    """Limits for one HTTP attempt, in seconds.

    Args:
        connect: establishing the connection (a pooled one is reused at no cost).
        read: waiting for each chunk of the answer.
        total: the whole attempt, or None for no limit; either way an attempt is also cut
            at its call's overall deadline (:attr:`RetryPolicy.deadline`).
    """

    connect: float = field(default=5.0, validator=[gt(0), _finite])
    read: float = field(default=30.0, validator=[gt(0), _finite])
    total: float | None = 60.0

    def __attrs_post_init__(self) -> None:
        if self.total is not None and not 0 < self.total < math.inf:
            raise ValueError(f"total must be a positive finite number or None, got {self.total}")


class AmbiguousSubmit(Enum):
    """What a submission does when it fails after the service may have accepted it.

    That is after a 500 (or 502/504), a read timeout, or a connection dropped once the request
    was sent. Resubmitting could create, bill and moderate the item twice.

    * ``REPORT`` (default): raise :class:`~cosaudit.errors.SubmissionUnknown` carrying the
      kind, the ``DataId`` and the cause, so the caller can reconcile (by ``DataId``).
    * ``RETRY``: resubmit like a query, within the attempts and the budget; each such retry
      is a :class:`~cosaudit.retrying.RetryEvent` with ``reason="ambiguous_submit"``, a possible
      duplicate. If the last attempt is ambiguous too, ``SubmissionUnknown`` is raised.
    """

    REPORT = "report"
    RETRY = "retry"


@define(frozen=True, slots=True)
class RetryBudget:
    """A token bucket shared by every request of a session, so a dead service fails fast.

    Each retry takes ``retry_cost`` tokens (``timeout_cost`` after a timeout); each request
    that succeeds at once puts ``refund`` back, and one that succeeds after retrying puts back
    what its retries took. With the bucket short of a retry's cost, the error is raised at
    once: one attempt per request instead of ``attempts``. The defaults are botocore's
    "standard" retry quota: 100 retries in a row with no success empty it.
    """

    capacity: float = field(default=500.0, validator=[gt(0), _finite])
    retry_cost: float = field(default=5.0, validator=[ge(0), _finite])
    timeout_cost: float = field(default=10.0, validator=[ge(0), _finite])
    refund: float = field(default=1.0, validator=[ge(0), _finite])


@define(frozen=True, slots=True)
class SlowDownPause:
    """A circuit-breaker-like pause when the service keeps answering ``SlowDown``.

    After ``threshold`` throttling answers (429, or 503 ``SlowDown``) within ``window``
    seconds, every request of the session waits until the pause ends before it is sent. The
    first pause lasts ``initial`` seconds; each further trip without a success in between
    doubles it, up to ``maximum``. Any successful answer closes the breaker and resets it.
    """

    threshold: int = field(default=5, validator=ge(1))
    window: float = field(default=10.0, validator=[gt(0), _finite])
    initial: float = field(default=2.0, validator=[gt(0), _finite])
    maximum: float = field(default=30.0, validator=[gt(0), _finite])


@define(frozen=True, slots=True)
class RetryPolicy:
    """Retrying one HTTP request that failed in a way that may pass.

    Exponential backoff with full jitter: attempt *n* waits a random time up to
    ``min(maximum, initial * 2**(n-1))``. A query (GET) is retried on connection errors,
    timeouts, malformed answers, 429 and 5xx but 501; a submission (POST) only where the service
    cannot have accepted it (connection refused, 429 ``SlowDown``, 503), unless
    ``ambiguous_submit`` says otherwise.

    Args:
        attempts: attempts in all, the first included (1 disables retrying).
        deadline: overall seconds for one call, every attempt and wait included: no attempt
            starts after it, and the attempt in flight is cut at it (``RequestTimeout``).
        budget: the session-wide retry budget, or None for no budget.
        slowdown: the pause on sustained throttling, or None never to pause.
        ambiguous_submit: what a submission does when it may have been accepted.
    """

    attempts: int = field(default=4, validator=ge(1))
    initial: float = field(default=0.2, validator=[ge(0), _finite])
    maximum: float = field(default=5.0, validator=[ge(0), _finite])
    deadline: float = field(default=60.0, validator=[gt(0), _finite])
    budget: RetryBudget | None = field(
        factory=RetryBudget, validator=optional(instance_of(RetryBudget))
    )
    slowdown: SlowDownPause | None = field(
        factory=SlowDownPause, validator=optional(instance_of(SlowDownPause))
    )
    ambiguous_submit: AmbiguousSubmit = field(
        default=AmbiguousSubmit.REPORT, validator=instance_of(AmbiguousSubmit)
    )


@define(frozen=True, slots=True)
class PollPolicy:
    """Polling a job until it is final: fast at first, then slower.

    The *n*-th wait is ``min(maximum, initial * multiplier**(n-1))`` seconds, scaled by a
    random factor in ``[1 - jitter, 1 + jitter]`` and never past the caller's deadline.

    The defaults poll 0.25 s after the submit, then 0.375 s, 0.56 s, ... up to 15 s: on jobs
    of 0.2–2 s that is about 3 polls per job and the result known about 30 % of a job's
    duration after it finished (median), where starting at 1 s made 1.6 polls but 70 %.
    Nothing that polls at fixed times does much better on both counts (a schedule that waits
    a median 15 % needs 6 polls or more); ``python -m benchmarks.polling --model`` shows the
    trade-off, and ``benchmarks/RESULTS.md`` the measurements.

    Args:
        timeout: default overall deadline in seconds for ``wait``/``moderate``.
    """

    initial: float = field(default=0.25, validator=gt(0))
    multiplier: float = field(default=1.5, validator=ge(1))
    maximum: float = field(default=15.0, validator=gt(0))
    jitter: float = field(default=0.1, validator=ge(0))
    timeout: float = field(default=600.0, validator=gt(0))

    def interval(self, attempt: int) -> float:
        """The un-jittered wait after poll number ``attempt`` (1-based)."""
        return float(min(self.maximum, self.initial * self.multiplier ** (attempt - 1)))
