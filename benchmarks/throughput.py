"""Jobs per second: N asynchronous text jobs (submit, then wait until final), cosaudit vs the
official SDK, against an emulator process whose jobs take 0.2–2 s (spread by job id).

* cosaudit: ``client.text.moderate(object=key)`` for every key, all in flight at once (one
  client, its default connection limit and default :class:`~cosaudit.PollPolicy`);
* sdk: ``cos-python-sdk-v5`` from a ``ThreadPoolExecutor`` (64 threads by default), each job
  ``ci_auditing_text_submit(Key=...)`` then ``ci_auditing_text_query`` every second until final
  — kinder to it than its own demos, which sleep 5 s between queries.

Jobs/s is jobs over wall time from the first submit to the last final answer; a round runs each
contender in turn on the same keys, and the table shows medians over rounds.

    python -m benchmarks.throughput [--jobs 10000] [--repeat 2] [--sdk-threads 64]
    python -m benchmarks.throughput --quick      # 2,000 jobs, for a check in a few minutes
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from attrs import define

from benchmarks._common import machine, median, print_table, ratio_line, write_bucket
from benchmarks._emulator import BUCKET, REGION, EmulatorProcess
from benchmarks.client_cost import sdk_client
from cosaudit import AuditClient
from cosaudit.cli import plain_help
from cosaudit.models import TextJob

DURATION = "0.2-2"
CONTENDERS = ("cosaudit", "sdk")


@define(frozen=True)
class Run:
    """One contender's pass over the jobs."""

    jobs: int
    wall: float
    cpu: float
    server_cpu: float
    polls: int
    failed: int


async def _cosaudit(emu: EmulatorProcess, keys: Sequence[str], in_flight: int) -> tuple[int, int]:
    polls = failed = 0
    async with AuditClient(
        bucket=BUCKET, region=REGION, endpoint=emu.url, credentials=emu.credentials
    ) as client:
        get = client.text.get

        async def counted_get(job_id: str) -> TextJob:
            nonlocal polls
            polls += 1
            return await get(job_id)

        # Count the queries ``wait`` makes, on this instance only (benchmark instrumentation).
        client.text.get = counted_get  # type: ignore[method-assign]
        todo = iter(keys)

        async def worker() -> None:
            nonlocal failed
            for key in todo:
                job = await client.text.moderate(object=key, raise_on_failure=False)
                failed += not job.is_final or job.is_failed

        await asyncio.gather(*(worker() for _ in range(min(in_flight, len(keys)))))
    return polls, failed


def run_cosaudit(emu: EmulatorProcess, keys: Sequence[str], in_flight: int) -> Run:
    gc.collect()
    server = emu.cpu_seconds() or 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    polls, failed = asyncio.run(_cosaudit(emu, keys, in_flight))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Run(len(keys), wall, cpu, (emu.cpu_seconds() or 0.0) - server, polls, failed)


def run_sdk(emu: EmulatorProcess, keys: Sequence[str], threads: int, interval: float = 1.0) -> Run:
    client: Any = sdk_client(emu, threads)
    lock = threading.Lock()
    counts = {"polls": 0, "failed": 0}

    def job(key: str) -> None:
        submitted = client.ci_auditing_text_submit(Bucket=BUCKET, Key=key)
        job_id = submitted["JobsDetail"]["JobId"]
        polls = 0
        while True:
            time.sleep(interval)
            polls += 1
            detail = client.ci_auditing_text_query(Bucket=BUCKET, JobID=job_id)["JobsDetail"]
            if detail["State"] in ("Success", "Failed"):
                break
        with lock:
            counts["polls"] += polls
            counts["failed"] += detail["State"] == "Failed"

    gc.collect()
    server = emu.cpu_seconds() or 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(job, keys))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Run(
        len(keys),
        wall,
        cpu,
        (emu.cpu_seconds() or 0.0) - server,
        counts["polls"],
        counts["failed"],
    )


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--sdk-threads", type=int, default=64)
    parser.add_argument(
        "--in-flight", type=int, default=0, help="cosaudit jobs at once (0: all of them)"
    )
    parser.add_argument("--quick", action="store_true", help="2,000 jobs, 3 rounds")
    parser.add_argument("--durations", default=DURATION, help="job seconds, MIN-MAX")
    parser.add_argument(
        "--sdk-interval", type=float, default=1.0, help="seconds between the SDK's queries"
    )
    parser.add_argument(
        "--only", nargs="*", choices=CONTENDERS, default=list(CONTENDERS), help="contenders"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.repeat = 2000, 3
    in_flight = args.in_flight or args.jobs
    print(
        f"throughput: {args.jobs} async text jobs lasting {args.durations} s; cosaudit "
        f"{in_flight} in flight, sdk {args.sdk_threads} threads polling every "
        f"{args.sdk_interval:g} s"
    )
    print(f"machine: {machine()}\n")
    runs: dict[str, list[Run]] = {name: [] for name in args.only}
    with tempfile.TemporaryDirectory(prefix="cosaudit-bench-") as folder:
        keys = write_bucket(Path(folder), args.jobs)
        with EmulatorProcess(job_duration=args.durations, bucket_dir=folder) as emu:
            for round_ in range(args.repeat):
                for name in args.only:
                    if name == "cosaudit":
                        run = run_cosaudit(emu, keys, in_flight)
                    else:
                        run = run_sdk(emu, keys, args.sdk_threads, args.sdk_interval)
                    runs[name].append(run)
                    print(
                        f"  round {round_ + 1} {name:<9} {run.jobs / run.wall:8.1f} jobs/s in "
                        f"{run.wall:6.1f} s, {run.polls / run.jobs:.2f} polls/job, "
                        f"{run.failed} failed",
                        flush=True,
                    )
    print()
    rate = {name: median(r.jobs / r.wall for r in rs) for name, rs in runs.items()}
    print_table(
        [
            "contender",
            "jobs/s (median)",
            "wall s",
            "polls/job",
            "client CPU ms/job",
            "emulator CPU ms/job",
        ],
        [
            [
                name,
                rate[name],
                median(r.wall for r in rs),
                median(r.polls / r.jobs for r in rs),
                median(r.cpu / r.jobs * 1000 for r in rs),
                median(r.server_cpu / r.jobs * 1000 for r in rs),
            ]
            for name, rs in runs.items()
        ],
    )
    if "cosaudit" in rate and "sdk" in rate:
        print("\n" + ratio_line({"cosaudit/sdk jobs/s": rate["cosaudit"] / rate["sdk"]}))
        print("(target: >= 5x)")
    return rate


if __name__ == "__main__":
    main()
