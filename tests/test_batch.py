"""``cosaudit batch`` run as users run it: a subprocess over loopback, against the embedded
emulator or an emulator this test holds (behind a proxy that can stall one request, so a kill or
a Ctrl-C lands at a known point), with the output and the journal read back."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import io
import json
import os
import pty
import re
import shlex
import signal
import struct
import sys
import termios
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from cosaudit.batch import main as batch_main
from cosaudit.bulk.outputfile import OutputFile
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.images import png_with_text
from cosaudit.journal import Journal
from cosaudit.testing import emulated

BUCKET = "examplebucket-1250000000"
REGION = "ap-guangzhou"
EMULATOR = ("--emulator", "--job-duration", "0.05")


async def batch(
    *args: str | Path, env: dict[str, str] | None = None, stdin: bytes | None = None
) -> tuple[int, str]:
    """Run ``cosaudit batch ARGS``; its exit status and standard error."""
    process = await start(*args, env=env, stdin=stdin is not None)
    _, err = await process.communicate(stdin)
    assert process.returncode is not None
    return process.returncode, err.decode()


async def start(
    *args: str | Path, env: dict[str, str] | None = None, stdin: bool = False
) -> asyncio.subprocess.Process:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "COS_"))}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cosaudit",
        "batch",
        *map(str, args),
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**base, **(env or {})},
    )


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), "utf-8")
    return path


MIXED = [
    {"kind": "text", "object": "texts/hello.txt", "data_id": "t-1"},
    {"kind": "text", "content": "buy porn here", "data_id": "t-2"},
    {"kind": "image", "object": "images/ads.png", "data_id": "i-1"},
    {"kind": "text", "url": "https://example.com/a?q-signature=secret", "data_id": "u-1"},
]


async def test_jsonl_of_several_kinds_gives_one_record_each(bucket_dir: Path, tmp_path: Path):
    source = write_jsonl(tmp_path / "in.jsonl", MIXED[:3])
    out = tmp_path / "out.jsonl"
    status, err = await batch(source, "-o", out, *EMULATOR, "--bucket-dir", bucket_dir)
    assert status == 0, err
    records = {r["data_id"]: r for r in lines(out)}
    assert set(records) == {"t-1", "t-2", "i-1"}
    assert records["i-1"]["kind"] == "image"
    assert records["i-1"]["input"] == {"object": "images/ads.png"}
    assert records["t-2"]["verdict"] == "sensitive"
    assert records["t-2"]["label"] == "Porn"
    assert records["t-2"]["scenes"]["porn"]["hit_flag"] == 1
    assert "buy porn here" not in out.read_text()  # inline content: only its digest
    assert len(records["t-2"]["input"]["content_sha256"]) == 64
    assert records["t-1"]["verdict"] == "normal"
    assert all(r["status"] == "succeeded" for r in records.values())
    journal = (tmp_path / "out.jsonl.journal").read_text()
    assert '"kind":"mixed"' in journal
    assert '"k":"image"' in journal


async def test_csv_with_a_header(bucket_dir: Path, tmp_path: Path):
    source = tmp_path / "in.csv"
    source.write_text(
        "kind,object,content,data_id,detect_type\n"
        "text,texts/abuse.txt,,c-1,\n"
        'text,,"hello, world",c-2,"[""Porn""]"\n'
        "image,images/clean.png,,c-3,\n",
        "utf-8",
    )
    out = tmp_path / "out.jsonl"
    status, err = await batch(source, "-o", out, *EMULATOR, "--bucket-dir", bucket_dir)
    assert status == 0, err
    records = {r["data_id"]: r for r in lines(out)}
    assert records["c-1"]["label"] == "Abuse"
    assert records["c-2"]["verdict"] == "normal"
    assert records["c-3"]["kind"] == "image"


async def test_image_content_as_base64_in_jsonl_and_csv(bucket_dir: Path, tmp_path: Path):
    """JSON and CSV carry no bytes: an image's content comes as base64 (README batch input)."""
    picture = png_with_text("Buy now with this discount code")
    encoded = base64.b64encode(picture).decode("ascii")
    jsonl = write_jsonl(tmp_path / "in.jsonl", [{"kind": "image", "content": encoded}])
    csv_file = tmp_path / "in.csv"
    csv_file.write_text(f"kind,content,data_id\nimage,{encoded},b-1\n", "utf-8")
    for source in (jsonl, csv_file):
        out = tmp_path / f"{source.suffix[1:]}.out.jsonl"
        status, err = await batch(source, "-o", out, *EMULATOR, "--bucket-dir", bucket_dir)
        assert status == 0, err
        (record,) = lines(out)
        assert (record["kind"], record["status"], record["label"]) == ("image", "succeeded", "Ads")
        assert record["input"]["content_sha256"] == hashlib.sha256(picture).hexdigest()


async def test_the_readme_batch_sample_flags_its_inline_text() -> None:
    """A newcomer running the README's sample sees a flagged item, not only Normal ones."""
    readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    sample = re.search(r"cat > requests.jsonl <<'LINES'\n(.*?)LINES\n", readme, re.DOTALL)
    assert sample is not None
    texts = [row["content"] for row in map(json.loads, sample[1].splitlines()) if "content" in row]
    assert texts
    async with emulated() as cos, cos.client() as client:
        for text in texts:
            job = await client.text.moderate(text)
            assert job.is_sensitive, f"the emulator passes the README's sample {text!r}"


async def test_stdin_and_a_failed_item_exit_1(bucket_dir: Path, tmp_path: Path):
    rows = [
        {"kind": "text", "object": "texts/hello.txt"},
        {"kind": "text", "object": "texts/gone.txt", "data_id": "gone"},
    ]
    stdin = "".join(json.dumps(row) + "\n" for row in rows).encode()
    out = tmp_path / "out.jsonl"
    status, err = await batch("-", "-o", out, *EMULATOR, "--bucket-dir", bucket_dir, stdin=stdin)
    assert status == 1, err
    records = {r["data_id"]: r for r in lines(out)}
    assert records["gone"]["status"] == "failed"
    assert records["gone"]["code"]
    assert records["texts/hello.txt"]["status"] == "succeeded"
    assert "1 failed" in err
    # Resuming a finished run sends nothing and still tells the whole output's story.
    status, err = await batch(
        "-", "-o", out, *EMULATOR, "--bucket-dir", bucket_dir, "--resume", stdin=stdin
    )
    assert status == 1, err
    assert "2 lines of finished items kept" in err
    assert "1 item of earlier runs did not succeed" in err
    # An output that lost lines the journal finished cannot be made whole again: refused.
    out.write_text(out.read_text().splitlines(keepends=True)[0])
    status, err = await batch(
        "-", "-o", out, *EMULATOR, "--bucket-dir", bucket_dir, "--resume", stdin=stdin
    )
    assert status == 2
    assert "cut or replaced" in err


async def test_a_prefix_listing_over_several_pages(bucket_dir: Path, tmp_path: Path):
    out = tmp_path / "out.jsonl"
    status, err = await batch(
        *("--prefix", "images/", "--kind", "auto", "--max-keys", "2", "-o", out),
        *EMULATOR, "--bucket-dir", bucket_dir, "--report", tmp_path / "page.html",
    )  # fmt: skip
    assert status == 0, err
    page = (tmp_path / "page.html").read_text("utf-8")
    assert "<title>cosaudit batch --prefix images/ --kind auto</title>" in page  # not "None"
    records = {r["data_id"]: r for r in lines(out)}
    images = {"images/ads.png", "images/clean.png", "images/porn.jpg", "images/sexy.gif"}
    assert set(records) == images | {"images/广告 1.png"}  # three pages of two
    assert {r["kind"] for r in records.values()} == {"image"}
    assert records["images/ads.png"]["input"] == {"object": "images/ads.png"}
    assert "1 listed objects skipped" in err and "images/broken.bin" in err  # no kind for .bin
    status, err = await batch("--prefix", "images/", "-o", tmp_path / "o2", *EMULATOR)
    assert status == 2 and "--kind" in err


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"kind": "text", "object": "a.txt"}\n"just a string"\n', "line 2: line"),
        ('{"kind": "text", "object": "a.txt"}\n{"kind": "text"}\n', "line 2: input"),
        ('{"kind": "text", "object": "a.txt", "colour": 1}\n', "line 1: colour"),
        ('{"kind": "sound", "object": "a.txt"}\n', "line 1: kind"),
        ('{"object": "a.txt"}\n', "--kind"),
        ("some text\nmore text\n", "not JSONL; a CSV needs a header naming object"),
        ("a.txt,text\nb.txt,text\n", "not JSONL; a CSV needs a header naming object"),
        ("object,kind\n", "no items"),
        ("\n\n", "no items"),
        ('{"kind": "text", "object": "a.txt"}\n{"kind": "text", "object": "a.txt"}\n', "line 2"),
        ("{not json\n", "line 1: json"),
        ('{"kind": "image", "content": "not base64!"}\n', "line 1: content: must be base64"),
    ],
)
def test_a_bad_line_is_a_usage_error_before_anything_is_sent(tmp_path: Path, text: str, says: str):
    source = tmp_path / ("in.jsonl" if text.startswith("{") else "in.txt")
    source.write_text(text, "utf-8")
    out = tmp_path / "out.jsonl"
    err = io.StringIO()  # in-process: the check fails before any event loop or emulator
    assert batch_main([str(source), "-o", str(out), "--emulator"], err=err) == 2
    assert says in err.getvalue()
    assert not out.exists()  # nothing run


async def test_configuration_errors_exit_2(tmp_path: Path):
    source = write_jsonl(tmp_path / "in.jsonl", MIXED[:1])
    out = tmp_path / "out.jsonl"
    status, err = await batch(source, "-o", out, "--bucket", BUCKET, "--region", REGION)
    assert status == 2
    assert "TENCENTCLOUD_SECRET_ID" in err
    assert "Traceback" not in err
    status, err = await batch(source, "-o", out)
    assert status == 2
    assert "--bucket" in err
    out.write_text("")
    status, err = await batch(source, "-o", out, "--emulator")
    assert status == 2
    assert "--resume" in err


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--prefix", "a/", "--kind", "text"], "not both"),
        (["--bucket-dir", "no-such-folder"], "--bucket-dir no-such-folder does not exist"),
    ],
)
def test_usage_errors_before_anything_runs(tmp_path: Path, extra: list[str], says: str):
    source = write_jsonl(tmp_path / "in.jsonl", MIXED[:1])
    out = tmp_path / "out.jsonl"
    err = io.StringIO()
    assert batch_main([str(source), "-o", str(out), "--emulator", *extra], err=err) == 2
    assert says in err.getvalue()
    assert not out.exists()


class Stall:
    """A proxy in front of the emulator that holds the first request matching ``predicate``
    unanswered and sets ``reached`` when it arrives."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.reached = asyncio.Event()
        self.armed = False
        self.release = asyncio.Event()

    def matches(self, request: web.Request) -> bool:
        return request.method == "GET" and "/text/auditing/" in request.path

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.armed and self.matches(request):
            self.armed = False
            self.reached.set()
            await self.release.wait()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        async with (
            aiohttp.ClientSession(auto_decompress=False) as session,
            session.request(
                request.method,
                self.target + request.path_qs,
                headers=headers,
                data=await request.read(),
            ) as answer,
        ):
            body = await answer.read()
            return web.Response(status=answer.status, body=body, headers=answer.headers)


@pytest.fixture
async def stalling(bucket_dir: Path) -> AsyncIterator[tuple[Emulator, Stall, str, dict[str, str]]]:
    config = EmulatorConfig(bucket_dir=bucket_dir, job_duration=0.05)
    async with Emulator(config) as emulator:
        stall = Stall(emulator.url)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", stall.handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        env = {
            "TENCENTCLOUD_SECRET_ID": config.secret_id,
            "TENCENTCLOUD_SECRET_KEY": config.secret_key,
        }
        try:
            yield emulator, stall, f"http://127.0.0.1:{server.port}", env
        finally:
            stall.release.set()
            await server.close()


def kill_input(tmp_path: Path) -> tuple[Path, list[str]]:
    """Ten inline texts, one object (whose first poll the proxy stalls), ten more texts."""
    rows = [{"kind": "text", "content": f"text {n}", "data_id": f"a-{n}"} for n in range(10)]
    rows.append({"kind": "text", "object": "texts/abuse.txt", "data_id": "object"})
    rows += [{"kind": "text", "content": f"text {n}", "data_id": f"b-{n}"} for n in range(10)]
    return write_jsonl(tmp_path / "in.jsonl", rows), [row["data_id"] for row in rows]


async def test_resume_after_kill_9_writes_each_item_once_and_submits_none_twice(
    stalling: tuple[Emulator, Stall, str, dict[str, str]], tmp_path: Path
):
    emulator, stall, url, env = stalling
    source, ids = kill_input(tmp_path)
    out = tmp_path / "out.jsonl"
    where = ("--endpoint", url, "--bucket", BUCKET, "--region", REGION)
    stall.armed = True
    # One at a time: when the object's poll arrives, the ten texts before it are written and
    # journaled done, and the object's JobId is journaled.
    process = await start(source, "-o", out, *where, "--concurrency", "1", env=env)
    await stall.reached.wait()
    process.kill()
    await process.wait()
    assert [r["data_id"] for r in lines(out)] == ids[:10]
    stall.release.set()

    status, err = await batch(source, "-o", out, *where, "--resume", env=env)
    assert status == 0, err
    records = lines(out)
    assert sorted(r["data_id"] for r in records) == sorted(ids)  # each item once
    resumed = [r for r in records if r["resumed"]]
    assert [r["data_id"] for r in resumed] == ["object"]  # waited for by its JobId
    assert resumed[0]["label"] == "Abuse"
    assert sum(emulator.stats.submits.values()) == len(ids)  # nothing submitted twice


async def test_ctrl_c_prints_the_summary_and_how_to_resume(
    stalling: tuple[Emulator, Stall, str, dict[str, str]], tmp_path: Path
):
    emulator, stall, url, env = stalling
    source, ids = kill_input(tmp_path)
    out = tmp_path / "out.jsonl"
    where = ("--endpoint", url, "--bucket", BUCKET, "--region", REGION)
    stall.armed = True
    given = [str(source), "-o", str(out), *where, "--concurrency", "1"]
    process = await start(*given, env=env)
    await stall.reached.wait()
    process.send_signal(signal.SIGINT)
    _, raw = await process.communicate()
    err = raw.decode()
    assert process.returncode == 130, err
    # Every option as given (the endpoint, bucket...), so the hint can be run as it stands.
    assert f"rerun with --resume to continue (cosaudit batch {shlex.join(given)} --resume)" in err
    assert re.search(r"succeeded +10\n", err), err  # the summary so far
    assert "Traceback" not in err
    stall.release.set()
    status, err = await batch(source, "-o", out, *where, "--resume", env=env)
    assert status == 0, err
    assert sorted(r["data_id"] for r in lines(out)) == sorted(ids)
    assert sum(emulator.stats.submits.values()) == len(ids)


def test_resume_keeps_only_lines_the_journal_finished(tmp_path: Path):
    """The window a kill can hit: a line written, its item not yet journaled done; and a torn
    last line."""
    journal = Journal.open(tmp_path / "j", "mixed", fsync=False)
    journal.submitted("a", "st1")
    journal.done("a", "st1", state="Success")
    journal.submitted("b", "st2")  # written to the output, killed before 'done'
    journal.close()
    out = tmp_path / "out.jsonl"
    out.write_bytes(
        b'{"data_id":"a","status":"succeeded"}\n{"data_id":"b","status":"succeeded"}\n{"data_'
    )
    journal = Journal.open(tmp_path / "j", "mixed", fsync=False)
    output, kept, dropped = OutputFile.resume(out, journal.is_finished)
    output.close()
    journal.close()
    assert (dict(kept), dropped) == ({"succeeded": 1}, 2)
    assert out.read_bytes() == b'{"data_id":"a","status":"succeeded"}\n'


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


async def test_a_progress_bar_on_a_terminal_with_the_checked_total(
    bucket_dir: Path, tmp_path: Path
):
    rows = [{"kind": "text", "content": f"post {n}", "data_id": f"p-{n}"} for n in range(7)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    main_fd, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cosaudit", "batch", str(source), "-o", str(tmp_path / "o"),
            *EMULATOR, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=terminal,
        )  # fmt: skip
        os.close(terminal)
        reading = asyncio.ensure_future(asyncio.to_thread(_read_all, main_fd))
        await child.wait()
        drawn = (await reading).decode()
    finally:
        os.close(main_fd)
    assert child.returncode == 0, drawn
    bars = [part for part in drawn.replace("\r\n", "\n").split("\r") if "7/7" in part]
    assert bars and "100%" in bars[-1] and "succeeded 7" in bars[-1], drawn


def test_resume_with_emulator_refuses_jobs_the_gone_emulator_held(tmp_path: Path):
    source = write_jsonl(tmp_path / "in.jsonl", MIXED[:2])
    out = tmp_path / "out.jsonl"
    out.write_text("")
    # What a Ctrl-C leaves: t-1 submitted to the embedded emulator, which ended with its run.
    journal = Journal.open(tmp_path / "out.jsonl.journal", "mixed", fsync=False)
    journal.trying("t-1", kind="text")
    journal.submitted("t-1", "st-gone", kind="text")
    journal.close()
    err = io.StringIO()
    assert batch_main([str(source), "-o", str(out), "--emulator", "--resume"], err=err) == 2
    assert "1 item of" in err.getvalue() and "cosaudit emulator" in err.getvalue()
    assert out.read_text() == ""  # nothing run


async def test_wrong_keys_stop_the_run_and_a_resume_with_the_right_ones_finishes(tmp_path: Path):
    rows = [{"kind": "text", "content": f"post {i}", "data_id": f"p-{i}"} for i in range(30)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    async with Emulator(EmulatorConfig()) as emulator:
        where = ("--endpoint", emulator.url, "--bucket", BUCKET, "--region", REGION)
        run = (source, "-o", out, *where, "--concurrency", "1", "--rate", "1000")
        wrong = {
            "TENCENTCLOUD_SECRET_ID": emulator.config.secret_id,
            "TENCENTCLOUD_SECRET_KEY": "not-the-key",
        }
        status, err = await batch(*run, env=wrong)
        assert status == 2, err
        assert "SignatureDoesNotMatch" in err and "check your keys / bucket" in err
        assert len(lines(out)) < len(rows)  # stopped, not ground through every item
        right = {**wrong, "TENCENTCLOUD_SECRET_KEY": emulator.config.secret_key}
        status, err = await batch(*run, "--resume", env=right)
        assert status == 0, err
    assert sorted(r["data_id"] for r in lines(out)) == sorted(row["data_id"] for row in rows)
    assert {r["status"] for r in lines(out)} == {"succeeded"}
