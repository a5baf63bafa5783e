"""Where the client's CPU goes: client_cost's cosaudit workload under cProfile.

Runs N synchronous text moderations (M in flight) against an emulator process and prints the
functions of cosaudit (and, with ``--all``, of everything) by own time and by cumulative time,
per request. cProfile inflates every call by its own overhead, so read shares, not absolute
figures; for a sampling view without that bias::

    pip install py-spy
    py-spy record -r 250 -o profile.svg -- python -m benchmarks.profile_client --no-profile

    python -m benchmarks.profile_client [--requests 3000] [--top 25] [--all]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from collections.abc import Sequence

from benchmarks._common import texts
from benchmarks._emulator import EmulatorProcess
from benchmarks.client_cost import run_cosaudit
from cosaudit.cli import plain_help


def _ours(path: str) -> bool:
    return "cosaudit" in path and "benchmarks" not in path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--all", action="store_true", help="every function, not only ours")
    parser.add_argument(
        "--no-profile", action="store_true", help="run only (for an outside profiler)"
    )
    args = parser.parse_args(argv)
    items = texts(args.requests)
    with EmulatorProcess() as emu:
        run_cosaudit(emu, items[:300], args.in_flight, items[:128])  # warm: hooks, connections
        if args.no_profile:
            run_cosaudit(emu, items, args.in_flight, items[:128])
            return
        profiler = cProfile.Profile()
        profiler.enable()
        run_cosaudit(emu, items, args.in_flight, [])  # connections open within, once
        profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows: list[tuple[float, float, int, str]] = []
    for (path, line, name), (_, calls, own, cumulative, _) in stats.items():
        if args.all or _ours(path) or "generated" in path:
            where = path.split("site-packages/")[-1].split("cosaudit/")[-1]
            rows.append((own, cumulative, calls, f"{where}:{line}({name})"))
    per = 1e6 / args.requests
    for title, own_first in (("own time", True), ("cumulative time", False)):
        print(f"\nby {title}, µs per request under cProfile (calls per request):")
        ranked = sorted(rows, key=lambda r: r[0] if own_first else r[1], reverse=True)
        for row in ranked[: args.top]:
            print(
                f"  {row[0] * per:8.1f} own {row[1] * per:8.1f} cum  x{row[2] / args.requests:5.1f}"
                f"  {row[3][:100]}"
            )


if __name__ == "__main__":
    main()
