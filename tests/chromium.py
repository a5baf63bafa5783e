"""Headless Chromium for the tests that look at a page as a browser draws it: Debian's
``chromium``, driven over the DevTools protocol (JSON over a loopback websocket, with the
aiohttp the project already has) to load a page, run JavaScript in it and see what it fetched.

``.ci/run`` installs Chromium; elsewhere a test needing it skips, saying how to install it.
"""

from __future__ import annotations

import itertools
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiohttp
import pytest

INSTALL = "apt-get install -y chromium"
_LISTENING = re.compile(r"DevTools listening on ws://([^/\s]+)/")


def executable() -> str:
    """Chromium's path; skips the test when it is missing (fails it in CI, which installs it)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail(f"headless Chromium is missing in CI: .ci/run should have run `{INSTALL}`")
    pytest.skip(f"needs headless Chromium: `{INSTALL}` (Debian/Ubuntu; .ci/run does it in CI)")


@contextmanager
def browser() -> Iterator[str]:
    """A headless Chromium for the duration; yields its DevTools address, ``host:port``."""
    command = [
        executable(),
        "--headless",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",  # any free port; Chromium prints the one it took
        "about:blank",
    ]
    profile = tempfile.TemporaryDirectory(prefix="cosaudit-chromium-")
    with (
        profile,
        subprocess.Popen(
            [*command, f"--user-data-dir={profile.name}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
    ):
        found: queue.Queue[str] = queue.Queue()
        lines: list[str] = []

        def read_stderr() -> None:
            # Read to the end, so Chromium never blocks on a full pipe.
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line)
                match = _LISTENING.search(line)
                if match:
                    found.put(match.group(1))
            found.put("")

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        try:
            address = found.get(timeout=60)
            if not address:
                raise RuntimeError("Chromium ended before listening:\n" + "".join(lines[-20:]))
            yield address
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            reader.join(timeout=10)


class Page:
    """One tab, driven over its DevTools websocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.requested: list[str] = []  # every URL the page asked for, in order

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command; returns its result (events seen meanwhile are noted)."""
        ident = next(self._ids)
        await self._socket.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await self._next()
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def _next(self) -> dict[str, Any]:
        message: dict[str, Any] = await self._socket.receive_json(timeout=30)
        if message.get("method") == "Network.requestWillBeSent":
            self.requested.append(message["params"]["request"]["url"])
        return message

    async def load(self, url: str) -> None:
        """Navigate to ``url`` and wait for its load event (scripts ran, SVG laid out)."""
        await self.call("Page.navigate", url=url)
        while (await self._next()).get("method") != "Page.loadEventFired":
            pass

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (promises awaited)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"the page's JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")


@asynccontextmanager
async def page(address: str) -> AsyncIterator[Page]:
    """A new tab of the browser at ``address``, closed afterwards."""
    async with aiohttp.ClientSession() as http:
        async with http.put(f"http://{address}/json/new?about:blank") as response:
            target = await response.json()
        try:
            async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as socket:
                tab = Page(socket)
                await tab.call("Page.enable")
                await tab.call("Network.enable")
                yield tab
        finally:
            async with http.get(f"http://{address}/json/close/{target['id']}"):
                pass
