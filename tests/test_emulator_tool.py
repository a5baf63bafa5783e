"""The emulator as a tool outside this repository: what ``cosaudit emulator`` prints
(``--print-env`` evaluated by bash lets the official SDK and ``AuditClient()`` reach it), its
start-up errors, the request log, the signature-mismatch log line, the one bucket it serves,
and readable ``--help`` everywhere."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from conftest import BUCKET, client_for

from cosaudit import AuditClient, Credentials, InvalidInput, NotFoundError
from cosaudit.cli import plain_help
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator import cli as emulator_cli
from cosaudit.emulator.config import DEFAULT_SECRET_KEY
from cosaudit.endpoints import ENDPOINT_ENV, endpoint_from_env
from cosaudit.wire.signing import authorization

ROOT = Path(__file__).resolve().parents[1]


class Served:
    """``python -m cosaudit.emulator ARGS`` on a free port, its stdout read up to the ready line."""

    def __init__(self, *args: str, log: Path | None = None) -> None:
        self._log = log.open("w") if log else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cosaudit.emulator", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self._log or subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        self.lines: list[str] = []
        for line in self.process.stdout:
            self.lines.append(line)
            if "Press Ctrl-C" in line:
                break
        self.output = "".join(self.lines)

    def stop(self) -> str:
        self.process.terminate()
        rest, _ = self.process.communicate(timeout=30)
        if self._log is not None:
            self._log.close()
        return rest


@pytest.fixture(scope="module")
def served_env() -> Iterator[Served]:
    served = Served("--print-env")
    yield served
    served.stop()


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TENCENTCLOUD_", "COS_")) and k != ENDPOINT_ENV
    }


_USE_ENV = """
import asyncio, os, urllib.parse
from cosaudit import AuditClient
from qcloud_cos import CosConfig, CosS3Client

async def ours():
    async with AuditClient(bucket="examplebucket-1250000000", region="ap-guangzhou") as client:
        return (await client.text.moderate("buy now")).label

url = urllib.parse.urlsplit(os.environ["COSAUDIT_ENDPOINT_URL"])
sdk = CosS3Client(CosConfig(
    Region="ap-guangzhou", Scheme=url.scheme, IP=url.hostname, Port=url.port,
    SecretId=os.environ["TENCENTCLOUD_SECRET_ID"], SecretKey=os.environ["TENCENTCLOUD_SECRET_KEY"],
), retry=0)
theirs = sdk.ci_auditing_text_submit(Bucket="examplebucket-1250000000", Content=b"you idiot")
print(asyncio.run(ours()), theirs["JobsDetail"]["Label"])
"""


def test_print_env_evaluated_by_bash_reaches_the_emulator(
    served_env: Served, tmp_path: Path
) -> None:
    (tmp_path / "emu.env").write_text(served_env.output)
    (tmp_path / "use_env.py").write_text(_USE_ENV)
    script = f'set -e\neval "$(cat emu.env)"\n"{sys.executable}" use_env.py\n'
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Ads", "Abuse"]


def test_print_env_output_is_exports_and_comments(served_env: Served) -> None:
    lines = served_env.output.splitlines()
    assert all(line.startswith(("export ", "# ")) for line in lines), lines
    exports = dict(line.removeprefix("export ").split("=", 1) for line in lines if "=" in line)
    assert exports[ENDPOINT_ENV].startswith("http://127.0.0.1:")
    assert exports["TENCENTCLOUD_SECRET_KEY"] == DEFAULT_SECRET_KEY


def test_the_banner_prints_the_test_key_and_hides_the_users() -> None:
    config = EmulatorConfig()
    shown = "\n".join(emulator_cli.settings_lines("http://127.0.0.1:1", config, as_env=False))
    for part in ("http://127.0.0.1:1", config.secret_id, DEFAULT_SECRET_KEY, "1250000000"):
        assert part in shown
    assert "examplebucket-1250000000" in shown
    own = EmulatorConfig(secret_key="my-real-looking-key")
    for as_env in (False, True):
        lines = emulator_cli.settings_lines("http://127.0.0.1:1", own, as_env=as_env)
        assert "my-real-looking-key" not in "\n".join(lines)
        assert not any("TENCENTCLOUD_SECRET_KEY=" in line for line in lines)


def test_endpoint_variables_agree() -> None:
    assert emulator_cli.ENDPOINT_ENV == ENDPOINT_ENV == "COSAUDIT_ENDPOINT_URL"


def test_the_endpoint_argument_wins_over_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, "http://127.0.0.1:1")
    key = Credentials("AKIDx", "k")
    from_env = AuditClient(bucket=BUCKET, region="ap-guangzhou", credentials=key)
    assert from_env.session.endpoints.endpoint == "http://127.0.0.1:1"
    given = AuditClient(
        bucket=BUCKET, region="ap-guangzhou", credentials=key, endpoint="http://127.0.0.1:2"
    )
    assert given.session.endpoints.endpoint == "http://127.0.0.1:2"
    monkeypatch.setenv(ENDPOINT_ENV, "")
    assert (
        AuditClient(
            bucket=BUCKET, region="ap-guangzhou", credentials=key
        ).session.endpoints.endpoint
        is None
    )


def test_a_bad_endpoint_variable_is_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        endpoint_from_env({ENDPOINT_ENV: "http://evil.example/#"})
    assert caught.value.field == ENDPOINT_ENV
    assert endpoint_from_env({}) is None


def test_a_missing_bucket_folder_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = emulator_cli.main(["--port", "0", "--bucket-dir", str(tmp_path / "nowhere")])
    shown = capsys.readouterr()
    assert status == 2
    assert shown.err.splitlines() == [
        f"cosaudit emulator: error: --bucket-dir {tmp_path / 'nowhere'} does not exist"
    ]
    assert shown.out == ""


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "the rules file is not JSON: Expecting value"),
        (
            '{"Ads": {"blok": ["cheap"]}}',
            "Ads has unknown field 'blok' (known: block, review)",
        ),
    ],
)
def test_a_bad_rules_file_is_named_with_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(text, "utf-8")
    with pytest.raises(SystemExit) as exited:
        emulator_cli.main(["--port", "0", "--rules", str(rules)])
    assert exited.value.code == 2
    (last,) = capsys.readouterr().err.splitlines()[-1:]
    assert last.startswith(f"cosaudit emulator: error: --rules: {rules}: ") and says in last


def test_a_port_in_use_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = emulator_cli.main(["--port", str(port)])
    lines = capsys.readouterr().err.splitlines()
    assert status == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"cosaudit emulator: error: cannot serve on 127.0.0.1:{port}:")
    assert "in use" in lines[0]


def test_log_requests_prints_each_request_without_secrets(tmp_path: Path) -> None:
    log = tmp_path / "stderr.txt"
    served = Served("--log-requests", "--faults", "slowdown:next=1", log=log)
    try:
        url = served.output.split("listening on ")[1].split()[0]
        key = Credentials(EmulatorConfig().secret_id, DEFAULT_SECRET_KEY)

        async def go() -> None:
            client = AuditClient(
                bucket=BUCKET, region="ap-guangzhou", endpoint=url, credentials=key
            )
            async with client:
                await client.text.moderate("hello")

        asyncio.run(go())
    finally:
        served.stop()
    lines = log.read_text().splitlines()
    assert any("POST /text/auditing 429" in line and "fault=slowdown" in line for line in lines)
    assert any("POST /text/auditing 200" in line and " job=" in line for line in lines), lines
    text = log.read_text()
    assert DEFAULT_SECRET_KEY not in text and "q-signature" not in text


async def test_emu_requests_records_what_was_served(emulator: Emulator) -> None:
    emulator.faults.add("reset", phase="after", count=1, method="GET")
    async with client_for(emulator) as client:
        job = await client.text.submit(object="texts/hello.txt")
        await client.text.get(job.job_id)  # reset once, then retried
    records = emulator.requests
    assert [(r.method, r.status, r.fault) for r in records] == [
        ("POST", 200, None),
        ("GET", None, "reset-after"),
        ("GET", 200, None),
    ]
    assert {r.job_id for r in records} == {job.job_id}
    assert records[0].path == "/text/auditing" and records[1].path == f"/text/auditing/{job.job_id}"
    assert all(r.latency_ms >= 0 and r.request_id for r in records)
    assert str(records[1]).startswith(f"GET /text/auditing/{job.job_id} dropped ")


async def test_the_request_log_is_bounded(bucket_dir: Path) -> None:
    async with Emulator(EmulatorConfig(bucket_dir=bucket_dir, request_log_size=2)) as emu:
        async with client_for(emu) as client:
            for text in ("a", "b", "c"):
                await client.text.moderate(text)
        assert len(emu.requests) == 2
        assert emu.stats.total_requests == 3


async def test_a_signature_mismatch_logs_the_host_as_received(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that signs ``host:port`` (the Go SDK) sees that string in the log."""
    host = f"127.0.0.1:{emulator.port}"
    now = int(time.time())
    auth = authorization(
        emulator.config.secret_id, "wrong-key", "GET", "/text/auditing/st1", {},
        {"host": host}, f"{now - 60};{now + 900}",
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="cosaudit.emulator"):
        async with aiohttp.ClientSession() as http:
            answer = await http.get(
                f"{emulator.url}/text/auditing/st1", headers={"Authorization": auth}
            )
            assert answer.status == 403
    logged = caplog.text
    assert f"host={host.replace(':', '%3A')}" in logged  # the port kept, as received
    assert "also tried host without its port" in logged
    assert "wrong-key" not in logged


async def test_a_bucket_of_the_account_other_than_the_emulators_is_refused(
    bucket_dir: Path,
) -> None:
    """The right APPID is not enough: the emulator serves one bucket, as an account would."""

    def client(emu: Emulator, bucket: str) -> AuditClient:
        key = Credentials(emu.config.secret_id, emu.config.secret_key)
        return AuditClient(bucket=bucket, region="ap-guangzhou", endpoint=emu.url, credentials=key)

    async with Emulator(EmulatorConfig(bucket_dir=bucket_dir, bucket="photos")) as emu:  # noqa: SIM117  (clients need its URL)
        async with client(emu, "photos-1250000000") as right, client(emu, BUCKET) as wrong:
            assert (await right.text.moderate("hello")).label == "Normal"
            with pytest.raises(NotFoundError) as caught:
                await wrong.text.moderate("hello")
    assert (caught.value.status, caught.value.code) == (404, "NoSuchBucket")
    async with Emulator(EmulatorConfig(bucket=None)) as any_name:  # noqa: SIM117
        async with client(any_name, "whatever-1250000000") as other:
            assert (await other.text.moderate("hello")).label == "Normal"


def test_a_bucket_given_with_its_appid_is_refused() -> None:
    with pytest.raises(ValueError, match="without '-1250000000'"):
        EmulatorConfig(bucket="examplebucket-1250000000")


_COMMANDS = [
    "cosaudit.demo",
    "cosaudit.emulator.cli",
    *(f"benchmarks.{p.stem}" for p in sorted((ROOT / "benchmarks").glob("[a-z]*.py"))),
]


@pytest.mark.parametrize("module", _COMMANDS)
def test_help_shows_no_markup(
    module: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", [module, "--help"])
    command = importlib.import_module(module)
    with pytest.raises(SystemExit) as exited:
        command.main()
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert "usage:" in shown
    if module.startswith("benchmarks."):  # a benchmark's --help is its docstring's first
        # paragraph, whole: not a line of it cut mid-sentence
        assert plain_help(command.__doc__) in " ".join(shown.split()), shown
    for markup in ("``", ":mod:", ":class:", ":func:"):
        assert markup not in shown, shown


def test_plain_help_keeps_the_words() -> None:
    doc = "Run :class:`~cosaudit.AuditClient` with ``x=1``\nover two lines.\n\nMore."
    assert plain_help(doc) == "Run cosaudit.AuditClient with x=1 over two lines."
    assert plain_help(None) == ""
