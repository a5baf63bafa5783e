"""What the benchmark scripts share: the workload, the machine line, medians, tables, ratios."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

__all__ = [
    "machine",
    "median",
    "percentile",
    "print_table",
    "ratio_line",
    "texts",
    "write_bucket",
]

# A mix like real user posts: mostly clean, some hitting a rule, so answers carry sections,
# keywords and scene details the way real ones do.
_TEMPLATES = (
    "Post {i}: what a lovely day at the beach with the family.",
    "Post {i}: buy now and get a discount code for the next order!",
    "Post {i}: you are an idiot and everybody knows it.",
    "Post {i}: meeting notes, action items and the plan for next week.",
    "Post {i}: this promo is a limited offer, sexy lingerie inside.",
)


def texts(count: int) -> list[str]:
    """``count`` short posts, the same for every contender and every run."""
    return [_TEMPLATES[i % len(_TEMPLATES)].format(i=i) for i in range(count)]


def write_bucket(folder: Path, count: int) -> list[str]:
    """Write ``count`` small text objects into a bucket folder; returns their keys."""
    keys = []
    for i, text in enumerate(texts(count)):
        key = f"posts/{i:06d}.txt"
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        keys.append(key)
    return keys


def machine() -> str:
    """One line: CPUs, CPU model, Python, date — for the header of every result."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load {os.getloadavg()[0]:.2f}"
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()} "
        f"({sys.implementation.name}), {platform.system()}, {now}{load}"
    )


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0..1), nearest-rank on the sorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain table: first column left-aligned, the others right-aligned."""
    cells = [[str(c) for c in header], *([_cell(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        line = "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        print(line.rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def ratio_line(ratios: dict[str, float]) -> str:
    """The final line every script prints: ``ratios: a/b = 1.23x, ...``."""
    return "ratios: " + ", ".join(f"{name} = {value:.2f}x" for name, value in ratios.items())
