"""Requests per second the emulator serves on one core: synchronous text and job queries.

The emulator runs in its own process (pinned to one CPU when there are several); the load comes
from this process over keep-alive connections, with requests signed once up front and a bare
asyncio protocol that only counts answers, so the load costs a small fraction of what the
emulator spends on each request. Two figures per route:

* req/s: answers per wall-clock second (what it served on this, shared, machine);
* req/CPU-s: answers per second of the emulator's own CPU time — its capacity on one full
  core, the figure that tells whether it limits benchmarks 1–3.

    python -m benchmarks.emulator_rps [--seconds 5] [--connections 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks._common import machine, median, print_table, ratio_line, write_bucket
from benchmarks._emulator import BUCKET, REGION, EmulatorProcess
from cosaudit import AuditClient
from cosaudit.cli import plain_help
from cosaudit.endpoints import Endpoints, Service
from cosaudit.wire import xmlcodec
from cosaudit.wire.signing import Signer

TEXT = "Post 1: buy now and get a discount code for the next order!"


def _request(emu: EmulatorProcess, method: str, path: str, body: bytes = b"") -> bytes:
    """One complete HTTP/1.1 request, signed as cosaudit signs it, to send again and again."""
    host = Endpoints(BUCKET, REGION, emu.url).host(Service.CI)
    headers = {"Host": host}
    if method == "POST":
        headers["Content-Type"] = "application/xml"
        headers["Content-Length"] = str(len(body))
    headers["Authorization"] = Signer().sign(
        emu.credentials.secret_id,
        emu.credentials.secret_key,
        method,
        path,
        {},
        headers,
        time.time(),
    )
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (head + "\r\n").encode() + body


class _Load(asyncio.Protocol):
    """One keep-alive connection sending ``request`` again as soon as each answer is complete."""

    def __init__(self, request: bytes, counts: list[int], stop: asyncio.Event) -> None:
        self.request = request
        self.counts = counts
        self.stop = stop
        self.buffer = b""
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[: end + 2].lower()
            start = head.find(b"content-length:")
            length = int(head[start + 15 : head.find(b"\r\n", start)]) if start >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            if not head.startswith(b"http/1.1 200"):
                self.fail(RuntimeError(f"emulator refused the load: {self.buffer[:300]!r}"))
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.counts[0] += 1
            if self.stop.is_set():
                self.transport.close()
                return
            self.transport.write(self.request)

    def fail(self, error: Exception) -> None:
        if not self.closed.done():
            self.closed.set_exception(error)
        self.stop.set()
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _load(
    emu: EmulatorProcess, request: bytes, connections: int, seconds: float
) -> tuple[int, float, float]:
    """Answers, wall seconds and emulator CPU seconds of ``seconds`` of load, after a warm-up."""
    loop = asyncio.get_running_loop()
    counts, stop = [0], asyncio.Event()
    protocols = []
    for _ in range(connections):
        _, protocol = await loop.create_connection(
            lambda: _Load(request, counts, stop), "127.0.0.1", emu.port
        )
        protocols.append(protocol)
    await asyncio.sleep(min(0.5, seconds / 2))  # warm: every connection open and busy
    if stop.is_set():  # a connection failed: its error is raised below
        await asyncio.gather(*(p.closed for p in protocols))
    answered, cpu, wall = counts[0], emu.cpu_seconds() or 0.0, time.perf_counter()
    await asyncio.sleep(seconds)
    answered, cpu, wall = (
        counts[0] - answered,
        (emu.cpu_seconds() or 0.0) - cpu,
        time.perf_counter() - wall,
    )
    stop.set()
    await asyncio.gather(*(p.closed for p in protocols))
    return answered, wall, cpu


async def _a_job(emu: EmulatorProcess) -> str:
    async with AuditClient(
        bucket=BUCKET, region=REGION, endpoint=emu.url, credentials=emu.credentials
    ) as client:
        job = await client.text.submit(object="posts/000000.txt")
        assert job.job_id is not None
        await client.text.wait(job.job_id)  # a finished job: queries answer the full result
    return job.job_id


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    pin = cpus[-1] if len(cpus) > 1 else None
    print(
        f"emulator_rps: {args.connections} keep-alive connections, {args.seconds:g} s per run, "
        f"emulator pinned to CPU {pin}"
    )
    print(f"machine: {machine()}\n")
    results: dict[str, list[tuple[int, float, float]]] = {"sync text": [], "job query": []}
    with tempfile.TemporaryDirectory(prefix="cosaudit-bench-") as folder:
        write_bucket(Path(folder), 1)
        with EmulatorProcess(job_duration=0.05, bucket_dir=folder, cpu=pin) as emu:
            content = base64.b64encode(TEXT.encode()).decode()
            body = xmlcodec.build("Request", {"Input": {"Content": content}, "Conf": {}})
            job_id = asyncio.run(_a_job(emu))
            requests = {
                "sync text": _request(emu, "POST", "/text/auditing", body),
                "job query": _request(emu, "GET", f"/text/auditing/{job_id}"),
            }
            if pin is not None:  # the load on the other CPUs, never on the emulator's
                os.sched_setaffinity(0, [cpu for cpu in cpus if cpu != pin])
            try:
                for round_ in range(args.repeat):
                    for name, request in requests.items():
                        run = asyncio.run(_load(emu, request, args.connections, args.seconds))
                        results[name].append(run)
                        answered, wall, cpu = run
                        print(
                            f"  round {round_ + 1} {name:<9} {answered / wall:7.0f} req/s, "
                            f"{answered / cpu if cpu else float('nan'):7.0f} req/CPU-s",
                            flush=True,
                        )
            finally:
                if pin is not None:
                    os.sched_setaffinity(0, cpus)
    print()
    summary = {}
    for name, runs in results.items():
        rate = median(a / w for a, w, _ in runs)
        capacity = median(a / c for a, _, c in runs if c) if any(c for *_, c in runs) else rate
        summary[name] = (rate, capacity)
    print_table(
        ["route", "req/s (median)", "req/CPU-s (one core)", "emulator CPU µs/req"],
        [[name, r, c, 1e6 / c] for name, (r, c) in summary.items()],
    )
    print(
        "\n"
        + ratio_line({f"{name} one-core capacity": c / 1000 for name, (_, c) in summary.items()})
        + " (in thousands of req/s)"
    )
    return {name: c for name, (_, c) in summary.items()}


if __name__ == "__main__":
    main()
