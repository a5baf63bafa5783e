"""Moderation jobs: the record of each, its lifecycle, and the store that holds them.

Lifecycle ``Submitted → Auditing → Success | Failed``, computed lazily when a job is looked at,
so nothing ever sleeps. A job's pending ``stages`` may hold more than those two: video jobs pass
``Submitted → Snapshoting → Auditing``.

* by time (default): with duration *d* the job is in its first stage (``Submitted``) for the
  first 10 % of *d*, the other stages share the rest of *d* equally, then it is final;
* by polls (``final_after_polls = N``): the k-th query answers the k-th stage (the last one
  repeats), the N-th and every later one the final state;
* ``hold``: every job not yet reported final answers ``Auditing``.

A live-stream job can be cancelled: it ends with the ``Cancelled`` state, which the service does
not document (see :mod:`cosaudit.emulator.kinds.live`).

A job reported final stays final. Sync answers are recorded as jobs born final.

The store keeps at most ``max_jobs`` jobs: past that, the oldest jobs whose outcome is known are
dropped first (a job still computing is never dropped), and their ids answer 404
``AuditingJobNotFound`` as expired jobs do on the service — a retention window counted in jobs
rather than months, so that a benchmark of millions of jobs runs in bounded memory.

Injected job faults (:mod:`cosaudit.emulator.faults`) reach a job through the ``on_new`` hook
as it is stored: :meth:`JobStore.stick` holds one job as ``hold`` holds them all, and
:meth:`JobStore.decide` gives it its outcome (a failure) in place of the one it would compute.

The verdict is computed at submit time, except for inputs that must be downloaded: those run in a
tracked background task; a query that finds such a job due but not yet computed waits for it
(answering ``Auditing`` if the task is cancelled by :meth:`JobStore.close`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from attrs import define, evolve

from cosaudit.emulator.accounts import Standing
from cosaudit.emulator.config import Duration

__all__ = [
    "AUDITING",
    "CANCELLED",
    "DEFAULT_STAGES",
    "FAILED",
    "SNAPSHOTING",
    "SUBMITTED",
    "SUCCESS",
    "Job",
    "JobRecord",
    "JobStore",
    "JobsView",
    "Outcome",
    "Schedule",
    "creation_time",
    "pick_duration",
]

logger = logging.getLogger("cosaudit.emulator")

SUBMITTED = "Submitted"
SNAPSHOTING = "Snapshoting"  # sic: the service's spelling
AUDITING = "Auditing"
SUCCESS = "Success"
FAILED = "Failed"
# Undocumented: the service names no state for a cancelled live job. The client already counts
# Cancelled as final (cosaudit/models/enums.py), so that is what the emulator answers.
CANCELLED = "Cancelled"
# The pending states most jobs pass through before their final one.
DEFAULT_STAGES = (SUBMITTED, AUDITING)

# The service answers in Beijing time; samples show +08:00.
_SERVICE_TZ = timezone(timedelta(hours=8), "CST")
# How long a query waits for a due job whose download is still running before answering
# Auditing; downloads time out on their own well before this.
_DOWNLOAD_WAIT = 30.0


def creation_time(now: float) -> str:
    """Unix time ``now`` as the service writes ``CreationTime`` (``2026-11-21T10:44:32+08:00``)."""
    return datetime.fromtimestamp(now, _SERVICE_TZ).isoformat(timespec="seconds")


def pick_duration(duration: Duration, job_id: str) -> float:
    """The job's duration: fixed, or a point in ``(min, max)`` chosen by the job id's hex tail."""
    if not isinstance(duration, tuple):
        return duration
    low, high = duration
    fraction = int(job_id[-8:], 16) / 0xFFFFFFFF
    return low + (high - low) * fraction


@define(frozen=True, slots=True)
class Outcome:
    """How a job ended: a kind-specific result, or a failure ``code`` and ``message``;
    ``cancelled`` for a live job stopped by its owner (its result is what was seen until then)."""

    result: Any = None
    code: str | None = None
    message: str | None = None
    cancelled: bool = False

    @property
    def failed(self) -> bool:
        return self.code is not None

    @property
    def state(self) -> str:
        """The final state this outcome is answered with."""
        if self.failed:
            return FAILED
        return CANCELLED if self.cancelled else SUCCESS

    @classmethod
    def failure(cls, code: str, message: str) -> Outcome:
        return cls(None, code, message)


@define(frozen=True, slots=True)
class Schedule:
    """When a job turns final: ``started`` on the job clock plus ``duration``, or by polls."""

    started: float
    duration: float
    final_after_polls: int | None = None


@define(frozen=True, slots=True)
class Job:
    """One job as stored. Replaced (never mutated) as it is polled and finishes.

    Args:
        request: the submitted ``Request`` tree (or the query parameters of a GET).
        echo: input fields answered back, in order (``{"Object": "a.txt"}``).
        finished: reported final once (or born final, or cancelled); never reverts.
        stages: the pending states answered before the final one, in order.
        standing: what the account's lists and freeze settings add to its answer.
    """

    job_id: str
    kind: str
    request: Mapping[str, Any]
    created_at: str
    schedule: Schedule
    echo: Mapping[str, str]
    data_id: str | None = None
    user_info: Mapping[str, Any] | None = None
    outcome: Outcome | None = None
    polls: int = 0
    finished: bool = False
    stages: tuple[str, ...] = DEFAULT_STAGES
    # The account's lists and freeze settings for this job (None for virus jobs, which answer
    # neither ListInfo nor ForbidState); see cosaudit.emulator.accounts.
    standing: Standing | None = None

    def is_due(self, now: float, hold: bool) -> bool:
        """Whether the job should answer its final state now."""
        if self.finished:
            return True
        if hold:
            return False
        if self.schedule.final_after_polls is not None:
            return self.polls >= self.schedule.final_after_polls
        return now - self.schedule.started >= self.schedule.duration

    def pending_state(self, now: float, hold: bool) -> str:
        """The non-final state to answer while the job is not due."""
        if hold:
            return AUDITING
        stages = self.stages
        if self.schedule.final_after_polls is not None:
            return stages[min(max(self.polls - 1, 0), len(stages) - 1)]
        duration = self.schedule.duration
        elapsed = now - self.schedule.started
        if len(stages) == 1 or elapsed < 0.1 * duration:
            return stages[0]
        # The stages after the first share the remaining 90 % of the duration equally.
        share = (elapsed - 0.1 * duration) / (0.9 * duration)
        return stages[min(1 + int(share * (len(stages) - 1)), len(stages) - 1)]

    def state(self, now: float, hold: bool) -> str:
        """The state answered now (without counting a poll)."""
        if self.is_due(now, hold) and self.outcome is not None:
            return self.outcome.state
        return self.pending_state(now, hold)


@define(frozen=True, slots=True)
class JobRecord:
    """A read-only snapshot of a job, for assertions in tests."""

    job_id: str
    kind: str
    state: str
    request: Mapping[str, Any]
    result: Any
    code: str | None
    message: str | None
    polls: int


class JobStore:
    """Every job of one emulator, and the background tasks computing their outcomes."""

    def __init__(
        self,
        clock: Callable[[], float],
        max_jobs: int = 100_000,
        on_new: Callable[[Job], None] | None = None,
    ) -> None:
        """``on_new`` is called with each job stored that is not born final."""
        self._clock = clock
        self._max_jobs = max_jobs
        self._on_new = on_new
        # Oldest first. An OrderedDict, not a dict: a dict emptied from the front leaves holes
        # that every later walk from the front has to step over.
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stuck: set[str] = set()

    def now(self) -> float:
        return self._clock()

    def add(self, job: Job) -> None:
        """Store ``job``, dropping the oldest settled jobs beyond ``max_jobs``."""
        self._jobs[job.job_id] = job
        if len(self._jobs) > self._max_jobs:
            self._evict(len(self._jobs) - self._max_jobs)
        if self._on_new is not None and not job.finished:
            self._on_new(job)

    def stick(self, job_id: str) -> None:
        """Keep the job answering ``Auditing``, never final (an injected fault)."""
        self._stuck.add(job_id)

    def decide(self, job_id: str, outcome: Outcome) -> None:
        """Give the job ``outcome`` now, in place of any it computes (an injected failure); it
        is still answered on its schedule."""
        self._jobs[job_id] = evolve(self._jobs[job_id], outcome=outcome)

    def _evict(self, excess: int) -> None:
        # Only jobs without an outcome are skipped: each has a running task, bar the one being
        # added, so the oldest ``excess + tasks + 1`` jobs always hold enough to drop.
        oldest = itertools.islice(self._jobs.items(), excess + len(self._tasks) + 1)
        settled = [job_id for job_id, job in oldest if job.outcome is not None]
        for job_id in settled[:excess]:
            del self._jobs[job_id]
            self._stuck.discard(job_id)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def start(self, job: Job, work: Coroutine[Any, Any, Outcome]) -> None:
        """Store ``job`` (unless stored already) and compute its outcome with ``work`` in a
        tracked background task — not if an injected failure has decided it already."""
        if job.job_id not in self._jobs:
            self.add(job)
        if self._jobs[job.job_id].outcome is not None and job.outcome is None:
            work.close()
            return
        task = asyncio.get_running_loop().create_task(self._run(job.job_id, work))
        self._tasks[job.job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job.job_id, None))

    async def _run(self, job_id: str, work: Coroutine[Any, Any, Outcome]) -> None:
        try:
            outcome = await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the emulator must fail the job, not vanish
            logger.exception("job %s crashed", job_id)
            outcome = Outcome.failure("InternalError", f"emulator error: {exc}")
        self._jobs[job_id] = evolve(self._jobs[job_id], outcome=outcome)

    async def poll(self, job_id: str, hold: bool) -> tuple[Job, str]:
        """Count a query of the job and return it with the state to answer."""
        hold = hold or job_id in self._stuck
        job = evolve(self._jobs[job_id], polls=self._jobs[job_id].polls + 1)
        self._jobs[job_id] = job
        now = self._clock()
        if not job.is_due(now, hold):
            return job, job.pending_state(now, hold)
        task = self._tasks.get(job_id)
        if job.outcome is None and task is not None:
            # asyncio.wait neither cancels the task on timeout nor raises when close() cancels
            # it: then the job answers Auditing at once instead of holding the request open.
            await asyncio.wait({task}, timeout=_DOWNLOAD_WAIT)
            # Settled meanwhile; it may even have been dropped since, then this answer is its last.
            job = self._jobs.get(job_id, job)
        outcome = job.outcome
        if outcome is None:
            return job, AUDITING
        job = evolve(job, finished=True)
        if job_id in self._jobs:
            self._jobs[job_id] = job
        return job, outcome.state

    async def settle(self, job_id: str) -> None:
        """Wait until the job's outcome is computed: its background task, if any, has ended
        (a download gives up well within the wait)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.wait({task}, timeout=_DOWNLOAD_WAIT)

    def finish(self, job_id: str, outcome: Outcome) -> Job:
        """End a stored job now with ``outcome`` (a cancelled live job); it stays final."""
        job = evolve(self._jobs[job_id], outcome=outcome, finished=True)
        self._jobs[job_id] = job
        return job

    def record(self, job: Job, hold: bool) -> JobRecord:
        outcome = job.outcome or Outcome()
        hold = hold or job.job_id in self._stuck
        return JobRecord(
            job.job_id,
            job.kind,
            job.state(self._clock(), hold),
            job.request,
            outcome.result,
            outcome.code,
            outcome.message,
            job.polls,
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)

    async def close(self) -> None:
        """Cancel every running background task and wait for them to end."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()


class JobsView(Mapping[str, JobRecord]):
    """``emulator.jobs``: job id → :class:`JobRecord`, state as of now, polls not counted."""

    def __init__(self, store: JobStore, hold: Callable[[], bool]) -> None:
        self._store = store
        self._hold = hold

    def __getitem__(self, job_id: str) -> JobRecord:
        job = self._store.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return self._store.record(job, self._hold())

    def __iter__(self) -> Iterator[str]:
        return iter(self._store)

    def __len__(self) -> int:
        return len(self._store)
