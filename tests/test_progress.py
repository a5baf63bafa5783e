"""``moderate_many(progress=...)``: a tqdm bar on a terminal (a real pseudo-terminal around a
child process running against the emulator), nothing when stderr is not one, a bar on any file
when asked, and a tqdm factory of the caller's."""

from __future__ import annotations

import asyncio
import fcntl
import io
import json
import os
import pty
import re
import struct
import sys
import termios
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import BUCKET, client_for
from tqdm import tqdm

from cosaudit import BulkSummary, InvalidInput
from cosaudit.bulk.progress import postfix
from cosaudit.emulator import Emulator, EmulatorConfig

CHILD = """
import asyncio, json, sys
from cosaudit import AuditClient, Credentials, PollPolicy

args = json.loads(sys.argv[1])

async def main():
    async with AuditClient(
        bucket=args["bucket"], region="ap-guangzhou", endpoint=args["url"],
        credentials=Credentials(args["id"], args["key"]),
        poll=PollPolicy(initial=0.005, maximum=0.01),
    ) as client:
        items = [{"content": f"post {i}" + (" buy now" if i % 4 == 0 else "")}
                 for i in range(args["count"])]
        if args["fault"]:
            items.insert(0, {"content": "lost", "data_id": "lost"})
        if not args["sized"]:
            items = iter(items)
        async with client.moderate_many(items, kind="text", concurrency=1, progress=True) as run:
            async for result in run:
                pass
    print("handed over", run.summary.handed_over, flush=True)

asyncio.run(main())
"""


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(final_after_polls=1)) as emulator:
        yield emulator


def child_args(emu: Emulator, **args: Any) -> str:
    return json.dumps(
        {"bucket": BUCKET, "url": emu.url, "id": emu.config.secret_id,
         "key": emu.config.secret_key, **args}
    )  # fmt: skip


def read_all(fd: int) -> bytes:
    """Everything written to a pseudo-terminal until its last writer closes it."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child has gone and the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("sized", [True, False], ids=["list", "generator"])
async def test_a_bar_on_a_terminal_shows_the_counts(emu: Emulator, sized: bool) -> None:
    emu.faults.fail_next(1, status=500, code="InternalError", path_prefix="/text/auditing")
    main, terminal = pty.openpty()
    # A wide terminal: tqdm fits the bar to its width, and a 0x0 pty would squeeze it.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, child_args(emu, count=12, fault=True, sized=sized),
            stdout=asyncio.subprocess.PIPE, stderr=terminal,
        )  # fmt: skip
        os.close(terminal)
        reading = asyncio.ensure_future(asyncio.to_thread(read_all, main))
        out, _ = await child.communicate()
        drawn = (await reading).decode()
    finally:
        os.close(main)
    assert child.returncode == 0, drawn
    assert out.decode().strip() == "handed over 13"  # the bar is on stderr only
    final = drawn.replace("\r\n", "\n").split("\r")[-1]
    assert re.search(r"^text: 100%.* 13/13 \[", final), final
    assert "succeeded 12, failed 0, ambiguous 1, in flight 0" in final
    assert "item/s" in final


async def test_nothing_is_drawn_when_stderr_is_not_a_terminal(emu: Emulator) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, child_args(emu, count=5, fault=False, sized=True),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await child.communicate()
    assert child.returncode == 0 and out.decode().strip() == "handed over 5"
    assert err == b""


async def test_a_file_forces_a_bar_and_a_factory_is_used_as_given(emu: Emulator) -> None:
    drawn = io.StringIO()
    async with client_for(emu) as client:
        run = client.moderate_many([f"x{i}" for i in range(3)], kind="text", progress=drawn)
        async with run:
            results = [result async for result in run]
        assert len(results) == 3  # keys that do not exist: failed jobs
        assert re.search(r"text: 100%.* 3/3 .*succeeded 0, failed 3, ambiguous 0", drawn.getvalue())

        made: list[dict[str, Any]] = []

        def factory(**kwargs: Any) -> Any:
            made.append(kwargs)
            return tqdm(**kwargs, file=io.StringIO())

        items = (f"y{i}" for i in range(2))  # no len: the total is counted as items come
        async with client.moderate_many(items, kind="text", progress=factory) as run:
            async for _ in run:
                pass
    assert made == [{"total": None, "desc": "text", "unit": "item"}]


async def test_postfix_and_a_bad_option(emu: Emulator) -> None:
    summary = BulkSummary(items=10, skipped=2, succeeded=5, failed=1, pending=1)
    assert postfix(summary) == (
        "succeeded 5, failed 1, ambiguous 0, pending 1, skipped 2, in flight 1"
    )
    async with client_for(emu) as client:
        with pytest.raises(InvalidInput, match="progress"):
            client.moderate_many(["a"], kind="text", progress=42)  # type: ignore[call-overload]
