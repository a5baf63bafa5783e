"""The benchmark scripts run: each on a micro workload, against a real emulator process.

Nothing here measures speed (figures live in ``benchmarks/RESULTS.md``); these only check that
the scripts and their shared emulator helper still work as the code under them changes.
"""

from __future__ import annotations

import asyncio
import os

import pytest

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


def test_dead_service_counts_attempts_with_and_without_the_budget(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from benchmarks import dead_service

    dead_service.main(["--calls", "10", "--in-flight", "5", "--initial", "0.001"])
    out = capsys.readouterr().out
    rows = {line.split("  ")[0]: line.split() for line in out.splitlines()}
    # 10 calls x 4 attempts without a budget; with one, all 30 retries fit in 500 tokens
    assert rows["no budget"][2] == "40" and rows["retry budget (default)"][3] == "40"
    assert "ratios: attempts no budget/budget" in out
