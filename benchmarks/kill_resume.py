"""``cosaudit batch`` killed (SIGKILL) at a random moment, then resumed, over and over: nothing
may be lost, written twice or submitted twice.

Each round runs ``cosaudit batch`` in a child process over the same input (3,000 items by
default: two thirds inline texts, answered at once, one third text objects, which are jobs to
wait for), kills it with ``kill -9`` after a random delay within the time a whole run takes,
then runs it again with ``--resume`` to the end. It then counts, against an emulator running in
this process (so it outlives the kills and can be asked who submitted what):

* lost: input items with no line in the output;
* duplicate lines: output lines beyond one per item;
* duplicate submissions: jobs the emulator accepted beyond one per item (by DataId);
* ambiguous: items whose submission the kill caught on the wire, reported for reconciling
  (not resubmitted, under the default ``--on-ambiguous report``): neither lost nor twice.

    python -m benchmarks.kill_resume [--rounds 20] [--items 3000] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from benchmarks._common import machine, print_table, write_bucket
from benchmarks._emulator import BUCKET, REGION
from cosaudit.cli import plain_help
from cosaudit.emulator import Emulator, EmulatorConfig

JOB_SECONDS = 0.05


class EmulatorThread:
    """The emulator on its own event loop in a thread of this process: the batch children come
    and go (killed), it stays, and its job store can be read between rounds."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready: Future[Emulator] = Future()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._serve, name="emulator", daemon=True)

    def __enter__(self) -> EmulatorThread:
        self._thread.start()
        self.url = self._ready.result(timeout=30).url
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)
        self._loop.close()

    def _serve(self) -> None:
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with Emulator(self.config) as emulator:
                self._emulator = emulator
                self._ready.set_result(emulator)
                await self._stop.wait()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise

    def submissions(self, prefix: str) -> Counter[str]:
        """Accepted submissions by DataId, of the DataIds starting with ``prefix``."""

        async def count() -> Counter[str]:
            jobs = self._emulator.jobs
            found: Counter[str] = Counter()
            for job_id in list(jobs):
                data_id = _data_id(jobs[job_id].request)
                if data_id is not None and data_id.startswith(prefix):
                    found[data_id] += 1
            return found

        return asyncio.run_coroutine_threadsafe(count(), self._loop).result(timeout=60)


def _data_id(node: Any) -> str | None:
    if isinstance(node, Mapping):
        if isinstance(node.get("DataId"), str):
            return str(node["DataId"])
        for child in node.values():
            found = _data_id(child)
            if found is not None:
                return found
    return None


def _rows(items: int, keys: list[str], prefix: str) -> Iterator[dict[str, str]]:
    for n in range(items):
        data_id = f"{prefix}{n:05d}"
        if n % 3 == 2:
            yield {"kind": "text", "object": keys[n % len(keys)], "data_id": data_id}
        else:
            yield {"kind": "text", "content": f"post {n}: a limited offer", "data_id": data_id}


def _batch(
    args: list[str], emulator: EmulatorThread, *, errors: bool = True
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TENCENTCLOUD_SECRET_ID": emulator.config.secret_id,
        "TENCENTCLOUD_SECRET_KEY": emulator.config.secret_key,
    }
    where = ["--endpoint", emulator.url, "--bucket", BUCKET, "--region", REGION, "--quiet"]
    # No limit at the emulator: a rate out of reach, not the adaptive ramp from 20/s, so the
    # kills land over a run going at the client's own speed, as before.
    where += ["--rate", "1000000"]
    return subprocess.Popen(
        [sys.executable, "-m", "cosaudit", "batch", *args, *where],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if errors else subprocess.DEVNULL,
        env=env,
    )


def _round(
    number: int, emulator: EmulatorThread, folder: Path, keys: list[str], options: Any, kill: float
) -> dict[str, Any]:
    prefix = f"r{number:02d}-"
    source = folder / f"{prefix}in.jsonl"
    source.write_text(
        "".join(json.dumps(row) + "\n" for row in _rows(options.items, keys, prefix)), "utf-8"
    )
    out = folder / f"{prefix}out.jsonl"
    first = _batch([str(source), "-o", str(out)], emulator, errors=False)
    try:
        first.wait(timeout=kill)
        killed = False  # finished before the kill came
    except subprocess.TimeoutExpired:
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed = True
    written = len(out.read_bytes().splitlines()) if out.exists() else 0
    second = _batch([str(source), "-o", str(out), "--resume"], emulator)
    _, err = second.communicate(timeout=600)
    # 1 is also what a crash of the interpreter exits with: a traceback tells them apart.
    if second.returncode not in (0, 1) or b"Traceback" in err or not out.exists():
        raise RuntimeError(f"round {number}: resume exited {second.returncode}: {err.decode()}")
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    ids = Counter(record["data_id"] for record in records)
    wanted = {f"{prefix}{n:05d}" for n in range(options.items)}
    submitted = emulator.submissions(prefix)
    return {
        "round": number,
        "kill_at": kill if killed else None,
        "written_before": written,
        "lost": len(wanted - set(ids)),
        "dup_lines": sum(ids.values()) - len(ids),
        "dup_submissions": sum(submitted.values()) - len(submitted),
        "ambiguous": sum(record["status"] == "ambiguous" for record in records),
        "resumed": sum(bool(record["resumed"]) for record in records),
        "exit": second.returncode,
    }


def main(argv: list[str] | None = None) -> dict[str, int]:
    """Run the rounds, print them; returns the totals (lost, dup_lines, dup_submissions...)."""
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--items", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    rng = random.Random(options.seed)
    print(f"kill_resume: {options.rounds} rounds of {options.items} items -- {machine()}")
    with tempfile.TemporaryDirectory(prefix="cosaudit-kill-") as tmp:
        folder = Path(tmp)
        keys = write_bucket(folder / "bucket", 200)
        config = EmulatorConfig(bucket_dir=folder / "bucket", job_duration=JOB_SECONDS)
        with EmulatorThread(config) as emulator:
            # How long a whole run takes, so kills land anywhere in it (start-up included).
            started = time.perf_counter()
            calibration = _batch(_calibration(folder, keys, options.items), emulator)
            calibration.communicate(timeout=600)
            whole = time.perf_counter() - started
            print(f"a whole run takes {whole:.1f} s; each round kills within that")
            results = [
                _round(n, emulator, folder, keys, options, rng.uniform(0.0, whole))
                for n in range(1, options.rounds + 1)
            ]
    columns = [
        "round", "kill_at", "written_before", "lost", "dup_lines", "dup_submissions",
        "ambiguous", "resumed", "exit",
    ]  # fmt: skip
    print_table(
        columns,
        [
            [f"{r[c]:.2f} s" if c == "kill_at" and r[c] is not None else r[c] or 0 for c in columns]
            for r in results
        ],
    )
    totals = {c: sum(r[c] for r in results) for c in ("lost", "dup_lines", "dup_submissions")}
    print(
        f"totals over {len(results)} rounds ({sum(r['kill_at'] is not None for r in results)} "
        f"killed mid-run): lost {totals['lost']}, duplicate lines {totals['dup_lines']}, "
        f"duplicate submissions {totals['dup_submissions']}, "
        f"ambiguous (reported) {sum(r['ambiguous'] for r in results)}"
    )
    totals["ambiguous"] = sum(r["ambiguous"] for r in results)
    totals["killed"] = sum(r["kill_at"] is not None for r in results)
    return totals


def _calibration(folder: Path, keys: list[str], items: int) -> list[str]:
    source = folder / "calibration.jsonl"
    source.write_text(
        "".join(json.dumps(row) + "\n" for row in _rows(items, keys, "cal-")), "utf-8"
    )
    return [str(source), "-o", str(folder / "calibration.out.jsonl")]


if __name__ == "__main__":
    main()
