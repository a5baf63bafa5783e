"""The bulk runner: a run's lifecycle. It pulls the input, runs each item (:mod:`.item`) in one
of ``concurrency`` slots, hands results over as they finish, journals each as finished once the
caller is past it, and counts. Why it works so: :mod:`cosaudit.bulk`."""

from __future__ import annotations

import asyncio
import enum
import math
import os
import random
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Generic, TypedDict, TypeVar

import attrs

from ..config import RetryPolicy
from ..errors import ClientStateError, InvalidInput
from ..journal import Journal, Open
from ..models import Job
from ..requests import Request
from .collected import Collected
from .identity import BulkItem, BulkItems, earlier_item_id, item_id
from .item import DEFAULT_ITEM_RETRY, AmbiguousPolicy, Delivery, ItemLife, Moderation
from .progress import Progress, ProgressOption, bar_factory, total_of
from .rate import Rate, rate_limiter
from .results import BulkResult, BulkSummary, ItemStatus, Tally, _code
from .shards import Shard

__all__ = ["BulkOptions", "BulkRun"]

J = TypeVar("J", bound=Job)


class BulkOptions(TypedDict, total=False):
    """The options of :meth:`AuditClient.moderate_many <cosaudit.AuditClient.moderate_many>`."""

    concurrency: int
    journal: str | os.PathLike[str] | None
    fsync: bool
    on_ambiguous: AmbiguousPolicy
    timeout: float | None
    retry: RetryPolicy | None
    progress: ProgressOption
    rate: Rate
    shard: Shard | str | None


class _State(enum.Enum):
    NEW = "not started"
    RUNNING = "running"
    DONE = "done"
    CLOSED = "closed"


_END = object()


class BulkRun(Generic[J]):
    """A bulk run: use as ``async with ... as run: async for result in run``.

    Made by :meth:`AuditClient.moderate_many <cosaudit.AuditClient.moderate_many>`; the
    arguments are documented there. Runs once.

    ``kind`` is one kind's moderation (``client.text``), or a mapping of kind names to them
    for a run whose items name their own kind: a request model by its type
    (:attr:`Request.kind <cosaudit.requests.Request.kind>`), a mapping by its ``"kind"`` key.
    """

    def __init__(
        self,
        kind: Moderation[J] | Mapping[str, Moderation[J]],
        items: BulkItems,
        *,
        name: str,
        concurrency: int = 64,
        journal: str | os.PathLike[str] | None = None,
        fsync: bool = True,
        on_ambiguous: AmbiguousPolicy = "report",
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        progress: ProgressOption = False,
        rate: Rate = None,
        shard: Shard | str | None = None,
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
        if isinstance(shard, str):
            shard = Shard.parse(shard)  # "auto/N" reads JOB_COMPLETION_INDEX now
        elif shard is not None and not isinstance(shard, Shard):
            raise InvalidInput("shard", f"give a Shard or 'I/N', not {shard!r}")
        self.name = name
        self.shard = shard
        self._items = items
        self._journal_path = journal
        self._fsync = fsync
        self._monotonic = monotonic
        self._mixed = isinstance(kind, Mapping)
        kinds = kind if isinstance(kind, Mapping) else {name: kind}
        if not kinds:
            raise InvalidInput("kind", "give at least one kind")
        shared_rng = rng or random.Random()
        # One limiter for the run's submissions of every kind: a rate is the run's.
        self._limiter = rate_limiter(rate, monotonic=monotonic, sleep=sleep)
        self._lives: dict[str, ItemLife[J]] = {
            kind_name: ItemLife(
                kind_name,
                moderation,
                on_ambiguous=on_ambiguous,
                timeout=timeout,
                retry=retry or DEFAULT_ITEM_RETRY,
                sleep=sleep,
                monotonic=monotonic,
                rng=shared_rng,
                on_retry=self._retried,
                mixed=self._mixed,
                limiter=self._limiter,
            )
            for kind_name, moderation in kinds.items()
        }
        self._state = _State.NEW
        self._journal: Journal | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._producer: asyncio.Task[None] | None = None
        self._in_hand: Delivery[J] | None = None
        self._started = 0.0
        self._ended: float | None = None
        self._counts = dict.fromkeys(
            set(attrs.fields_dict(BulkSummary)) - {"elapsed", *Tally.__slots__}, 0
        )
        self._tally = Tally()
        self._bar_factory = bar_factory(progress)
        self._progress: Progress | None = None

    def __repr__(self) -> str:
        return f"<BulkRun {self.name} {self._state.value} {self.summary.handed_over} results>"

    @property
    def summary(self) -> BulkSummary:
        """The counts so far (final once the run is over)."""
        end = self._ended if self._ended is not None else self._monotonic()
        elapsed = end - self._started if self._started else 0.0
        return self._tally.summary(self._counts, elapsed=elapsed)

    @property
    def journal(self) -> Journal | None:
        """The open journal, once the run has started (and until it is closed)."""
        return self._journal

    @property
    def rate(self) -> float | None:
        """The submission rate now (per second), None when the run has no rate; with
        ``rate="adaptive"``, what it has found the service accepts."""
        limiter = self._limiter
        return limiter.bucket.rate if limiter is not None else None

    # -- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> BulkRun[J]:
        if self._state is not _State.NEW:
            raise ClientStateError(f"this bulk run is {self._state.value}; a run runs once")
        if self._journal_path is not None:
            # A thread: replaying a journal of millions of records takes seconds of file I/O,
            # which must not stall the event loop of a service running this beside its work.
            self._journal = await asyncio.to_thread(
                Journal.open,
                self._journal_path,
                self.name,
                fsync=self._fsync,
                shard=None if self.shard is None else str(self.shard),
            )
            self._lives = {
                name: attrs.evolve(life, journal=self._journal)
                for name, life in self._lives.items()
            }
        self._started = self._monotonic()
        self._state = _State.RUNNING
        if self._bar_factory is not None:
            total = total_of(self._items)
            self._progress = Progress.start(
                self._bar_factory, lambda: self.summary, total=total, desc=self.name
            )
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
        assert isinstance(message, Delivery)
        delivery: Delivery[J] = message
        self._slots.release()
        self._in_hand = delivery
        self._count(delivery.result)
        return delivery.result

    async def collect(self) -> Collected[J]:
        """Run to the end and keep every result (a loop over the run keeps none): for a
        notebook, or any run that fits in memory. ``await client.moderate_many(...).collect()``
        gives an object with ``summary``, ``to_records()``, ``to_pandas()`` and an HTML table."""
        async with self:
            results = tuple([result async for result in self])
        return Collected(self.name, results, self.summary)

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
            if self._progress is not None:
                await self._progress.wait_closed()

    def _end(self, state: _State) -> None:
        if self._ended is None and self._started:
            self._ended = self._monotonic()
        self._state = state
        if self._progress is not None:
            self._progress.close()  # the final counts, as soon as they are final

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # A bug or the input failing: the caller sees it at its next result.
            self._queue.put_nowait(task.exception())

    def _spawn(
        self, life: ItemLife[J], ident: str, item: BulkItem | None, entry: Open | None
    ) -> None:
        task = asyncio.ensure_future(self._deliver(life, ident, item, entry))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    async def _deliver(
        self, life: ItemLife[J], ident: str, item: BulkItem | None, entry: Open | None
    ) -> None:
        self._queue.put_nowait(await life.run(ident, item, entry))

    def _life_of(self, item: BulkItem | None, entry: Open | None) -> ItemLife[J] | InvalidInput:
        """The life of the item's kind: the run's one, or the one the item (or, for a job the
        input did not bring, its journal entry) names."""
        if not self._mixed:
            return next(iter(self._lives.values()))
        if isinstance(item, Request):
            kind = type(item).kind
        elif isinstance(item, Mapping):
            kind = item.get("kind")
        elif item is None and entry is not None:
            kind = entry.kind
        else:
            return InvalidInput(
                "kind", "a run of several kinds takes requests or mappings with a 'kind', not a str"
            )
        life = self._lives.get(kind) if isinstance(kind, str) else None
        if life is None:
            return InvalidInput("kind", f"unknown kind {kind!r}; one of {', '.join(self._lives)}")
        return life

    def _finish_in_hand(self) -> None:
        delivery, self._in_hand = self._in_hand, None
        if delivery is not None and delivery.finish:
            # Every life shares the journal: any of them records the item as done.
            next(iter(self._lives.values())).done(delivery.result)

    def _count(self, result: BulkResult[J]) -> None:
        self._counts[result.status.value] += 1
        self._counts["possible_duplicates"] += result.possible_duplicate
        self._counts["resumed"] += result.resumed
        self._tally.add(result)

    def _retried(self) -> None:
        self._counts["retries"] += 1

    # -- the input -----------------------------------------------------------------------

    async def _produce(self) -> None:
        journal = self._journal
        shard = self.shard
        others = 0
        async for item in self._iterate():
            ident = item_id(item)
            if journal is not None:
                earlier = earlier_item_id(item)
                if earlier is not None and journal.knows(earlier):
                    ident = earlier  # an earlier version journaled it so: resume it as that
            if shard is not None and not shard.owns(ident):
                others += 1  # another shard's: not counted, not journaled
                if others % 256 == 0:
                    await asyncio.sleep(0)  # nor may a long run of them starve the loop
                continue
            self._counts["items"] += 1
            if journal is not None and journal.is_finished(ident):
                self._counts["skipped"] += 1
                if self._counts["skipped"] % 256 == 0:
                    await asyncio.sleep(0)  # a long run of skipped items must not starve the loop
                continue
            entry = journal.claim(ident) if journal is not None else None
            await self._slots.acquire()
            self._start(ident, item, entry)
        if journal is not None:
            # Jobs an earlier run submitted that this input did not bring: their results
            # are owed all the same.
            for ident, entry in journal.unclaimed():
                self._counts["items"] += 1
                await self._slots.acquire()
                self._start(ident, None, entry)
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        self._queue.put_nowait(_END)

    def _start(self, ident: str, item: BulkItem | None, entry: Open | None) -> None:
        """Run the item in the slot just taken, or refuse it there and then if its kind is not
        one of the run's (like a request its kind refuses: nothing was sent)."""
        life = self._life_of(item, entry)
        if isinstance(life, ItemLife):
            self._spawn(life, ident, item, entry)
            return
        status = ItemStatus.FAILED if entry is None else ItemStatus.AMBIGUOUS
        result: BulkResult[J] = BulkResult(
            ident, status, code=_code(life), error=life, item=item,
            possible_duplicate=entry is not None and entry.earlier,
        )  # fmt: skip
        self._queue.put_nowait(Delivery(result, False))

    async def _iterate(self) -> AsyncIterator[BulkItem]:
        items = self._items
        if isinstance(items, AsyncIterable):
            async for item in items:
                yield item
        else:
            for item in items:
                yield item
