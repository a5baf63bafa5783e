"""The main job: ``cosaudit demo`` end to end on the embedded emulator."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from cosaudit.cli import main
from cosaudit.demo import DEFAULT_REPORT, run_demo


async def test_demo_moderates_every_sample() -> None:
    out = io.StringIO()
    status = await run_demo(out, concurrency=8, job_duration=(0.02, 0.1))
    text = out.getvalue()
    assert status == 0, text
    lines = text.splitlines()

    def row(prefix: str) -> str:
        (line,) = [line for line in lines if line.startswith(prefix)]
        return line

    # every kind is in the table, with the verdict the emulator's keyword rules decide
    assert "Ads" in row("text: Buy now!")
    assert "Normal" in row("text: 今天天气很好")
    assert "suspicious" in row("text: That dress is so sexy")
    assert "Ads" in row("text object: posts/promo.txt")
    assert "Abuse" in row("text object: posts/rant.txt")
    assert "Normal" in row("image object: img/cat.png")
    assert "Ads" in row("image object: img/flyer.png")
    assert "Porn" in row("image bytes: <png: nude selfie>")
    assert "Terrorism" in row("image batch: img/poster.png")
    pages = {
        line.split()[1].rsplit("/", 1)[1]: line for line in lines if line.startswith("webpage:")
    }
    assert "Normal" in pages["index.html"]
    assert "Ads" in pages["shop.html"]
    assert "Ads" in row("video: media/party.mp4")
    assert "Porn" in row("audio: media/voicemail.mp3")
    assert "Terrorism" in row("document: media/handbook.pdf")
    assert row("live (wait): rtmp://127.0.0.1/live/room1").split()[4:6] == ["Success", "Normal"]
    assert row("live (cancel): rtmp://127.0.0.1/live/room2").split()[4:6] == ["Cancelled", "Ads"]
    assert "Virus (Win32.Trojan.Example)" in row("virus scan: media/tools.zip")
    assert "normal" in row("virus scan: media/handbook.pdf")
    assert "25 results from 23 calls" in text
    assert "9 normal, 15 sensitive, 1 suspicious, 0 errors" in text
    assert "badcase reported: 'That dress is so sexy" in text


def test_cli_help_and_usage(capsys: object) -> None:
    assert main(["--help"]) == 0
    assert main([]) == 2


def test_ctrl_c_ends_the_demo_with_130_and_a_sentence_not_a_traceback() -> None:
    import signal
    import subprocess
    import sys

    command = [sys.executable, "-m", "cosaudit", "demo", "--job-duration", "30", "60"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        assert p.stdout is not None
        assert p.stdout.readline().startswith("cosaudit demo: ")  # under way: jobs of 30-60 s
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    assert p.returncode == 130
    assert "interrupted" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv", [["--concurrency", "0"], ["--job-duration", "2", "1"], ["--job-duration", "x", "1"]]
)
def test_bad_demo_arguments_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["demo", *argv])
    assert exit.value.code == 2


async def test_each_kind_goes_through_the_bulk_runner_with_its_bar(tmp_path: Path) -> None:
    out, bars = io.StringIO(), io.StringIO()  # a file: tqdm draws there, terminal or not
    report = tmp_path / "report.html"
    status = await run_demo(
        out, concurrency=8, job_duration=(0.02, 0.1), progress=bars, report=report
    )
    assert status == 0, out.getvalue()
    drawn = bars.getvalue()
    kinds = {"text": 9, "image": 4, "webpage": 2, "video": 1, "audio": 1, "document": 1}
    for kind, count in {**kinds, "virus": 2}.items():
        assert re.search(rf"{kind}: 100%.* {count}/{count} .*succeeded {count}, failed 0", drawn)
    assert "live" not in drawn and "batch" not in drawn  # single calls, not bulk runs
    assert out.getvalue().endswith(f"\nreport: {report.resolve()} (open it in a browser)\n")
    assert report.read_text("utf-8").startswith("<!DOCTYPE html>")  # drawn: test_report.py


def test_the_command_writes_the_report_where_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--job-duration", "0.02", "0.1"]) == 0
    written = (tmp_path / DEFAULT_REPORT).resolve()
    assert written.is_file()
    assert f"report: {written} (open it in a browser)" in capsys.readouterr().out
    assert main(["demo", "--job-duration", "0.02", "0.1", "--no-report", "--concurrency", "2"]) == 0
    assert "report:" not in capsys.readouterr().out


def test_without_the_report_extra_the_demo_runs_and_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "pygal", None)  # as after `pip install .` alone
    assert main(["demo", "--job-duration", "0.02", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "9 normal, 15 sensitive, 1 suspicious, 0 errors" in out
    assert out.rstrip().endswith("pip install 'cosaudit[report]'")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit) as exit:  # asked for by name: refused before the run
        main(["demo", "--report", "mine.html"])
    assert exit.value.code == 2
    assert "pip install 'cosaudit[report]'" in capsys.readouterr().err
