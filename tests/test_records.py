"""A bulk run's results as plain records and its summary as a readable table, from runs against
the emulator over loopback."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import client_for

from cosaudit import BulkResult, BulkSummary, ItemStatus, RetryPolicy, TextRequest
from cosaudit.bulk import item_id
from cosaudit.bulk.records import input_of, record
from cosaudit.emulator import Emulator, EmulatorConfig

ITEM_RETRY = RetryPolicy(attempts=1, initial=0.01, maximum=0.01, deadline=60)
SCHEMA_KEYS = {
    "data_id", "kind", "input", "job_id", "status", "state", "verdict", "result", "label",
    "score", "scenes", "code", "message", "elapsed", "possible_duplicate", "resumed",
}  # fmt: skip
SECRET_TEXT = "buy now, cheap: the secret inline post"


def sha256(content: str | bytes) -> str:
    return hashlib.sha256(content.encode() if isinstance(content, str) else content).hexdigest()


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[Emulator]:
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts/ad.txt").write_text("buy now, cheap", "utf-8")
    (tmp_path / "posts/ok.txt").write_text("a lovely day", "utf-8")
    async with Emulator(EmulatorConfig(bucket_dir=tmp_path, final_after_polls=1)) as emulator:
        yield emulator


async def run_all(emu: Emulator, items: list[Any]) -> tuple[list[BulkResult[Any]], BulkSummary]:
    results = []
    # One at a time, so an injected fault meets the first item.
    options: dict[str, Any] = {"kind": "text", "concurrency": 1, "retry": ITEM_RETRY}
    async with client_for(emu) as client, client.moderate_many(items, **options) as run:
        async for result in run:
            results.append(result)
    return results, run.summary


async def test_records_have_every_key_the_input_and_verdicts_as_words(emu: Emulator) -> None:
    emu.faults.fail_next(1, status=500, code="InternalError", path_prefix="/text/auditing")
    items: list[Any] = [
        "posts/lost.txt",  # meets the fault: ambiguous
        "posts/ad.txt",
        "posts/ok.txt",
        "posts/missing.txt",
        {"content": SECRET_TEXT, "data_id": "inline-1"},
        TextRequest(content="hello there"),
    ]
    results, _ = await run_all(emu, items)
    by_id = {r.id: record(r, kind="text") for r in results}
    assert len(by_id) == len(items)
    for rec in by_id.values():
        assert set(rec) == SCHEMA_KEYS and rec["kind"] == "text"
        assert isinstance(rec["elapsed"], float) and rec["elapsed"] >= 0

    ad = by_id["posts/ad.txt"]
    assert ad["input"] == {"object": "posts/ad.txt"}
    assert (ad["status"], ad["state"], ad["verdict"], ad["result"], ad["label"]) == (
        "succeeded", "Success", "sensitive", 1, "Ads",
    )  # fmt: skip
    scenes = ad["scenes"]
    assert isinstance(scenes, dict) and isinstance(scenes["ads"], dict)
    assert scenes["ads"]["hit_flag"] == 1 and "buy now" in scenes["ads"]["keywords"]
    assert isinstance(scenes["ads"]["score"], int) and scenes["ads"]["score"] > 0
    assert by_id["posts/ok.txt"]["verdict"] == "normal"

    missing = by_id["posts/missing.txt"]
    assert (missing["status"], missing["verdict"], missing["code"]) == (
        "failed", None, "ResourceNotFound",
    )  # fmt: skip
    assert "missing.txt" in str(missing["message"])

    lost = by_id["posts/lost.txt"]
    assert (lost["status"], lost["job_id"], lost["code"]) == ("ambiguous", None, "InternalError")

    inline = by_id["inline-1"]
    assert inline["input"] == {"content_sha256": sha256(SECRET_TEXT)}
    request_id = item_id(TextRequest(content="hello there"))
    assert by_id[request_id]["input"] == {"content_sha256": sha256("hello there")}
    # Inline content reaches no record: neither as text nor as the base64 the job echoes.
    dumped = json.dumps(list(by_id.values()))
    assert SECRET_TEXT not in dumped
    assert base64.b64encode(SECRET_TEXT.encode()).decode() not in dumped


def test_input_of_strings_mappings_and_requests() -> None:
    signed = "https://example.com/a.png?q-signature=SECRET&x=1"
    found = input_of(signed, kind="image")
    assert found == {"url": item_id(signed)} and "SECRET" not in json.dumps(found)
    assert input_of({"url": signed}, kind="image") == found
    assert input_of("https://example.com/page", kind="webpage") == {
        "url": "https://example.com/page"
    }
    assert input_of("docs/1.txt", kind="text") == {"object": "docs/1.txt"}
    assert input_of({"object": "docs/1.txt", "data_id": "x"}, kind="text") == {
        "object": "docs/1.txt"
    }
    assert input_of({"content": b"\x89PNG"}, kind="image") == {"content_sha256": sha256(b"\x89PNG")}
    assert input_of(TextRequest(object="a.txt"), kind="text") == {"object": "a.txt"}
    assert input_of({"data_id": "nothing"}, kind="text") == {}


def test_a_result_without_item_or_job_has_no_input() -> None:
    rec = record(BulkResult("x", ItemStatus.AMBIGUOUS, code="Interrupted"), kind="video")
    assert rec["input"] is None and rec["verdict"] is None and rec["elapsed"] is None
    assert rec["scenes"] == {} and rec["status"] == "ambiguous" and set(rec) == SCHEMA_KEYS


async def test_summary_counts_by_verdict_label_and_code_and_names_what_to_reconcile(
    emu: Emulator,
) -> None:
    emu.faults.fail_next(12, status=500, code="InternalError", path_prefix="/text/auditing")
    lost = [f"posts/lost-{i:02}.txt" for i in range(12)]
    items = [*lost, "posts/ad.txt", "posts/ok.txt", "posts/missing.txt"]
    _, summary = await run_all(emu, items)
    assert summary.items == 15 and summary.handed_over == 15 and summary.in_flight == 0
    assert dict(summary.verdicts) == {"sensitive": 1, "normal": 1}
    assert dict(summary.labels) == {"Ads": 1, "Normal": 1}
    assert dict(summary.errors) == {"InternalError": 12, "ResourceNotFound": 1}
    # Bounded: the first ten by completion (here input) order, and the count of them all.
    assert summary.ambiguous == 12 and summary.to_reconcile == tuple(lost[:10])
    assert summary.items_per_second == pytest.approx(15 / summary.elapsed)

    text = str(summary)
    lines = text.splitlines()
    assert "BulkSummary(" not in text
    assert re.search(r"^  sensitive +1$", text, re.M) and re.search(r"^  Ads +1$", text, re.M)
    assert re.search(r"^  InternalError +12$", text, re.M)
    assert re.search(r"^  ambiguous +12$", text, re.M)
    assert "  posts/lost-09.txt" in lines and "posts/lost-10.txt" not in text
    assert "  ... and 2 more (see the journal)" in lines
    assert re.search(r"^  items/s +[\d,]+\.\d$", text, re.M)
    # Aligned: every count ends in the same column.
    counted = [line for line in lines if re.search(r"  \d[\d,]*$", line)]
    assert len(counted) >= 10 and len({len(line) for line in counted}) == 1

    table = _cells(summary._repr_html_())
    assert ["sensitive", "1"] in table and ["InternalError", "12"] in table
    assert ["ambiguous", "12"] in table and ["Errors by code"] in table


async def test_summary_snapshots_stay_as_taken(emu: Emulator) -> None:
    async with (
        client_for(emu) as client,
        client.moderate_many(["posts/ad.txt", "posts/ok.txt"], kind="text", concurrency=1) as run,
    ):
        first = None
        async for _ in run:
            first = first or run.summary
    assert first is not None and sum(first.labels.values()) == 1
    assert sum(run.summary.labels.values()) == 2
    with pytest.raises(TypeError):
        first.labels["Ads"] = 5  # type: ignore[index]


def test_result_repr_is_one_readable_line() -> None:
    result: BulkResult[Any] = BulkResult(
        "posts/1.txt", ItemStatus.FAILED, code="SlowDown", item={"content": SECRET_TEXT}
    )
    assert repr(result) == "BulkResult(id='posts/1.txt', status=failed, code='SlowDown')"
    assert ["status", "failed"] in _cells(result._repr_html_())


def _cells(html: str) -> list[list[str]]:
    """The text of each table row's cells."""

    class Rows(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[str]] = []

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.rows[-1].append("")

        def handle_data(self, data: str) -> None:
            if self.rows and self.rows[-1]:
                self.rows[-1][-1] += data

    parser = Rows()
    parser.feed(html)
    return [[cell for cell in row if cell] for row in parser.rows]
