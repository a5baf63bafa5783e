"""A dead service: how many attempts, and how long, before callers learn it is down.

The emulator runs in its own process and answers every request 503 ``ServiceUnavailable``
(``--faults unavailable``). N job queries run, M in flight, with real backoff sleeps, twice:
with the default retry budget (a token bucket per session: 500 tokens, 5 per retry) and with
``budget=None`` (only ``attempts`` limits retries). Printed: attempts the service received per
call, wall seconds, and the median and p95 time for one call to fail; the last line gives the
ratios. Backoff and attempts are the defaults (4 attempts, full jitter from 0.2 s).

    python -m benchmarks.dead_service [--calls 1000] [--in-flight 64] [--initial 0.2]
"""

from __future__ import annotations

import argparse
import asyncio

from attrs import define

from benchmarks._common import machine, median, percentile, print_table, ratio_line
from benchmarks._emulator import BUCKET, REGION, EmulatorProcess
from cosaudit import AuditClient, RetryEvent, RetryPolicy
from cosaudit.cli import plain_help
from cosaudit.errors import ServerError

JOB_ID = "st" + "0" * 32


@define(frozen=True)
class Outcome:
    """One run: calls made, attempts the service saw, wall seconds, seconds per failed call."""

    calls: int
    attempts: int
    wall: float
    latencies: list[float]


async def run(
    url: str, emu: EmulatorProcess, calls: int, in_flight: int, retry: RetryPolicy
) -> Outcome:
    events: list[RetryEvent] = []
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    todo = iter(range(calls))
    async with AuditClient(
        bucket=BUCKET,
        region=REGION,
        endpoint=url,
        credentials=emu.credentials,
        retry=retry,
        on_retry=events.append,
    ) as client:

        async def worker() -> None:
            for _ in todo:
                started = loop.time()
                try:
                    await client.text.get(JOB_ID)
                except ServerError:
                    latencies.append(loop.time() - started)
                else:
                    raise AssertionError("the emulator was meant to be down")

        started = loop.time()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        wall = loop.time() - started
    return Outcome(calls, calls + len(events), wall, latencies)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--initial", type=float, default=0.2, help="first backoff, seconds")
    args = parser.parse_args(argv)
    print(machine())
    print(f"{args.calls} job queries, {args.in_flight} in flight, every answer 503")
    contenders = {
        "retry budget (default)": RetryPolicy(initial=args.initial),
        "no budget": RetryPolicy(initial=args.initial, budget=None),
    }
    outcomes: dict[str, Outcome] = {}
    with EmulatorProcess(extra_args=["--faults", "unavailable"]) as emu:
        for name, retry in contenders.items():
            outcomes[name] = asyncio.run(run(emu.url, emu, args.calls, args.in_flight, retry))
    rows = [
        (
            name,
            o.attempts,
            o.attempts / o.calls,
            o.wall,
            median(o.latencies) * 1000,
            percentile(o.latencies, 0.95) * 1000,
        )
        for name, o in outcomes.items()
    ]
    print_table(
        ("policy", "attempts", "per call", "wall s", "median ms", "p95 ms"),
        rows,
    )
    with_budget, without = outcomes["retry budget (default)"], outcomes["no budget"]
    print(
        ratio_line(
            {
                "attempts no budget/budget": without.attempts / with_budget.attempts,
                "wall no budget/budget": without.wall / with_budget.wall,
            }
        )
    )


if __name__ == "__main__":
    main()
