"""The bulk runner: pulls items, submits and polls them at bounded concurrency, journals each
step and hands results over as they finish. Why it works so: :mod:`cosaudit.bulk`."""

from __future__ import annotations

import asyncio
import enum
import math
import os
import random
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Generic, Literal, Protocol, TypedDict, TypeVar

import attrs
from attrs import define

from ..config import PollPolicy, RetryPolicy
from ..errors import ClientStateError, CosAuditError, InvalidInput, JobTimeout, NotFoundError
from ..journal import Journal, Open, Phase
from ..models import Job, JobState
from ..requests import Request, structure
from ..retrying import backoff, first_poll_wait, is_turned_away, needs_reconciling
from .identity import BulkItem, BulkItems, item_id
from .results import BulkResult, BulkSummary, ItemStatus, _code

__all__ = ["DEFAULT_ITEM_RETRY", "AmbiguousPolicy", "BulkOptions", "BulkRun", "Moderation"]

J = TypeVar("J", bound=Job)
J_co = TypeVar("J_co", bound=Job, covariant=True)

AmbiguousPolicy = Literal["report", "resubmit"]


class BulkOptions(TypedDict, total=False):
    """The options of :meth:`AuditClient.moderate_many <cosaudit.AuditClient.moderate_many>`."""

    concurrency: int
    journal: str | os.PathLike[str] | None
    fsync: bool
    on_ambiguous: AmbiguousPolicy
    timeout: float | None
    retry: RetryPolicy | None


# Item-level retries, on top of the session's per-request ones: longer waits, for outages that
# outlast a request's retries (throttling storms, a restarting service).
DEFAULT_ITEM_RETRY = RetryPolicy(attempts=3, initial=1.0, maximum=30.0, deadline=300.0)


class Moderation(Protocol[J_co]):
    """What the runner needs of a kind (``client.text``, ``client.image``...)."""

    poll: PollPolicy

    @property
    def request_type(self) -> type[Request]: ...

    @property
    def submit_request(self) -> Callable[[Any], Awaitable[J_co]]: ...

    def wait(
        self, job_id: str, *, timeout: float | None = ..., raise_on_failure: bool = ...
    ) -> Awaitable[J_co]: ...


def _text(value: enum.Enum | str | None) -> str | None:
    return value.value if isinstance(value, enum.Enum) else value


class _State(enum.Enum):
    NEW = "not started"
    RUNNING = "running"
    DONE = "done"
    CLOSED = "closed"


_END = object()


@define(frozen=True, slots=True)
class _Delivery(Generic[J]):
    """A result on its way to the caller; ``finish`` is journaled once the caller is past it."""

    result: BulkResult[J]
    finish: bool


class BulkRun(Generic[J]):
    """A bulk run: use as ``async with ... as run: async for result in run``.

    Made by :meth:`AuditClient.moderate_many <cosaudit.AuditClient.moderate_many>`; the
    arguments are documented there. Runs once.
    """

    def __init__(
        self,
        kind: Moderation[J],
        items: BulkItems,
        *,
        name: str,
        concurrency: int = 64,
        journal: str | os.PathLike[str] | None = None,
        fsync: bool = True,
        on_ambiguous: AmbiguousPolicy = "report",
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if isinstance(items, str | bytes | Mapping) or not isinstance(
            items, Iterable | AsyncIterable
        ):
            raise InvalidInput("items", f"give an iterable of items, not a {type(items).__name__}")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidInput("concurrency", f"must be an integer >= 1, got {concurrency!r}")
        if on_ambiguous not in ("report", "resubmit"):
            raise InvalidInput(
                "on_ambiguous", f"must be 'report' or 'resubmit', got {on_ambiguous!r}"
            )
        if timeout is not None and (
            not isinstance(timeout, int | float) or not 0 <= timeout < math.inf
        ):
            raise InvalidInput(
                "timeout", f"must be a finite number of seconds >= 0, got {timeout!r}"
            )
        self.name = name
        self._kind = kind
        self._items = items
        self._concurrency = concurrency
        self._journal_path = journal
        self._fsync = fsync
        self._on_ambiguous = on_ambiguous
        self._timeout = timeout
        self._retry = retry or DEFAULT_ITEM_RETRY
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._request_type = kind.request_type
        fields = attrs.fields_dict(self._request_type)
        self._takes_object = "object" in fields
        # Virus detection has no DataId: there the id lives in the journal only.
        self._takes_data_id = "data_id" in fields
        self._state = _State.NEW
        self._journal: Journal | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._producer: asyncio.Task[None] | None = None
        self._in_hand: _Delivery[J] | None = None
        self._started = 0.0
        self._ended: float | None = None
        self._counts = dict.fromkeys(set(attrs.fields_dict(BulkSummary)) - {"elapsed"}, 0)

    def __repr__(self) -> str:
        return f"<BulkRun {self.name} {self._state.value} {self.summary.handed_over} results>"

    @property
    def summary(self) -> BulkSummary:
        """The counts so far (final once the run is over)."""
        end = self._ended if self._ended is not None else self._monotonic()
        return BulkSummary(**self._counts, elapsed=end - self._started if self._started else 0.0)

    # -- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> BulkRun[J]:
        if self._state is not _State.NEW:
            raise ClientStateError(f"this bulk run is {self._state.value}; a run runs once")
        if self._journal_path is not None:
            # A thread: replaying a journal of millions of records takes seconds of file I/O,
            # which must not stall the event loop of a service running this beside its work.
            self._journal = await asyncio.to_thread(
                Journal.open, self._journal_path, self.name, fsync=self._fsync
            )
        self._started = self._monotonic()
        self._state = _State.RUNNING
        self._producer = asyncio.ensure_future(self._produce())
        self._producer.add_done_callback(self._task_done)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.aclose()
        else:
            # The loop body failed on the result in hand: a resume hands it over again.
            await self._close()

    def __aiter__(self) -> AsyncIterator[BulkResult[J]]:
        return self

    async def __anext__(self) -> BulkResult[J]:
        if self._state is _State.NEW:
            raise ClientStateError("use 'async with client.moderate_many(...) as run' first")
        self._finish_in_hand()
        if self._state is not _State.RUNNING:
            raise StopAsyncIteration
        message = await self._queue.get()
        if message is _END:
            self._end(_State.DONE)
            raise StopAsyncIteration
        if isinstance(message, BaseException):
            self._end(_State.DONE)
            raise message
        assert isinstance(message, _Delivery)
        delivery: _Delivery[J] = message
        self._slots.release()
        self._in_hand = delivery
        self._count(delivery.result)
        return delivery.result

    async def aclose(self) -> None:
        """Stop the run, as leaving ``async with`` does: the result in hand counts as handled;
        the journal keeps everything unfinished for a resume."""
        if self._state is not _State.CLOSED:
            self._finish_in_hand()
        await self._close()

    async def _close(self) -> None:
        if self._state is _State.CLOSED:
            return
        self._in_hand = None
        self._end(_State.CLOSED)
        tasks = [task for task in (self._producer, *self._tasks) if task is not None]
        for task in tasks:
            task.cancel()
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            if self._journal is not None:
                self._journal.close()

    def _end(self, state: _State) -> None:
        if self._ended is None and self._started:
            self._ended = self._monotonic()
        self._state = state

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # A bug or the input failing: the caller sees it at its next result.
            self._queue.put_nowait(task.exception())

    def _spawn(self, work: Awaitable[BulkResult[J] | _Delivery[J]]) -> None:
        task = asyncio.ensure_future(self._deliver(work))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    async def _deliver(self, work: Awaitable[BulkResult[J] | _Delivery[J]]) -> None:
        outcome = await work
        delivery = outcome if isinstance(outcome, _Delivery) else _Delivery(outcome, False)
        self._queue.put_nowait(delivery)

    def _finish_in_hand(self) -> None:
        delivery, self._in_hand = self._in_hand, None
        if delivery is None or not delivery.finish or self._journal is None:
            return
        result = delivery.result
        job = result.job
        verdict = job.verdict if job is not None else None
        self._journal.done(
            result.id,
            result.job_id,
            state=_text(job.state) if job is not None else None,
            label=job.label if job is not None else None,
            verdict=int(verdict) if verdict is not None else None,
            code=result.code,
        )

    def _count(self, result: BulkResult[J]) -> None:
        self._counts[result.status.value] += 1
        self._counts["possible_duplicates"] += result.possible_duplicate
        self._counts["resumed"] += result.resumed

    # -- the input -----------------------------------------------------------------------

    async def _produce(self) -> None:
        journal = self._journal
        async for item in self._iterate():
            ident = item_id(item)
            self._counts["items"] += 1
            if journal is not None and journal.is_finished(ident):
                self._counts["skipped"] += 1
                if self._counts["skipped"] % 256 == 0:
                    await asyncio.sleep(0)  # a long run of skipped items must not starve the loop
                continue
            entry = journal.claim(ident) if journal is not None else None
            await self._slots.acquire()
            self._spawn(self._item(ident, item, entry))
        if journal is not None:
            # Jobs an earlier run submitted that this input did not bring: their results
            # are owed all the same.
            for ident, entry in journal.unclaimed():
                self._counts["items"] += 1
                await self._slots.acquire()
                self._spawn(self._item(ident, None, entry))
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        self._queue.put_nowait(_END)

    async def _iterate(self) -> AsyncIterator[BulkItem]:
        items = self._items
        if isinstance(items, AsyncIterable):
            async for item in items:
                yield item
        else:
            for item in items:
                yield item

    def _request(self, ident: str, item: BulkItem) -> Request:
        """The item as the kind's request, sent with its id as DataId; refused if it is not one."""
        if isinstance(item, Request):
            if not isinstance(item, self._request_type):
                raise InvalidInput(
                    "items",
                    f"{self.name} takes a {self._request_type.__name__}, "
                    f"not a {type(item).__name__}",
                )
            if self._takes_data_id and getattr(item, "data_id", None) != ident:
                renamed: dict[str, Any] = {"data_id": ident}  # a field of this kind's request
                return attrs.evolve(item, **renamed)
            return item
        if isinstance(item, str):
            is_url = item.startswith(("http://", "https://"))
            data: dict[str, Any] = {"url" if is_url or not self._takes_object else "object": item}
        else:
            data = dict(item)
        if self._takes_data_id:
            data["data_id"] = ident
        return structure(data, self._request_type)

    # -- one item ------------------------------------------------------------------------

    async def _item(
        self, ident: str, item: BulkItem | None, entry: Open | None
    ) -> BulkResult[J] | _Delivery[J]:
        duplicate = False
        if entry is not None:
            if entry.phase is Phase.SUBMITTED and entry.job_id is not None:
                return await self._follow(
                    ident, entry.job_id, duplicate=entry.earlier, resumed=True
                )
            code = entry.code or "Interrupted"  # 'trying' never answered: the process died
            if self._on_ambiguous == "report" or item is None:
                return BulkResult(
                    ident, ItemStatus.AMBIGUOUS, code=code, possible_duplicate=entry.earlier
                )
            duplicate = True
        assert item is not None
        try:
            request = self._request(ident, item)
        except InvalidInput as error:
            if self._journal is not None:
                self._journal.refused(ident, _code(error))
            return self._refused(ident, error, duplicate)
        started = self._monotonic()
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._send(ident, request, duplicate)
            if not isinstance(outcome, CosAuditError):
                break
            ambiguous = needs_reconciling(outcome)
            retry = is_turned_away(outcome) or (ambiguous and self._on_ambiguous == "resubmit")
            if not retry or not await self._pause(attempt, started):
                if ambiguous or duplicate:
                    # Refused now, but this or an earlier attempt may have been accepted.
                    return BulkResult(
                        ident, ItemStatus.AMBIGUOUS, code=_code(outcome), error=outcome,
                        possible_duplicate=duplicate,
                    )  # fmt: skip
                return self._refused(ident, outcome, duplicate)
            duplicate = duplicate or ambiguous
        job = outcome
        if job.is_final:
            return self._final(ident, job, job.job_id, duplicate, resumed=False)
        if not job.job_id:
            return BulkResult(ident, ItemStatus.AMBIGUOUS, job=job, code="NoJobId")
        # The job was just created: the first poll waits an interval (as client.*.moderate).
        policy = self._kind.poll
        await self._sleep(first_poll_wait(policy, self._rng))
        return await self._follow(ident, job.job_id, duplicate=duplicate, resumed=False)

    async def _send(self, ident: str, request: Request, duplicate: bool) -> J | CosAuditError:
        """One submission; the journal learns its outcome even if the run is stopped meanwhile."""
        journal = self._journal
        if journal is not None:
            journal.trying(ident)
            try:
                await journal.commit()  # on disk before the request can be
            except asyncio.CancelledError:
                journal.refused(ident, "Cancelled")  # nothing was sent
                raise
        task = asyncio.ensure_future(self._call_submit(request))
        try:
            outcome = await asyncio.shield(task)
        except asyncio.CancelledError:
            # Stopping: this request may be on the wire. Let it finish so its JobId (or
            # refusal) is journaled; a second cancellation gives up on it, and the 'trying'
            # record makes it ambiguous on resume.
            try:
                await asyncio.wait({task})
            finally:
                if not task.done():
                    task.cancel()
            self._journal_submission(ident, task.result(), duplicate)
            raise
        self._journal_submission(ident, outcome, duplicate)
        return outcome

    async def _call_submit(self, request: Request) -> J | CosAuditError:
        try:
            return await self._kind.submit_request(request)
        except ClientStateError:
            raise  # a closed client fails every item alike: stop the run instead
        except CosAuditError as error:
            return error

    def _journal_submission(self, ident: str, outcome: J | CosAuditError, duplicate: bool) -> None:
        journal = self._journal
        if journal is None:
            return
        if isinstance(outcome, CosAuditError):
            if needs_reconciling(outcome):
                journal.ambiguous(ident, _code(outcome))
            else:
                journal.refused(ident, _code(outcome))
        elif outcome.job_id:
            # Final answers too (a synchronous API): should the run stop before handing it
            # over, a resume fetches it by JobId instead of calling it ambiguous.
            journal.submitted(ident, outcome.job_id, duplicate=duplicate)

    async def _follow(
        self, ident: str, job_id: str, *, duplicate: bool, resumed: bool
    ) -> BulkResult[J] | _Delivery[J]:
        """Wait for a job by id; always safe to retry."""
        started = self._monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                job = await self._kind.wait(job_id, timeout=self._timeout, raise_on_failure=False)
            except JobTimeout as error:
                return BulkResult(
                    ident, ItemStatus.PENDING, job=error.job, job_id=job_id, code="JobTimeout",
                    error=error, possible_duplicate=duplicate, resumed=resumed,
                )  # fmt: skip
            except (NotFoundError, InvalidInput) as error:
                # Expired, or never existed: waiting again cannot help, and resubmitting
                # would bill a second job. Final.
                result: BulkResult[J] = BulkResult(
                    ident, ItemStatus.FAILED, job_id=job_id, code=_code(error), error=error,
                    possible_duplicate=duplicate, resumed=resumed,
                )  # fmt: skip
                return _Delivery(result, True)
            except ClientStateError:
                raise
            except CosAuditError as error:
                if await self._pause(attempt, started):
                    continue
                return BulkResult(
                    ident, ItemStatus.PENDING, job_id=job_id, code=_code(error), error=error,
                    possible_duplicate=duplicate, resumed=resumed,
                )  # fmt: skip
            return self._final(ident, job, job_id, duplicate, resumed=resumed)

    def _final(
        self, ident: str, job: J, job_id: str | None, duplicate: bool, *, resumed: bool
    ) -> _Delivery[J]:
        succeeded = job.state == JobState.SUCCESS
        result = BulkResult(
            ident,
            ItemStatus.SUCCEEDED if succeeded else ItemStatus.FAILED,
            job=job,
            job_id=job.job_id or job_id,
            code=None if succeeded else (job.code or _text(job.state)),
            possible_duplicate=duplicate,
            resumed=resumed,
        )
        return _Delivery(result, True)

    def _refused(self, ident: str, error: CosAuditError, duplicate: bool) -> BulkResult[J]:
        return BulkResult(
            ident, ItemStatus.FAILED, code=_code(error), error=error, possible_duplicate=duplicate
        )

    async def _pause(self, attempt: int, started: float) -> bool:
        """Sleep before item attempt ``attempt + 1``; False when the policy says stop."""
        policy = self._retry
        if attempt >= policy.attempts:
            return False
        wait = backoff(policy, attempt, self._rng)
        if self._monotonic() - started + wait >= policy.deadline:
            return False
        self._counts["retries"] += 1
        await self._sleep(wait)
        return True
