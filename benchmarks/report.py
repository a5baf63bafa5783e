"""The HTML report over a run's output file of 10,000 and 1,000,000 records: its time, its peak
memory (which must not grow with the run) and the page's size (which must not either).

Each size runs in a fresh child process (this script with ``--child``: peak RSS is a
per-process high-water mark). The parent first writes an output file of synthetic records in
``cosaudit batch``'s shape (90% succeeded, of which 20% flagged; failures with a few codes;
log-normal latencies); the child builds the page from it with
``write_report(read_records(path), ...)``, as a user would after a run.

    python -m benchmarks.report [--sizes 10000 1000000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._common import machine, print_table, ratio_line
from cosaudit.cli import plain_help

LABELS = ("Porn", "Ads", "Abuse", "Terrorism", "Politics", "Illegal")
CODES = ("SlowDown", "InternalError", "JobTimeout", "ResourceNotFound")


def records(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``count`` records of a plausible run, the same for every run of the script."""
    rng = random.Random(seed)
    for index in range(count):
        ok = rng.random() < 0.9
        verdict = rng.choices(("normal", "sensitive", "suspicious"), (80, 15, 5))[0] if ok else None
        label = None if verdict is None else "Normal" if verdict == "normal" else rng.choice(LABELS)
        hit = verdict in ("sensitive", "suspicious")
        yield {
            "data_id": f"uploads/{index:08d}.jpg",
            "kind": "image",
            "input": {"object": f"uploads/{index:08d}.jpg"},
            "job_id": f"si{index:030x}",
            "status": "succeeded" if ok else "failed",
            "state": "Success" if ok else "Failed",
            "verdict": verdict,
            "result": {"normal": 0, "sensitive": 1, "suspicious": 2}.get(verdict or ""),
            "label": label,
            "score": rng.randint(60, 99) if hit else 0,
            "scenes": {
                (label or "porn").lower(): {
                    "hit_flag": int(hit),
                    "score": 90 if hit else 0,
                    "keywords": ["buy now"] if hit else [],
                }
            },
            "code": None if ok else rng.choice(CODES),
            "message": None if ok else "the job failed",
            "elapsed": rng.lognormvariate(0.0, 0.8),
            "possible_duplicate": False,
            "resumed": False,
        }


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _child(source: str, page: str) -> dict[str, Any]:
    from cosaudit.report import read_records, write_report

    before = _peak_kb()
    started = time.perf_counter()
    write_report(read_records(source), page, title="benchmark")
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_before_kb": before,
        "peak_after_kb": _peak_kb(),
        "page_bytes": Path(page).stat().st_size,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--child", nargs=2, metavar=("SOURCE", "PAGE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return

    print(f"report: write_report(read_records(...)) by run size -- {machine()}")
    print("synthetic image records, 18% flagged, 10% failed; one child process per size\n")
    rows = []
    results = []
    with tempfile.TemporaryDirectory(prefix="cosaudit-report-") as tmp:
        for size in args.sizes:
            source = Path(tmp) / f"out-{size}.jsonl"
            with source.open("w", encoding="utf-8") as file:
                for record in records(size):
                    file.write(json.dumps(record) + "\n")
            page = Path(tmp) / f"report-{size}.html"
            command = [sys.executable, "-m", "benchmarks.report", "--child", str(source), str(page)]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            result = json.loads(out)
            results.append(result)
            rows.append(
                [
                    f"{size:,}",
                    f"{source.stat().st_size / 1e6:,.1f}",
                    f"{result['seconds']:.2f}",
                    f"{size / result['seconds']:,.0f}",
                    f"{result['peak_before_kb'] / 1024:.1f}",
                    f"{result['peak_after_kb'] / 1024:.1f}",
                    f"{result['page_bytes'] / 1024:,.0f}",
                ]
            )
    print_table(
        ["records", "file MB", "seconds", "records/s", "RSS before MB", "peak MB", "page KB"],
        rows,
    )
    first, last = results[0], results[-1]
    print(
        "\n"
        + ratio_line(
            {
                "peak RSS largest/smallest": last["peak_after_kb"] / first["peak_after_kb"],
                "page size largest/smallest": last["page_bytes"] / first["page_bytes"],
            }
        )
    )


if __name__ == "__main__":
    main()
