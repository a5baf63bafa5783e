"""``examples/webservice`` end to end: the example application serves real HTTP on loopback,
its ``AuditClient`` talks to the emulator, and the emulator's callbacks come back to the
receiver mounted on the application, resuming the image uploads."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from cosaudit import AuditClient, Credentials
from cosaudit.callbacks import CallbackReceiver
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.images import jpeg_with_comment, png_with_text
from examples.webservice.app import CALLBACK_PATH, IMAGES, create_app


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(job_duration=0.05)) as emulator:
        yield emulator


@contextlib.asynccontextmanager
async def serve(emu: Emulator, trust: str) -> AsyncIterator[tuple[TestServer, Any]]:
    """The example application on a loopback port, its receiver's URL pointing at itself."""
    receiver = CallbackReceiver(trust=trust)  # type: ignore[arg-type]
    async with AuditClient(
        bucket="examplebucket-1250000000",
        region="ap-guangzhou",
        endpoint=emu.url,
        credentials=Credentials(emu.config.secret_id, emu.config.secret_key),
        callbacks=receiver,
    ) as client:
        app = create_app(client, receiver)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        # Known once the server listens: where the emulator must POST.
        receiver.public_url = str(server.make_url(CALLBACK_PATH))
        try:
            yield server, app
        finally:
            await server.close()


@pytest.mark.parametrize(("trust", "queries"), [("token", 0), ("confirm", 1)])
async def test_comments_are_judged_at_once_and_images_resumed_by_callback(
    emu: Emulator, trust: str, queries: int
) -> None:
    async with serve(emu, trust) as (server, app), aiohttp.ClientSession() as http:

        async def comment(text: str) -> tuple[int, str]:
            async with http.post(server.make_url("/comments"), json={"text": text}) as r:
                return r.status, (await r.json())["status"]

        assert await comment("what a lovely photo") == (201, "published")
        assert await comment("you idiot") == (422, "rejected")
        assert await comment("this is stupid") == (422, "held")

        uploads = {
            "clean": png_with_text("a sunny day at the beach"),
            "porn": jpeg_with_comment("xxx"),
            "ads": png_with_text("buy now with this discount code"),
        }
        ids: dict[str, str] = {}
        for name, data in uploads.items():
            async with http.post(server.make_url("/images"), data=data) as r:
                assert r.status == 202
                answer = await r.json()
                assert answer["status"] == "pending"
                ids[name] = answer["id"]
        images = app[IMAGES]
        await asyncio.wait_for(
            asyncio.gather(*(images.settled[i].wait() for i in ids.values())), 10
        )
        statuses = {}
        for name, job_id in ids.items():
            async with http.get(server.make_url(f"/images/{job_id}")) as r:
                statuses[name] = (await r.json())["status"]
        assert statuses == {"clean": "published", "porn": "rejected", "ads": "rejected"}
        async with http.get(server.make_url("/images/nope")) as r:
            assert r.status == 404
    # Resumed by the pushes: token trust never asked the service, confirm asked once each.
    assert emu.stats.queries["image"] == queries * len(uploads)
    assert emu.callbacks.delivered == len(uploads)
