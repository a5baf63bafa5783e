"""Shared fixtures: a bucket folder with fixtures, a manual clock, a running emulator, and a
scripted aiohttp server (:class:`Script`) plus a hang-up TCP server for the session's tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import settings

from cosaudit.client import AuditClient
from cosaudit.config import PollPolicy
from cosaudit.credentials import Credentials
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.clock import ManualClock  # the job clock tests move (users' too)
from cosaudit.emulator.images import gif_with_comment, jpeg_with_comment, png_with_text
from cosaudit.endpoints import Endpoints
from cosaudit.session import Session

# pytester runs the user project of test_pytest_plugin.py; that project is not ours to collect.
pytest_plugins = ["pytester"]
collect_ignore = ["user_project"]

# Property tests run the same bounded, derandomized examples on every run (no flakes on a shared
# 2-core box, no .hypothesis folder); HYPOTHESIS_PROFILE=fuzz explores widely for a deeper look.
settings.register_profile(
    "cosaudit", max_examples=60, derandomize=True, deadline=None, database=None, print_blob=True
)
settings.register_profile("fuzz", max_examples=5_000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "cosaudit"))

BUCKET_OBJECTS: dict[str, bytes] = {
    "images/clean.png": png_with_text("a sunny day at the beach"),
    "images/ads.png": png_with_text("Buy now with this discount code"),
    "images/porn.jpg": jpeg_with_comment("xxx"),
    "images/sexy.gif": gif_with_comment("sexy"),
    "images/广告 1.png": png_with_text("加微信"),
    "images/broken.bin": b"\xff\x00\xfe\x01 not an image",
    "texts/hello.txt": b"hello world",
    "texts/abuse.txt": b"you are an idiot",
    "texts/gbk.txt": "这里有赌博".encode("gbk"),
    "texts/long.txt": ("a" * 10_000 + "porn" + "b" * 4_996).encode(),
}


@pytest.fixture
def bucket_dir(tmp_path: Path) -> Path:
    """A folder standing for the bucket, holding :data:`BUCKET_OBJECTS`."""
    root = tmp_path / "bucket"
    for key, data in BUCKET_OBJECTS.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emulator(bucket_dir: Path) -> AsyncIterator[Emulator]:
    """An emulator on a free loopback port, real clock, jobs final after 0.05 s."""
    async with Emulator(EmulatorConfig(bucket_dir=bucket_dir, job_duration=0.05)) as emu:
        yield emu


@pytest.fixture
async def site() -> AsyncIterator[TestServer]:
    """A loopback web site: ``/page.html`` (text, a script, three image links of which one is
    missing), ``/ads.png``, ``/clean.gif``, ``/note.txt``; anything else is 404."""
    files = {
        "/ads.png": png_with_text("limited offer, buy now"),
        "/clean.gif": gif_with_comment("kittens"),
        "/note.txt": b"smoking is bad, you moron",
    }
    page = (
        "<html><head><title>Shop</title><style>.porn{}</style></head><body>"
        "<h1>Great deals</h1><p>Buy NOW &amp; save. Call us, idiot.</p>"
        "<script>var porn = 1;</script>"
        '<img src="/ads.png"><img src="clean.gif"><img src="/missing.png">'
        "</body></html>"
    )

    async def handle(request: web.Request) -> web.Response:
        if request.path == "/page.html":
            return web.Response(text=page, content_type="text/html")
        if request.path in files:
            return web.Response(body=files[request.path])
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def url_of(server: TestServer, path: str) -> str:
    """The absolute URL of ``path`` on a :func:`site`-like test server."""
    return str(server.make_url(path))


KEY = Credentials("AKIDtest", "test-secret-key")
OK = b"<Response><JobsDetail><JobId>st1</JobId></JobsDetail><RequestId>r0</RequestId></Response>"


def error_body(code: str, message: str = "no") -> bytes:
    return (
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>r</RequestId><TraceId>t</TraceId></Error>"
    ).encode()


class Script:
    """Answers requests from a list of (status, body, headers); the last one repeats."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes, dict[str, str]]] = [(200, OK, {})]
        self.seen: list[web.Request] = []
        self.bodies: list[bytes] = []
        self.stall: asyncio.Event | None = None
        self.chunked = False
        # answers instead of the list when set, for answers that depend on the request
        self.respond: Callable[[web.Request], Awaitable[web.Response]] | None = None

    def then(self, status: int, body: bytes = b"", **headers: str) -> Script:
        self.answers.insert(len(self.answers) - 1, (status, body, headers))
        return self

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request)
        self.bodies.append(await request.read())
        if self.stall is not None:
            await self.stall.wait()
        if self.respond is not None:
            return await self.respond(request)
        status, body, headers = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        headers = {"x-ci-request-id": f"rid-{len(self.seen)}", **headers}
        response = web.Response(
            status=status, body=body, headers=headers, content_type="application/xml"
        )
        if self.chunked:
            response.enable_chunked_encoding()
        return response


@pytest.fixture
async def script() -> AsyncIterator[tuple[Script, str]]:
    script = Script()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield script, f"http://127.0.0.1:{server.port}"
    await server.close()


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
async def hang_up() -> AsyncIterator[tuple[list[bytes], str]]:
    """A TCP server that reads each request and closes without answering."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield received, f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


class FakeTime:
    """A monotonic clock and a sleep that advances it: backoff and pauses pass at once."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)  # like a real sleep, let other tasks run meanwhile
        self.now += seconds


def make_session(url: str, **kwargs: Any) -> Session:
    """A session to the bucket ``examplebucket-1250000000`` through ``url``; sleeps are no-ops."""
    kwargs.setdefault("sleep", Sleeps())
    return Session(
        Endpoints("examplebucket-1250000000", "ap-guangzhou", url),
        kwargs.pop("credentials", KEY),
        **kwargs,
    )


BUCKET = "examplebucket-1250000000"
FAST_POLL = PollPolicy(initial=0.01, multiplier=1.5, maximum=0.05, jitter=0.1, timeout=10)


class NoWait:
    """An injected sleep that returns at once, recording what was asked."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)  # let the emulator's background work run; no time passes


def client_for(emu: Emulator, **kwargs: Any) -> AuditClient:
    """A client of ``emu`` whose waits return at once: the emulator finishes jobs after N polls."""
    kwargs.setdefault("poll", FAST_POLL)
    kwargs.setdefault("sleep", NoWait())
    return AuditClient(
        bucket=BUCKET,
        region="ap-guangzhou",
        endpoint=emu.url,
        credentials=Credentials(emu.config.secret_id, emu.config.secret_key),
        **kwargs,
    )
