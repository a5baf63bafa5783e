"""The receiver's bounds under floods of pushes nobody expects, its secrets, and a waiter whose
confirming query fails: over loopback where a job is involved, tracemalloc for memory."""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from conftest import client_for
from test_callbacks import detail, post, quiet

import cosaudit
from cosaudit.callbacks import CallbackReceiver
from cosaudit.emulator import Emulator
from cosaudit.models import JobState

MIB = 1024 * 1024


# Five distinct fillers of 1 MiB, built once: the Detail bodies differ by job id and filler.
FILLERS = [f"{n:08d}".encode() * (MIB // 8) for n in range(5)]


def big_detail(job_id: str, n: int) -> bytes:
    """A Detail body of about 1 MiB, distinct for each ``n``."""
    head = b'{"EventName": "ReviewVideo", "JobsDetail": {"JobId": "' + job_id.encode()
    return head + b'", "Filler": "' + FILLERS[n] + b'"}}'


@pytest.mark.parametrize("trust", ["confirm", "token"])
def test_a_flood_of_big_unexpected_pushes_during_a_submit_holds_little_memory(
    trust: str,
) -> None:
    """200 job ids x 5 distinct 1 MiB Detail bodies while a submit is in flight (a bulk run):
    held before the fix, about 1 GB."""
    # confirm trust with the defaults: it keeps no body, so needs no byte cap.
    options = {"early_bytes": 8 * MIB} if trust == "token" else {}
    receiver = CallbackReceiver(
        public_url="http://127.0.0.1/cb",
        trust=trust,  # type: ignore[arg-type]
        **options,
    )
    query = urlsplit(receiver.url).query
    gc.collect()
    tracemalloc.start()
    try:
        with receiver.submitting():
            for i in range(200):
                for n in range(5):
                    body = big_detail(f"v{i:031d}", n)
                    assert receiver.handle("POST", query, {}, body).status == 200
                    del body
            gc.collect()
            held, _ = tracemalloc.get_traced_memory()
            size = receiver._early_size
    finally:
        tracemalloc.stop()
    # confirm: wake-ups only; token: the cap, and the parsed bodies' overhead.
    limit = 2 * MIB if trust == "confirm" else 16 * MIB
    assert held < limit, held
    assert size <= 8 * MIB and (trust == "token" or size == 0)
    assert len(receiver._early) <= receiver.early_limit


def test_late_pushes_of_settled_jobs_are_not_buffered() -> None:
    receiver = CallbackReceiver(public_url="http://127.0.0.1/cb", trust="token")
    query = urlsplit(receiver.url).query
    body = json.dumps({"EventName": "ReviewText", "JobsDetail": {"JobId": "st1"}}).encode()
    with receiver.submitting():
        receiver.expect("st1", "text")
        receiver.unlisten("st1", receiver.listen("st1", "text"))  # its waiter ended
        assert receiver.handle("POST", query, {}, body).status == 200
        assert not receiver._early and receiver.stats.unknown == 1
        # A new job that happens to reuse nothing is still buffered when early.
        other = body.replace(b"st1", b"st2")
        receiver.handle("POST", query, {}, other)
        assert list(receiver._early) == ["st2"]


def test_max_expected_forgets_the_oldest_unclaimed_job_not_a_waited_one() -> None:
    receiver = CallbackReceiver(public_url="http://127.0.0.1/cb", max_expected=2)
    listeners = [receiver.listen(f"w{i}", "text") for i in range(3)]  # three waiters
    for i in range(3):
        receiver.expect(f"s{i}", "text")
    # The waiters' jobs stay; of the jobs nobody waits for yet, the two newest.
    assert all(receiver.expects(f"w{i}") for i in range(3))
    assert [receiver.expects(f"s{i}") for i in range(3)] == [False, True, True]
    receiver.listen("s1", "text")  # waited for now: no longer counted
    receiver.expect("s3", "text")
    assert receiver.expects("s1") and receiver.expects("s2") and receiver.expects("s3")
    assert len(listeners) == 3


def test_rotating_keeps_the_current_and_the_previous_secret_only() -> None:
    receiver = CallbackReceiver(public_url="http://127.0.0.1/cb", secret="a" * 20)
    receiver.rotate("b" * 20)
    receiver.rotate("c" * 20)
    statuses = [receiver.precheck("POST", f"token={c * 20}", {}) for c in "abc"]
    assert [s.status if s else 200 for s in statuses] == [403, 200, 200]
    assert len(receiver._secrets) == 2
    receiver.retire()
    assert receiver.precheck("POST", "token=" + "b" * 20, {}) is not None


@pytest.fixture
async def emulator(bucket_dir: Path) -> AsyncIterator[Emulator]:
    async with Emulator(quiet(bucket_dir=bucket_dir, job_duration=0.05)) as emu:
        yield emu


async def test_a_failed_confirmation_leaves_the_job_to_polling(emulator: Emulator) -> None:
    emulator.controls.final_after_polls = 1
    gate = asyncio.Event()  # the grace (and every poll wait) ends when the test says

    async def sleep(seconds: float) -> None:
        await gate.wait()

    async with (
        CallbackReceiver("127.0.0.1", grace=600) as receiver,
        client_for(
            emulator,
            callbacks=receiver,
            sleep=sleep,
            retry=cosaudit.RetryPolicy(attempts=1),
        ) as client,
        client_for(emulator) as observer,
        aiohttp.ClientSession() as http,
    ):
        job = await client.text.submit(object="texts/abuse.txt")
        job_id = job.job_id or ""
        final = await observer.text.get(job_id)
        emulator.faults.fail_next(1, path_prefix=f"/text/auditing/{job_id}")
        waiter = asyncio.ensure_future(client.text.wait(job_id))
        assert await post(http, receiver.url, detail(final)) == 200
        while not sum(emulator.stats.faults.values()):  # noqa: ASYNC110
            await asyncio.sleep(0)
        for _ in range(20):  # the waiter takes the failure in a few steps
            await asyncio.sleep(0)
        assert not waiter.done()  # the failed query ended nothing
        gate.set()  # the grace is over: polling finds the job
        result = await waiter
    assert result == final and result.state is JobState.SUCCESS
