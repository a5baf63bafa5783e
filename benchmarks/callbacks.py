"""Callbacks against polling, side by side: 10,000 async text jobs of 0.2–2 s resolved by
pushes (``token`` and ``confirm`` trust), with callbacks switched off in the emulator by the
fallback polling alone, and by a client without a receiver (today's polling), in one run
(issue 11's targets).

Each job is ``client.text.moderate(object=key)`` on an ``AuditClient(callbacks=receiver)``
whose ``CallbackReceiver`` listens on loopback in this process; the emulator runs in a child
process (``--no-callbacks`` for the third contender). Counted per job: the queries ``wait``
made (every ``client.text.get``: polls, and confirm trust's one confirmation), and the delay
from the job's finish to the caller having its result, ``known - (t0 + d)`` as in
``benchmarks.polling`` (``t0`` just before the submit is sent, ``d`` the job's duration, known
from its id): an upper bound, since it includes the submit's round trip.

The fallback contender's receiver has ``grace=0``: it polls on the normal schedule from the
submit, exactly as a client without callbacks does, which is what its figures are compared
with (a receiver's default ``grace`` of 10 s would add those 10 s to every job whose callback
is lost; that cost is the grace, by design, not a figure to measure).

    python -m benchmarks.callbacks [--jobs 10000] [--in-flight 100] [--durations 0.2-2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from attrs import define

from benchmarks._common import machine, median, percentile, print_table, write_bucket
from benchmarks._emulator import BUCKET, REGION, EmulatorProcess
from cosaudit import AuditClient
from cosaudit.callbacks import CallbackReceiver
from cosaudit.cli import plain_help
from cosaudit.emulator.jobs import pick_duration
from cosaudit.models import TextJob

TARGET_TOKEN_DELAY = 0.050  # s, median
TARGET_CONFIRM_REQUESTS = 1.05  # per job, beyond the submit


@define(frozen=True)
class JobStat:
    queries: int
    duration: float
    delay: float

    @property
    def relative(self) -> float:
        return self.delay / self.duration


@define(frozen=True)
class Contender:
    name: str
    trust: str | None  # None: no receiver at all
    grace: float | None  # None: the receiver's default
    callbacks_on: bool


CONTENDERS = (
    Contender("token", "token", None, True),
    Contender("confirm", "confirm", None, True),
    Contender("callbacks off (fallback)", "confirm", 0.0, False),
    Contender("no receiver (polling)", None, None, False),
)


async def _run(
    emu: EmulatorProcess,
    keys: Sequence[str],
    contender: Contender,
    in_flight: int,
    spread: tuple[float, float],
) -> tuple[list[JobStat], int]:
    """Every key moderated once; returns the per-job figures and the callbacks received."""
    stats: list[JobStat] = []
    queries: dict[str, int] = {}
    receiver = None
    if contender.trust is not None:
        options = {} if contender.grace is None else {"grace": contender.grace}
        receiver = CallbackReceiver("127.0.0.1", 0, trust=contender.trust, **options)  # type: ignore[arg-type]
    async with (
        receiver or contextlib.nullcontext(),
        AuditClient(
            bucket=BUCKET,
            region=REGION,
            endpoint=emu.url,
            credentials=emu.credentials,
            callbacks=receiver,
        ) as client,
    ):
        get = client.text.get

        async def counted_get(job_id: str) -> TextJob:
            queries[job_id] = queries.get(job_id, 0) + 1
            return await get(job_id)

        client.text.get = counted_get  # type: ignore[method-assign]
        todo = iter(keys)

        async def worker() -> None:
            for key in todo:
                started = time.monotonic()
                job = await client.text.moderate(object=key)
                known = time.monotonic()
                assert job.job_id is not None and job.is_final
                duration = pick_duration(spread, job.job_id)
                stats.append(
                    JobStat(queries.get(job.job_id, 0), duration, known - started - duration)
                )

        await asyncio.gather(*(worker() for _ in range(min(in_flight, len(keys)))))
        pushed = receiver.stats.delivered if receiver is not None else 0
    return stats, pushed


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=100)
    parser.add_argument("--durations", default="0.2-2", help="job seconds, MIN-MAX")
    args = parser.parse_args(argv)
    low, _, high = args.durations.partition("-")
    spread = (float(low), float(high))
    print(
        f"callbacks: {args.jobs} text jobs lasting {args.durations} s, {args.in_flight} in "
        f"flight, per contender"
    )
    print(f"machine: {machine()}\n")
    summary: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="cosaudit-bench-") as folder:
        keys = write_bucket(Path(folder), args.jobs)
        for contender in CONTENDERS:
            extra = () if contender.callbacks_on else ("--no-callbacks",)
            with EmulatorProcess(
                job_duration=args.durations, bucket_dir=folder, extra_args=extra
            ) as emu:
                began, cpu, server_cpu = time.monotonic(), time.process_time(), emu.cpu_seconds()
                stats, pushed = asyncio.run(_run(emu, keys, contender, args.in_flight, spread))
                wall = time.monotonic() - began
                cpu = time.process_time() - cpu
                server_after = emu.cpu_seconds()
            server = (
                server_after - server_cpu
                if server_after is not None and server_cpu is not None
                else float("nan")
            )
            summary[contender.name] = {
                "queries": statistics.mean(s.queries for s in stats),
                "delay": median(s.delay for s in stats),
                "delay95": percentile([s.delay for s in stats], 0.95),
                "relative": median(s.relative for s in stats),
                "pushed": pushed / len(stats),
                "jobs_per_s": len(stats) / wall,
                "client_ms": cpu * 1000 / len(stats),
                "server_ms": server * 1000 / len(stats),
            }
            row = summary[contender.name]
            print(
                f"  {contender.name:<25} {row['queries']:5.3f} queries/job, median delay "
                f"{row['delay'] * 1000:6.1f} ms, {row['jobs_per_s']:5.0f} jobs/s",
                flush=True,
            )
    print()
    print_table(
        [
            "contender",
            "queries/job",
            "callbacks/job",
            "delay median ms",
            "delay p95 ms",
            "delay/duration median",
            "jobs/s",
            "client CPU ms/job",
            "emulator CPU ms/job",
        ],
        [
            [
                name,
                f"{s['queries']:.3f}",
                f"{s['pushed']:.3f}",
                f"{s['delay'] * 1000:.1f}",
                f"{s['delay95'] * 1000:.1f}",
                f"{s['relative']:.2f}",
                f"{s['jobs_per_s']:.0f}",
                f"{s['client_ms']:.2f}",
                f"{s['server_ms']:.2f}",
            ]
            for name, s in summary.items()
        ],
    )
    token, confirm = summary["token"], summary["confirm"]
    off, polling = summary["callbacks off (fallback)"], summary["no receiver (polling)"]
    print(
        f"\ntargets: token {token['queries']:.3f} queries/job (0), median delay "
        f"{token['delay'] * 1000:.1f} ms (<= {TARGET_TOKEN_DELAY * 1000:.0f}); confirm "
        f"{confirm['queries']:.3f} requests/job beyond the submit (<= "
        f"{TARGET_CONFIRM_REQUESTS}); fallback {off['queries']:.2f} queries/job and "
        f"{off['relative']:.0%} median delay/duration against polling's "
        f"{polling['queries']:.2f} and {polling['relative']:.0%}"
    )
    return summary


if __name__ == "__main__":
    main()
