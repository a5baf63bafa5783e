"""The running service: everything one emulator holds (keys, jobs, controls, faults, counters,
inputs)."""

from __future__ import annotations

from cosaudit.emulator.auth import Key, Keyring
from cosaudit.emulator.config import Controls, EmulatorConfig
from cosaudit.emulator.faults import Faults
from cosaudit.emulator.ids import Ids
from cosaudit.emulator.jobs import JobStore, Schedule, pick_duration
from cosaudit.emulator.sources import Sources
from cosaudit.emulator.stats import Stats

__all__ = ["Service"]


class Service:
    """The mutable side of an emulator; one per application, never module-level."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.rules = config.rules
        self.controls = Controls(config.job_duration, config.final_after_polls)
        self.faults = Faults()
        self.stats = Stats()
        self.ids = Ids(config.seed)
        self.keyring = Keyring([Key(config.secret_id, config.secret_key, config.token)])
        self.jobs = JobStore(config.clock, config.max_jobs)
        self.sources = Sources(config.bucket_dir, config.allow_remote_fetch)

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
        """Stop background jobs and downloads, so requests waiting on them answer at once: a
        query waiting on a job answers ``Auditing`` (the job never finishes), a synchronous
        request waiting on a download gets ``ResourceDownloadFailed``."""
        await self.jobs.close()
        self.sources.abort()

    async def close(self) -> None:
        """Stop background work and release the HTTP client."""
        await self.shutdown()
        await self.sources.close()
