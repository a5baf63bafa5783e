"""One request's retries: tenacity's loop, steered by the retry vocabulary
(:mod:`cosaudit.retrying`), the policy's attempts and deadline, the session's retry budget and
its SlowDown pause."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

from tenacity import AsyncRetrying, RetryCallState

from .budget import RetryBudgetState
from .config import AmbiguousSubmit, RetryPolicy
from .errors import AuthError, CosAuditError, MalformedResponse, RequestTimeout, ThrottledError
from .retrying import RetryEvent, RetryReason, backoff, is_ambiguous, is_retryable, paced
from .slowdown import SlowDownPauseState

__all__ = ["RequestRetrying", "Tries"]

logger = logging.getLogger("cosaudit")
_T = TypeVar("_T")


class Tries:
    """One call's attempts so far: the state tenacity's callbacks share for that call.

    It reaches them as the argument of the attempt function (``RetryCallState.args[0]``), so
    the callbacks are configured once per session.
    """

    __slots__ = (
        "attempt",
        "deadline",
        "final",
        "held",
        "idempotent",
        "last",
        "method",
        "owner",
        "pending",
        "reason",
        "sent",
        "unsettled",
        "url",
    )

    def __init__(
        self, owner: RequestRetrying, method: str, url: str, idempotent: bool, deadline: float
    ) -> None:
        self.owner = owner
        self.method = method
        self.url = url
        self.idempotent = idempotent
        self.deadline = deadline  # on the injected monotonic clock
        self.sent = 0  # requests sent, resends included: the events' attempt numbers
        self.held = 0.0  # tokens this call's retries took from the budget
        self.last: CosAuditError | None = None  # what the previous attempt raised
        self.reason: RetryReason | None = None  # why the last failure may be retried
        # The last submission resent under AmbiguousSubmit.RETRY: that attempt may have been
        # accepted, so if the call fails in the end, it fails as that attempt did (ambiguous),
        # whatever refused the later ones.
        self.unsettled: CosAuditError | None = None
        self.final: BaseException | None = None  # raised to end the call, never retried
        self.pending: CosAuditError | None = None  # the first attempt's error, for tenacity
        self.attempt: Callable[[Tries], Awaitable[Any]] | None = None

    def give_up(self, error: CosAuditError) -> NoReturn:
        """End the call with ``error``, however retryable it looks."""
        self.final = error
        raise error

    async def ready(self) -> None:
        """Hold a request while the SlowDown pause runs, or fail at once if it outlasts the
        call's deadline (failing fast beats sleeping only to fail)."""
        owner = self.owner
        pause = owner.slowdown
        if pause is None or paced():
            return  # a caller pacing itself on SlowDown does without the pause
        delay = pause.delay()
        if delay <= 0:
            return
        if owner.monotonic() + delay >= self.deadline:
            raise ThrottledError(
                pause.last_status,
                "SlowDown",
                f"the session pauses {delay:.1f}s more after repeated SlowDown answers, "
                "past this call's deadline",
                method=self.method,
                url=self.url,
            )
        # One sleep, not a loop: an injected sleep that does not move the clock must not spin.
        await owner.sleep(delay)

    def sending(self) -> float:
        """A request is about to be sent: count it, and return the seconds left to the
        deadline, or end the call if none are."""
        remaining = self.deadline - self.owner.monotonic()
        if remaining <= 0:
            # A backoff, a pause or the provider ended past the deadline (a loaded loop wakes
            # late): no attempt starts now. The last attempt's error says what happened to the
            # request, a turned-away submission included.
            if self.last is not None:
                self.give_up(self.last)
            self.give_up(
                RequestTimeout(
                    "the call's deadline passed before the request was sent",
                    method=self.method,
                    url=self.url,
                )
            )
        self.sent += 1
        return remaining

    def resending(self, error: AuthError, reason: RetryReason) -> None:
        """The auth flow resends at once (not a retry: no backoff, no budget)."""
        self.last = error
        self.owner.report(RetryEvent(self.method, self.url, self.sent, 0.0, error, reason))


class RequestRetrying:
    """One session's request retrying: tenacity, steered by the policy, budget and pause.

    tenacity runs the attempts; our callbacks decide, in its order, after each failed attempt:

    * ``retry``: whether the error may pass (:func:`is_retryable`, or an ambiguous submission
      under ``AmbiguousSubmit.RETRY``); a ``SlowDown`` is counted towards the pause here,
      unless the caller paces itself (:func:`~cosaudit.retrying.paced`);
    * ``wait``: the backoff (:func:`backoff`);
    * ``stop``: out of attempts, a backoff that would end past the deadline (no attempt starts
      late), or a budget short of the retry's cost; tenacity then re-raises the last error;
    * ``before_sleep``: the :class:`RetryEvent`, and an ambiguous submission kept unsettled.

    Resends that are not retries (clock skew, fresh credentials) happen inside one attempt,
    in the auth flow. Each failing call retries on its own copy of the configured
    :class:`~tenacity.AsyncRetrying`: tenacity keeps its iteration state per thread, not per
    call, and concurrent calls of a session share a thread.

    Args:
        report: called with each :class:`RetryEvent` (logging and the ``on_retry`` hook).
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        rng: random.Random,
        report: Callable[[RetryEvent], None],
    ) -> None:
        self.policy = policy
        self.monotonic = monotonic
        self.sleep = sleep
        self.report = report
        self._rng = rng
        # Per session, never global: two clients to two services keep separate state.
        self.budget = RetryBudgetState(policy.budget) if policy.budget is not None else None
        self.slowdown = (
            SlowDownPauseState(policy.slowdown, monotonic) if policy.slowdown is not None else None
        )
        self._retrying = AsyncRetrying(
            sleep=sleep,
            retry=self._retry,
            wait=self._wait,
            stop=self._stop,
            before_sleep=self._before_sleep,
            reraise=True,
        )

    async def __call__(
        self,
        attempt: Callable[[Tries], Awaitable[_T]],
        *,
        method: str,
        url: str,
        idempotent: bool,
    ) -> _T:
        """Run ``attempt`` until it succeeds or may not be retried; raise its last error."""
        tries = Tries(self, method, url, idempotent, self.monotonic() + self.policy.deadline)
        # The first attempt runs outside tenacity, which costs about 20 µs a call to set up
        # (a fifth of the client's own work per request): most calls succeed at once. When
        # it fails, tenacity takes over with that failure as its attempt 1 (see _replay).
        try:
            result = await attempt(tries)
        except CosAuditError as error:
            tries.pending = error
        if tries.pending is not None:
            tries.attempt = attempt
            try:
                # A copy a call: only failed calls get here, so it costs the hot path nothing.
                result = await self._retrying.copy()(_replay, tries)
            except CosAuditError as final:
                earlier = tries.unsettled
                if earlier is None or is_ambiguous(final) or isinstance(final, MalformedResponse):
                    raise  # a MalformedResponse is a 2xx: accepted, only unreadable
                earlier.__suppress_context__ = False  # the later refusal shows in its traceback
                raise earlier  # noqa: B904 (its __context__ becomes ``final``, as wanted)
        if self.budget is not None:
            self.budget.succeeded(tries.held)
        if self.slowdown is not None:
            self.slowdown.succeeded()
        return result

    def _retry(self, state: RetryCallState) -> bool:
        tries: Tries = state.args[0]
        error = _error(state)
        if error is None or error is tries.final or not isinstance(error, CosAuditError):
            return False
        if isinstance(error, ThrottledError) and self.slowdown is not None and not paced():
            pause = self.slowdown.throttled(error.status)
            if pause is not None:
                logger.warning(
                    "%d SlowDown answers within %gs: pausing every request of this session "
                    "for %.1fs",
                    self.slowdown.policy.threshold,
                    self.slowdown.policy.window,
                    pause,
                )
        if is_retryable(error, idempotent=tries.idempotent):
            tries.reason = "transient"
        elif (
            not tries.idempotent
            and self.policy.ambiguous_submit is AmbiguousSubmit.RETRY
            and is_ambiguous(error)
        ):
            tries.reason = "ambiguous_submit"
        else:
            return False
        return True

    def _wait(self, state: RetryCallState) -> float:
        if state.attempt_number >= self.policy.attempts:
            return 0.0  # ``stop`` ends the call: no jitter is drawn for a wait never taken
        return backoff(self.policy, state.attempt_number, self._rng)

    def _stop(self, state: RetryCallState) -> bool:
        tries: Tries = state.args[0]
        if state.attempt_number >= self.policy.attempts:
            return True
        # No attempt may start late: give up now rather than sleep past the deadline.
        if self.monotonic() + state.upcoming_sleep >= tries.deadline:
            return True
        budget = self.budget
        if budget is not None:
            cost = budget.cost(timeout=isinstance(_error(state), RequestTimeout))
            if not budget.acquire(cost):
                logger.info(
                    "retry budget exhausted (%.0f tokens left); not retrying %s %s",
                    budget.available,
                    tries.method,
                    tries.url,
                )
                return True
            tries.held += cost
        return False

    def _before_sleep(self, state: RetryCallState) -> None:
        tries: Tries = state.args[0]
        error = _error(state)
        assert isinstance(error, CosAuditError) and tries.reason is not None
        if tries.reason == "ambiguous_submit":
            tries.unsettled = error
        tries.last = error
        self.report(
            RetryEvent(
                tries.method, tries.url, tries.sent, state.upcoming_sleep, error, tries.reason
            )
        )


async def _replay(tries: Tries) -> Any:
    """tenacity's attempt function: the failure of the attempt already made, then attempts."""
    pending = tries.pending
    if pending is not None:
        tries.pending = None
        raise pending  # outside any except clause: it gains no __context__
    assert tries.attempt is not None
    return await tries.attempt(tries)


def _error(state: RetryCallState) -> BaseException | None:
    outcome: Any = state.outcome
    return outcome.exception() if outcome is not None else None
