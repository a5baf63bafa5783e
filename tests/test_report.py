"""The HTML report: counted from records in one pass, drawn by headless Chromium with the
right counts, filterable, self-contained (no network), escaped, and capped for huge runs."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromium
import pytest
from conftest import client_for

from cosaudit.bulk import BulkSummary
from cosaudit.emulator import Emulator
from cosaudit.report import Report, ReportUnavailable, read_records, write_report

HOSTILE_ID = '<img src="http://127.0.0.1:9/x.png">'


def record(n: int, status: str = "succeeded", **fields: Any) -> dict[str, Any]:
    """One record in the shape of ``cosaudit batch``'s output lines."""
    base: dict[str, Any] = {
        "data_id": f"item-{n}",
        "kind": "text",
        "input": {"object": f"posts/{n}.txt"},
        "job_id": f"st{n:06d}",
        "status": status,
        "state": "Success" if status == "succeeded" else None,
        "verdict": None,
        "result": None,
        "label": None,
        "score": None,
        "scenes": {},
        "code": None,
        "message": None,
        "elapsed": None,
        "possible_duplicate": False,
        "resumed": False,
    }
    return base | fields


def flagged(n: int, verdict: str, label: str, **fields: Any) -> dict[str, Any]:
    scenes = {label.lower(): {"hit_flag": 1, "score": 90, "keywords": [f"kw{n}"]}}
    return record(n, verdict=verdict, label=label, score=90, scenes=scenes, **fields)


def run_records() -> list[dict[str, Any]]:
    """A small run whose every count is known: see the expectations in the tests."""
    return [
        *(record(n, verdict="normal", label="Normal", elapsed=0.25) for n in range(6)),
        flagged(6, "sensitive", "Porn", elapsed=1.2, data_id=HOSTILE_ID),
        flagged(7, "sensitive", "Porn", elapsed=1.2, kind="image"),
        flagged(8, "sensitive", "Ads", elapsed=1.2),
        flagged(9, "suspicious", "Ads", elapsed=1.2, kind="image"),
        *(
            record(n, "failed", code="ResourceNotFound", message="no such key", elapsed=0.04)
            for n in (10, 11)
        ),
        record(12, "ambiguous", code="InternalError", message="<b>500</b>", resumed=True),
    ]


# In the page, each chart's bars: label, count, and the bar's drawn length in CSS pixels;
# plus the counts printed on the bars, as drawn.
CHARTS_JS = """
Object.fromEntries(Array.from(document.querySelectorAll("figure[id^=chart-]")).map(figure => [
  figure.id.slice(6),
  {
    bars: Array.from(figure.querySelectorAll("g.bar")).map(bar => {
      const box = bar.querySelector("rect").getBoundingClientRect();
      return {
        label: bar.querySelector("desc.x_label").textContent,
        count: Number(bar.querySelector("desc.value").textContent.replace(/,/g, "")),
        width: box.width, height: box.height,
      };
    }),
    printed: Array.from(figure.querySelectorAll("text.value"))
      .filter(text => text.getBoundingClientRect().width > 0)
      .map(text => text.textContent),
    note: figure.querySelector("p.note") ? figure.querySelector("p.note").textContent : null,
  },
]))
"""


def drawn(chart: dict[str, Any], *, horizontal: bool = True) -> dict[str, int]:
    """A chart's counts by label, checking that the browser drew each bar in proportion."""
    bars = chart["bars"]
    length = "width" if horizontal else "height"
    scale = max(bar[length] for bar in bars) / max(bar["count"] for bar in bars)
    assert scale > 0
    for bar in bars:
        assert bar[length] == pytest.approx(bar["count"] * scale, abs=1.5), bar
    assert sorted(chart["printed"]) == sorted(f"{b['count']:,}" for b in bars if b["count"])
    return {bar["label"]: bar["count"] for bar in bars}


@pytest.fixture(scope="module")
def browser() -> Iterator[str]:
    with chromium.browser() as address:
        yield address


async def test_chromium_draws_the_charts_with_the_run_s_counts(
    browser: str, tmp_path: Path
) -> None:
    path = write_report(run_records(), tmp_path / "report.html", title="known run", max_flagged=3)
    async with chromium.page(browser) as page:
        await page.load(path.as_uri())
        charts = await page.evaluate(CHARTS_JS)
        assert await page.evaluate("document.title") == "known run"
        summary = await page.evaluate(
            "Object.fromEntries(Array.from(document.querySelectorAll('#summary .card'))"
            ".map(c => [c.querySelector('.name').textContent, c.querySelector('.value')"
            ".textContent]))"
        )
        cap = await page.evaluate("document.getElementById('flagged-cap').textContent")
        requested = list(page.requested)

    assert drawn(charts["verdicts"]) == {
        "normal": 6,
        "sensitive": 3,
        "suspicious": 1,
        "no verdict": 3,
    }
    assert drawn(charts["statuses"]) == {"succeeded": 10, "failed": 2, "ambiguous": 1, "pending": 0}
    assert drawn(charts["labels"]) == {"Porn": 2, "Ads": 2}
    assert drawn(charts["errors"]) == {"ResourceNotFound": 2, "InternalError": 1}
    latency = drawn(charts["latency"], horizontal=False)
    assert {label: n for label, n in latency.items() if n} == {
        "0.03–0.05": 2,
        "0.2–0.3": 6,
        "1–1.5": 4,
    }
    bins = list(latency)
    assert bins[0] == "0.03–0.05" and bins[-1] == "1–1.5"  # the empty bins at either end cut
    assert charts["latency"]["note"].startswith(
        "12 items timed: min 40 ms, mean 532 ms, max 1.20 s"
    )
    assert summary == {
        "items": "13",
        "succeeded": "10",
        "failed": "2",
        "ambiguous": "1",
        "pending": "0",
        "sensitive": "3",
        "suspicious": "1",
        "resumed": "1",
    }
    assert " ".join(cap.split()).startswith("Showing the first 3 of 4 flagged items")
    # Self-contained: the page is the one thing loaded; the hostile id stayed text.
    assert requested == [path.as_uri()]


async def test_the_flagged_table_filters_in_the_browser(browser: str, tmp_path: Path) -> None:
    path = write_report(run_records(), tmp_path / "report.html")

    async with chromium.page(browser) as page:
        await page.load(path.as_uri())

        async def shown(control: str, value: str) -> list[str]:
            await page.evaluate(
                f"(() => {{ const c = document.getElementById({json.dumps(control)});"
                f" c.value = {json.dumps(value)};"
                " c.dispatchEvent(new Event('input')); })()"
            )
            rows = await page.evaluate(
                "Array.from(document.querySelectorAll('#flagged tbody tr'))"
                ".filter(r => !r.hidden).map(r => r.cells[0].textContent)"
            )
            count = await page.evaluate("document.getElementById('flagged-shown').textContent")
            assert count == str(len(rows))
            return list(rows)

        assert await shown("filter-text", "") == [HOSTILE_ID, "item-7", "item-8", "item-9"]
        assert await shown("filter-text", "KW8") == ["item-8"]  # keywords, any case
        assert await shown("filter-text", "") == [HOSTILE_ID, "item-7", "item-8", "item-9"]
        assert await shown("filter-verdict", "suspicious") == ["item-9"]
        assert await shown("filter-verdict", "") == [HOSTILE_ID, "item-7", "item-8", "item-9"]
        assert await shown("filter-label", "Ads") == ["item-8", "item-9"]
        assert await shown("filter-verdict", "sensitive") == ["item-8"]
        assert await page.evaluate("document.querySelectorAll('#flagged img').length") == 0


def test_a_summary_adds_what_records_do_not_tell(tmp_path: Path) -> None:
    summary = BulkSummary(
        items=20, skipped=7, succeeded=10, failed=2, ambiguous=1, retries=5, elapsed=4.0
    )
    report = Report()
    report.extend(run_records())
    page = report.render(summary=summary)
    cards = dict(
        (name, value)
        for value, name in re.findall(
            r'<div class="value">([^<]*)</div><div class="name">([^<]*)</div>', page
        )
    )
    assert cards["items"] == "13"  # counted from the records, as the charts are
    assert cards["done in earlier runs"] == "7"
    assert cards["retries"] == "5"
    assert cards["elapsed"] == "4.00 s"
    assert cards["items/s"] == "3.2"  # 13 handed over in 4 s


def test_read_records_rebuilds_the_report_from_an_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in run_records()) + "\n", "utf-8")
    assert list(read_records(out)) == run_records()
    from_file = Report()
    from_file.extend(read_records(out))
    direct = Report()
    direct.extend(run_records())
    assert from_file.records == direct.records == 13

    out.write_text('{"data_id": "a"}\nnot json\n', "utf-8")
    with pytest.raises(ValueError, match=r"out.jsonl:2: not JSON"):
        list(read_records(out))


def test_a_run_of_many_items_makes_a_page_of_bounded_size(tmp_path: Path) -> None:
    def many(n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield flagged(i, "sensitive", f"Label{i % 300}", code=f"Code{i}", elapsed=i / n)

    small = write_report(many(2_000), tmp_path / "small.html", max_flagged=50).stat().st_size
    large = write_report(many(20_000), tmp_path / "large.html", max_flagged=50)
    page = large.read_text("utf-8")
    assert page.count("<tr data-verdict=") == 50
    assert "Showing the first 50 of\n  20,000 flagged items" in page
    assert "(other)" in page  # distinct codes beyond the kept number are pooled
    assert large.stat().st_size < small * 1.1


def test_escapes_what_records_say(tmp_path: Path) -> None:
    page = Report()
    page.extend(run_records())
    text = page.render()
    assert HOSTILE_ID not in text and "&lt;img src=" in text
    assert "<b>500</b>" not in text and "&lt;b&gt;500&lt;/b&gt;" in text
    # Labels, codes and kinds reach the charts too (their text, their titles, pygal's config).
    hostile = Report()
    hostile.add(
        record(
            1,
            "failed",
            code="x</script><script>alert(1)</script>",
            verdict="sensitive",
            label="<img src=x onerror=alert(2)>",
            kind="<b>k</b>",
        )
    )
    page = hostile.render()
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>k" not in page


def test_without_the_extra_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pygal", None)  # as if not installed
    with pytest.raises(ReportUnavailable, match=r"pip install 'cosaudit\[report\]'"):
        write_report(iter(()), "never-written.html")
    assert not Path("never-written.html").exists()
    assert issubclass(ReportUnavailable, ImportError)


async def test_the_demo_s_report_shows_the_demo_s_counts(browser: str, tmp_path: Path) -> None:
    import io

    from cosaudit.demo import run_demo

    out = io.StringIO()
    path = tmp_path / "demo.html"
    assert await run_demo(out, concurrency=8, job_duration=(0.02, 0.1), report=path) == 0
    assert "9 normal, 15 sensitive, 1 suspicious, 0 errors" in out.getvalue()
    async with chromium.page(browser) as page:
        await page.load(path.as_uri())
        charts = await page.evaluate(CHARTS_JS)
        kinds = await page.evaluate(
            "Array.from(document.querySelectorAll('#kinds tbody tr'))"
            ".map(r => Array.from(r.cells).map(c => c.textContent))"
        )
    # The table's counts, drawn: every result of the demo, bulk runs and single calls alike.
    assert drawn(charts["verdicts"]) == {"normal": 9, "sensitive": 15, "suspicious": 1}
    assert drawn(charts["statuses"]) == {"succeeded": 24, "failed": 1, "ambiguous": 0, "pending": 0}
    assert drawn(charts["errors"]) == {"Cancelled": 1}  # the live stream the demo cancels
    assert sum(drawn(charts["latency"], horizontal=False).values()) == 25
    assert {row[0]: int(row[1]) for row in kinds} == {
        "audio": 1, "document": 1, "image": 7, "live": 2, "text": 9, "video": 1,
        "virus": 2, "webpage": 2,
    }  # fmt: skip


def readme_block() -> str:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    found = re.search(r"#### The HTML report\n.*?```python\n(.*?)```", readme, re.S)
    assert found is not None, "the README shows the report"
    return found.group(1)


async def test_the_readme_s_report_block_runs(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.jsonl").write_text("".join(json.dumps(r) + "\n" for r in run_records()))
    keys = ["images/clean.png", "images/ads.png", "images/porn.jpg"]
    namespace: dict[str, Any] = {}
    exec(f"async def main(client, keys):\n{textwrap.indent(readme_block(), '    ')}", namespace)
    async with client_for(emulator) as client:
        await namespace["main"](client, keys)
    page = (tmp_path / "report.html").read_text("utf-8")
    assert page.count("<tr data-verdict=") == 4  # the last write: the output file's records


def test_cosaudit_report_builds_the_page_of_an_output_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cosaudit.cli import main as cli
    from cosaudit.report import main

    out = tmp_path / "out.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in run_records()), "utf-8")
    assert cli(["report", str(out)]) == 0  # the command, as the shell runs it
    page = tmp_path / "out.html"
    assert capsys.readouterr().out == f"report: {page.resolve()}\n"
    text = page.read_text("utf-8")
    assert "<title>cosaudit run: out.jsonl</title>" in text
    assert text.count("<tr data-verdict=") == 4

    assert main([str(out), "-o", str(tmp_path / "b.html"), "--title", "T"]) == 0
    assert "<title>T</title>" in (tmp_path / "b.html").read_text("utf-8")

    with pytest.raises(SystemExit) as exit:
        main([str(out), "-o", str(out)])  # never over the run's output
    assert exit.value.code == 2

    out.write_text('{"status": "succeeded"}\n[1]\n', "utf-8")
    assert main([str(out)]) == 2
    assert "out.jsonl:2: not a JSON object" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.jsonl")]) == 2

    monkeypatch.setitem(sys.modules, "jinja2", None)
    assert main([str(out)]) == 2
    assert "pip install 'cosaudit[report]'" in capsys.readouterr().err


def test_cosaudit_report_refuses_what_is_not_a_batch_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cosaudit.report import main

    source = tmp_path / "in.jsonl"  # a batch input, not its output
    source.write_text('{"kind": "text", "content": "hi"}\n', "utf-8")
    assert main([str(source)]) == 2
    assert "in.jsonl:1: not a cosaudit batch output" in capsys.readouterr().err
    source.write_text("", "utf-8")
    assert main([str(source)]) == 2
    assert "not a cosaudit batch output" in capsys.readouterr().err
    out = tmp_path / "out.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in run_records()), "utf-8")
    page = tmp_path / "gone" / "page.html"
    assert main([str(out), "-o", str(page)]) == 2
    assert f"cannot write {page}: no folder {page.parent}" in capsys.readouterr().err


def test_cosaudit_batch_writes_the_report_of_its_output(
    browser: str, bucket_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import io

    from cosaudit.batch import main as batch

    requests = [
        {"kind": "text", "object": "texts/hello.txt", "data_id": "t-1"},
        {"kind": "text", "content": "buy porn here", "data_id": "t-2"},
        {"kind": "image", "object": "images/ads.png", "data_id": "i-1"},
        {"kind": "text", "object": "texts/missing.txt", "data_id": "t-3"},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in requests), "utf-8")
    out, page = tmp_path / "out.jsonl", tmp_path / "page.html"
    emulator = ["--emulator", "--job-duration", "0.02", "--bucket-dir", str(bucket_dir)]
    err = io.StringIO()
    assert batch([str(source), "-o", str(out), *emulator, "--report", str(page)], err=err) == 1
    assert f"report: {page.resolve()}" in err.getvalue()

    async def drawn_page() -> Any:
        async with chromium.page(browser) as tab:
            await tab.load(page.as_uri())
            return await tab.evaluate(CHARTS_JS), await tab.evaluate("document.title")

    charts, title = asyncio.run(drawn_page())
    assert title == f"cosaudit batch {source}"
    assert drawn(charts["verdicts"]) == {
        "normal": 1,
        "sensitive": 2,
        "suspicious": 0,
        "no verdict": 1,
    }
    assert drawn(charts["statuses"]) == {"succeeded": 3, "failed": 1, "ambiguous": 0, "pending": 0}
    assert drawn(charts["labels"]) == {"Porn": 1, "Ads": 1}

    # Refused before anything is sent: over the output, or without the extra.
    again = ["-o", str(tmp_path / "o2.jsonl"), *emulator]
    assert batch([str(source), *again, "--report", str(tmp_path / "o2.jsonl")], err=err) == 2
    monkeypatch.setitem(sys.modules, "pygal", None)
    err = io.StringIO()
    assert batch([str(source), *again, "--report", str(page)], err=err) == 2
    assert "pip install 'cosaudit[report]'" in err.getvalue()
    assert not (tmp_path / "o2.jsonl").exists()
