"""Polls per job and how late the caller learns a job is done: cosaudit's default PollPolicy vs
fixed 1 s polling, on jobs lasting 0.2–2 s in an emulator process.

Each job is ``client.text.moderate(object=key)`` (submit, then ``wait``); the queries ``wait``
makes are counted. A job's duration *d* is known exactly from its id (the emulator picks it from
the id with :func:`cosaudit.emulator.jobs.pick_duration`), so the delay is ``known - (t0 + d)``,
with ``t0`` taken just before the submit is sent and ``known`` when ``moderate`` returns: an
upper bound (it includes the submit's round trip). Reported: polls per job (mean), delay median
and p95 in seconds, and the delay relative to each job's own duration (median, p95).

``--model`` adds a table computed from the policies' schedules alone (no HTTP): for a grid of
``initial`` × ``multiplier`` it shows mean polls and median relative delay on the same duration
spread, which is how the defaults were chosen (see ``benchmarks/RESULTS.md``).

    python -m benchmarks.polling [--jobs 1000] [--in-flight 100] [--repeat 3] [--model]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from attrs import define

from benchmarks._common import machine, median, percentile, print_table, ratio_line, write_bucket
from benchmarks._emulator import BUCKET, REGION, EmulatorProcess
from cosaudit import AuditClient, PollPolicy
from cosaudit.cli import plain_help
from cosaudit.emulator.jobs import pick_duration
from cosaudit.models import TextJob

LOW, HIGH = 0.2, 2.0  # job seconds, spread by job id (``--durations`` changes them)


def policies(fixed: float) -> dict[str, PollPolicy]:
    """The contenders: our default, and polling every ``fixed`` seconds."""
    return {
        "cosaudit default": PollPolicy(),
        f"fixed {fixed:g} s": PollPolicy(initial=fixed, multiplier=1.0, maximum=fixed, jitter=0.0),
    }


TARGET_POLLS = 4.0
TARGET_RELATIVE = 0.15


@define(frozen=True)
class JobStat:
    polls: int
    duration: float
    delay: float

    @property
    def relative(self) -> float:
        return self.delay / self.duration


async def _run(
    emu: EmulatorProcess,
    keys: Sequence[str],
    policy: PollPolicy,
    in_flight: int,
    spread: tuple[float, float],
) -> list[JobStat]:
    stats: list[JobStat] = []
    polls: dict[str, int] = {}
    async with AuditClient(
        bucket=BUCKET, region=REGION, endpoint=emu.url, credentials=emu.credentials, poll=policy
    ) as client:
        get = client.text.get

        async def counted_get(job_id: str) -> TextJob:
            polls[job_id] = polls.get(job_id, 0) + 1
            return await get(job_id)

        client.text.get = counted_get  # type: ignore[method-assign]
        todo = iter(keys)

        async def worker() -> None:
            for key in todo:
                started = time.monotonic()
                job = await client.text.moderate(object=key)
                known = time.monotonic()
                assert job.job_id is not None
                duration = pick_duration(spread, job.job_id)
                stats.append(JobStat(polls[job.job_id], duration, known - started - duration))

        await asyncio.gather(*(worker() for _ in range(min(in_flight, len(keys)))))
    return stats


def model(grid_initial: Sequence[float], grid_multiplier: Sequence[float]) -> None:
    """Mean polls and median relative delay of each schedule, from the schedule alone."""
    rng = random.Random(7)
    durations = [rng.uniform(LOW, HIGH) for _ in range(20_000)]
    rows = []
    for initial in grid_initial:
        for multiplier in grid_multiplier:
            policy = PollPolicy(initial=initial, multiplier=multiplier)
            counts, relative = [], []
            for duration in durations:
                # As wait() does after a submit: wait ``initial``, poll, then interval(2), ...
                elapsed, polls = 0.0, 0
                while elapsed < duration:
                    polls += 1
                    jitter = rng.uniform(1 - policy.jitter, 1 + policy.jitter)
                    elapsed += policy.interval(polls) * jitter
                counts.append(polls)
                relative.append((elapsed - duration) / duration)
            mean_polls, rel = statistics.mean(counts), statistics.median(relative)
            both = mean_polls <= TARGET_POLLS and rel <= TARGET_RELATIVE
            rows.append([f"{initial:g}", f"{multiplier:g}", mean_polls, rel, "yes" if both else ""])
    print(f"\nmodel: schedules alone on {len(durations)} durations uniform in {LOW}-{HIGH} s")
    print_table(
        ["initial s", "multiplier", "polls/job", "median delay/duration", "meets both"], rows
    )


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", action="store_true", help="also the schedule-only grid")
    parser.add_argument("--durations", default=f"{LOW}-{HIGH}", help="job seconds, MIN-MAX")
    parser.add_argument("--fixed", type=float, default=1.0, help="the fixed interval, seconds")
    args = parser.parse_args(argv)
    low, _, high = args.durations.partition("-")
    spread = (float(low), float(high))
    contenders = policies(args.fixed)
    default = contenders["cosaudit default"]
    print(
        f"polling: {args.jobs} text jobs lasting {args.durations} s, {args.in_flight} in flight; "
        f"default policy initial={default.initial} s, x{default.multiplier}, "
        f"max {default.maximum} s, jitter {default.jitter}"
    )
    print(f"machine: {machine()}\n")
    results: dict[str, list[list[JobStat]]] = {name: [] for name in contenders}
    with tempfile.TemporaryDirectory(prefix="cosaudit-bench-") as folder:
        keys = write_bucket(Path(folder), args.jobs)
        with EmulatorProcess(job_duration=args.durations, bucket_dir=folder) as emu:
            for round_ in range(args.repeat):
                for name, policy in contenders.items():
                    stats = asyncio.run(_run(emu, keys, policy, args.in_flight, spread))
                    results[name].append(stats)
                    print(
                        f"  round {round_ + 1} {name:<17} "
                        f"{statistics.mean(s.polls for s in stats):5.2f} polls/job, median "
                        f"delay {median(s.delay for s in stats):5.3f} s",
                        flush=True,
                    )
    print()
    summary: dict[str, dict[str, float]] = {}
    for name, rounds in results.items():
        summary[name] = {
            "polls": median(statistics.mean(s.polls for s in r) for r in rounds),
            "delay": median(median(s.delay for s in r) for r in rounds),
            "delay95": median(percentile([s.delay for s in r], 0.95) for r in rounds),
            "relative": median(median(s.relative for s in r) for r in rounds),
            "relative95": median(percentile([s.relative for s in r], 0.95) for r in rounds),
        }
    print_table(
        [
            "policy",
            "polls/job",
            "delay median s",
            "delay p95 s",
            "delay/duration median",
            "delay/duration p95",
        ],
        [
            [
                name,
                s["polls"],
                f"{s['delay']:.3f}",
                f"{s['delay95']:.3f}",
                f"{s['relative']:.2f}",
                f"{s['relative95']:.2f}",
            ]
            for name, s in summary.items()
        ],
    )
    ours, fixed = summary["cosaudit default"], summary[f"fixed {args.fixed:g} s"]
    print(
        "\n"
        + ratio_line(
            {
                "default/fixed polls": ours["polls"] / fixed["polls"],
                "default/fixed median delay": ours["delay"] / fixed["delay"],
            }
        )
        + f"  (targets: <= {TARGET_POLLS:g} polls/job, median delay/duration <= "
        f"{TARGET_RELATIVE:.0%}; default: {ours['polls']:.2f} polls, {ours['relative']:.0%})"
    )
    if args.model:
        model([0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1.0], [1.2, 1.3, 1.5, 2.0])
    return {"polls": ours["polls"], "relative": ours["relative"]}


if __name__ == "__main__":
    main()
