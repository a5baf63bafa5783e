"""The benchmark scripts run: each on a micro workload, against a real emulator process.

Nothing here measures speed (figures live in ``benchmarks/RESULTS.md``); these only check that
the scripts and their shared emulator helper still work as the code under them changes.
"""

from __future__ import annotations

import asyncio
import os

from benchmarks._emulator import BUCKET, REGION, EmulatorProcess
from cosaudit import AuditClient
from cosaudit.models import TextJob


async def _moderate(emu: EmulatorProcess, text: str) -> TextJob:
    async with AuditClient(
        bucket=BUCKET, region=REGION, endpoint=emu.url, credentials=emu.credentials
    ) as client:
        return await client.text.moderate(text)


def test_emulator_process_serves_the_client_and_stops() -> None:
    with EmulatorProcess(job_duration=0.05, seed=3) as emu:
        pid = emu.pid
        job = asyncio.run(_moderate(emu, "buy now"))
        assert (job.label, job.is_sensitive) == ("Ads", True)
        used = emu.cpu_seconds()
        assert used is None or used > 0
    # Stopped and reaped: no process of that id is left (not even a zombie).
    assert not os.path.exists(f"/proc/{pid}")
