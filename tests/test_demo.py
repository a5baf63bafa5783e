"""The main job: ``cosaudit demo`` end to end on the embedded emulator."""

from __future__ import annotations

import io

import pytest

from cosaudit.cli import main
from cosaudit.demo import run_demo


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
