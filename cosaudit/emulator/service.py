"""The running service: everything one emulator holds (keys, jobs, controls, faults, rate
limits, counters, inputs)."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

from cosaudit.emulator.auth import Key, Keyring
from cosaudit.emulator.badcases import BadCases
from cosaudit.emulator.callbacks import Callbacks
from cosaudit.emulator.config import Controls, EmulatorConfig
from cosaudit.emulator.faults import FaultKind, Faults
from cosaudit.emulator.ids import Ids
from cosaudit.emulator.jobs import Job, JobStore, Outcome, Schedule, pick_duration
from cosaudit.emulator.ratelimits import RateLimits
from cosaudit.emulator.requestlog import RequestLog
from cosaudit.emulator.sources import Sources
from cosaudit.emulator.stats import Stats

__all__ = ["Service"]


class Service:
    """The mutable side of an emulator; one per application, never module-level."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.rules = config.rules
        self.controls = Controls(config.job_duration, config.final_after_polls)
        self.faults = Faults(config.seed)
        self.stats = Stats()
        self.requests = RequestLog(config.request_log_size)
        self.rate_limits = RateLimits(config.qps, config.clock)
        self.ids = Ids(config.seed)
        self.keyring = Keyring([Key(config.secret_id, config.secret_key, config.token)])
        self.jobs = JobStore(config.clock, config.max_jobs, on_new=self._job_created)
        self.sources = Sources(config.bucket_dir, config.allow_remote_fetch)
        # Live-stream jobs that may still hold one of the account's channels
        # (cosaudit.emulator.kinds.live); pruned whenever a new stream asks for one.
        self.live_jobs: set[str] = set()
        self.badcases = BadCases()
        self.callbacks = Callbacks(
            config, self.jobs, self.faults, self.stats, lambda: self.controls.hold
        )
        # Set on shutdown: a slow answer still waiting gives up (the connection is dropped).
        self.stopping = asyncio.Event()
        self._date = (-1, "")

    def server_time(self) -> float:
        """The emulator's Unix time: the real time plus the injected clock offset. Signatures
        are checked against it and the ``Date`` header shows it."""
        return time.time() + self.faults.clock_offset

    def wall_time(self) -> float:
        """``EmulatorConfig.wall_clock`` plus the injected clock offset: for ``CreationTime``."""
        return self.config.wall_clock() + self.faults.clock_offset

    def http_date(self) -> str:
        """The ``Date`` header for an answer sent now (formatted once per second)."""
        second = int(self.server_time())
        if second != self._date[0]:
            self._date = (second, formatdate(second, usegmt=True))
        return self._date[1]

    def _job_created(self, job: Job) -> None:
        fault = self.faults.pick_job()
        if fault is None:
            return
        self.stats.faults[fault.label] += 1
        if fault.kind is FaultKind.STUCK:
            self.jobs.stick(job.job_id)
        else:
            code = fault.code or "InternalError"
            self.jobs.decide(job.job_id, Outcome.failure(code, fault.message or code))

    def schedule(self, job_id: str) -> Schedule:
        """When a job submitted now turns final, per the current controls."""
        return Schedule(
            started=self.jobs.now(),
            duration=pick_duration(self.controls.job_duration, job_id),
            final_after_polls=self.controls.final_after_polls,
        )

    def born_final(self) -> Schedule:
        """The schedule of a job answered synchronously."""
        return Schedule(started=self.jobs.now(), duration=0.0)

    async def shutdown(self) -> None:
        """Stop callbacks, background jobs and downloads, so requests waiting on them answer at
        once: a query waiting on a job answers ``Auditing`` (the job never finishes), a
        synchronous request waiting on a download gets ``ResourceDownloadFailed``, a slow answer
        is dropped, unsent callbacks are lost."""
        self.stopping.set()
        await self.callbacks.close()
        await self.jobs.close()
        self.sources.abort()

    async def close(self) -> None:
        """Stop background work and release the HTTP client."""
        await self.shutdown()
        await self.sources.close()
