"""Peak memory of ``client.moderate_many`` over 10,000 and 100,000 items: it must be flat.

Peak RSS is a per-process high-water mark, so each size runs in a fresh child process (this
script with ``--child``), against one emulator in a process of its own (so its job store is not
counted). The child moderates a generator of items (text objects, cycling over a small bucket,
each with its own DataId) with a journal, as a real bulk job would, and reports its peak RSS
before the run (interpreter, imports, open client) and after it. The target: the peak over
100,000 items within 10% of the peak over 10,000. Last, the largest run is resumed from its
journal (every item finished: nothing is sent), which shows what a resume's index of finished
items costs per item.

    python -m benchmarks.memory [--sizes 10000 100000] [--concurrency 64] [--fsync]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._common import machine, print_table, ratio_line, write_bucket
from benchmarks._emulator import BUCKET, REGION, EmulatorProcess
from cosaudit.cli import plain_help

# Objects in the bucket; items cycle over them with distinct DataIds, so 100,000 items need
# no 100,000 files.
OBJECTS = 500
JOB_SECONDS = 0.05  # short jobs: the point is the runner's memory, not waiting


def _peak_kb() -> int:
    # ru_maxrss is in KiB on Linux (bytes on macOS; this script reports Linux figures).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _items(count: int, objects: int) -> Iterator[dict[str, str]]:
    for index in range(count):
        yield {"object": f"posts/{index % objects:06d}.txt", "data_id": f"item-{index:07d}"}


async def _child(args: argparse.Namespace) -> dict[str, Any]:
    from cosaudit import AuditClient, Credentials, PollPolicy

    client = AuditClient(
        bucket=BUCKET,
        region=REGION,
        endpoint=args.url,
        credentials=Credentials(args.secret_id, args.secret_key),
        poll=PollPolicy(initial=JOB_SECONDS * 1.2, maximum=0.2, jitter=0.1),
    )
    async with client:
        before = _peak_kb()
        started = time.perf_counter()
        cpu = time.process_time()
        run = client.moderate_many(
            _items(args.items, args.objects),
            kind="text",
            concurrency=args.concurrency,
            journal=args.journal,
            fsync=args.fsync,
        )
        statuses: dict[str, int] = {}
        async with run:
            async for result in run:
                statuses[result.status.value] = statuses.get(result.status.value, 0) + 1
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    return {
        "items": args.items,
        "before_kb": before,
        "peak_kb": _peak_kb(),
        "elapsed": elapsed,
        "cpu": cpu,
        "statuses": statuses,
    }


def _run_child(
    emu: EmulatorProcess, items: int, concurrency: int, fsync: bool, folder: Path
) -> dict[str, Any]:
    # The same journal for the same size: running a size twice is a resume.
    journal = folder / f"journal-{items}.jsonl"
    command = [
        sys.executable,
        "-m",
        "benchmarks.memory",
        "--child",
        "--url",
        emu.url,
        "--secret-id",
        emu.credentials.secret_id,
        "--secret-key",
        emu.credentials.secret_key,
        "--items",
        str(items),
        "--objects",
        str(OBJECTS),
        "--concurrency",
        str(concurrency),
        "--journal",
        str(journal),
    ]
    if fsync:
        command.append("--fsync")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child for {items} items failed:\n{done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["journal_bytes"] = journal.stat().st_size
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--fsync", action="store_true", help="fsync the journal before each submission"
    )
    # The child's own options.
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--secret-id", help=argparse.SUPPRESS)
    parser.add_argument("--secret-key", help=argparse.SUPPRESS)
    parser.add_argument("--items", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--objects", type=int, default=OBJECTS, help=argparse.SUPPRESS)
    parser.add_argument("--journal", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_child(args))))
        return

    print(f"memory: moderate_many peak RSS by input size -- {machine()}")
    print(
        f"text objects, jobs of {JOB_SECONDS}s, {args.concurrency} in flight, journal with "
        f"fsync={'on' if args.fsync else 'off'}; one child process per size\n"
    )
    with tempfile.TemporaryDirectory(prefix="cosaudit-memory-") as tmp:
        folder = Path(tmp)
        write_bucket(folder / "bucket", OBJECTS)
        reports = []
        with EmulatorProcess(job_duration=JOB_SECONDS, bucket_dir=folder / "bucket") as emu:
            for size in args.sizes:
                reports.append(_run_child(emu, size, args.concurrency, args.fsync, folder))
            # Resuming the largest run: every item is finished, so nothing is sent; what it
            # costs is the journal's index of finished items (documented in cosaudit.journal).
            resume = _run_child(emu, args.sizes[-1], args.concurrency, args.fsync, folder)
    rows = []
    for report in [*reports, resume]:
        succeeded = report["statuses"].get("succeeded", 0)
        rows.append(
            [
                f"{report['items']:,}" + (" (resume)" if report is resume else ""),
                report["before_kb"] / 1024,
                report["peak_kb"] / 1024,
                (report["peak_kb"] - report["before_kb"]) / 1024,
                f"{succeeded:,}",
                report["elapsed"],
                report["items"] / report["elapsed"],
                report["cpu"] / report["items"] * 1000,
                report["journal_bytes"] / 2**20,
            ]
        )
    print_table(
        [
            "items",
            "RSS before, MB",
            "peak RSS, MB",
            "run adds, MB",
            "succeeded",
            "seconds",
            "items/s",
            "client CPU ms/item",
            "journal, MB",
        ],
        rows,
    )
    first, last = reports[0], reports[-1]
    growth = last["peak_kb"] / first["peak_kb"]
    print(
        f"\npeak RSS over {last['items']:,} items vs {first['items']:,}: "
        f"{(growth - 1) * 100:+.1f}% (target <= +10%)"
    )
    index = (resume["peak_kb"] - resume["before_kb"]) * 1024 / resume["items"]
    print(
        f"resuming the {resume['items']:,}-item journal (all finished, nothing sent) adds "
        f"{(resume['peak_kb'] - resume['before_kb']) / 1024:.1f} MB: {index:.0f} bytes per "
        f"finished item"
    )
    print(ratio_line({f"peak RSS {last['items']:,} / {first['items']:,}": growth}))


if __name__ == "__main__":
    main()
