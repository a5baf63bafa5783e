"""Client CPU time per request: cosaudit vs the official SDK vs raw aiohttp (the floor).

The workload is N synchronous text moderations (``POST /text/auditing`` with ``Content``), M in
flight at a time, against an emulator in its own process, so only the client's work is counted
(``time.process_time`` of this process, all threads). Contenders:

* cosaudit: ``client.text.moderate(text)``, M tasks sharing one client;
* sdk: ``cos-python-sdk-v5`` ``ci_auditing_text_submit(Content=...)`` from a
  ``ThreadPoolExecutor(M)``, connection pool of M;
* raw: aiohttp sending the same requests, signed and built beforehand (outside the timing),
  and parsing each answer with ``xmltodict`` — the least any client on this stack can do.

Each round runs every contender in turn, slice by slice (a fifth of the requests at a time, each
after a short untimed warm-up on a fresh client), so that all meet the same changes in load on a
shared machine; the table shows medians over the rounds and the last line the ratios.

    python -m benchmarks.client_cost [--requests 5000] [--in-flight 64] [--repeat 3]
    python -m benchmarks.client_cost --instructions [--requests 1000]

``--instructions`` counts each contender's user-space instructions per request under
``valgrind --tool=callgrind`` (one child process per contender, the emulator outside valgrind):
much slower, but nearly the same figure whatever else the shared machine is doing. It leaves
out kernel time (socket calls), which process CPU time includes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import aiohttp
import xmltodict
from attrs import define
from yarl import URL

from benchmarks._common import machine, median, print_table, ratio_line, texts
from benchmarks._emulator import BUCKET, REGION, EmulatorProcess
from cosaudit import AuditClient
from cosaudit.cli import plain_help
from cosaudit.endpoints import Endpoints, Service
from cosaudit.wire import xmlcodec
from cosaudit.wire.signing import Signer

T = TypeVar("T")

CONTENDERS = ("cosaudit", "sdk", "raw aiohttp")


@define(frozen=True)
class Sample:
    """One timed run: client CPU and wall seconds, emulator CPU seconds, requests made."""

    cpu: float
    wall: float
    server_cpu: float
    requests: int


async def _each(items: Sequence[T], in_flight: int, call: Callable[[T], Awaitable[None]]) -> None:
    todo = iter(items)

    async def worker() -> None:
        for item in todo:  # the workers share one iterator: each item is sent once
            await call(item)

    await asyncio.gather(*(worker() for _ in range(in_flight)))


def _timed(emu: EmulatorProcess, count: int, run: Callable[[], None]) -> Sample:
    gc.collect()
    server = emu.cpu_seconds() or 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Sample(cpu, wall, (emu.cpu_seconds() or 0.0) - server, count)


# --- contenders ----------------------------------------------------------------------------------


def run_cosaudit(
    emu: EmulatorProcess, items: Sequence[str], in_flight: int, warm: Sequence[str]
) -> Sample:
    async def main() -> Sample:
        async with AuditClient(
            bucket=BUCKET,
            region=REGION,
            endpoint=emu.url,
            credentials=emu.credentials,
            limit=in_flight,
        ) as client:

            async def moderate(text: str) -> None:
                await client.text.moderate(text)

            await _each(warm, in_flight, moderate)
            gc.collect()
            server = emu.cpu_seconds() or 0.0
            cpu, wall = time.process_time(), time.perf_counter()
            await _each(items, in_flight, moderate)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            return Sample(cpu, wall, (emu.cpu_seconds() or 0.0) - server, len(items))

    return asyncio.run(main())


def _presigned(emu: EmulatorProcess, items: Sequence[str]) -> list[tuple[dict[str, str], bytes]]:
    """The requests cosaudit would send, signed and built ahead of time."""
    import base64

    endpoints = Endpoints(BUCKET, REGION, emu.url)
    signer, now = Signer(), time.time()
    out = []
    for text in items:
        content = base64.b64encode(text.encode("utf-8")).decode("ascii")
        body = xmlcodec.build("Request", {"Input": {"Content": content}, "Conf": {}})
        headers = {
            "Host": endpoints.host(Service.CI),
            "Content-Type": "application/xml",
            "Content-Length": str(len(body)),
        }
        headers["Authorization"] = signer.sign(
            emu.credentials.secret_id,
            emu.credentials.secret_key,
            "POST",
            "/text/auditing",
            {},
            headers,
            now,
        )
        out.append((headers, body))
    return out


def run_raw(
    emu: EmulatorProcess, items: Sequence[str], in_flight: int, warm: Sequence[str]
) -> Sample:
    prepared = _presigned(emu, items)
    warm_prepared = _presigned(emu, warm)
    url = URL(f"{emu.url}/text/auditing", encoded=True)

    async def main() -> Sample:
        connector = aiohttp.TCPConnector(limit=in_flight)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def send(request: tuple[dict[str, str], bytes]) -> None:
                headers, body = request
                async with http.post(url, data=body, headers=headers) as response:
                    payload = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"raw request failed: {response.status} {payload[:200]!r}")
                xmltodict.parse(payload)

            await _each(warm_prepared, in_flight, send)
            gc.collect()
            server = emu.cpu_seconds() or 0.0
            cpu, wall = time.process_time(), time.perf_counter()
            await _each(prepared, in_flight, send)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            return Sample(cpu, wall, (emu.cpu_seconds() or 0.0) - server, len(items))

    return asyncio.run(main())


def sdk_client(emu: EmulatorProcess, pool: int) -> object:
    """An official-SDK client aimed at the emulator, with a connection pool of ``pool``."""
    from qcloud_cos import CosConfig, CosS3Client

    config = CosConfig(
        Region=REGION,
        SecretId=emu.credentials.secret_id,
        SecretKey=emu.credentials.secret_key,
        IP="127.0.0.1",
        Port=emu.port,
        Scheme="http",
        Timeout=60,
        PoolConnections=pool,
        PoolMaxSize=pool,
    )
    return CosS3Client(config, retry=0)


def run_sdk(
    emu: EmulatorProcess, items: Sequence[str], in_flight: int, warm: Sequence[str]
) -> Sample:
    client = sdk_client(emu, in_flight)
    payloads = [text.encode("utf-8") for text in items]

    def moderate(content: bytes) -> None:
        client.ci_auditing_text_submit(Bucket=BUCKET, Content=content)  # type: ignore[attr-defined]

    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(moderate, [text.encode() for text in warm]))

        def run() -> None:
            list(pool.map(moderate, payloads))

        return _timed(emu, len(items), run)


RUNNERS = {"cosaudit": run_cosaudit, "sdk": run_sdk, "raw aiohttp": run_raw}


class _Remote(EmulatorProcess):
    """An emulator some other process started: this one only knows its URL."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])

    def cpu_seconds(self) -> float | None:
        return None


def _callgrind(name: str, url: str, requests: int, in_flight: int, warm: int, dry: bool) -> int:
    args = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.client_cost",
        "--child",
        name,
        "--url",
        url,
        "--requests",
        str(requests),
        "--in-flight",
        str(in_flight),
        "--warm",
        str(warm),
        *(["--dry"] if dry else []),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    match = re.search(r"Collected : (\d+)", result.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count from callgrind: {result.stderr[-500:]}")
    return int(match.group(1))


def instructions(names: Sequence[str], requests: int, in_flight: int, warm: int) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind")
    print(f"client_cost --instructions: {requests} sync text moderations, {in_flight} in flight")
    print(f"machine: {machine()}\n")
    per_request: dict[str, float] = {}
    with EmulatorProcess() as emu:
        for name in names:
            # The same child with no timed requests: start-up, imports and warm-up, subtracted.
            total = _callgrind(name, emu.url, requests, in_flight, warm, dry=False)
            base = _callgrind(name, emu.url, requests, in_flight, warm, dry=True)
            per_request[name] = (total - base) / requests / 1000
            print(f"  {name:<12} {per_request[name]:8.0f} k instructions/request", flush=True)
    print()
    print_table(["contender", "k instructions/request"], [[n, v] for n, v in per_request.items()])
    print("\n" + ratio_line(_ratios(per_request)) + "  (instructions)")


def _ratios(per_request: dict[str, float]) -> dict[str, float]:
    ratios: dict[str, float] = {}
    if "cosaudit" in per_request and "raw aiohttp" in per_request:
        ratios["cosaudit/raw"] = per_request["cosaudit"] / per_request["raw aiohttp"]
    if "cosaudit" in per_request and "sdk" in per_request:
        ratios["cosaudit/sdk"] = per_request["cosaudit"] / per_request["sdk"]
        ratios["sdk/cosaudit"] = per_request["sdk"] / per_request["cosaudit"]
    return ratios


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warm", type=int, default=128, help="untimed requests first")
    parser.add_argument("--slices", type=int, default=5, help="contenders alternate by slice")
    parser.add_argument(
        "--only", nargs="*", choices=CONTENDERS, default=list(CONTENDERS), help="contenders"
    )
    parser.add_argument("--instructions", action="store_true", help="count under callgrind")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dry", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:  # under callgrind: run the workload, report nothing
        remote, items = _Remote(args.url), texts(args.requests)
        if args.dry:
            # Prepare as for the real run but send nothing: only the requests differ.
            if args.child == "raw aiohttp":
                _presigned(remote, items)
            items = []
        RUNNERS[args.child](remote, items, args.in_flight, texts(args.warm))
        return {}
    if args.instructions:
        instructions(args.only, args.requests, args.in_flight, args.warm)
        return {}
    items, warm = texts(args.requests), texts(args.warm)
    print(
        f"client_cost: {args.requests} sync text moderations, {args.in_flight} in flight, "
        f"in {args.slices} slices per round (each after {args.warm} untimed)"
    )
    print(f"machine: {machine()}\n")
    samples: dict[str, list[Sample]] = {name: [] for name in args.only}
    size = -(-len(items) // args.slices)
    slices = [items[i : i + size] for i in range(0, len(items), size)]
    with EmulatorProcess() as emu:
        for round_ in range(args.repeat):
            parts: dict[str, list[Sample]] = {name: [] for name in args.only}
            # Slice by slice, every contender in turn: a shared machine's load changes by the
            # minute, and this way each contender meets the same changes.
            for part in slices:
                for name in args.only:
                    parts[name].append(RUNNERS[name](emu, part, args.in_flight, warm))
            for name in args.only:
                sample = Sample(
                    sum(p.cpu for p in parts[name]),
                    sum(p.wall for p in parts[name]),
                    sum(p.server_cpu for p in parts[name]),
                    sum(p.requests for p in parts[name]),
                )
                samples[name].append(sample)
                print(
                    f"  round {round_ + 1} {name:<12} {sample.cpu / sample.requests * 1e6:8.0f} "
                    f"µs CPU/request  {sample.requests / sample.wall:8.0f} req/s",
                    flush=True,
                )
    print()
    per_request = {
        name: median(s.cpu / s.requests * 1e6 for s in runs) for name, runs in samples.items()
    }
    rows = []
    for name, runs in samples.items():
        rows.append(
            [
                name,
                per_request[name],
                min(s.cpu / s.requests * 1e6 for s in runs),
                median(s.requests / s.wall for s in runs),
                median(s.server_cpu / s.requests * 1e6 for s in runs),
            ]
        )
    print_table(
        [
            "contender",
            "client CPU µs/req (median)",
            "(best)",
            "req/s (median)",
            "emulator CPU µs/req",
        ],
        rows,
    )
    ratios = _ratios(per_request)
    print("\n" + ratio_line(ratios) + "  (targets: cosaudit/raw <= 1.30x, cosaudit/sdk <= 0.25x)")
    return per_request


if __name__ == "__main__":
    main()
