"""Retrying: the one vocabulary of what may be sent again, and the waits between tries.

Pure rules over our exceptions and policies, used by the session (one request's retries), the
bulk runner (an item's retries) and polling (the waits between polls):

* :func:`is_turned_away`: the service certainly did not take the request; anything may be
  sent again.
* :func:`is_ambiguous`: a submission may nonetheless have been accepted.
* :func:`is_retryable`: a failed request may be sent again (a submission only when turned away).
* :func:`needs_reconciling`: a submission whose outcome must be reconciled by its DataId.
* :func:`backoff`, :func:`poll_wait`, :func:`first_poll_wait`: the jittered waits.
* :class:`RetryEvent` and :data:`RetryReason`: one resend, as the ``on_retry`` hook sees it.
* :func:`observing_retries`, :func:`paced`: the resends of one caller's own calls, for that
  caller; whether it paces itself.

One request's retry loop, on tenacity, is :mod:`cosaudit.request_retrying`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from attrs import define

from .config import PollPolicy, RetryPolicy
from .errors import (
    ConnectError,
    ConnectionLost,
    MalformedResponse,
    RequestTimeout,
    ServerError,
    SubmissionUnknown,
    ThrottledError,
)

__all__ = [
    "RetryEvent",
    "RetryReason",
    "backoff",
    "first_poll_wait",
    "is_ambiguous",
    "is_retryable",
    "is_turned_away",
    "needs_reconciling",
    "observe_retry",
    "observing_retries",
    "paced",
    "poll_wait",
]


def is_turned_away(error: BaseException) -> bool:
    """Whether the service certainly did not take the request, so sending it again is safe:
    connection refused (nothing was sent), 429/``SlowDown``, 503."""
    if isinstance(error, ConnectError | ThrottledError):
        return True
    return isinstance(error, ServerError) and error.status == 503


def is_ambiguous(error: BaseException) -> bool:
    """Whether a failed submission may nonetheless have been accepted by the service.

    True after a read timeout, a connection broken once the request was under way, and a 5xx
    other than 503 (turned away) and 501 (not implemented). A refused connection, a 4xx, a
    throttle or a 503 are certain refusals. A 200 with a malformed body is certain acceptance
    (with the answer unreadable): ``MalformedResponse``, not ambiguous. A ``RequestTimeout``
    counts even when the deadline passed before anything was sent (waiting for credentials or
    a free pooled connection): one error for every deadline, and aiohttp's timeouts do not tell
    a wait for a pooled connection from one for the answer.
    """
    if isinstance(error, RequestTimeout | ConnectionLost):
        return True
    return isinstance(error, ServerError) and error.status not in (501, 503)


def is_retryable(error: BaseException, *, idempotent: bool) -> bool:
    """Whether a failed request may be sent again.

    Any request when :func:`is_turned_away`. Only queries (``idempotent``): timeouts, broken
    connections, malformed answers and other 5xx but 501, after which a submission may have
    been accepted.
    """
    if is_turned_away(error):
        return True
    if not idempotent:
        return False
    if isinstance(error, ServerError):
        return error.status != 501  # NotImplemented will not change by asking again
    return isinstance(error, RequestTimeout | ConnectionLost | MalformedResponse)


def needs_reconciling(error: BaseException) -> bool:
    """Whether a failed submission must be reconciled by its DataId rather than forgotten.

    :func:`is_ambiguous` (may have been accepted), an already-raised
    :class:`~cosaudit.errors.SubmissionUnknown`, plus a 2xx with an unreadable body: certainly
    accepted, but with no JobId to follow.
    """
    return isinstance(error, SubmissionUnknown | MalformedResponse) or is_ambiguous(error)


def backoff(policy: RetryPolicy, failures: int, rng: random.Random) -> float:
    """Full jitter: a random wait up to ``min(maximum, initial * 2**(failures-1))``."""
    return rng.uniform(0, min(policy.maximum, policy.initial * 2.0 ** (failures - 1)))


def poll_wait(policy: PollPolicy, attempt: int, rng: random.Random) -> float:
    """The wait after poll number ``attempt`` (1-based), jittered by ``policy.jitter``."""
    return policy.interval(attempt) * rng.uniform(1 - policy.jitter, 1 + policy.jitter)


def first_poll_wait(policy: PollPolicy, rng: random.Random) -> float:
    """The wait between a job's submission and its first poll."""
    return policy.initial * rng.uniform(1 - policy.jitter, 1 + policy.jitter)


RetryReason = Literal["transient", "ambiguous_submit", "clock_skew", "credentials"]
"""Why a request is sent again: see :class:`RetryEvent`."""


@define(frozen=True, slots=True)
class RetryEvent:
    """One resend about to happen, handed to the ``on_retry`` hook.

    Attributes:
        attempt: the number of the attempt that failed (1 for the first).
        wait: seconds until the resend.
        error: what the failed attempt raised (it carries no credentials).
        reason: ``"transient"`` (backoff after a failure safe to retry),
            ``"ambiguous_submit"`` (a submission resent under ``AmbiguousSubmit.RETRY``: the
            first one may have been accepted, so this is a possible duplicate),
            ``"clock_skew"`` (re-signed with the offset read from the service's ``Date``), or
            ``"credentials"`` (re-signed with fresh credentials from the provider).
    """

    method: str
    url: str
    attempt: int
    wait: float
    error: BaseException
    reason: RetryReason = "transient"


@define(frozen=True, slots=True)
class _Observing:
    report: Callable[[RetryEvent], None]
    paced: bool


# A key, not shared state: each task sees the value its own context set (None elsewhere).
_observing: ContextVar[_Observing | None] = ContextVar("cosaudit_retry_observer", default=None)


@contextmanager
def observing_retries(
    observer: Callable[[RetryEvent], None], *, paced: bool = False
) -> Iterator[None]:
    """Hand ``observer`` the :class:`RetryEvent` of each resend of the calls made within the
    block (by this task, or tasks it starts), besides the client's ``on_retry`` hook.

    How a caller learns of the retries of its own calls only (the bulk runner: a submission's
    throttled attempts the session retried), with no hook set on the client and none of the
    other calls sharing the client: the session reports to whoever is observing, knowing
    nothing of them.

    Args:
        paced: the caller slows down on ``SlowDown`` by itself (an adaptive rate), so its
            calls neither count towards the session's SlowDown pause nor wait for it. Two
            controllers on one signal fight: a burst of throttles trips the pause, requests the
            caller keeps releasing queue up behind it, and leave together when it ends, a
            burst that trips it again, for twice as long.
    """
    token = _observing.set(_Observing(observer, paced))
    try:
        yield
    finally:
        _observing.reset(token)


def observe_retry(event: RetryEvent) -> None:
    """Report ``event`` to the observer of the current context, if any."""
    observing = _observing.get()
    if observing is not None:
        observing.report(event)


def paced() -> bool:
    """Whether the current context's caller paces itself on ``SlowDown`` (see
    :func:`observing_retries`)."""
    observing = _observing.get()
    return observing is not None and observing.paced
