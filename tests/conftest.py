"""Shared fixtures: a bucket folder with fixtures, a manual clock, a running emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.images import gif_with_comment, jpeg_with_comment, png_with_text

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


class ManualClock:
    """A job clock that moves only when told: ``clock.advance(0.5)``."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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
