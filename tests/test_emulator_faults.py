"""Every injected fault of the emulator, over real loopback HTTP with plain aiohttp requests
signed by ``cosaudit.wire.signing`` (never the cosaudit client), each asserting the exact
outcome."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

import aiohttp
import pytest
import xmltodict
from aiohttp.test_utils import TestServer
from attrs import define
from conftest import ManualClock, url_of

from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.cli import build_parser
from cosaudit.emulator.faults import (
    JOB_FAILURE_CODES,
    Fault,
    FaultKind,
    FaultPlan,
    Faults,
    Phase,
    Rule,
)
from cosaudit.emulator.faultspec import SYNTAX, parse_faults, read_faults
from cosaudit.emulator.injection import WRONG_TYPE_PAGE
from cosaudit.wire.signing import authorization

SECRET_ID = "AKIDcosauditEMULATOR"
SECRET_KEY = "cosaudit-emulator-secret"
SINGLE = {"ci-process": "sensitive-content-recognition"}
# What a client sees when the emulator resets the connection: never a connect error or timeout.
RESET = (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)


@define(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def tree(self) -> dict[str, Any]:
        parsed: dict[str, Any] = xmltodict.parse(self.body)
        return parsed

    @property
    def code(self) -> str:
        code: str = self.tree["Error"]["Code"]
        return code

    @property
    def detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = self.tree["Response"]["JobsDetail"]
        return detail


class Signed:
    """Signed requests with plain aiohttp to ``url``, one connection each (no keep-alive: a
    reset must not be confused with a stale pooled connection)."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        now: float | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        params = dict(params or {})
        headers = {"Host": self.url.removeprefix("http://")}
        if body is not None:
            headers["Content-Type"] = "application/xml"
        signed = {k.lower(): v for k, v in headers.items()}
        start = int(time.time() if now is None else now)
        key_time = f"{start - 60};{start + 900}"
        headers["Authorization"] = authorization(
            SECRET_ID, SECRET_KEY, method, path, params, signed, key_time
        )
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as session,
            session.request(
                method, f"{self.url}{path}", params=params, data=body, headers=headers
            ) as response,
        ):
            return Reply(response.status, dict(response.headers), await response.read())

    async def text(self, text: str = "hello", data_id: str = "d-1", **kwargs: Any) -> Reply:
        content = base64.b64encode(text.encode()).decode()
        return await self.submit("text", {"Content": content, "DataId": data_id}, **kwargs)

    async def text_object(self, key: str = "texts/hello.txt", **kwargs: Any) -> Reply:
        return await self.submit("text", {"Object": key, "DataId": key}, **kwargs)

    async def submit(self, kind: str, inp: Mapping[str, Any], **kwargs: Any) -> Reply:
        body = xmltodict.unparse({"Request": {"Input": inp, "Conf": {}}}).encode()
        return await self.call("POST", f"/{kind}/auditing", body=body, **kwargs)

    async def query(self, kind: str, job_id: str) -> Reply:
        return await self.call("GET", f"/{kind}/auditing/{job_id}")

    async def single(self, key: str = "images/clean.png", **kwargs: Any) -> Reply:
        return await self.call("GET", f"/{key}", params=SINGLE, **kwargs)


class Raw(Signed):
    """:class:`Signed` requests to a running :class:`Emulator`."""

    def __init__(self, emu: Emulator) -> None:
        super().__init__(emu.url)
        self.emu = emu


def config(bucket_dir: Path, clock: ManualClock, **overrides: Any) -> EmulatorConfig:
    """Jobs take 1 s on the manual clock; ids and CreationTime are reproducible."""
    settings: dict[str, Any] = {
        "bucket_dir": bucket_dir,
        "job_duration": 1.0,
        "clock": clock,
        "wall_clock": lambda: 1_790_000_000.0,
        "seed": 7,
    }
    settings.update(overrides)
    return EmulatorConfig(**settings)


@pytest.fixture
async def raw(bucket_dir: Path, clock: ManualClock) -> AsyncIterator[Raw]:
    async with Emulator(config(bucket_dir, clock)) as emu:
        yield Raw(emu)


# --- HTTP errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cos", "status", "code"),
    [
        ("internal-error", False, 500, "InternalError"),
        ("unavailable", False, 503, "ServiceUnavailable"),
        ("slowdown", False, 429, "SlowDown"),
        ("internal-error", True, 500, "InternalError"),
        ("unavailable", True, 503, "ServiceUnavailable"),
        ("slowdown", True, 503, "SlowDown"),  # spec §2.4: 503 on the COS host
    ],
)
async def test_error_faults_answer_in_the_dialect_of_the_host_and_record_nothing(
    raw: Raw, kind: str, cos: bool, status: int, code: str
) -> None:
    raw.emu.faults.add(kind, count=1)
    reply = await (raw.single() if cos else raw.text())
    assert (reply.status, reply.code) == (status, code)
    host = "cos" if cos else "ci"
    assert reply.headers["Server"] == f"tencent-{host}"
    error = reply.tree["Error"]
    assert reply.headers[f"x-{host}-request-id"] == error["RequestId"]
    assert reply.headers[f"x-{host}-trace-id"] == error["TraceId"]
    assert ("Resource" in error) is cos
    assert (len(raw.emu.jobs), dict(raw.emu.stats.submits)) == (0, {})
    assert dict(raw.emu.stats.faults) == {kind: 1}
    again = await (raw.single() if cos else raw.text())
    assert again.status == 200


async def test_an_error_after_processing_leaves_the_job_created(raw: Raw) -> None:
    raw.emu.faults.add("internal-error", phase="after", count=1)
    reply = await raw.text_object()
    assert (reply.status, reply.code) == (500, "InternalError")
    (job_id,) = raw.emu.jobs
    assert raw.emu.jobs[job_id].request["Input"]["DataId"] == "texts/hello.txt"
    assert dict(raw.emu.stats.faults) == {"internal-error-after": 1}


async def test_fail_next_keeps_its_status_code_and_message(raw: Raw) -> None:
    raw.emu.faults.fail_next(1, status=451, code="UnavailableForLegalReasons", message="Blocked.")
    reply = await raw.text()
    assert (reply.status, reply.code) == (451, "UnavailableForLegalReasons")
    assert reply.tree["Error"]["Message"] == "Blocked."
    assert (raw.emu.faults.pending, dict(raw.emu.stats.faults)) == (0, {"error": 1})


# --- connection resets -------------------------------------------------------------------------


async def test_reset_before_processing_drops_the_connection_and_records_nothing(
    raw: Raw,
) -> None:
    raw.emu.faults.add("reset", phase="before", count=1)
    with pytest.raises(RESET):
        await raw.text_object()
    assert (len(raw.emu.jobs), dict(raw.emu.stats.submits)) == (0, {})
    assert dict(raw.emu.stats.faults) == {"reset-before": 1}
    assert (await raw.text_object()).status == 200
    assert len(raw.emu.jobs) == 1


async def test_reset_after_processing_creates_the_job_but_sends_nothing(
    raw: Raw, clock: ManualClock
) -> None:
    raw.emu.faults.add("reset", phase="after", count=1, method="POST")
    with pytest.raises(RESET):
        await raw.text_object()
    (job_id,) = raw.emu.jobs
    assert raw.emu.jobs[job_id].request["Input"]["DataId"] == "texts/hello.txt"
    assert dict(raw.emu.stats.submits) == {"text": 1}
    assert dict(raw.emu.stats.faults) == {"reset-after": 1}
    # The submit may or may not have been accepted; here it was, and the job runs to its end.
    clock.advance(1.0)
    final = await raw.query("text", job_id)
    assert (final.status, final.detail["State"], final.detail["Label"]) == (
        200,
        "Success",
        "Normal",
    )


async def test_a_reset_only_hits_authenticated_requests(raw: Raw) -> None:
    raw.emu.faults.add("reset", phase="before", count=1)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{raw.emu.url}/text/auditing/st1") as response,
    ):
        assert response.status == 401
    assert raw.emu.faults.pending == 1


# --- slow answers --------------------------------------------------------------------------------


async def test_a_slow_answer_outlasts_the_client_timeout_and_shutdown_aborts_it(
    raw: Raw,
) -> None:
    raw.emu.faults.add("slow", delay=60, count=1)
    with pytest.raises(asyncio.TimeoutError):
        await raw.text_object(timeout=0.1)
    assert len(raw.emu.jobs) == 1  # processed first: a read timeout leaves the submit unknown
    assert dict(raw.emu.stats.faults) == {"slow": 1}
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(raw.emu.close(), timeout=5)
    assert loop.time() - started < 5  # not the 60 s delay, nor aiohttp's shutdown timeout


async def test_a_slow_fault_before_processing_delays_the_job_too(raw: Raw) -> None:
    raw.emu.faults.add("slow", phase="before", delay=60, count=1)
    with pytest.raises(asyncio.TimeoutError):
        await raw.text_object(timeout=0.1)
    await asyncio.wait_for(raw.emu.close(), timeout=5)
    assert len(raw.emu.jobs) == 0  # shut down during the delay: never processed
    assert dict(raw.emu.stats.faults) == {"slow-before": 1}


async def test_a_short_delay_still_answers(raw: Raw) -> None:
    raw.emu.faults.add("slow", delay=0.05, count=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    reply = await raw.text()
    assert reply.status == 200 and reply.detail["State"] == "Success"
    assert loop.time() - started >= 0.05


# --- bodies that are not the documented XML ------------------------------------------------------


async def _real_answer(bucket_dir: Path, request: str) -> Reply:
    """What the same first request gets from a fault-free emulator of the same seed."""
    async with Emulator(config(bucket_dir, ManualClock())) as emu:
        raw = Raw(emu)
        return await (raw.single() if request == "single" else raw.text())


@pytest.mark.parametrize("request_kind", ["text", "single"])
async def test_truncated_xml_is_the_real_answer_cut_in_half(
    raw: Raw, bucket_dir: Path, request_kind: str
) -> None:
    raw.emu.faults.add("truncated", count=1)
    reply = await (raw.single() if request_kind == "single" else raw.text())
    real = await _real_answer(bucket_dir, request_kind)
    assert real.status == 200
    assert reply.status == 200
    assert reply.body == real.body[: len(real.body) // 2]
    host = "cos" if request_kind == "single" else "ci"
    assert reply.headers[f"x-{host}-request-id"] == real.headers[f"x-{host}-request-id"]
    assert (reply.headers["Server"], reply.headers["Content-Type"]) == (
        f"tencent-{host}",
        "application/xml",
    )
    with pytest.raises(ExpatError):
        xmltodict.parse(reply.body)
    assert len(raw.emu.jobs) == 1


async def test_malformed_xml_has_a_mismatched_end_tag(raw: Raw, bucket_dir: Path) -> None:
    raw.emu.faults.add("malformed", count=1)
    reply = await raw.text()
    real = await _real_answer(bucket_dir, "text")
    assert reply.status == 200
    assert real.body.endswith(b"</Response>")
    assert reply.body == real.body[: -len(b"</Response>")] + b"</Broken>"
    assert reply.headers["x-ci-request-id"] == real.headers["x-ci-request-id"]
    with pytest.raises(ExpatError, match="mismatched tag"):
        xmltodict.parse(reply.body)


async def test_wrong_content_type_is_an_html_page_with_status_200(raw: Raw) -> None:
    raw.emu.faults.add("wrong-type", count=1)
    reply = await raw.text_object()
    assert (reply.status, reply.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert reply.body == WRONG_TYPE_PAGE
    assert reply.headers["x-ci-request-id"]
    assert len(raw.emu.jobs) == 1
    assert dict(raw.emu.stats.faults) == {"wrong-type": 1}


# --- job faults ----------------------------------------------------------------------------------


async def test_a_stuck_job_never_leaves_auditing(raw: Raw, clock: ManualClock) -> None:
    raw.emu.faults.add("stuck", count=1)
    stuck = (await raw.text_object()).detail["JobId"]
    normal = (await raw.text_object()).detail["JobId"]
    clock.advance(3600 * 24)
    raw.emu.controls.final_after_polls = 1
    states = [(await raw.query("text", stuck)).detail["State"] for _ in range(5)]
    assert states == ["Auditing"] * 5
    assert raw.emu.jobs[stuck].state == "Auditing"
    final = await raw.query("text", normal)
    assert (final.detail["State"], raw.emu.jobs[normal].polls) == ("Success", 1)
    assert dict(raw.emu.stats.faults) == {"stuck": 1}


@pytest.mark.parametrize("code", sorted(JOB_FAILURE_CODES))
async def test_a_job_ends_failed_with_each_documented_code(
    raw: Raw, clock: ManualClock, code: str
) -> None:
    raw.emu.faults.add("job-failed", code=code, count=1)
    submitted = await raw.text_object()
    assert (submitted.status, submitted.detail["State"]) == (200, "Submitted")
    job_id = submitted.detail["JobId"]
    pending = await raw.query("text", job_id)
    assert "Code" not in pending.detail
    clock.advance(1.0)
    final = await raw.query("text", job_id)
    assert final.status == 200  # per-job failures are not HTTP errors (spec §2.4)
    detail = final.detail
    assert (detail["State"], detail["Code"], detail["Message"]) == (
        "Failed",
        code,
        JOB_FAILURE_CODES[code],
    )
    assert detail["DataId"] == "texts/hello.txt" and "Label" not in detail
    assert dict(raw.emu.stats.faults) == {"job-failed": 1}


async def test_a_failed_fetch_job_never_fetches(
    raw: Raw, clock: ManualClock, site: TestServer
) -> None:
    raw.emu.faults.add("job-failed", code="ResourceAccessDenied", count=1)
    job_id = (await raw.submit("text", {"Url": url_of(site, "/note.txt")})).detail["JobId"]
    clock.advance(1.0)
    final = (await raw.query("text", job_id)).detail
    assert (final["State"], final["Code"]) == ("Failed", "ResourceAccessDenied")


async def test_job_faults_skip_synchronous_answers(raw: Raw, clock: ManualClock) -> None:
    raw.emu.faults.add("job-failed", count=1)
    sync = await raw.text("hello")
    assert (sync.detail["State"], raw.emu.faults.pending) == ("Success", 1)
    job_id = (await raw.text_object()).detail["JobId"]
    clock.advance(1.0)
    final = (await raw.query("text", job_id)).detail
    assert (final["State"], final["Code"], raw.emu.faults.pending) == ("Failed", "InternalError", 0)


async def test_job_faults_act_per_job_of_a_batch(raw: Raw, clock: ManualClock) -> None:
    raw.emu.faults.add("job-failed", every=2, code="ResourceNotSupported", path_prefix="/image")
    items = [{"Object": "images/clean.png", "DataId": str(i)} for i in range(4)]
    body = xmltodict.unparse({"Request": {"Input": items, "Conf": {"Async": "1"}}}).encode()
    submitted = await raw.call("POST", "/image/auditing", body=body)
    clock.advance(1.0)
    states = []
    for item in submitted.tree["Response"]["JobsDetail"]:
        detail = (await raw.query("image", item["JobId"])).detail
        states.append((detail["DataId"], detail["State"], detail.get("Code")))
    assert sorted(states) == [
        ("0", "Success", None),
        ("1", "Failed", "ResourceNotSupported"),
        ("2", "Success", None),
        ("3", "Failed", "ResourceNotSupported"),
    ]
    assert dict(raw.emu.stats.faults) == {"job-failed": 2}


# --- clock skew ----------------------------------------------------------------------------------


def _server_time(reply: Reply) -> float:
    return parsedate_to_datetime(reply.headers["Date"]).timestamp()


@pytest.mark.parametrize("offset", [3600.0, -3600.0])
@pytest.mark.parametrize("cos", [False, True], ids=["ci", "cos"])
async def test_a_skewed_clock_answers_request_time_too_skewed_and_dates_its_answer(
    raw: Raw, offset: float, cos: bool
) -> None:
    raw.emu.faults.clock_offset = offset
    refused = await (raw.single() if cos else raw.text())
    assert (refused.status, refused.code) == (403, "RequestTimeTooSkewed")
    assert refused.headers["Server"] == ("tencent-cos" if cos else "tencent-ci")
    server_now = _server_time(refused)
    assert abs(server_now - (time.time() + offset)) < 5
    # A client that signs with the server's time from the Date header gets through.
    accepted = await (raw.single(now=server_now) if cos else raw.text(now=server_now))
    assert accepted.status == 200
    assert abs(_server_time(accepted) - (time.time() + offset)) < 5
    assert raw.emu.stats.faults_injected == 0  # skew is not a per-request fault


@pytest.mark.parametrize(
    ("offset", "status", "code"),
    [
        # The client signs now-60 … now+900; the server's clock is `offset` from the client's.
        (600.0, 200, None),  # inside the window
        (1200.0, 403, "AccessDenied"),  # 300 s after its end: expired
        (1850.0, 403, "RequestTimeTooSkewed"),  # 950 s after its end
        (-900.0, 403, "AccessDenied"),  # 840 s before its start
        (-1000.0, 403, "RequestTimeTooSkewed"),  # 940 s before its start
    ],
)
async def test_skew_is_measured_from_the_signed_window(
    raw: Raw, offset: float, status: int, code: str | None
) -> None:
    raw.emu.faults.clock_offset = offset
    reply = await raw.text()
    assert reply.status == status
    if code is not None:
        assert reply.code == code


async def test_creation_time_follows_the_skewed_clock(raw: Raw) -> None:
    raw.emu.faults.clock_offset = -7200
    reply = await raw.text(now=time.time() - 7200)
    # wall_clock is 1_790_000_000 (2026-09-21T22:13:20+08:00), two hours earlier here.
    assert reply.detail["CreationTime"] == "2026-09-21T20:13:20+08:00"


async def test_every_answer_carries_the_emulators_date(raw: Raw) -> None:
    missing = await raw.call("GET", "/nowhere")
    assert missing.status == 404
    assert abs(_server_time(missing) - time.time()) < 5


# --- schedules, probabilities, counters ----------------------------------------------------------


async def _statuses(raw: Raw, n: int) -> list[int]:
    return [(await raw.text()).status for _ in range(n)]


async def test_every_kth_matching_request_and_count(raw: Raw) -> None:
    raw.emu.faults.add("unavailable", every=3)
    assert await _statuses(raw, 7) == [200, 200, 503, 200, 200, 503, 200]
    raw.emu.faults.clear()
    raw.emu.faults.add("unavailable", every=2, count=2)
    assert raw.emu.faults.pending == 2
    assert await _statuses(raw, 6) == [200, 503, 200, 503, 200, 200]
    assert (raw.emu.faults.pending, raw.emu.faults.rules) == (0, ())


async def test_method_and_path_prefix_filters(raw: Raw) -> None:
    raw.emu.faults.add("internal-error", method="GET", path_prefix="/text/")
    assert (await raw.text()).status == 200  # a POST
    job_id = (await raw.text_object()).detail["JobId"]
    assert (await raw.query("text", job_id)).status == 500
    assert (await raw.query("image", "si0")).code == "AuditingJobNotFound"


async def test_the_first_rule_that_fires_wins_and_later_ones_do_not_see_it(raw: Raw) -> None:
    first = raw.emu.faults.add("unavailable", count=1)
    raw.emu.faults.add("internal-error", every=2)
    # Request 1 goes to the first rule; the second rule sees requests 2, 3, 4: fires on 3.
    assert await _statuses(raw, 4) == [503, 200, 500, 200]
    assert first not in raw.emu.faults.rules


async def test_remove_a_rule(raw: Raw) -> None:
    rule = raw.emu.faults.add("unavailable")
    assert (await raw.text()).status == 503
    raw.emu.faults.remove(rule)
    assert (await raw.text()).status == 200


async def _pattern(bucket_dir: Path, seed: int) -> list[int]:
    async with Emulator(config(bucket_dir, ManualClock(), seed=seed)) as emu:
        emu.faults.add("unavailable", probability=0.5)
        return await _statuses(Raw(emu), 16)


async def test_probabilities_are_reproducible_from_the_seed(bucket_dir: Path) -> None:
    first, again, other = [await _pattern(bucket_dir, seed) for seed in (11, 11, 12)]
    assert first == again
    assert first != other
    assert {200, 503} == set(first)


async def test_counters_by_label(raw: Raw, clock: ManualClock) -> None:
    raw.emu.faults.add("slowdown", count=2)
    raw.emu.faults.add("reset", phase="after", count=1)
    raw.emu.faults.add("stuck", count=1)
    for _ in range(2):
        await raw.text()
    with pytest.raises(RESET):
        await raw.text()
    await raw.text_object()
    assert dict(raw.emu.stats.faults) == {"slowdown": 2, "reset-after": 1, "stuck": 1}
    assert raw.emu.stats.faults_injected == 4
    assert "faults={'slowdown': 2" in repr(raw.emu.stats)
    raw.emu.stats.reset()
    assert raw.emu.stats.faults_injected == 0


# --- the fault model and the --faults option -----------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "explode"}, "unknown fault kind 'explode'"),
        ({"kind": "reset"}, "reset needs phase 'before' or 'after'"),
        ({"kind": "truncated", "phase": "before"}, "truncated only acts after processing"),
        ({"kind": "stuck", "phase": "after"}, "stuck acts on a job: it takes no phase"),
        ({"kind": "error", "status": 503}, "needs a status and a code"),
        ({"kind": "error", "status": 302, "code": "Found"}, "status must be 400-599"),
        ({"kind": "slowdown", "code": "Other"}, "slowdown has a fixed code"),
        ({"kind": "slowdown", "status": 503}, "status applies to error faults only"),
        ({"kind": "slow", "delay": -1}, "delay must be a finite number of seconds >= 0"),
        ({"kind": "reset", "phase": "after", "delay": 1}, "delay applies to slow faults only"),
        ({"kind": "job-failed", "code": "no spaces"}, "code must be a word"),
        ({"kind": "malformed", "message": "x"}, "code and message do not apply"),
        ({"kind": "slow", "phase": "during"}, "phase must be 'before' or 'after'"),
    ],
)
def test_invalid_faults_name_the_option(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault.make(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"probability": 0.0}, r"probability must be in \(0, 1\]"),
        ({"probability": 1.5}, r"probability must be in \(0, 1\]"),
        ({"count": 0}, "count must be an integer >= 1"),
        ({"every": 2.5}, "every must be an integer >= 1"),
        ({"method": "PO ST"}, "method must be an HTTP method"),
        ({"path_prefix": "text"}, "path_prefix must start with '/'"),
    ],
)
def test_invalid_triggers_name_the_option(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults().add("unavailable", **kwargs)


def test_clock_offset_must_be_finite() -> None:
    with pytest.raises(ValueError, match="clock_offset must be a finite number"):
        Faults().clock_offset = float("nan")


SPEC = (
    "slowdown:p=0.05 ; reset-after:every=20,method=post;slow:delay=40,next=1;"
    "job-failed:code=ResourceNotFound,p=0.02,path=/text;stuck:every=50;"
    "error:status=451,code=UnavailableForLegalReasons;skew=-3600"
)
PLAN = FaultPlan(
    (
        Rule(Fault.make("slowdown"), probability=0.05),
        Rule(Fault.make("reset", phase="after"), every=20, method="POST"),
        Rule(Fault.make("slow", delay=40), count=1),
        Rule(Fault.make("job-failed", code="ResourceNotFound"), 0.02, path_prefix="/text"),
        Rule(Fault.make("stuck"), every=50),
        Rule(Fault.make("error", status=451, code="UnavailableForLegalReasons")),
    ),
    clock_offset=-3600.0,
)
FILE_RULES = [
    {"kind": "slowdown", "probability": 0.05},
    {"kind": "reset", "phase": "after", "every": 20, "method": "post"},
    {"kind": "slow", "delay": 40, "next": 1},
    {"kind": "job-failed", "code": "ResourceNotFound", "p": 0.02, "path": "/text"},
    {"kind": "stuck", "every": 50},
    {"kind": "error", "status": 451, "code": "UnavailableForLegalReasons"},
]


def test_spec_string() -> None:
    assert parse_faults(SPEC) == PLAN
    assert parse_faults("") == FaultPlan()
    assert PLAN.rules[1].fault == Fault(FaultKind.RESET, Phase.AFTER)


def test_json_and_toml_files(tmp_path: Path) -> None:
    json_file = tmp_path / "faults.json"
    json_file.write_text(json.dumps({"clock_offset": -3600, "rules": FILE_RULES}))
    toml_file = tmp_path / "faults.TOML"
    toml_lines = ["skew = -3600"]
    for rule in FILE_RULES:
        toml_lines.append("[[rules]]")
        toml_lines.extend(f"{key} = {json.dumps(value)}" for key, value in rule.items())
    toml_file.write_text("\n".join(toml_lines))
    assert read_faults(str(json_file)) == PLAN
    assert read_faults(str(toml_file)) == PLAN


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("slowdown;nope", "item 2 'nope': unknown fault kind"),
        ("slow:delay", "option 'delay' is not KEY=VALUE"),
        ("slow:delay=soon", "delay: "),
        ("slowdown:p=0.1,p=0.2", "option 'p' given twice"),
        ("slowdown:p=0.1,probability=0.2", "option 'probability' given twice"),
        ("slowdown:colour=red", "unknown option 'colour'"),
        ("reset-after:phase=before", "reset-after already says phase=after"),
        ("skew=later", "item 1 'skew=later'"),
    ],
)
def test_bad_specs_name_the_item(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_faults(spec)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1]", "must hold an object"),
        ('{"rules": [{"probability": 1}]}', "rule 1: each rule needs a kind"),
        ('{"rules": {}}', "rules must be a list"),
        ('{"rule": []}', "unknown keys"),
        ('{"rules": [{"kind": "slow", "delay": true}]}', "rule 1: delay: not a number"),
        ("{", "not JSON"),
    ],
)
def test_bad_files_say_why(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "faults.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_faults(str(path))


def test_cli_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["--faults", SPEC]).faults == PLAN
    assert parser.parse_args([]).faults == FaultPlan()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--faults", "reset"])
    assert exit_info.value.code == 2
    assert "reset needs phase 'before' or 'after'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["--faults", str(tmp_path / "missing.toml")])
    assert "missing.toml" in capsys.readouterr().err
    help_text = parser.format_help()
    assert SYNTAX.splitlines()[0] in help_text and "reset-after" in help_text


async def test_a_loaded_plan_drives_the_emulator(raw: Raw) -> None:
    raw.emu.faults.load(parse_faults("unavailable:next=1;skew=7200"))
    assert (await raw.text()).code == "RequestTimeTooSkewed"  # refused before any fault
    assert (await raw.text(now=time.time() + 7200)).status == 503
    assert (await raw.text(now=time.time() + 7200)).status == 200


async def test_the_cli_serves_with_faults_and_prints_the_counters_on_stop() -> None:
    command = [sys.executable, "-m", "cosaudit.emulator", "--port", "0", "--seed", "1"]
    command += ["--faults", "unavailable:next=1;skew=60"]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        match = re.search(r"listening on (http://127.0.0.1:\d+)", first)
        assert match, first
        raw = Signed(match[1])
        statuses = [(await raw.text(now=time.time() + 60)).status for _ in range(2)]
        assert statuses == [503, 200]
        process.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(process.stdout.read(), 30)).decode()
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert "faults: 1 rules, clock offset +60 s" in rest
    assert 'faults injected: {"unavailable": 1}' in rest.splitlines()
