"""``client.moderate_many`` against the emulator over loopback: every item exactly once, a
journal that survives crashes, ambiguous submissions reported and counted, bounded memory.

Submissions are counted on the emulator's side (its job records, by DataId), so "nothing was
submitted twice" is checked by the service, not by the runner's own word.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BUCKET, client_for

from cosaudit import (
    AuditClient,
    BulkResult,
    BulkRun,
    BulkSummary,
    InvalidInput,
    ItemStatus,
    RetryPolicy,
    TextJob,
    TextRequest,
    VideoRequest,
)
from cosaudit.bulk import item_id
from cosaudit.bulk.identity import earlier_item_id
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.errors import ClientStateError
from cosaudit.journal import Journal, Open, Phase
from cosaudit.models import Job, Result

KEYS = [f"posts/{i:03}.txt" for i in range(200)]
# Item-level retries without waiting (the injected sleep returns at once anyway).
ITEM_RETRY = RetryPolicy(attempts=3, initial=0.01, maximum=0.01, deadline=60)


def text_of(key: str) -> str:
    number = int(key[-7:-4])
    return "buy now, cheap" if number % 5 == 0 else f"post number {number}, a lovely day"


def submissions(emu: Emulator) -> Counter[str]:
    """Jobs the emulator accepted, by DataId."""
    found: Counter[str] = Counter()
    for job_id in emu.jobs:
        request = emu.jobs[job_id].request
        found[request["Input"]["DataId"]] += 1
    return found


def records(journal: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in journal.read_text().splitlines()]


async def collect(run_items: Any, client: AuditClient, **kwargs: Any) -> tuple[list, BulkSummary]:
    kwargs.setdefault("kind", "text")
    kwargs.setdefault("concurrency", 8)
    kwargs.setdefault("retry", ITEM_RETRY)
    results: list[BulkResult[Job]] = []
    async with client.moderate_many(run_items, **kwargs) as run:
        async for result in run:
            results.append(result)
    return results, run.summary


async def drain(run: BulkRun[Any], *, crash: bool = False) -> list[BulkResult[Any]]:
    """Every result of ``run``; with ``crash``, the loop body fails on the first one."""
    async with run:
        results = []
        async for result in run:
            if crash:
                raise RuntimeError("crashed")
            results.append(result)
        return results


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The posts, written once for the module (the emulator only reads them)."""
    root = tmp_path_factory.mktemp("bucket")
    (root / "posts").mkdir()
    for key in KEYS:
        (root / key).write_text(text_of(key), "utf-8")
    return root


@pytest.fixture
async def emu(bucket: Path) -> AsyncIterator[Emulator]:
    # Final on the first query: with the sleeps injected, nothing waits for real.
    async with Emulator(EmulatorConfig(bucket_dir=bucket, final_after_polls=1)) as emulator:
        yield emulator


async def test_every_item_once_with_its_verdict(emu: Emulator) -> None:
    keys = KEYS[:40]
    async with client_for(emu) as client:
        results, summary = await collect(iter(keys), client)
    assert sorted(r.id for r in results) == keys  # each exactly once
    for result in results:
        assert result.status is ItemStatus.SUCCEEDED and result.ok
        assert result.job is not None and result.job.data_id == result.id
        sensitive = text_of(result.id).startswith("buy now")
        assert result.job.verdict == (Result.SENSITIVE if sensitive else Result.NORMAL)
        assert result.job.label == ("Ads" if sensitive else "Normal")
    assert submissions(emu) == Counter(keys)
    assert summary.items == summary.succeeded == 40 and summary.handed_over == 40
    assert (summary.failed, summary.ambiguous, summary.pending, summary.skipped) == (0, 0, 0, 0)
    assert summary.retries == 0 and summary.elapsed > 0


async def test_async_iterable_of_mappings_and_derived_ids(emu: Emulator) -> None:
    async def items() -> AsyncIterator[Any]:
        yield {"object": KEYS[1], "data_id": "mine-1"}
        yield {"content": "buy now please"}  # synchronous API: final at once, no polling
        yield "https://127.0.0.1:1/nothing-listens-here.txt"  # a URL item: the job fails
        yield KEYS[2]

    derived = item_id({"content": "buy now please"})
    assert derived.startswith("sha256:") and derived == item_id({"content": "buy now please"})
    assert item_id(KEYS[2]) == KEYS[2] and item_id({"object": "x", "data_id": "d"}) == "d"
    assert item_id("k" * 600).startswith("sha256:")  # longer than a DataId may be
    async with client_for(emu) as client:
        results, summary = await collect(items(), client)
    by_id = {r.id: r for r in results}
    assert set(by_id) == {
        "mine-1",
        derived,
        "https://127.0.0.1:1/nothing-listens-here.txt",
        KEYS[2],
    }
    assert by_id[derived].job is not None and by_id[derived].job.label == "Ads"
    failed = by_id["https://127.0.0.1:1/nothing-listens-here.txt"]
    assert failed.status is ItemStatus.FAILED and failed.code == "ResourceDownloadFailed"
    assert failed.job is not None and failed.job.is_failed
    assert summary.succeeded == 3 and summary.failed == 1


async def test_other_kinds_and_one_without_a_data_id(emu: Emulator, tmp_path: Path) -> None:
    journal = tmp_path / "virus.jsonl"
    async with client_for(emu) as client:
        # Virus detection takes no DataId: the id lives in the journal only.
        scans, summary = await collect(KEYS[:3], client, kind="virus", journal=journal)
        pages, _ = await collect(KEYS[:1], client, kind="document")
    assert sorted(r.id for r in scans) == KEYS[:3] and all(r.ok for r in scans)
    assert emu.stats.submits["virus"] == 3 and summary.succeeded == 3
    assert {r["id"] for r in records(journal) if r["e"] == "done"} == set(KEYS[:3])
    assert pages[0].ok and pages[0].job is not None and pages[0].job.data_id == KEYS[0]


async def test_in_flight_items_are_bounded_however_long_the_input(emu: Emulator) -> None:
    pulled = 0

    def endless_listing() -> Iterator[dict[str, str]]:
        nonlocal pulled
        index = 0
        while True:  # never materialised: pulled only as slots free up
            pulled += 1
            yield {"object": KEYS[index % len(KEYS)], "data_id": f"item-{index}"}
            index += 1

    concurrency = 6
    worst = handed = 0
    async with (
        client_for(emu) as client,
        client.moderate_many(endless_listing(), kind="text", concurrency=concurrency) as run,
    ):
        async for _ in run:
            handed += 1
            worst = max(worst, pulled - handed)
            if handed == 120:
                break
    # Pulled but not handed over: the items in flight, plus one waiting for a slot.
    assert worst <= concurrency + 1
    assert pulled <= 120 + concurrency + 1
    assert run.summary.handed_over == 120


async def test_results_come_in_completion_order(emu: Emulator) -> None:
    emu.controls.final_after_polls = 30  # the object's job takes 30 polls ...
    fast = [{"content": f"text {i}", "data_id": f"inline-{i}"} for i in range(4)]
    items: list[Any] = [KEYS[0], *fast]  # ... inline texts are answered at once
    async with client_for(emu) as client:
        results, _ = await collect(items, client, concurrency=5)
    assert [r.id for r in results] == [f"inline-{i}" for i in range(4)] + [KEYS[0]]


async def test_resume_after_a_stop_submits_nothing_twice(emu: Emulator, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    keys = KEYS[:80]
    first: list[str] = []
    twenty = asyncio.Event()

    async def consume() -> None:
        async with (
            client_for(emu) as client,
            # fsync=False: the stop then finds items submitted or polling, not waiting on disk.
            client.moderate_many(
                keys, kind="text", concurrency=8, journal=journal, fsync=False
            ) as run,
        ):
            async for result in run:
                first.append(result.id)
                if len(first) == 20:
                    twenty.set()

    task = asyncio.ensure_future(consume())
    await twenty.wait()
    task.cancel()  # a stop mid-run: Ctrl-C, a deploy, a timeout around the whole job
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 20 <= len(first) < len(keys)

    async with client_for(emu) as client:
        second, summary = await collect(keys, client, journal=journal)
    again = [r.id for r in second]
    assert sorted(first + again) == keys  # every item handed over exactly once in all
    assert submissions(emu) == Counter(keys)  # and submitted exactly once
    assert summary.skipped == len(first) and summary.items == len(keys)
    # Jobs in flight at the stop were waited for by their JobId, not resubmitted.
    assert summary.resumed >= 1
    assert summary.resumed == sum(r.resumed for r in second)
    assert all(r.ok for r in second) and summary.ambiguous == 0


async def test_a_result_the_loop_crashed_on_is_handed_over_again(
    emu: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    keys = KEYS[:10]
    handled: list[str] = []

    async def handle_until_the_database_fails(run: BulkRun[TextJob]) -> None:
        async with run:
            async for result in run:
                if len(handled) == 3:
                    handled.append(result.id)  # the one it crashed on
                    raise RuntimeError("database down")
                handled.append(result.id)

    async with client_for(emu) as client:
        run = client.moderate_many(keys, kind="text", journal=journal)
        with pytest.raises(RuntimeError, match="database down"):
            await handle_until_the_database_fails(run)
        second, _ = await collect(keys, client, journal=journal)
    *handled, crashed_on = handled
    assert crashed_on in {r.id for r in second}  # not marked finished: handed over again
    assert sorted(handled + [r.id for r in second]) == keys
    assert submissions(emu) == Counter(keys)  # by polling its JobId again, not resubmitting
    assert next(r for r in second if r.id == crashed_on).resumed


async def test_a_synchronous_answer_not_yet_handed_over_is_fetched_again_by_job_id(
    emu: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    items = [{"content": "buy now, cheap", "data_id": "inline-1"}]
    async with client_for(emu) as client:
        with pytest.raises(RuntimeError, match="crashed"):
            await drain(client.moderate_many(items, kind="text", journal=journal), crash=True)
        results, summary = await collect(items, client, journal=journal)
    assert [(r.id, r.ok, r.resumed) for r in results] == [("inline-1", True, True)]
    assert results[0].job is not None and results[0].job.label == "Ads"
    assert summary.ambiguous == 0 and submissions(emu) == Counter(["inline-1"])


async def test_aclose_counts_the_result_in_hand_as_handled(emu: Emulator, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    async with client_for(emu) as client:
        run = client.moderate_many(KEYS[:5], kind="text", concurrency=1, journal=journal)
        async with run:
            first = await run.__anext__()
            await run.aclose()
            assert [r async for r in run] == []  # stopped
        results, summary = await collect(KEYS[:5], client, journal=journal)
    assert first.id not in {r.id for r in results} and summary.skipped == 1
    assert sorted([first.id, *(r.id for r in results)]) == KEYS[:5]


async def test_ambiguous_submission_is_recorded_reported_and_resubmitted_on_request(
    emu: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    keys = KEYS[:3]
    # A 500 to the first submission: the service may have created the job.
    emu.faults.fail_next(1, status=500, code="InternalError", path_prefix="/text/auditing")
    async with client_for(emu) as client:
        results, summary = await collect(keys, client, concurrency=1, journal=journal)
        unknown = results[0]
        assert unknown.id == keys[0] and unknown.status is ItemStatus.AMBIGUOUS
        assert unknown.code == "InternalError" and unknown.error is not None
        assert summary.ambiguous == 1 and summary.succeeded == 2
        assert {"e": "ambiguous", "id": keys[0], "code": "InternalError"} in records(journal)

        # Resuming reports it again and still does not send it.
        again, summary = await collect(keys, client, journal=journal)
        assert [(r.id, r.status) for r in again] == [(keys[0], ItemStatus.AMBIGUOUS)]
        assert summary.skipped == 2 and summary.ambiguous == 1
        assert submissions(emu) == Counter(keys[1:])

        # The caller chooses to resubmit: done, and counted as a possible duplicate.
        third, summary = await collect(keys, client, journal=journal, on_ambiguous="resubmit")
    assert [(r.id, r.status, r.possible_duplicate) for r in third] == [
        (keys[0], ItemStatus.SUCCEEDED, True)
    ]
    assert summary.possible_duplicates == 1 and summary.succeeded == 1
    assert submissions(emu) == Counter(keys)


async def test_resubmit_policy_retries_an_ambiguous_submission_at_once(emu: Emulator) -> None:
    emu.faults.fail_next(1, status=500, code="InternalError", path_prefix="/text/auditing")
    async with client_for(emu) as client:
        results, summary = await collect(KEYS[:1], client, on_ambiguous="resubmit")
    assert [(r.status, r.possible_duplicate) for r in results] == [(ItemStatus.SUCCEEDED, True)]
    assert summary.possible_duplicates == 1 and summary.retries == 1


async def test_a_refused_submission_is_retried_and_a_resume_sends_it_again(
    emu: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    one_attempt = RetryPolicy(attempts=1)  # no per-request retries: the item level only
    # 503 twice, then accepted: the item is retried (the service turned it away, so it is safe).
    emu.faults.fail_next(2, status=503, code="ServiceUnavailable", path_prefix="/text/auditing")
    async with client_for(emu, retry=one_attempt) as client:
        results, summary = await collect(KEYS[:1], client, journal=journal)
        assert results[0].ok and summary.retries == 2
        # Refused more times than the item may be tried: failed, journaled as refused ...
        emu.faults.fail_next(3, status=429, code="SlowDown", path_prefix="/text/auditing")
        results, summary = await collect(KEYS[1:2], client, journal=journal)
        assert results[0].status is ItemStatus.FAILED and results[0].code == "SlowDown"
        assert results[0].job is None and summary.failed == 1 and summary.retries == 2
        assert records(journal)[-1] == {"e": "refused", "id": KEYS[1], "code": "SlowDown"}
        # ... and a resume submits it again, since it was certainly never accepted.
        results, summary = await collect(KEYS[:2], client, journal=journal)
    assert [(r.id, r.ok) for r in results] == [(KEYS[1], True)] and summary.skipped == 1
    assert submissions(emu) == Counter(KEYS[:2])


async def test_a_crash_between_send_and_answer_leaves_the_item_ambiguous(
    emu: Emulator, tmp_path: Path
) -> None:
    """What ``kill -9`` leaves when it lands after a request was sent and before its answer
    was journaled: a ``trying`` record and nothing after it."""
    journal = tmp_path / "run.jsonl"
    keys = KEYS[:4]
    async with client_for(emu) as client:
        await collect(keys, client, concurrency=1, journal=journal)
        lines = journal.read_bytes().splitlines(keepends=True)
        cut = lines.index(
            json.dumps({"e": "trying", "id": keys[3]}, separators=(",", ":")).encode() + b"\n"
        )
        journal.write_bytes(b"".join(lines[: cut + 1]))  # the service did accept keys[3]

        results, summary = await collect(keys, client, journal=journal)
        assert [(r.id, r.status, r.code) for r in results] == [
            (keys[3], ItemStatus.AMBIGUOUS, "Interrupted")
        ]
        assert submissions(emu) == Counter(keys)  # reported, not sent a second time
        results, summary = await collect(keys, client, journal=journal, on_ambiguous="resubmit")
    assert [(r.id, r.ok, r.possible_duplicate) for r in results] == [(keys[3], True, True)]
    assert submissions(emu)[keys[3]] == 2 and summary.possible_duplicates == 1


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
        run = client.moderate_many(
            args["keys"], kind="text", concurrency=4, journal=args["journal"]
        )
        async with run:
            async for result in run:
                print(result.id, flush=True)
    print("END", flush=True)

asyncio.run(main())
"""


async def test_kill_9_mid_run_then_resume(emu: Emulator, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    keys = KEYS[:100]
    args = {
        "bucket": BUCKET,
        "url": emu.url,
        "id": emu.config.secret_id,
        "key": emu.config.secret_key,
        "keys": keys,
        "journal": str(journal),
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, json.dumps(args), stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    printed: list[str] = []
    while len(printed) < 5:
        line = await child.stdout.readline()
        assert line, "the child ended early"
        printed.append(line.decode().strip())
    child.send_signal(signal.SIGKILL)
    rest = await child.stdout.read()
    assert await child.wait() == -signal.SIGKILL
    printed += rest.decode().split()
    assert "END" not in printed

    # What the journal says was on the wire when the process died: 'trying', no answer.
    last: dict[str, str] = {}
    for record in records(journal):
        if "id" in record:
            last[record["id"]] = record["e"]
    interrupted = {ident for ident, event in last.items() if event == "trying"}

    async with client_for(emu) as client:
        results, summary = await collect(keys, client, journal=journal)
    handed = [r.id for r in results]
    ambiguous = {r.id for r in results if r.status is ItemStatus.AMBIGUOUS}
    assert ambiguous == interrupted  # reported for reconciliation, not resubmitted
    assert all(r.ok for r in results if r.id not in ambiguous)
    # Every item was handed over; only the one the child was holding may come twice.
    assert set(printed) | set(handed) == set(keys)
    assert set(printed) & set(handed) <= {printed[-1]}
    # The service saw each item at most once, and every unambiguous one exactly once.
    seen = submissions(emu)
    assert max(seen.values()) == 1
    assert set(seen) >= set(keys) - ambiguous
    assert summary.items == len(keys) and summary.ambiguous == len(interrupted)


async def test_a_torn_last_line_is_dropped(emu: Emulator, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    keys = KEYS[:3]
    async with client_for(emu) as client:
        await collect(keys[:2], client, journal=journal)
        whole = journal.read_bytes()
        journal.write_bytes(whole + b'{"e":"done","id":"posts/00')  # the process died mid-write
        results, summary = await collect(keys, client, journal=journal)
    assert [r.id for r in results] == [keys[2]] and summary.skipped == 2
    text = journal.read_bytes()
    assert text.startswith(whole) and text.endswith(b"\n")
    assert all(isinstance(record, dict) for record in records(journal))  # every line parses


async def test_journal_refusals(emu: Emulator, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a journal")
    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_text('{"e":"run","v":1,"kind":"text","t":0}\n#garbage\n{"e":"trying","id":"a"}\n')
    image = tmp_path / "image.jsonl"
    image.write_text('{"e":"run","v":1,"kind":"image","t":0}\n')
    async with client_for(emu) as client:
        for path, message in [
            (notes, "is not a cosaudit journal"),
            (corrupt, "line 2 is not a journal record"),
            (image, "records a 'image' run, not 'text'"),
        ]:
            before = path.read_bytes()
            with pytest.raises(InvalidInput, match=message) as caught:
                async with client.moderate_many(KEYS[:1], kind="text", journal=path):
                    pass
            assert caught.value.field == "journal"
            assert path.read_bytes() == before  # never truncated or appended to
        held = tmp_path / "held.jsonl"
        async with client.moderate_many(KEYS[:1], kind="text", journal=held) as run:
            with pytest.raises(InvalidInput, match="in use by another run"):
                async with client.moderate_many(KEYS[:1], kind="text", journal=held):
                    pass
            async for _ in run:
                pass


async def test_a_failed_job_is_final_and_skipped_on_resume(emu: Emulator, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    async with client_for(emu) as client:
        results, summary = await collect(["posts/missing.txt"], client, journal=journal)
        (failed,) = results
        assert failed.status is ItemStatus.FAILED and failed.code == "ResourceNotFound"
        assert failed.job is not None and failed.job.is_failed and summary.failed == 1
        assert records(journal)[-1]["state"] == "Failed"
        results, summary = await collect(["posts/missing.txt"], client, journal=journal)
    assert results == [] and summary.skipped == 1


async def test_a_job_pending_at_the_timeout_is_waited_for_on_resume(
    emu: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    emu.controls.hold = True  # jobs stay Auditing
    async with client_for(emu) as client:
        results, summary = await collect(KEYS[:2], client, journal=journal, timeout=0)
        assert {r.status for r in results} == {ItemStatus.PENDING} and summary.pending == 2
        assert all(r.code == "JobTimeout" and r.job_id for r in results)
        emu.controls.hold = False
        results, summary = await collect(KEYS[:2], client, journal=journal)
    assert all(r.ok and r.resumed for r in results) and summary.resumed == 2
    assert submissions(emu) == Counter(KEYS[:2])


async def test_jobs_journaled_but_missing_from_the_input_are_still_waited_for(
    emu: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    emu.controls.hold = True
    async with client_for(emu) as client:
        await collect(KEYS[:2], client, journal=journal, timeout=0)
        emu.controls.hold = False
        results, summary = await collect(KEYS[1:3], client, journal=journal)
    assert sorted(r.id for r in results) == KEYS[:3]
    assert summary.items == 3 and summary.resumed == 2


async def test_bad_items_fail_alone(emu: Emulator) -> None:
    items: list[Any] = [
        {"object": KEYS[0], "no_such_argument": 1, "data_id": "a"},
        {"object": "../escape", "data_id": "b"},
        {"content": "x" * 10_001, "data_id": "c"},
        KEYS[1],
    ]
    async with client_for(emu) as client:
        results, summary = await collect(items, client)
    by_id = {r.id: r for r in results}
    assert by_id["a"].code == "InvalidInput" and "no_such_argument" in str(by_id["a"].error)
    assert by_id["b"].code == "InvalidInput" and by_id["c"].code == "LimitExceeded"
    assert by_id[KEYS[1]].ok and summary.failed == 3 and summary.succeeded == 1
    assert submissions(emu) == Counter([KEYS[1]])


async def test_arguments_are_checked_before_anything_runs(emu: Emulator) -> None:
    async with client_for(emu) as client:
        for kwargs, field in [
            ({"items": "posts/000.txt", "kind": "text"}, "items"),
            ({"items": {"object": "a"}, "kind": "text"}, "items"),
            ({"items": KEYS, "kind": "text", "concurrency": 0}, "concurrency"),
            ({"items": KEYS, "kind": "text", "on_ambiguous": "ignore"}, "on_ambiguous"),
            ({"items": KEYS, "kind": "text", "timeout": float("inf")}, "timeout"),
            ({"items": KEYS, "kind": "session"}, "kind"),
            ({"items": KEYS, "kind": "videos"}, "kind"),
            ({"items": KEYS, "kind": "live"}, "kind"),
        ]:
            with pytest.raises(InvalidInput) as caught:
                client.moderate_many(**kwargs)
            assert caught.value.field == field
        run = client.moderate_many(KEYS[:1], kind="text")
        with pytest.raises(ClientStateError, match="async with"):
            await run.__anext__()
        async with run:
            assert [r.id async for r in run] == KEYS[:1]
        with pytest.raises(ClientStateError, match="runs once"):
            async with run:
                pass
        unusable = client.moderate_many([object()], kind="text")  # type: ignore[list-item]
        with pytest.raises(InvalidInput, match="a str or a mapping"):
            await drain(unusable)
        numbered = client.moderate_many([{"object": KEYS[0], "data_id": 7}], kind="text")
        with pytest.raises(InvalidInput, match="data_id must be a str"):
            await drain(numbered)
    closed = client.moderate_many(KEYS[:2], kind="text")
    with pytest.raises(ClientStateError):  # a closed client stops the run, not each item
        await drain(closed)


def test_journal_replay_rules(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal.open(path, "text", fsync=False)
    journal.trying("done")
    journal.submitted("done", "st1")
    journal.done("done", "st1", state="Success", label="Normal", verdict=0)
    journal.trying("waiting")
    journal.submitted("waiting", "st2")
    journal.trying("died")
    journal.trying("refused")
    journal.refused("refused", "SlowDown")
    journal.trying("unknown")
    journal.ambiguous("unknown", "InternalError")
    # Ambiguous, then resubmitted and refused: the first attempt may still have been accepted.
    journal.trying("twice")
    journal.ambiguous("twice", "RequestTimeout")
    journal.trying("twice")
    journal.refused("twice", "SlowDown")
    # Ambiguous, then resubmitted and accepted: a possible duplicate.
    journal.trying("dup")
    journal.ambiguous("dup", "ConnectionLost")
    journal.trying("dup")
    journal.submitted("dup", "st3", duplicate=True)
    journal.close()

    again = Journal.open(path, "text", fsync=False)
    try:
        assert again.is_finished("done") and not again.is_finished("waiting")
        assert again.claim("waiting") == Open(Phase.SUBMITTED, job_id="st2")
        assert again.claim("died") == Open(Phase.TRIED)
        assert again.claim("refused") is None  # never accepted: simply submitted again
        assert again.claim("unknown") == Open(Phase.AMBIGUOUS, code="InternalError", earlier=True)
        assert again.claim("twice") == Open(Phase.AMBIGUOUS, code="RequestTimeout", earlier=True)
        assert again.claim("dup") == Open(Phase.SUBMITTED, job_id="st3", earlier=True)
        assert list(again.unclaimed()) == []
    finally:
        again.close()
    assert records(path)[-1]["e"] == "run" and len(records(path)) == 20  # 18 + 2 headers


def test_a_presigned_url_never_becomes_an_id() -> None:
    signed = "https://b.example/a.jpg?q-sign-algorithm=sha1&q-signature=0123abcd"
    other = "https://b.example/a.jpg?q-sign-algorithm=sha1&q-signature=ffff0000"
    ident = item_id(signed)
    assert ident.startswith("https://b.example/a.jpg?sha256=") and "0123abcd" not in ident
    assert ident == item_id(signed) != item_id(other)
    assert "pw" not in item_id("https://user:pw@b.example/a.jpg")
    assert item_id("https://b.example/a.jpg") == "https://b.example/a.jpg"


async def test_a_501_is_a_refusal_not_an_ambiguous_submission(
    emu: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    # 501 NotImplemented: the service certainly did not take it (the session's rule too).
    emu.faults.fail_next(1, status=501, code="NotImplemented", path_prefix="/text/auditing")
    async with client_for(emu) as client:
        results, summary = await collect(KEYS[:1], client, concurrency=1, journal=journal)
    assert [(r.id, r.status, r.code) for r in results] == [
        (KEYS[0], ItemStatus.FAILED, "NotImplemented")
    ]
    assert summary.ambiguous == 0 and summary.failed == 1
    assert {"e": "refused", "id": KEYS[0], "code": "NotImplemented"} in records(journal)


async def test_items_may_be_requests_or_json_lines(emu: Emulator, tmp_path: Path) -> None:
    lines = [
        json.dumps({"object": KEYS[0], "data_id": "line-0", "biz_type": "b1"}),
        json.dumps({"object": KEYS[1], "detect_type": ["ads"]}),  # its id: its key
        json.dumps({"object": KEYS[2], "snapshot_count": 5}),  # not a text field
    ]
    items: list[Any] = [
        TextRequest(object=KEYS[3], data_id="request-3"),
        TextRequest(object=KEYS[4]),  # sent with its id as DataId
        VideoRequest(object="a.mp4", snapshot_count=5),  # another kind's request
        *(json.loads(line) for line in lines),
    ]
    async with client_for(emu) as client:
        results, summary = await collect(items, client)
    by_id = {r.id: r for r in results}
    assert by_id["request-3"].ok and by_id["line-0"].ok
    # Without a data_id, a request's or mapping's object key is its id, as the batch command's
    # lines (README "Each item's id"); never a digest of the whole item.
    keyed = {r.id: r.ok for r in results if r.id not in ("request-3", "line-0")}
    assert keyed == {KEYS[4]: True, "a.mp4": False, KEYS[1]: True, KEYS[2]: False}
    refused = sorted(str(r.error) for r in results if not r.ok)
    assert refused[0].startswith("items: text takes a TextRequest, not a VideoRequest")
    assert refused[1].startswith("snapshot_count: is not a field of TextRequest")
    assert summary.succeeded == 4 and summary.failed == 2
    sent = submissions(emu)
    assert sent["request-3"] == sent["line-0"] == 1 and sum(sent.values()) == 4
    assert sent[KEYS[4]] == sent[KEYS[1]] == 1  # the key is sent as DataId
    line_0 = next(job for job in emu.jobs.values() if job.request["Input"]["DataId"] == "line-0")
    assert line_0.request["Conf"]["BizType"] == "b1"


def test_requests_and_mappings_take_their_key_or_url_as_id() -> None:
    url = "https://example.com/a.txt?q-signature=secret"
    assert item_id({"kind": "text", "object": "m1.txt"}) == "m1.txt"
    assert item_id(TextRequest(object="m2.txt")) == "m2.txt"
    assert item_id({"object": "m3.txt"}) == item_id("m3.txt") == "m3.txt"
    assert item_id({"url": url}) == item_id(TextRequest(url=url)) == item_id(url)
    assert "secret" not in item_id({"url": url})
    assert item_id({"object": "m1.txt", "data_id": "mine"}) == "mine"


async def test_one_run_takes_items_of_several_kinds(emu: Emulator, tmp_path: Path) -> None:
    journal = tmp_path / "mixed.jsonl"
    items: list[Any] = [
        TextRequest(object=KEYS[0], data_id="text-1"),
        {"kind": "virus", "object": KEYS[1]},
        {"kind": "document", "object": KEYS[2], "data_id": "doc-1"},
        KEYS[3],  # a plain string: a key, a URL or text? refused, never guessed
        {"kind": "live", "url": "rtmp://127.0.0.1/x"},  # not a bulk kind
    ]
    async with client_for(emu) as client:
        results, summary = await collect(items, client, kind=None, journal=journal)
    by_id = {r.id: r for r in results}
    scan = item_id(items[1])  # a mapping's id is its data_id, else its digest ('kind' included)
    assert {(r.id, r.kind, r.status) for r in results if r.ok} == {
        ("text-1", "text", ItemStatus.SUCCEEDED),
        (scan, "virus", ItemStatus.SUCCEEDED),
        ("doc-1", "document", ItemStatus.SUCCEEDED),
    }
    assert by_id[KEYS[3]].status is ItemStatus.FAILED and by_id[KEYS[3]].code == "InvalidInput"
    assert by_id[KEYS[3]].kind is None and by_id[KEYS[3]].item == KEYS[3]
    assert (emu.stats.submits["text"], emu.stats.submits["virus"]) == (1, 1)
    assert emu.stats.submits["document"] == 1 and summary.failed == 2
    kinds = {r["id"]: r.get("k") for r in records(journal) if r["e"] == "submitted"}
    assert kinds == {"text-1": "text", scan: "virus", "doc-1": "document"}
    assert records(journal)[0]["kind"] == "mixed"


async def test_a_mixed_resume_waits_for_a_job_by_the_kind_its_journal_names(
    emu: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "mixed.jsonl"
    async with client_for(emu) as client:
        job = await client.document.submit(object=KEYS[4], data_id="doc-2")
        assert job.job_id is not None
        opened = Journal.open(journal, "mixed")
        opened.submitted("doc-2", job.job_id, kind="document")
        opened.close()
        # The new input does not bring doc-2: its result is owed all the same.
        results, _ = await collect([], client, kind=None, journal=journal)
    assert [(r.id, r.kind, r.resumed, r.ok) for r in results] == [("doc-2", "document", True, True)]
    assert emu.stats.submits["document"] == 1  # waited for, not submitted again


async def test_a_journal_of_digest_ids_from_earlier_versions_still_resumes(
    emu: Emulator, tmp_path: Path
) -> None:
    """Earlier versions journaled {"object": K} as sha256:...; a resume must not resend it."""
    journal = tmp_path / "run.jsonl"
    items = [{"object": key} for key in KEYS[:3]]
    old = [{**item, "data_id": earlier_item_id(item)} for item in items[:2]]  # as they did
    assert all(str(item["data_id"]).startswith("sha256:") for item in old)
    async with client_for(emu) as client:
        await collect(old, client, journal=journal)
        results, summary = await collect(items, client, journal=journal)
    assert summary.skipped == 2 and [r.id for r in results] == [KEYS[2]]
    assert sum(submissions(emu).values()) == 3  # the two earlier items were not sent again
    assert earlier_item_id(KEYS[0]) is None and earlier_item_id({"content": "x"}) is None
