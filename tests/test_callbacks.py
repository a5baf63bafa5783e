"""Callbacks end to end over loopback: the emulator runs the jobs, the receiver listens on a real
port (aiohttp standalone, mounted, or ASGI under uvicorn), and the test posts each job's
callback with an aiohttp client, as the service would, once the job is final. Polls are
counted at the emulator.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
import socket
import sys
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import attrs
import pytest
from aiohttp import web
from conftest import FakeTime, client_for
from test_callbacks_parsing import as_json

import cosaudit
from cosaudit.bulk import ItemStatus
from cosaudit.callbacks import CallbackReceiver
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.errors import ClientStateError, InvalidInput, JobTimeout
from cosaudit.models import JobState, LiveJob, Result

DEMO_BUCKET = Path(cosaudit.__file__).parent / "demo_data" / "bucket"


def detail(job: Any, event: str = "ReviewText", **changes: Any) -> bytes:
    """The Detail callback of a job as queried: its JobsDetail as JSON, with ``changes``."""
    jobs_detail = {**as_json(dict(job.raw)), **changes}
    return json.dumps({"EventName": event, "JobsDetail": jobs_detail}).encode()


async def post(http: aiohttp.ClientSession, url: str, body: bytes, **kwargs: Any) -> int:
    headers = {"Content-Type": "application/json", "X-Ci-Content-Version": "Detail"}
    async with http.post(url, data=body, headers=headers, **kwargs) as response:
        await response.read()
        return response.status


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def quiet(**options: Any) -> EmulatorConfig:
    """An emulator's settings with its own callbacks off, where it has them: these tests post
    each callback themselves, so that they decide what arrives and when."""
    if "callbacks" in attrs.fields_dict(EmulatorConfig):
        options["callbacks"] = False
    return EmulatorConfig(**options)


@pytest.fixture
async def emulator(bucket_dir: Path) -> AsyncIterator[Emulator]:
    """The emulator of ``conftest.emulator`` (jobs final after 0.05 s), calling nobody back."""
    async with Emulator(quiet(bucket_dir=bucket_dir, job_duration=0.05)) as emu:
        yield emu


def queries(emulator: Emulator) -> int:
    return sum(emulator.stats.queries.values())


# --- waking from pushes ----------------------------------------------------------------------


async def test_a_thousand_waiters_wake_from_pushes_with_zero_polls(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.controls.final_after_polls = 1  # the observer's one query finds each job final
    keys = ["texts/hello.txt", "texts/abuse.txt"]
    async with (
        CallbackReceiver("127.0.0.1", trust="token", grace=600) as receiver,
        client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
        client_for(emulator) as observer,
    ):
        jobs = await asyncio.gather(
            *(client.text.submit(object=keys[i % 2], data_id=f"d{i}") for i in range(1000))
        )
        waiters = [asyncio.ensure_future(client.text.wait(job.job_id or "")) for job in jobs]
        # What the service would push: each job's result, once final.
        finals = await asyncio.gather(*(observer.text.get(job.job_id or "") for job in jobs))
        assert queries(emulator) == 1000  # the observer's
        statuses = await asyncio.gather(*(post(http, receiver.url, detail(f)) for f in finals))
        results = await asyncio.gather(*waiters)
    assert statuses == [200] * 1000
    assert results == finals  # each waiter got its own job's result, field for field
    assert {r.label for r in results} == {"Normal", "Abuse"}
    assert queries(emulator) == 1000  # and the waiters made none
    assert receiver.stats.delivered == 1000 and not receiver._expected


async def test_every_submit_carries_the_receivers_url_and_asks_for_detail(
    emulator: Emulator,
) -> None:
    async with (
        CallbackReceiver("127.0.0.1", grace=600) as receiver,
        client_for(emulator, callbacks=receiver) as client,
    ):
        text = await client.text.submit(object="texts/hello.txt")
        image = await client.image.submit(object="images/clean.png")
        (batch,) = await client.image.submit_batch(["images/ads.png"])
        own = await client.text.submit(object="texts/hello.txt", callback="http://127.0.0.1/x")
        synchronous = await client.text.moderate("inline text")
        url = receiver.url
    requests = {job.job_id: emulator.jobs[job.job_id or ""].request for job in (text, own)}
    conf = requests[text.job_id]["Conf"]
    assert (conf["Callback"], conf["CallbackVersion"]) == (url, "Detail")
    assert requests[own.job_id]["Conf"]["Callback"] == "http://127.0.0.1/x"
    assert emulator.jobs[image.job_id or ""].request["callback"] == url
    assert emulator.jobs[batch.job_id or ""].request["Conf"]["Callback"] == url
    # Waited for by push: the jobs with the receiver's URL, and only those.
    assert receiver.expects(text.job_id or "") and receiver.expects(batch.job_id or "")
    assert not receiver.expects(own.job_id or "")
    assert synchronous.is_final and len(receiver._expected) == 3


async def test_confirm_mode_queries_once_and_a_forged_body_cannot_decide(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.controls.final_after_polls = 1
    async with (
        CallbackReceiver("127.0.0.1", grace=600) as receiver,  # trust="confirm"
        client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
    ):
        job = await client.text.submit(object="texts/hello.txt")
        waiter = asyncio.ensure_future(client.text.wait(job.job_id or ""))
        forged = {"JobId": job.job_id, "State": "Success", "Result": 1, "Label": "Porn"}
        body = json.dumps({"EventName": "ReviewText", "JobsDetail": forged}).encode()
        assert await post(http, receiver.url, body) == 200
        result = await waiter
    # The push woke the waiter; the outcome is what one signed query says.
    assert (result.label, result.result, result.is_sensitive) == ("Normal", Result.NORMAL, False)
    assert queries(emulator) == 1


async def test_token_mode_takes_the_body_as_the_result(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # The other side of the trade: no query, so whoever has the URL decides the outcome.
    async with (
        CallbackReceiver("127.0.0.1", trust="token", grace=600) as receiver,
        client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
    ):
        job = await client.text.submit(object="texts/hello.txt")
        waiter = asyncio.ensure_future(client.text.wait(job.job_id or ""))
        pushed = {"JobId": job.job_id, "State": "Success", "Result": 1, "Label": "Porn"}
        body = json.dumps({"EventName": "ReviewText", "JobsDetail": pushed}).encode()
        assert await post(http, receiver.url, body) == 200
        result = await waiter
    assert (result.label, result.is_sensitive) == ("Porn", True)
    assert queries(emulator) == 0


async def test_an_unreadable_push_in_token_mode_is_confirmed_by_a_query(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.controls.final_after_polls = 1
    async with (
        CallbackReceiver("127.0.0.1", trust="token", grace=600) as receiver,
        client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
    ):
        job = await client.text.submit(object="texts/abuse.txt")
        waiter = asyncio.ensure_future(client.text.wait(job.job_id or ""))
        # An image's callback for a text job: not this job's result, so it is asked for.
        body = json.dumps({"EventName": "ReviewImage", "JobsDetail": {"JobId": job.job_id}})
        assert await post(http, receiver.url, body.encode()) == 200
        result = await waiter
    assert result.label == "Abuse" and queries(emulator) == 1


async def test_pushes_before_the_submit_answer_are_kept(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.controls.final_after_polls = 1
    # The submit's answer comes 0.3 s after the job exists: the push overtakes it.
    emulator.faults.add("slow", phase="after", delay=0.3, count=1, method="POST")
    async with (
        CallbackReceiver("127.0.0.1", trust="token", grace=600) as receiver,
        client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
        client_for(emulator) as observer,
    ):
        moderating = asyncio.ensure_future(client.text.moderate(object="texts/abuse.txt"))
        # Until the emulator has the job (it signals nothing); no time passes.
        while not emulator.jobs:  # noqa: ASYNC110
            await asyncio.sleep(0)
        (job_id,) = emulator.jobs
        final = await observer.text.get(job_id)
        assert await post(http, receiver.url, detail(final)) == 200
        assert not moderating.done() and receiver.stats.early == 1
        result = await moderating
    assert result == final and queries(emulator) == 1  # the observer's
    assert not receiver._early  # nothing left once no submit is in flight


async def test_duplicate_deliveries_wake_once(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.controls.final_after_polls = 1
    async with (
        CallbackReceiver("127.0.0.1", grace=600) as receiver,
        client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
        client_for(emulator) as observer,
    ):
        job = await client.text.submit(object="texts/abuse.txt")
        final = await observer.text.get(job.job_id or "")
        body = detail(final)
        # Delivered before anyone waits (kept for the waiter), then again twice.
        statuses = [await post(http, receiver.url, body) for _ in range(3)]
        result = await client.text.wait(job.job_id or "")
        assert await post(http, receiver.url, body) == 200  # after: nobody waits
    assert statuses == [200] * 3 and result == final
    assert queries(emulator) == 2  # the observer's and one confirmation
    assert (receiver.stats.delivered, receiver.stats.duplicates) == (1, 2)
    assert receiver.stats.unknown == 1


async def test_moderate_many_resolves_from_pushes(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.controls.final_after_polls = 1
    keys = [f"texts/{name}.txt" for name in ("hello", "abuse")] * 10
    async with (
        CallbackReceiver("127.0.0.1", trust="token", grace=600) as receiver,
        client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
        client_for(emulator) as observer,
    ):
        items = [{"object": key, "data_id": f"item-{i}"} for i, key in enumerate(keys)]

        async def push_all() -> None:
            pushed: set[str] = set()
            while len(pushed) < len(items):
                for job_id in set(emulator.jobs) - pushed:
                    if receiver.expects(job_id):
                        pushed.add(job_id)
                        final = await observer.text.get(job_id)
                        assert await post(http, receiver.url, detail(final)) == 200
                await asyncio.sleep(0)

        pusher = asyncio.ensure_future(push_all())
        async with client.moderate_many(items, kind="text") as run:
            results = [result async for result in run]
        await pusher
    assert sorted(r.id for r in results) == sorted(item["data_id"] for item in items)
    assert all(r.status is ItemStatus.SUCCEEDED for r in results), results
    assert queries(emulator) == len(items)  # the observer's only


# --- the safety net ---------------------------------------------------------------------------


async def test_a_lost_callback_falls_back_to_polling_and_a_late_one_is_dropped(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.controls.final_after_polls = 2
    async with (
        CallbackReceiver("127.0.0.1", trust="token", grace=5) as receiver,
        # The client's sleep returns at once: the grace period passes without waiting.
        client_for(emulator, callbacks=receiver) as client,
    ):
        job = await client.text.moderate(object="texts/abuse.txt")
        assert job.label == "Abuse" and queries(emulator) == 2
        # The callback that was lost comes after all: acknowledged, and dropped.
        assert await post(http, receiver.url, detail(job, Label="Porn")) == 200
    assert receiver.stats.unknown == 1 and not receiver._expected


async def test_no_push_by_the_deadline_times_out_with_the_last_poll(emulator: Emulator) -> None:
    emulator.controls.hold = True
    time = FakeTime()
    async with (
        CallbackReceiver("127.0.0.1", grace=1) as receiver,
        client_for(emulator, callbacks=receiver, monotonic=time, sleep=time.sleep) as client,
    ):
        job = await client.text.submit(object="texts/hello.txt")
        with pytest.raises(JobTimeout) as caught:
            await client.text.wait(job.job_id or "", timeout=3)
    assert caught.value.job is not None and caught.value.job.state is JobState.AUDITING
    assert caught.value.timeout == 3
    assert not receiver._expected


async def test_with_no_grace_the_fallback_polls_on_the_plain_waits_schedule(
    emulator: Emulator,
) -> None:
    """``grace=0`` and no push: the same polls, at the same moments, as a client without a
    receiver (the fallback starts from the submit answer, as a plain wait does)."""
    emulator.controls.hold = True
    policy = cosaudit.PollPolicy(jitter=0)
    moments: list[list[float]] = []
    for use_receiver in (False, True):
        time = FakeTime()
        async with CallbackReceiver("127.0.0.1", grace=0) as receiver:
            options: dict[str, Any] = {"callbacks": receiver} if use_receiver else {}
            async with client_for(
                emulator, poll=policy, monotonic=time, sleep=time.sleep, **options
            ) as client:
                with pytest.raises(JobTimeout):
                    await client.text.moderate(object="texts/hello.txt", timeout=20)
        moments.append(time.sleeps)
    assert moments[0] == moments[1] and len(moments[0]) > 3


# --- refusals ---------------------------------------------------------------------------------


async def test_forged_oversized_and_malformed_callbacks_are_refused_and_wake_nothing(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.controls.final_after_polls = 1
    async with (
        CallbackReceiver("127.0.0.1", trust="token", grace=600, max_body=4096) as receiver,
        client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
        client_for(emulator) as observer,
    ):
        job = await client.text.submit(object="texts/abuse.txt")
        waiter = asyncio.ensure_future(client.text.wait(job.job_id or ""))
        final = await observer.text.get(job.job_id or "")
        body = detail(final)
        base = receiver.url.split("?")[0]
        other = CallbackReceiver(public_url=base)  # another secret
        padded = json.dumps({"EventName": "ReviewText", "JobsDetail": {"JobId": job.job_id},
                             "pad": "x" * 5000}).encode()  # fmt: skip

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b" " * 1000

        refused = {
            "no token": await post(http, base, body),
            "wrong token": await post(http, other.url, body),
            "token twice": await post(http, f"{receiver.url}&{other.url.split('?')[1]}", body),
            "GET": (await http.get(receiver.url)).status,
            "PUT": (await http.put(receiver.url, data=body)).status,
            "oversized": await post(http, receiver.url, padded),
            "oversized, chunked": await post(http, receiver.url, chunks()),  # type: ignore[arg-type]
            "not JSON": await post(http, receiver.url, b"<Response/>"),
            "no job id": await post(http, receiver.url, b'{"EventName": "ReviewText"}'),
        }
        for _ in range(10):
            await asyncio.sleep(0)  # let anything woken run; no time passes
        assert not waiter.done() and queries(emulator) == 1
        assert receiver.stats.delivered == 0
        # The same body with the right token does wake it.
        assert await post(http, receiver.url, body) == 200
        assert await waiter == final
    assert refused == {
        "no token": 403,
        "wrong token": 403,
        "token twice": 403,
        "GET": 405,
        "PUT": 405,
        "oversized": 413,
        "oversized, chunked": 413,
        "not JSON": 400,
        "no job id": 400,
    }
    assert receiver.stats.refused == {"token": 3, "method": 2, "size": 2, "malformed": 2}


async def test_the_secret_rotates_with_old_and_new_accepted_meanwhile(
    http: aiohttp.ClientSession,
) -> None:
    body = b'{"code": 0, "message": "Test request when setting callback url", "data": {}}'
    async with CallbackReceiver("127.0.0.1") as receiver:
        old = receiver.url
        receiver.rotate()
        new = receiver.url
        during = [await post(http, old, body), await post(http, new, body)]
        receiver.retire()
        after = [await post(http, old, body), await post(http, new, body)]
    assert new != old and during == [200, 200] and after == [403, 200]
    assert receiver.stats.tests == 3


def pipelined(target: str, body: bytes, last: bool) -> bytes:
    lines = [f"POST {target} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    if last:
        lines.append("Connection: close")
    return "\r\n".join([*lines, "", ""]).encode() + body


async def flood(port: int, requests: list[tuple[str, bytes]]) -> Counter[int]:
    """Send ``requests`` pipelined on one connection; how many answers of each status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    last = len(requests) - 1
    writer.write(b"".join(pipelined(t, b, i == last) for i, (t, b) in enumerate(requests)))
    await writer.drain()
    answers = await reader.read()
    writer.close()
    await writer.wait_closed()
    return Counter(int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", answers))


async def test_ten_thousand_forged_posts_leave_memory_flat() -> None:
    async with CallbackReceiver("127.0.0.1", grace=600) as receiver:
        url = urlsplit(receiver.url)
        right = f"{url.path}?{url.query}"

        def forged(i: int) -> tuple[str, bytes]:
            if i % 3 == 0:  # the right token, a job nobody expects
                body = {"EventName": "ReviewText", "JobsDetail": {"JobId": f"st{i:030d}"}}
                return right, json.dumps(body).encode()
            if i % 3 == 1:
                return f"{url.path}?token=guessed-{i:020d}", b'{"code": 0}'
            return right, b"{not json"

        async def send(start: int, count: int) -> Counter[int]:
            batch = [forged(i) for i in range(start, start + count)]
            # Eight connections of pipelined requests: loopback at the server's pace.
            answers = await asyncio.gather(*(flood(receiver.port, batch[k::8]) for k in range(8)))
            return sum(answers, Counter())

        await send(0, 1000)  # warm up: buffers, caches, the server's first connections
        gc.collect()
        before = sys.getallocatedblocks()
        statuses = await send(1000, 10_000)
        gc.collect()
        grown = sys.getallocatedblocks() - before
    assert statuses == {200: 3333, 403: 3334, 400: 3333}
    # Kept, one block per post would be 10,000 blocks at least: nothing is.
    assert grown < 1_000, grown
    assert not receiver._expected and not receiver._early
    assert receiver.stats.unknown == 3667  # i % 3 == 0 of the 11,000 posts


def test_pushes_for_unknown_jobs_keep_nothing_even_while_submits_are_in_flight() -> None:
    receiver = CallbackReceiver(public_url="http://127.0.0.1/cb", early_limit=100)
    query = urlsplit(receiver.url).query
    bodies = [
        json.dumps({"EventName": "ReviewText", "JobsDetail": {"JobId": f"st{i:030d}"}}).encode()
        for i in range(4_000)
    ]
    for body in bodies[:1000]:
        receiver.handle("POST", query, {}, body)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        with receiver.submitting():
            for body in bodies[1000:]:
                assert receiver.handle("POST", query, {}, body).status == 200
            assert len(receiver._early) == 100  # at most early_limit while a submit runs
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    ours = [tracemalloc.Filter(True, "*cosaudit*")]
    diff = after.filter_traces(ours).compare_to(before.filter_traces(ours), "filename")
    kept = sum(d.size_diff for d in diff)
    assert kept < 2_000, kept
    assert not receiver._early


def test_early_pushes_are_bounded_in_count_and_time() -> None:
    now = [0.0]
    receiver = CallbackReceiver(
        public_url="http://127.0.0.1/cb", early_limit=100, early_ttl=5, clock=lambda: now[0]
    )
    query = receiver.url.split("?")[1]

    def push(i: int) -> int:
        body = json.dumps({"EventName": "ReviewText", "JobsDetail": {"JobId": f"st{i}"}})
        return receiver.handle("POST", query, {}, body.encode()).status

    with receiver.submitting():  # pushes may be early while a submit is in flight
        assert {push(i) for i in range(10_000)} == {200}
        assert len(receiver._early) == 100  # the newest 100
        now[0] = 10.0
        push(-1)
        assert list(receiver._early) == ["st-1"]  # the others aged out
    assert not receiver._early  # no submit in flight: nothing can claim them


def test_the_secret_never_shows() -> None:
    receiver = CallbackReceiver(public_url="https://example.com/cb", secret="s" * 20 + "-secret")
    assert "secret" not in repr(receiver) and "sss" not in repr(receiver)
    assert receiver.url == "https://example.com/cb?token=" + "s" * 20 + "-secret"
    with pytest.raises(InvalidInput, match="secret"):
        CallbackReceiver(public_url="https://example.com/cb", secret="short")
    with pytest.raises(InvalidInput, match="trust"):
        CallbackReceiver(trust="maybe")  # type: ignore[arg-type]
    with pytest.raises(ClientStateError):
        _ = CallbackReceiver("127.0.0.1").url  # not started: no address yet


# --- adapters ----------------------------------------------------------------------------------


async def test_mounted_on_a_users_aiohttp_application(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.controls.final_after_polls = 1

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/health", health)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    receiver = CallbackReceiver(public_url=f"{base}/hooks/cos", trust="token", grace=600)
    receiver.mount(app, "/hooks/cos")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        async with (
            client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
            client_for(emulator) as observer,
        ):
            job = await client.text.submit(object="texts/abuse.txt")
            waiter = asyncio.ensure_future(client.text.wait(job.job_id or ""))
            final = await observer.text.get(job.job_id or "")
            assert await post(http, receiver.url, detail(final)) == 200
            assert await waiter == final
            assert (await http.get(f"{base}/health")).status == 200
    finally:
        await runner.cleanup()
    assert queries(emulator) == 1  # the observer's


async def test_asgi_mounted_in_starlette_under_uvicorn(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    from starlette.applications import Starlette
    from starlette.routing import Mount

    emulator.controls.final_after_polls = 1
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    receiver = CallbackReceiver(
        public_url=f"http://127.0.0.1:{port}/hooks/cos/", grace=600, max_body=4096
    )
    app = Starlette(routes=[Mount("/hooks/cos", app=receiver.asgi)])
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        async with (
            client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
            client_for(emulator) as observer,
        ):
            job = await client.text.submit(object="texts/abuse.txt")
            waiter = asyncio.ensure_future(client.text.wait(job.job_id or ""))
            final = await observer.text.get(job.job_id or "")
            base = receiver.url.split("?")[0]
            refused = [
                await post(http, base, detail(final)),
                (await http.get(receiver.url)).status,
                await post(http, receiver.url, b"{" + b" " * 5000 + b"}"),
                await post(http, receiver.url, b"{]"),
            ]
            assert not waiter.done()
            assert await post(http, receiver.url, detail(final)) == 200
            assert await waiter == final
    finally:
        server.should_exit = True
        await serving
        sock.close()
    assert refused == [403, 405, 413, 400]
    assert queries(emulator) == 2  # the observer's and the confirmation


# --- live streams ------------------------------------------------------------------------------


@pytest.fixture
async def live_emulator() -> AsyncIterator[Emulator]:
    async with Emulator(quiet(bucket_dir=DEMO_BUCKET, final_after_polls=1)) as emu:
        yield emu


def live_push(job_id: str, state: str, frames: list[str]) -> bytes:
    snapshots = [{"Text": text, "SnapshotTime": 1_700_000_000_000 + i, "Result": 0}
                 for i, text in enumerate(frames)]  # fmt: skip
    detail = {"JobId": job_id, "Type": "live_video", "State": state, "Result": 0,
              "SnapshotCount": len(frames), "Snapshot": snapshots}  # fmt: skip
    return json.dumps({"EventName": "ReviewVideo", "JobsDetail": detail}).encode()


async def test_live_watch_yields_each_pushed_update(
    live_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with (
        CallbackReceiver("127.0.0.1", trust="token", grace=600) as receiver,
        client_for(live_emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
    ):
        started = await client.live.submit("rtmp://127.0.0.1/live/room1", biz_type="p")
        job_id = started.job_id or ""
        conf = live_emulator.jobs[job_id].request["Conf"]
        assert conf["Callback"] == receiver.url and "CallbackVersion" not in conf
        updates = [
            live_push(job_id, "Auditing", ["hello"]),
            live_push(job_id, "Auditing", ["hello"]),  # a duplicate delivery
            live_push(job_id, "Auditing", ["buy now"]),
            live_push(job_id, "Success", []),
        ]
        # The first comes before the watch begins: kept for it.
        assert await post(http, receiver.url, updates[0]) == 200
        seen: list[LiveJob] = []
        async for update in client.live.watch(job_id):
            seen.append(update)
            if len(seen) == 1:
                for body in updates[1:]:
                    assert await post(http, receiver.url, body) == 200
        # Three updates: the duplicate is dropped, the final one ends the watch.
    assert [(u.state, [s.text for s in u.snapshots]) for u in seen] == [
        (JobState.AUDITING, ["hello"]),
        (JobState.AUDITING, ["buy now"]),
        (JobState.SUCCESS, []),
    ]
    assert queries(live_emulator) == 0 and receiver.stats.duplicates == 1


async def test_live_watch_without_a_receiver_polls(live_emulator: Emulator) -> None:
    async with client_for(live_emulator) as client:
        started = await client.live.submit("rtmp://127.0.0.1/live/room1", biz_type="p")
        seen: list[LiveJob] = []
        async for update in client.live.watch(started.job_id or ""):
            seen.append(update)
            if len(seen) == 2:
                await client.live.cancel(started.job_id or "")
    assert [u.state for u in seen] == [JobState.AUDITING] * 2 + [JobState.CANCELLED]
    assert all(isinstance(u, LiveJob) for u in seen) and queries(live_emulator) == 3


async def test_the_receivers_secret_is_in_no_log_or_repr(
    emulator: Emulator, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.controls.final_after_polls = 1
    async with (
        CallbackReceiver("127.0.0.1", grace=600) as receiver,
        client_for(emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
        client_for(emulator) as observer,
    ):
        secret = receiver.url.split("token=")[1]
        image = await client.image.submit(object="images/clean.png")  # in the GET's query
        text = await client.text.submit(object="texts/abuse.txt")
        waiter = asyncio.ensure_future(client.text.wait(text.job_id or ""))
        final = await observer.text.get(text.job_id or "")
        statuses = [
            await post(http, receiver.url + "x", detail(final)),
            await post(http, receiver.url, b"{]"),
            await post(http, receiver.url, detail(final, JobId="st-nobody")),
            await post(http, receiver.url, detail(final)),
        ]
        job = await waiter
        shown = [receiver, receiver.stats, client, client.text, image, text, job]
    assert statuses == [403, 400, 200, 200]
    logs = "\n".join(record.getMessage() for record in caplog.records)
    assert "st-nobody" in logs  # the unknown job was logged, the secret never
    assert secret not in logs
    assert not [thing for thing in shown if secret in repr(thing) or secret in str(thing)]


async def test_a_simple_live_callback_is_confirmed_even_in_token_trust(
    live_emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with (
        CallbackReceiver("127.0.0.1", trust="token", grace=600) as receiver,
        client_for(live_emulator, callbacks=receiver, sleep=asyncio.sleep) as client,
    ):
        started = await client.live.submit("rtmp://127.0.0.1/live/room1", biz_type="p")
        job_id = started.job_id or ""
        # Simple does not say whether the stream still runs: the watcher asks.
        data = {"trace_id": job_id, "event": "ReviewVideo", "result": 1}
        body = json.dumps({"code": 0, "message": "ok", "data": data}).encode()
        assert await post(http, receiver.url, body) == 200
        watching = client.live.watch(job_id)
        update = await anext(watching)
        await watching.aclose()
    assert update.job_id == job_id and update.state is not None
    assert queries(live_emulator) == 1
