"""Submit-then-poll: wait until a job leaves Submitted/Auditing/Snapshoting.

Polling is its own policy (:class:`~cosaudit.config.PollPolicy`), separate from retrying a
failed request, which happens inside each poll. Final is defined positively (Success, Failed,
Cancelled); every other state, known or not, is pending.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_result

from .config import PollPolicy
from .errors import InvalidInput, JobFailed, JobTimeout
from .models import Job
from .retrying import first_poll_wait, poll_wait

__all__ = ["settle", "wait_for_job"]

J = TypeVar("J", bound=Job)


async def wait_for_job(
    fetch: Callable[[], Awaitable[J]],
    *,
    job_id: str,
    policy: PollPolicy,
    timeout: float | None = None,
    first: J | None = None,
    raise_on_failure: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> J:
    """Poll ``fetch()`` until the job is final and return it.

    Args:
        first: a job already in hand (e.g. the submit answer); if final, no poll is made,
            otherwise the first poll waits one interval.
        timeout: overall seconds (default ``policy.timeout``); no wait runs past it, and a
            last poll is made at the deadline before giving up. A poll in flight at the
            deadline may finish after it, bounded by the request timeouts.
        clock, sleep, rng: injectable so tests drive time without waiting.

    Raises:
        JobTimeout: still pending at the deadline; carries the last job seen.
        JobFailed: the job ended ``Failed`` (unless ``raise_on_failure=False``).
    """
    limit = policy.timeout if timeout is None else timeout
    if not isinstance(limit, int | float) or not 0 <= limit < math.inf:
        raise InvalidInput("timeout", f"must be a finite number of seconds >= 0, got {limit!r}")
    deadline = clock() + limit
    jitter = rng or random.Random()
    last: list[J] = [] if first is None else [first]

    if first is not None and first.is_final:
        return settle(first, raise_on_failure)

    def next_wait(state: RetryCallState) -> float:
        # With a job in hand from the submit, poll number one already waits an interval.
        attempt = state.attempt_number + (1 if first is not None else 0)
        return max(0.0, min(poll_wait(policy, attempt, jitter), deadline - clock()))

    def past_deadline(_: RetryCallState) -> bool:
        return clock() >= deadline

    async def poll() -> J:
        job = await fetch()
        last.append(job)
        return job

    if first is not None:
        await sleep(max(0.0, min(first_poll_wait(policy, jitter), deadline - clock())))

    retrying = AsyncRetrying(
        retry=retry_if_result(lambda job: not job.is_final),
        stop=past_deadline,
        wait=next_wait,
        sleep=sleep,
        retry_error_callback=lambda state: None,
    )
    job: J | None = await retrying(poll)
    if job is None or not job.is_final:
        raise JobTimeout(job_id, limit, last[-1] if last else None)
    return settle(job, raise_on_failure)


def settle(job: J, raise_on_failure: bool) -> J:
    """Return a final job, raising :class:`~cosaudit.errors.JobFailed` for a failed one if
    asked (a synchronous answer is settled the same way as a polled one)."""
    if raise_on_failure and job.is_failed:
        raise JobFailed(job)
    return job
