"""Adaptive rate: does a run find and hold what the service accepts?

The emulator runs in its own process with its text API limited (``--qps text=200``: a token
bucket, one second's burst, ``SlowDown`` beyond). ``moderate_many(rate="adaptive")`` sends
synchronous text moderations at concurrency 256 (so concurrency alone would overrun the limit
many times over) for a fixed time. It starts at 20/s and must grow to the limit, then hold it.

Printed per phase (the first 10 s, after them, the whole run): submissions accepted, ``SlowDown``
answers (those the session retried itself, heard through ``on_retry``, plus those it gave up on
and the runner retried, its ``summary.retries``: nothing else fails here), the share of
``SlowDown`` among answers, the accepted rate and its fraction of the limit. Targets (issue 10):
after the first 10 s, accepted rate ≥ 90 % of the limit and ``SlowDown`` ≤ 5 % of answers.

    python -m benchmarks.adaptive_rate [--limit 200] [--concurrency 256] [--seconds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections.abc import Iterator

from attrs import define

from benchmarks._common import machine, print_table, ratio_line, texts
from benchmarks._emulator import BUCKET, REGION, EmulatorProcess
from cosaudit import AuditClient, RetryEvent
from cosaudit.cli import plain_help
from cosaudit.errors import ThrottledError

WARM_UP = 10.0  # seconds: the targets are for what follows


@define(frozen=True)
class Mark:
    """Counts at one moment of the run."""

    at: float
    accepted: int
    throttled: int


@define(frozen=True)
class Outcome:
    start: Mark
    warm: Mark
    end: Mark
    rate: float  # the adaptive rate at the end


def _items() -> Iterator[dict[str, str]]:
    posts = texts(1000)
    for i in itertools.count():
        yield {"content": posts[i % len(posts)], "data_id": f"bench-{i}"}


async def run(url: str, emu: EmulatorProcess, concurrency: int, seconds: float) -> Outcome:
    session_throttles = 0

    def heard(event: RetryEvent) -> None:
        nonlocal session_throttles
        session_throttles += isinstance(event.error, ThrottledError)

    async with AuditClient(
        bucket=BUCKET, region=REGION, endpoint=url, credentials=emu.credentials, on_retry=heard
    ) as client:
        accepted = 0
        run = client.moderate_many(_items(), kind="text", concurrency=concurrency, rate="adaptive")

        def mark() -> Mark:
            return Mark(time.monotonic(), accepted, session_throttles + run.summary.retries)

        start = mark()
        warm: Mark | None = None
        async with run:
            async for result in run:
                if not result.ok:
                    raise AssertionError(f"{result.id} failed: {result.code}")
                accepted += 1
                now = time.monotonic() - start.at
                if warm is None and now >= min(WARM_UP, seconds / 2):
                    warm = mark()
                if now >= seconds:
                    break
            end = mark()  # before leaving: items still in flight are not counted
        assert warm is not None
        return Outcome(start, warm, end, run.rate or 0.0)


@define(frozen=True)
class Phase:
    """What happened between two marks."""

    seconds: float
    accepted: int
    throttled: int

    @classmethod
    def between(cls, first: Mark, last: Mark) -> Phase:
        return cls(
            last.at - first.at, last.accepted - first.accepted, last.throttled - first.throttled
        )

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds

    @property
    def share(self) -> float:
        """SlowDown answers among all answers."""
        return self.throttled / max(1, self.accepted + self.throttled)

    def row(self, name: str, limit: float) -> tuple[object, ...]:
        return (
            name, self.seconds, self.accepted, self.throttled, self.share * 100, self.rate,
            self.rate / limit * 100,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> Outcome:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--limit", type=float, default=200.0, help="the emulator's text qps")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=40.0, help="length of the run")
    args = parser.parse_args(argv)
    print(machine())
    print(
        f"moderate_many(rate='adaptive'), concurrency {args.concurrency}, {args.seconds:g} s, "
        f"against an emulator limited to {args.limit:g} text requests/s"
    )
    with EmulatorProcess(extra_args=["--qps", f"text={args.limit:g}"]) as emu:
        outcome = asyncio.run(run(emu.url, emu, args.concurrency, args.seconds))
    start, warm, end = outcome.start, outcome.warm, outcome.end
    after = Phase.between(warm, end)
    print_table(
        ("phase", "seconds", "accepted", "SlowDown", "SlowDown %", "accepted/s", "% of limit"),
        [
            Phase.between(start, warm).row(f"first {warm.at - start.at:.0f} s", args.limit),
            after.row("after them", args.limit),
            Phase.between(start, end).row("whole run", args.limit),
        ],
    )
    print(f"adaptive rate at the end: {outcome.rate:.1f}/s")
    print(
        ratio_line(
            {
                "accepted rate/limit after warm-up": after.rate / args.limit,
                "SlowDown share after warm-up": after.share,
            }
        )
    )
    return outcome


if __name__ == "__main__":
    main()
