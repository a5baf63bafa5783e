"""The benchmark scripts run: each on a micro workload, against a real emulator process.

Nothing here measures speed (figures live in ``benchmarks/RESULTS.md``); these only check that
the scripts and their shared emulator helper still work as the code under them changes.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import (
    adaptive_rate,
    batch_throughput,
    callbacks,
    client_cost,
    emulator_rps,
    hot_path,
    import_time,
    kill_resume,
    polling,
    profile_client,
    throughput,
)
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


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux pidfd_open")
def test_emulator_process_stops_when_its_starter_is_killed() -> None:
    starter = (
        "from benchmarks._emulator import EmulatorProcess\n"
        "emu = EmulatorProcess()\n"
        "emu.start()\n"
        "print(emu.pid, flush=True)\n"
        "input()\n"  # hold on until killed
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", starter],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    exited = os.pidfd_open(pid)
    try:
        parent.kill()  # SIGKILL: no cleanup runs in the starter
        parent.communicate()
        ready, _, _ = select.select([exited], [], [], 10)
        if not ready:  # don't leave it running: the pidfd names exactly that process
            signal.pidfd_send_signal(exited, signal.SIGKILL)
        assert ready, "the emulator outlived the process that started it"
    finally:
        os.close(exited)


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


# --- each benchmark on a micro workload: it runs and reports, nothing is timed or compared ---


def test_hot_path_runs(capsys: pytest.CaptureFixture[str]) -> None:
    hot_path.main(["--repeat", "1", "--number", "3"])
    assert "ratios: whole client path" in capsys.readouterr().out


def test_client_cost_runs_every_contender(capsys: pytest.CaptureFixture[str]) -> None:
    per_request = client_cost.main(
        ["--requests", "12", "--in-flight", "4", "--repeat", "1", "--warm", "4", "--slices", "2"]
    )
    assert set(per_request) == {"cosaudit", "sdk", "raw aiohttp"}
    assert all(cost > 0 for cost in per_request.values())
    assert "ratios: cosaudit/raw" in capsys.readouterr().out


def test_polling_counts_polls_and_delays(capsys: pytest.CaptureFixture[str]) -> None:
    summary = polling.main(
        [
            *("--jobs", "6", "--in-flight", "3", "--repeat", "1"),
            *("--durations", "0.01-0.03", "--fixed", "0.02"),
        ]
    )
    assert summary["polls"] >= 1
    assert "ratios: default/fixed polls" in capsys.readouterr().out


def test_callbacks_runs_every_contender(capsys: pytest.CaptureFixture[str]) -> None:
    summary = callbacks.main(["--jobs", "6", "--in-flight", "3", "--durations", "0.01-0.03"])
    assert summary["token"]["queries"] == 0 and summary["token"]["pushed"] == 1
    assert summary["confirm"]["queries"] == 1
    assert summary["callbacks off (fallback)"]["pushed"] == 0
    assert "targets: token" in capsys.readouterr().out


def test_throughput_runs_both_contenders(capsys: pytest.CaptureFixture[str]) -> None:
    rate = throughput.main(
        [
            *("--jobs", "6", "--repeat", "1", "--durations", "0.01-0.03"),
            *("--sdk-threads", "3", "--sdk-interval", "0.02"),
        ]
    )
    assert set(rate) == {"cosaudit", "sdk"} and all(r > 0 for r in rate.values())
    assert "ratios: cosaudit/sdk jobs/s" in capsys.readouterr().out


def test_emulator_rps_serves_both_routes(capsys: pytest.CaptureFixture[str]) -> None:
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    capacity = emulator_rps.main(["--seconds", "0.3", "--repeat", "1", "--connections", "4"])
    assert set(capacity) == {"sync text", "job query"} and all(c > 0 for c in capacity.values())
    assert "one-core capacity" in capsys.readouterr().out
    if before is not None:  # it pins itself away from the emulator's CPU, then lets go
        assert os.sched_getaffinity(0) == before


def test_adaptive_rate_runs_against_a_limited_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = adaptive_rate.main(["--seconds", "1", "--limit", "30", "--concurrency", "16"])
    assert outcome.end.accepted > outcome.warm.accepted > 0 and outcome.rate > 0
    assert "ratios: accepted rate/limit after warm-up" in capsys.readouterr().out


def test_import_time_reads_importtime_output() -> None:
    rows = import_time._importtime("import cosaudit")
    assert any(name == "cosaudit" and depth == 0 for _, _, depth, name in rows)
    assert import_time.total_ms(rows, startup=set()) > 0
    assert import_time.total_ms(rows, startup={name for *_, name in rows}) == 0


def test_profile_client_names_our_functions(capsys: pytest.CaptureFixture[str]) -> None:
    profile_client.main(["--requests", "8", "--in-flight", "4", "--top", "5"])
    out = capsys.readouterr().out
    assert "by own time" in out and "session.py" in out


def test_batch_throughput_runs_both_contenders(capsys: pytest.CaptureFixture[str]) -> None:
    ratios = batch_throughput.main(["--items", "20", "--concurrency", "4"])
    assert len(ratios) == 3 and all(value > 0 for value in ratios.values())
    assert "ratios: batch/moderate_many items/s" in capsys.readouterr().out


def test_kill_resume_counts_a_round(capsys: pytest.CaptureFixture[str]) -> None:
    totals = kill_resume.main(["--rounds", "1", "--items", "30"])
    assert (totals["lost"], totals["dup_lines"], totals["dup_submissions"]) == (0, 0, 0)
    assert "duplicate submissions 0" in capsys.readouterr().out


def test_report_builds_pages_from_output_files(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import report

    report.main(["--sizes", "40", "400"])
    out = capsys.readouterr().out
    assert "400" in out and "ratios: peak RSS largest/smallest" in out
