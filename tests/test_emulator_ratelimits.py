"""The emulator's per-API request-rate limits: ``SlowDown`` beyond them, over signed loopback
requests, on a manual clock (a second passes when the test says so)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest
import xmltodict
from conftest import ManualClock
from test_emulator import Api

from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.cli import build_parser
from cosaudit.emulator.kinds import routes
from cosaudit.emulator.ratelimits import DEFAULT_QPS, api_name, parse_qps


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_an_api_over_its_rate_answers_slowdown_until_tokens_return(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    config = EmulatorConfig(clock=clock, qps="text=2,image=1")
    async with Emulator(config) as emu:
        api = Api(emu, session)
        statuses = [(await api.text(f"post {i}")).status for i in range(3)]
        assert statuses == [200, 200, 429]  # a burst of one second's worth, then refused
        refused = await api.text("again")
        assert xmltodict.parse(refused.body)["Error"]["Code"] == "SlowDown"
        # Other APIs keep their own budget: the text limit does not touch text queries.
        assert (await api.query("text", "st-unknown")).status == 404
        clock.advance(0.5)  # one token back at 2/s
        assert [(await api.text("later")).status for _ in range(2)] == [200, 429]
        # The single-image GET answers as COS: 503 SlowDown (page 436/7730).
        image = {"ci-process": "sensitive-content-recognition"}
        first = await api.call("GET", "/pics/cat.jpg", params=image)
        second = await api.call("GET", "/pics/cat.jpg", params=image)
        assert first.status != 503 and second.status == 503
        assert xmltodict.parse(second.body)["Error"]["Code"] == "SlowDown"
        assert emu.stats.throttled == {"text": 3, "image": 1}
        assert emu.stats.faults_injected == 0  # a limit is not a fault
        assert emu.stats.submits["text"] == 3  # refused requests created nothing


def test_api_names_cover_every_route() -> None:
    names = {api_name(route.method, route.template) for route in routes()}
    assert None not in names
    assert {"text", "text-query", "image", "live-cancel", "badcase", "list-objects"} <= names


def test_the_documented_default_and_how_to_lift_it() -> None:
    assert EmulatorConfig().qps == DEFAULT_QPS == {"live-cancel": 20.0}  # page 436/48278
    assert parse_qps("text=100, image=20") == {"live-cancel": 20.0, "text": 100.0, "image": 20.0}
    assert parse_qps({"live-cancel": float("inf")}) == {"live-cancel": float("inf")}
    assert EmulatorConfig(qps="text=5").qps["text"] == 5.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("txt=5", "unknown API 'txt'"),
        ("text", "NAME=RATE"),
        ("text=fast", "number of requests/s"),
        ("text=0", "must be > 0"),
        ("text=-3", "must be > 0"),
        ("text=nan", "must be > 0"),
    ],
)
def test_a_bad_qps_is_refused_with_its_reason(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(qps=spec)
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--qps", spec])
    assert exited.value.code == 2


def test_the_cli_says_what_is_wrong_with_qps_and_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cosaudit.emulator", "--qps", "text=lots"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--qps: qps for text must be a number of requests/s, got 'lots'" in done.stderr
