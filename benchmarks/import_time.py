"""Import time: ``python -X importtime -c "import cosaudit"`` and of what users import first.

Each statement runs in fresh interpreters, alternately; the figure is the sum of the top-level
cumulative times ``-X importtime`` reports for modules the bare interpreter had not imported at
start-up (so ``site`` and ``encodings`` are left out), median over the runs. The table also
names the slowest modules of the last ``from cosaudit import AuditClient``.

    python -m benchmarks.import_time [--runs 9]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Sequence

from benchmarks._common import machine, median, print_table, ratio_line
from cosaudit.cli import plain_help

STATEMENTS = {
    "import cosaudit": "import cosaudit",
    "from cosaudit import AuditClient": "from cosaudit import AuditClient",
    "from cosaudit.emulator import Emulator": "from cosaudit.emulator import Emulator",
    "import aiohttp (floor)": "import aiohttp",
}
TARGET_MS = 150.0

_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _importtime(code: str) -> list[tuple[int, int, int, str]]:
    """``(self µs, cumulative µs, depth, module)`` for every import ``code`` makes."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        match = _LINE.match(line)
        if match:
            depth = len(match.group(3)) // 2
            rows.append((int(match.group(1)), int(match.group(2)), depth, match.group(4)))
    return rows


def total_ms(rows: list[tuple[int, int, int, str]], startup: set[str]) -> float:
    """Milliseconds spent importing what ``startup`` does not hold already."""
    return sum(cum for _, cum, depth, name in rows if depth == 0 and name not in startup) / 1000


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    print(f"import_time: -X importtime totals, median of {args.runs} fresh interpreters")
    print(f"machine: {machine()}\n")
    startup = {name for _, _, depth, name in _importtime("pass") if depth == 0}
    times: dict[str, list[float]] = {label: [] for label in STATEMENTS}
    last: dict[str, list[tuple[int, int, int, str]]] = {}
    for _ in range(args.runs):
        for label, code in STATEMENTS.items():
            rows = _importtime(code)
            times[label].append(total_ms(rows, startup))
            last[label] = rows
    medians = {label: median(values) for label, values in times.items()}
    print_table(
        ["statement", "median ms", "min ms", "max ms"],
        [[label, medians[label], min(v), max(v)] for label, v in times.items()],
    )
    slowest = sorted(last["from cosaudit import AuditClient"], key=lambda row: -row[0])[:10]
    print("\nslowest modules (self time) in the last 'from cosaudit import AuditClient':")
    print_table(["module", "self ms"], [[name, own / 1000] for own, _, _, name in slowest])
    floor = medians["import aiohttp (floor)"]
    print(
        "\n"
        + ratio_line(
            {
                "import cosaudit/150ms target": medians["import cosaudit"] / TARGET_MS,
                "AuditClient/150ms target": medians["from cosaudit import AuditClient"] / TARGET_MS,
                "AuditClient/aiohttp": medians["from cosaudit import AuditClient"] / floor,
            }
        )
    )
    return medians


if __name__ == "__main__":
    main()
