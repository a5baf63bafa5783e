"""Soak: a bulk job through every fault at once, on loopback, in under two minutes (issue 5 §6).

The emulator runs in this process with every fault the emulator knows switched on at once:
500/503/429 before and after processing, connection resets before and after, answers slower
than the client's read timeout, truncated and malformed XML, a wrong content type, jobs stuck
in ``Auditing``, jobs failing with each documented code, and its clock 20 minutes ahead (the
client must correct for the skew). The client runs in a child process, so its peak RSS and
open descriptors are its own: ``client.moderate_many`` over N text objects with a journal
(``on_ambiguous="report"``), then a resume from that journal (``on_ambiguous="resubmit"``),
still under every fault.

The service's own records (jobs by DataId) are the judge:

* lost: an item with no result handed over (pass 1), or unfinished after pass 1 and not handed
  over by the resume. Must be 0.
* submitted twice: DataIds the emulator holds more than one job for. Must be 0, except items
  reported ambiguous first (resubmitted on the caller's word, as possible duplicates) and at
  most one per 503/429 answered to a submission the emulator had in fact accepted (which the
  client's documented retry rule cannot tell from a refusal).
* results naming a job the service never had: must be 0.
* descriptors open at the end vs the start, client and emulator. No leaks.

The exit status is non-zero if any of these fails.

    python -m benchmarks.soak [--items 2000] [--concurrency 64] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._common import machine, print_table, write_bucket
from benchmarks._emulator import BUCKET, REGION
from cosaudit.cli import plain_help

# Probabilities per matching request (or job); a few percent in all fail in some way.
REQUEST_FAULTS: list[dict[str, Any]] = [
    {"kind": "internal-error", "probability": 0.01},
    {"kind": "internal-error", "phase": "after", "probability": 0.01},
    {"kind": "unavailable", "probability": 0.01},
    # SlowDown trips the client's pause after 5 in 10 s: kept rare enough not to stall the run.
    {"kind": "slowdown", "probability": 0.004},
    {"kind": "reset", "phase": "before", "probability": 0.01},
    {"kind": "reset", "phase": "after", "probability": 0.01},
    {"kind": "slow", "delay": 2.5, "probability": 0.004},
    {"kind": "truncated", "probability": 0.005},
    {"kind": "malformed", "probability": 0.005},
    {"kind": "wrong-type", "probability": 0.005},
    {"kind": "stuck", "probability": 0.005},
    # A 503 or 429 sent after the job was created. The client's documented rule reads 503/429
    # as "turned away, safe to resend" (README, retrying.is_retryable), so each of these may
    # duplicate a job unseen: limited to submissions, where that can happen, so they are
    # counted, and the duplicates they explain are told apart from any others.
    {"kind": "unavailable", "phase": "after", "probability": 0.003, "method": "POST"},
    {"kind": "slowdown", "phase": "after", "probability": 0.002, "method": "POST"},
]
CONTRACT_BREAKING = ("unavailable-after", "slowdown-after")
JOB_FAILURE_PROBABILITY = 0.002  # for each documented code
CLOCK_SKEW = 1200.0  # the emulator's clock 20 minutes ahead: past the 15-minute window
READ_TIMEOUT = 1.0  # below the slow fault's delay
WAIT_TIMEOUT = 3.0  # a stuck job is reported pending after this long
DURATIONS = (0.05, 0.3)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the client, in its own process ------------------------------------------------------


async def _client_passes(args: argparse.Namespace) -> dict[str, Any]:
    from cosaudit import AuditClient, Credentials, PollPolicy, RetryEvent, RetryPolicy, Timeouts

    retries: Counter[str] = Counter()

    def on_retry(event: RetryEvent) -> None:
        retries[event.reason] += 1

    keys = [f"posts/{i:06d}.txt" for i in range(args.items)]
    passes: list[dict[str, Any]] = []
    async with AuditClient(
        bucket=BUCKET,
        region=REGION,
        endpoint=args.url,
        credentials=Credentials(args.secret_id, args.secret_key),
        timeouts=Timeouts(connect=2.0, read=READ_TIMEOUT, total=10.0),
        poll=PollPolicy(initial=0.1, multiplier=1.5, maximum=0.5, timeout=WAIT_TIMEOUT),
        on_retry=on_retry,
    ) as client:
        for policy in ("report", "resubmit"):
            started = time.perf_counter()
            run = client.moderate_many(
                keys,
                kind="text",
                concurrency=args.concurrency,
                journal=args.journal,
                on_ambiguous=policy,
                retry=RetryPolicy(attempts=3, initial=0.2, maximum=1.0, deadline=20.0),
            )
            results = []
            async with run:
                async for result in run:
                    results.append(
                        [result.id, result.status.value, result.job_id, result.possible_duplicate]
                    )
            summary = run.summary
            passes.append(
                {
                    "policy": policy,
                    "seconds": time.perf_counter() - started,
                    "results": results,
                    "summary": {
                        name: getattr(summary, name)
                        for name in (
                            "items",
                            "skipped",
                            "succeeded",
                            "failed",
                            "ambiguous",
                            "pending",
                            "possible_duplicates",
                            "resumed",
                            "retries",
                        )
                    },
                }
            )
    return {"passes": passes, "request_retries": dict(retries)}


def _child(args: argparse.Namespace) -> None:
    fds_start = _open_fds()
    report = asyncio.run(_client_passes(args))
    report["fds_start"] = fds_start
    report["fds_end"] = _open_fds()
    report["peak_rss_mb"] = _peak_mb()
    Path(args.out).write_text(json.dumps(report), "utf-8")


# -- the emulator and the judge ---------------------------------------------------------


async def _soak(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from cosaudit.emulator import Emulator, EmulatorConfig
    from cosaudit.emulator.faults import JOB_FAILURE_CODES

    fds_start = _open_fds()
    config = EmulatorConfig(bucket_dir=folder / "bucket", job_duration=DURATIONS, seed=args.seed)
    async with Emulator(config) as emu:
        for rule in REQUEST_FAULTS:
            emu.faults.add(**rule)
        for code in JOB_FAILURE_CODES:
            emu.faults.add("job-failed", code=code, probability=JOB_FAILURE_PROBABILITY)
        emu.faults.clock_offset = CLOCK_SKEW
        out = folder / "client.json"
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.soak",
            "--child",
            "--url",
            emu.url,
            "--secret-id",
            emu.config.secret_id,
            "--secret-key",
            emu.config.secret_key,
            "--items",
            str(args.items),
            "--concurrency",
            str(args.concurrency),
            "--journal",
            str(folder / "journal.jsonl"),
            "--out",
            str(out),
            stdin=asyncio.subprocess.DEVNULL,
        )
        if await child.wait() != 0:
            raise RuntimeError(f"the client process failed with status {child.returncode}")
        jobs: Counter[str] = Counter()
        for job_id in emu.jobs:
            data_id = emu.jobs[job_id].request.get("Input", {}).get("DataId")
            jobs[data_id] += 1
        faults = dict(emu.stats.faults)
        requests = emu.stats.total_requests
    client = json.loads(out.read_text("utf-8"))
    return {
        "client": client,
        "jobs": jobs,
        "faults": faults,
        "requests": requests,
        "fds_start": fds_start,
        "fds_end": _open_fds(),
    }


def _judge(items: int, soak: dict[str, Any]) -> dict[str, Any]:
    keys = {f"posts/{i:06d}.txt" for i in range(items)}
    first, second = soak["client"]["passes"]
    handed1 = Counter(r[0] for r in first["results"])
    handed2 = Counter(r[0] for r in second["results"])
    # Journaled as finished in pass 1: a final job handed over. The rest (ambiguous, pending,
    # refused) the resume owes a result for.
    finished1 = {r[0] for r in first["results"] if r[1] in ("succeeded", "failed") and r[2]}
    owed = keys - finished1
    ambiguous1 = {r[0] for r in first["results"] if r[1] == "ambiguous"}
    jobs: Counter[str] = soak["jobs"]
    twice = {data_id for data_id, count in jobs.items() if count > 1}
    claimed = {r[0] for p in (first, second) for r in p["results"] if r[2]}
    return {
        "lost": len(keys - set(handed1)) + len(owed - set(handed2)),
        "handed over twice in a pass": sum(
            count - 1 for handed in (handed1, handed2) for count in handed.values() if count > 1
        ),
        "handed over again but finished": len(set(handed2) & finished1),
        "submitted twice": len(twice),
        "submitted twice, not reported ambiguous first": len(twice - ambiguous1),
        "  of which a 503/429 after acceptance can explain": min(
            len(twice - ambiguous1), sum(soak["faults"].get(k, 0) for k in CONTRACT_BREAKING)
        ),
        "results naming a job the service never had": len(claimed - set(jobs)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--secret-id", help=argparse.SUPPRESS)
    parser.add_argument("--secret-key", help=argparse.SUPPRESS)
    parser.add_argument("--journal", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    print(f"soak: moderate_many through every fault at once -- {machine()}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cosaudit-soak-") as tmp:
        folder = Path(tmp)
        write_bucket(folder / "bucket", args.items)
        soak = asyncio.run(_soak(args, folder))
    elapsed = time.perf_counter() - started
    client = soak["client"]
    verdict = _judge(args.items, soak)

    print(
        f"{args.items:,} text objects, {args.concurrency} in flight, jobs of "
        f"{DURATIONS[0]}-{DURATIONS[1]} s, emulator clock {CLOCK_SKEW:+.0f} s, "
        f"{soak['requests']:,} requests served, {elapsed:.1f} s in all\n"
    )
    names = [
        "items",
        "skipped",
        "succeeded",
        "failed",
        "ambiguous",
        "pending",
        "possible_duplicates",
        "resumed",
        "retries",
    ]
    print_table(
        ["pass", *[n.replace("possible_duplicates", "possible dup.") for n in names], "seconds"],
        [
            [f"{p['policy']}", *[p["summary"][n] for n in names], p["seconds"]]
            for p in client["passes"]
        ],
    )
    print("\nfaults injected, by kind:")
    by_count = sorted(soak["faults"].items(), key=lambda kv: (-kv[1], kv[0]))
    print_table(["fault", "count"], by_count)
    print(
        f"total {sum(soak['faults'].values()):,}; request retries by reason: "
        f"{client['request_retries']}\n"
    )
    leaks = {
        "client": client["fds_end"] - client["fds_start"],
        "emulator": soak["fds_end"] - soak["fds_start"],
    }
    rows: list[list[object]] = [[name, value] for name, value in verdict.items()]
    rows.append(["client peak RSS, MB", client["peak_rss_mb"]])
    rows.append(
        ["client descriptors, start -> end", f"{client['fds_start']} -> {client['fds_end']}"]
    )
    rows.append(["emulator descriptors, start -> end", f"{soak['fds_start']} -> {soak['fds_end']}"])
    print_table(["check", "value"], rows)
    failures = [
        name
        for name in (
            "lost",
            "handed over twice in a pass",
            "handed over again but finished",
            "results naming a job the service never had",
        )
        if verdict[name]
    ]
    unexplained = (
        verdict["submitted twice, not reported ambiguous first"]
        - verdict["  of which a 503/429 after acceptance can explain"]
    )
    if unexplained:
        failures.append(f"{unexplained} submitted twice unexplained")
    failures += [f"{side} descriptors leaked" for side, leaked in leaks.items() if leaked > 0]
    print(f"\nresult: {'FAIL: ' + ', '.join(failures) if failures else 'pass'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
