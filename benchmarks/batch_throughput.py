"""``cosaudit batch`` against ``client.moderate_many`` on the same input: items per second, and
peak memory as the input grows.

The input is a JSONL file of inline texts (``{"kind": "text", "content": ..., "data_id": ...}``;
the service answers them at once, so the client's own work is what is measured). Each contender
runs in a fresh child process against one emulator process, and is timed from spawn to exit
(interpreter start and imports included, for both):

* batch: ``cosaudit batch IN -o OUT --endpoint ...``: checks the whole file, runs, writes one
  line per item, journals (fsync before each group of submissions, the default);
* moderate_many: a script doing what a user of the library would for the same file: read its
  lines, ``client.moderate_many(lines, journal=...)`` (each line names its kind, as in the
  command), count the results; same concurrency, same journal settings.

Peak RSS (``wait4``'s ``ru_maxrss`` of each child) is taken at a tenth of the items and at all
of them. Targets: batch within 10 % of moderate_many's items/s; batch's peak RSS at the full
size within 10 % of its peak at a tenth.

    python -m benchmarks.batch_throughput [--items 100000] [--concurrency 64] [--repeat 1]
    python -m benchmarks.batch_throughput --items 10000     # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._common import machine, median, print_table, ratio_line, texts
from benchmarks._emulator import BUCKET, REGION, EmulatorProcess
from cosaudit.cli import plain_help

CONTENDERS = ("batch", "moderate_many")


def write_input(path: Path, items: int) -> Path:
    posts = texts(min(items, 1_000))
    with path.open("w", encoding="utf-8") as out:
        for n in range(items):
            row = {"kind": "text", "content": posts[n % len(posts)], "data_id": f"item-{n:07d}"}
            out.write(json.dumps(row) + "\n")
    return path


def _read(path: str) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


async def _library(args: argparse.Namespace) -> None:
    """The moderate_many child: the library call a user would write for the same file."""
    from cosaudit import AuditClient, Credentials

    counts: dict[str, int] = {}
    async with AuditClient(
        bucket=BUCKET,
        region=REGION,
        endpoint=args.url,
        credentials=Credentials(args.secret_id, args.secret_key),
    ) as client:
        run = client.moderate_many(
            _read(args.input), concurrency=args.concurrency, journal=args.journal
        )
        async with run:
            async for result in run:
                counts[result.status.value] = counts.get(result.status.value, 0) + 1
    print(json.dumps(counts))


def _spawn(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env}
    )
    # wait4, not wait: the child's own resource usage (peak RSS, CPU), not all children's.
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{command[3:5]} exited {process.returncode}: {err.decode()[-2000:]}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "stdout": out.decode(),
    }


def _run(
    contender: str, source: Path, items: int, emu: EmulatorProcess, folder: Path, options: Any
) -> dict[str, Any]:
    stem = f"{contender}-{items}-{time.monotonic_ns()}"
    keys = {
        "TENCENTCLOUD_SECRET_ID": emu.credentials.secret_id,
        "TENCENTCLOUD_SECRET_KEY": emu.credentials.secret_key,
    }
    if contender == "batch":
        output = folder / f"{stem}.jsonl"
        command = [
            sys.executable, "-m", "cosaudit", "batch", str(source), "-o", str(output),
            "--endpoint", emu.url, "--bucket", BUCKET, "--region", REGION,
            "--concurrency", str(options.concurrency), "--quiet",
            # The emulator sets no limit: a rate out of reach keeps the comparison to the
            # client's own work (the default, adaptive, would spend its first seconds ramping
            # up from 20/s, which moderate_many's default does not do).
            "--rate", "1000000",
        ]  # fmt: skip
        report = _spawn(command, keys)
        with output.open("rb") as lines:
            report["results"] = sum(1 for _ in lines)
    else:
        command = [
            sys.executable, "-m", "benchmarks.batch_throughput", "--child",
            "--input", str(source), "--url", emu.url,
            "--secret-id", emu.credentials.secret_id, "--secret-key", emu.credentials.secret_key,
            "--concurrency", str(options.concurrency), "--journal", str(folder / f"{stem}.j"),
        ]  # fmt: skip
        report = _spawn(command, {})
        report["results"] = sum(json.loads(report["stdout"].strip().splitlines()[-1]).values())
    if report["results"] != items:
        raise RuntimeError(f"{contender}: {report['results']} results for {items} items")
    report["rate"] = items / report["wall"]
    return report


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run, print the table; returns the ratios of the last line."""
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the table shows medians")
    # The moderate_many child's own options.
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--secret-id", help=argparse.SUPPRESS)
    parser.add_argument("--secret-key", help=argparse.SUPPRESS)
    parser.add_argument("--journal", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        asyncio.run(_library(options))
        return {}
    small = max(1, options.items // 10)
    print(
        f"batch_throughput: {options.items:,} inline texts (and {small:,} for memory), "
        f"concurrency {options.concurrency}, {options.repeat} round(s) -- {machine()}"
    )
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="cosaudit-batch-bench-") as tmp:
        folder = Path(tmp)
        sources = {n: write_input(folder / f"in-{n}.jsonl", n) for n in (small, options.items)}
        with EmulatorProcess(job_duration=0.05) as emu:
            for _ in range(options.repeat):
                for items in (small, options.items):
                    for contender in CONTENDERS:  # alternating, so drift hits both alike
                        report = _run(contender, sources[items], items, emu, folder, options)
                        runs.setdefault((contender, items), []).append(report)
    rows = []
    for (contender, items), reports in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rows.append(
            [
                contender,
                f"{items:,}",
                f"{median(r['wall'] for r in reports):.1f}",
                f"{median(r['rate'] for r in reports):,.0f}",
                f"{median(r['cpu'] for r in reports) / items * 1e6:,.0f}",
                f"{median(r['peak_mb'] for r in reports):.1f}",
            ]
        )
    print_table(["contender", "items", "wall s", "items/s", "client CPU µs/item", "peak MB"], rows)

    def rate(contender: str) -> float:
        return median(r["rate"] for r in runs[(contender, options.items)])

    def peak(contender: str, items: int) -> float:
        return median(r["peak_mb"] for r in runs[(contender, items)])

    ratios = {
        "batch/moderate_many items/s": rate("batch") / rate("moderate_many"),
        f"batch peak RSS {options.items:,}/{small:,}": peak("batch", options.items)
        / peak("batch", small),
        f"moderate_many peak RSS {options.items:,}/{small:,}": peak("moderate_many", options.items)
        / peak("moderate_many", small),
    }
    print(ratio_line(ratios))
    return ratios


if __name__ == "__main__":
    main()
