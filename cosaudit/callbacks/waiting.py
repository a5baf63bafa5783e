"""Waiting on a pushed result, with polling as the safety net.

A waiter listens for its job's callback. In ``token`` trust the pushed body is the result; in
``confirm`` trust the push only wakes it and one query says what the result is. If no push has
come ``grace`` seconds after the wait began, it also polls on the normal schedule
(:func:`cosaudit.waiting.wait_for_job`), and whichever ends first wins: a lost callback costs
``grace`` seconds, a callback that comes after polling settled the job finds nobody waiting and
is dropped, and a confirming query that fails leaves the job to the polling. The overall
deadline is the polling's.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar, cast

from ..config import PollPolicy
from ..errors import CallbackError, CosAuditError
from ..models import Job
from ..retrying import poll_wait
from ..waiting import settle
from .parsing import Callback
from .receiver import CallbackReceiver

__all__ = ["wait_for_push", "watch_pushes"]

J = TypeVar("J", bound=Job)

logger = logging.getLogger("cosaudit.callbacks")


async def wait_for_push(
    receiver: CallbackReceiver,
    job_id: str,
    kind: str,
    *,
    fetch: Callable[[], Awaitable[J]],
    poll: Callable[[float], Awaitable[J]],
    timeout: float,
    raise_on_failure: bool,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> J:
    """Wait for the job's push (or, after ``receiver.grace``, for polling) and return the
    final job.

    Args:
        fetch: one query of the job (the confirmation in ``confirm`` trust).
        poll: poll until final on the normal schedule (its first wait included), given the
            seconds left (raises ``JobTimeout`` at the end): with ``grace=0`` the fallback
            polls exactly as a plain wait does.
        timeout: overall seconds.
    """
    deadline = clock() + timeout

    async def fallback() -> J:
        grace = min(receiver.grace, deadline - clock())
        if grace > 0:
            await sleep(grace)
        return await poll(max(0.0, deadline - clock()))

    listener = receiver.listen(job_id, kind)
    polling = asyncio.ensure_future(fallback())
    try:
        while True:
            pushed = asyncio.ensure_future(listener.next())
            try:
                done, _ = await asyncio.wait({pushed, polling}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                pushed.cancel()
            if polling in done:
                return polling.result()
            try:
                job = await _read(receiver, pushed.result(), kind, fetch)
            except CosAuditError as error:
                # The query failed, not the job: its fate is still unknown, so the poll
                # schedule (already running) decides, and a later push may wake us again.
                logger.warning("confirming job %s failed (%s); polling decides", job_id, error)
                continue
            if job.is_final:
                return settle(job, raise_on_failure)
    finally:
        polling.cancel()
        receiver.unlisten(job_id, listener)
        # Wait for the fallback to finish cancelling: a poll in flight must not outlive us.
        await asyncio.gather(polling, return_exceptions=True)


async def watch_pushes(
    receiver: CallbackReceiver,
    job_id: str,
    kind: str,
    *,
    fetch: Callable[[], Awaitable[J]],
    policy: PollPolicy,
    sleep: Callable[[float], Awaitable[None]],
) -> AsyncIterator[J]:
    """Yield the job at each push (each query, while no push comes for ``grace`` seconds and
    then each poll interval), until it is final."""
    jitter = random.Random()
    listener = receiver.listen(job_id, kind)
    quiet = 0  # polls made since the last push
    try:
        while True:
            wait = receiver.grace if quiet == 0 else poll_wait(policy, quiet, jitter)
            pushed = asyncio.ensure_future(listener.next())
            timer = asyncio.ensure_future(sleep(wait))
            try:
                await asyncio.wait({pushed, timer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                timer.cancel()
                pushed.cancel()
            if pushed.done() and not pushed.cancelled():
                job = await _read(receiver, pushed.result(), kind, fetch)
                quiet = 0
            else:
                job = await fetch()
                quiet += 1
            yield job
            if job.is_final:
                return
    finally:
        receiver.unlisten(job_id, listener)


async def _read(
    receiver: CallbackReceiver, callback: Callback, kind: str, fetch: Callable[[], Awaitable[J]]
) -> J:
    """The job a push reports: its body in ``token`` trust, else one query; a query too when
    the body does not read as this kind's result, or does not say the job's state (a live
    stream's Simple callback: the stream may or may not still run)."""
    if receiver.trust == "token":
        try:
            job = cast(J, callback.job(kind))
        except CallbackError as error:
            logger.warning(
                "callback for job %s unreadable (%s); querying it", callback.job_id, error
            )
        else:
            if job.state is not None:
                return job
    return await fetch()
