"""A run in a notebook: results collected into records and a pandas DataFrame, an HTML table,
results and verdicts that print as words, and a jobs table with coloured verdicts that names
the input of jobs without a DataId.

Notebook rendering is checked with IPython's display formatter when IPython is installed (it
is not a test dependency), else by calling ``_repr_html_`` as the formatter would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import client_for

from cosaudit import ItemStatus, TextJob, jobs_table
from cosaudit.bulk import Collected
from cosaudit.bulk.collected import ROWS_SHOWN
from cosaudit.bulk.records import FIELDS, record
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.models import HitFlag, Result, structure

README = Path(__file__).resolve().parents[1] / "README.md"


def html_of(shown: object) -> str:
    """What a notebook shows for ``shown``, as HTML."""
    try:
        from IPython.core.formatters import DisplayFormatter
    except ImportError:
        method = getattr(shown, "_repr_html_", None)
        assert callable(method), f"{type(shown).__name__} has no HTML repr"
        html = method()
        assert isinstance(html, str)
        return html
    data, _ = DisplayFormatter().format(shown)
    return str(data["text/html"])


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[Emulator]:
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts/ad.txt").write_text("buy now, cheap", "utf-8")
    (tmp_path / "posts/ok.txt").write_text("a lovely day", "utf-8")
    async with Emulator(EmulatorConfig(bucket_dir=tmp_path, final_after_polls=1)) as emulator:
        yield emulator


async def collected(emu: Emulator, items: list[Any]) -> Collected[TextJob]:
    async with client_for(emu) as client:
        return await client.moderate_many(items, kind="text", concurrency=4).collect()


async def test_collect_gives_records_and_a_dataframe(emu: Emulator) -> None:
    items = ["posts/ad.txt", "posts/ok.txt", "posts/missing.txt", {"content": "you idiot"}]
    results = await collected(emu, items)
    assert len(results) == 4 and results.summary.handed_over == 4
    assert {r.status for r in results} == {ItemStatus.SUCCEEDED, ItemStatus.FAILED}
    assert repr(results) == "<Collected text: 4 results: 3 succeeded, 1 failed>"
    assert str(results) == str(results.summary)

    records = results.to_records()
    assert records == [record(r, kind="text") for r in results]
    assert all(tuple(rec) == FIELDS for rec in records)
    json.dumps(records)  # plain data

    frame = results.to_pandas()
    # The record's order, the nested input and scenes flattened in place.
    assert len(frame) == 4 and list(frame.columns[:2]) == ["data_id", "kind"]
    assert set(frame.columns[2:4]) == {"input.object", "input.content_sha256"}
    assert frame.columns[4] == "job_id" and frame.columns[-1] == "resumed"
    row = frame.set_index("data_id")
    assert row.loc["posts/ad.txt", "verdict"] == "sensitive"
    assert row.loc["posts/ad.txt", "result"] == 1
    assert row.loc["posts/ad.txt", "scenes.ads.score"] > 0
    assert row.loc["posts/ad.txt", "scenes.ads.keywords"] == ["buy now"]
    assert row.loc["posts/missing.txt", "code"] == "ResourceNotFound"
    # Integers stay integers where a failed item has none.
    assert str(frame["result"].dtype) == "Int64" and frame["result"].isna().sum() == 1
    assert frame["input.content_sha256"].notna().sum() == 1
    assert "you idiot" not in frame.to_csv()


async def test_an_empty_run_gives_the_record_columns(emu: Emulator) -> None:
    frame = (await collected(emu, [])).to_pandas()
    assert list(frame.columns) == list(FIELDS) and len(frame) == 0


async def test_to_pandas_without_pandas_says_how_to_get_it(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = await collected(emu, ["posts/ok.txt"])
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        results.to_pandas()
    assert results.to_records()[0]["verdict"] == "normal"  # records need nothing


async def test_a_notebook_shows_the_summary_and_the_first_rows(emu: Emulator) -> None:
    items = ["posts/ad.txt", *({"content": f"post {i}"} for i in range(ROWS_SHOWN + 4))]
    results = await collected(emu, items)
    html = html_of(results)
    assert html.count("<table>") == 2  # the summary, then the results
    assert (
        "By verdict" in html and f'<td>items</td><td style="text-align:right">{len(items)}' in html
    )
    rows = html.split("<table>")[2]
    assert rows.count("<tr><td") == ROWS_SHOWN + 1  # the first rows, then how many more
    assert "… and 5 more (to_pandas() has them all)" in html
    assert ">sensitive</td>" in html and 'style="background:#fce8e6' in html
    assert "post 3" not in html  # content is shown by digest only
    assert html_of(results.summary) in html
    assert "<th>status</th><td>succeeded</td>" in html_of(results[0])


def test_verdicts_and_hit_flags_print_as_words_and_stay_numbers() -> None:
    verdict = Result.SENSITIVE
    assert (str(verdict), f"{verdict}", f"{verdict:>10}") == (
        "sensitive",
        "sensitive",
        " sensitive",
    )
    assert (f"{verdict:d}", json.dumps(verdict), verdict == 1, int(verdict)) == ("1", "1", True, 1)
    assert str(HitFlag.SUSPECTED) == "suspected" and f"{HitFlag.HIT:02d}" == "01"


def test_a_job_repr_shows_the_size_of_echoed_content_not_its_base64() -> None:
    echo = base64.b64encode(b"my private message " * 20).decode()
    job = structure(TextJob, {"JobId": "st1", "State": "Success", "Result": "0", "Content": echo})
    assert echo not in repr(job) and f"content=<{len(echo)} characters>" in repr(job)
    assert str(job.verdict) == "normal"


SIGNED = "https://user:pw@example.com/b.txt?sign=SECRET"


def test_jobs_table_colours_verdicts_and_names_the_input_without_a_data_id() -> None:
    echo = base64.b64encode(b"hello there").decode()
    jobs = [
        structure(TextJob, {"JobId": "st1", "State": "Success", "Result": "1", "DataId": "p-1"}),
        structure(TextJob, {"JobId": "st2", "State": "Success", "Result": "2", "Object": "a.txt"}),
        structure(TextJob, {"JobId": "st3", "State": "Success", "Result": "0", "Url": SIGNED}),
        structure(TextJob, {"JobId": "st4", "State": "Success", "Result": "0", "Content": echo}),
    ]
    table = jobs_table(jobs)
    digest = hashlib.sha256(b"hello there").hexdigest()[:16]
    text = str(table)
    for shown in ("p-1", "(a.txt)", "(https://example.com/b.txt?…)", f"(sha256:{digest})"):
        assert shown in text and shown.replace("&", "&amp;") in html_of(table)
    html = html_of(table)
    assert "SECRET" not in text + html and "pw@" not in text + html
    assert '<td style="background:#fce8e6;color:#8c1d18">sensitive</td>' in html
    assert '<td style="background:#fef3e0;color:#7a4a00">suspicious</td>' in html
    assert html.count('<td style="background:#e6f4ea;color:#1e4620">normal</td>') == 2
    assert html.count("<tr>") == 5  # the header and four rows
    assert '<td style="background:#fce8e6;color:#8c1d18">sensitive</td>' in html_of(jobs[0])


async def test_the_readme_notebook_section_runs(emu: Emulator) -> None:
    """The README's notebook block, from after its ``client.open()``, as written."""
    found = re.search(r"### In a notebook\n\n```python\n(.*?)```", README.read_text("utf-8"), re.S)
    assert found is not None, "the README has a notebook section"
    code = found.group(1).split("await client.open()\n", 1)[1]
    assert "progress=True" in code and ".to_pandas()" in code and "results  #" in code
    namespace: dict[str, Any] = {"jobs_table": jobs_table}
    exec(f"async def main(client, texts):\n{textwrap.indent(code, '    ')}", namespace)
    async with client_for(emu) as client:
        await namespace["main"](client, ["hello", "buy now, cheap", "you idiot"])
