"""The client under faults, over real loopback HTTP against scripted aiohttp servers.

Deadlines, the retry budget, the SlowDown pause, malformed answers, clock skew, credential
refresh and ambiguous submissions; each test asserts what was sent and what was raised. Time is
injected (:class:`FakeTime`): nothing here waits for real beyond a 50 ms read timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import formatdate
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import KEY, OK, FakeTime, Script, Sleeps, error_body, make_session

from cosaudit import (
    AmbiguousSubmit,
    ImageInput,
    RetryBudget,
    SlowDownPause,
    SubmissionUnknown,
)
from cosaudit.client import AuditClient
from cosaudit.config import RetryPolicy, Timeouts
from cosaudit.credentials import Credentials
from cosaudit.errors import (
    AuthError,
    ConnectionLost,
    InvalidArgumentError,
    MalformedResponse,
    RequestTimeout,
    ServerError,
    ServiceError,
    ThrottledError,
)
from cosaudit.session import RetryEvent
from cosaudit.wire.signing import parse_authorization

NOW = 1_700_000_000.0
TEXT_JOB = (
    b"<Response><JobsDetail><JobId>st1</JobId><State>Submitted</State><DataId>d1</DataId>"
    b"</JobsDetail><RequestId>r0</RequestId></Response>"
)


def client_to(url: str, **kwargs: Any) -> AuditClient:
    kwargs.setdefault("credentials", KEY)
    kwargs.setdefault("sleep", Sleeps())
    return AuditClient(
        bucket="examplebucket-1250000000", region="ap-guangzhou", endpoint=url, **kwargs
    )


def http_date(unix: float) -> str:
    return formatdate(unix, usegmt=True)


def signed_window(request: web.Request) -> tuple[int, int]:
    return parse_authorization(request.headers["Authorization"]).window


# --- timeouts and the overall deadline ---------------------------------------------------------


async def test_the_deadline_cuts_an_attempt_in_flight(script: tuple[Script, str]) -> None:
    server, url = script
    server.stall = asyncio.Event()  # never set: the server does not answer
    # The read timeout alone would wait 30 s; the call's deadline of 50 ms cuts it.
    retry = RetryPolicy(deadline=0.05)
    async with make_session(url, timeouts=Timeouts(read=30, total=None), retry=retry) as session:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(RequestTimeout):
            await session.request("GET", "/text/auditing/st1")
        # not a speed claim: only that the 30 s read timeout was not what ended it
        assert loop.time() - started < 10
    assert len(server.seen) == 1


async def test_no_attempt_starts_once_the_deadline_has_passed(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(503, error_body("ServiceUnavailable"), {})]
    time = FakeTime()
    retry = RetryPolicy(attempts=10, initial=1, maximum=1, deadline=3)
    async with make_session(url, retry=retry, monotonic=time, sleep=time.sleep) as session:
        with pytest.raises(ServerError):
            await session.request("GET", "/text/auditing/st1")
    assert time.now < 3
    assert len(server.seen) == len(time.sleeps) + 1


async def test_a_late_wake_ends_the_call_with_the_last_error(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(503, error_body("ServiceUnavailable"), {})]
    time = FakeTime()

    async def late(seconds: float) -> None:  # a loaded event loop wakes after the deadline
        await time.sleep(seconds + 10)

    retry = RetryPolicy(attempts=4, initial=1, maximum=1, deadline=5)
    async with client_to(url, retry=retry, monotonic=time, sleep=late) as client:
        with pytest.raises(ServerError) as caught:
            await client.text.submit(object="a.txt", data_id="d4")
    # turned away, so certainly not accepted: not a timeout, and not SubmissionUnknown
    assert (caught.value.status, caught.value.code) == (503, "ServiceUnavailable")
    assert len(server.seen) == 1


async def test_a_cancelled_call_stops_at_once_and_closes_its_connection() -> None:
    arrived, closed = asyncio.Event(), asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        arrived.set()
        await reader.read()  # until the client closes its end
        closed.set()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with make_session(url) as session:
            call = asyncio.create_task(session.request("GET", "/text/auditing/st1"))
            await arrived.wait()
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            # closed, not kept half-read in the pool (the bound only keeps a bug from hanging)
            await asyncio.wait_for(closed.wait(), 10)
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Timeouts(connect=0),
        lambda: Timeouts(read=float("nan")),
        lambda: Timeouts(read=float("inf")),
        lambda: Timeouts(total=-1),
        lambda: Timeouts(total=float("inf")),
        lambda: RetryPolicy(attempts=0),
        lambda: RetryPolicy(deadline=0),
        lambda: RetryPolicy(deadline=float("inf")),
        lambda: RetryPolicy(ambiguous_submit="retry"),
        lambda: RetryPolicy(budget=500),
        lambda: RetryBudget(capacity=0),
        lambda: RetryBudget(retry_cost=-1),
        lambda: SlowDownPause(threshold=0),
        lambda: SlowDownPause(window=float("nan")),
    ],
)
def test_limits_are_checked(make: Callable[[], object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        make()


# --- the retry budget --------------------------------------------------------------------------


async def test_a_dead_service_empties_the_budget_and_requests_fail_fast(
    script: tuple[Script, str],
) -> None:
    server, url = script
    server.answers = [(503, error_body("ServiceUnavailable"), {})]
    events: list[RetryEvent] = []
    retry = RetryPolicy(attempts=4, budget=RetryBudget(capacity=10, retry_cost=5))
    async with make_session(url, retry=retry, on_retry=events.append) as session:
        assert session.budget is not None
        with pytest.raises(ServerError):
            await session.request("GET", "/text/auditing/st1")
        # two retries took the 10 tokens: the first call made 3 attempts, not 4
        assert len(server.seen) == 3 and session.budget.available == 0
        for _ in range(3):
            with pytest.raises(ServerError):
                await session.request("GET", "/text/auditing/st1")
        # then one attempt per call, at once
        assert len(server.seen) == 6
        assert len(events) == 2
        server.answers = [(200, OK, {})]
        await session.request("GET", "/text/auditing/st1")
        assert session.budget.available == 1  # a first-attempt success refunds one token


async def test_a_success_after_retries_gives_their_tokens_back(script: tuple[Script, str]) -> None:
    server, url = script
    server.then(503, error_body("ServiceUnavailable")).then(500, error_body("InternalError"))
    retry = RetryPolicy(budget=RetryBudget(capacity=100, retry_cost=5, refund=1))
    async with make_session(url, retry=retry) as session:
        assert session.budget is not None
        session.budget.available = 50
        await session.request("GET", "/text/auditing/st1")
        assert session.budget.available == 50
    assert len(server.seen) == 3


async def test_a_timeout_costs_more_of_the_budget(script: tuple[Script, str]) -> None:
    server, url = script
    server.stall = asyncio.Event()
    retry = RetryPolicy(attempts=5, budget=RetryBudget(capacity=15, retry_cost=5, timeout_cost=10))
    timeouts = Timeouts(read=0.05, total=None)
    async with make_session(url, retry=retry, timeouts=timeouts) as session:
        with pytest.raises(RequestTimeout):
            await session.request("GET", "/text/auditing/st1")
        assert session.budget is not None and session.budget.available == 5
    assert len(server.seen) == 2


async def test_without_a_budget_only_attempts_limit_retries(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(503, error_body("ServiceUnavailable"), {})]
    retry = RetryPolicy(attempts=3, budget=None)
    async with make_session(url, retry=retry) as session:
        assert session.budget is None
        for _ in range(3):
            with pytest.raises(ServerError):
                await session.request("GET", "/text/auditing/st1")
    assert len(server.seen) == 9


# --- the SlowDown pause ------------------------------------------------------------------------


async def test_sustained_slowdown_pauses_every_request_of_the_session(
    script: tuple[Script, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, url = script
    server.answers = [(429, error_body("SlowDown"), {})]
    time = FakeTime()
    retry = RetryPolicy(attempts=1, slowdown=SlowDownPause(threshold=3, window=10, initial=2))
    caplog.set_level(logging.WARNING, "cosaudit")
    async with make_session(url, retry=retry, monotonic=time, sleep=time.sleep) as session:
        for _ in range(3):
            with pytest.raises(ThrottledError):
                await session.request("GET", "/text/auditing/st1")
        assert time.sleeps == []  # two throttles pass; the third opens the breaker
        assert "pausing every request" in caplog.text
        server.answers = [(200, OK, {})]
        # two concurrent requests both wait out the pause before anything is sent
        await asyncio.gather(*(session.request("GET", "/text/auditing/st1") for _ in range(2)))
    assert time.sleeps == [2.0, 2.0]
    assert len(server.seen) == 5


async def test_the_pause_doubles_while_throttling_lasts_and_resets_on_success(
    script: tuple[Script, str],
) -> None:
    server, url = script
    throttled = (429, error_body("SlowDown"), {})
    time = FakeTime()
    retry = RetryPolicy(attempts=1, slowdown=SlowDownPause(threshold=2, window=10, initial=1))

    async def throttle(session: Any, times: int) -> None:
        server.answers = [throttled]
        for _ in range(times):
            with pytest.raises(ThrottledError):
                await session.request("GET", "/text/auditing/st1")

    async with make_session(url, retry=retry, monotonic=time, sleep=time.sleep) as session:
        await throttle(session, 2)  # opens for 1 s
        await throttle(session, 2)  # waits 1 s, then (no success in between) opens for 2 s
        await throttle(session, 1)  # waits 2 s
        server.answers = [(200, OK, {})]
        await session.request("GET", "/text/auditing/st1")  # a success: back to 1 s
        await throttle(session, 2)
        await throttle(session, 1)
    assert time.sleeps == [1.0, 2.0, 1.0]


async def test_throttles_outside_the_window_do_not_add_up(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(429, error_body("SlowDown"), {})]
    time = FakeTime()
    retry = RetryPolicy(attempts=1, slowdown=SlowDownPause(threshold=2, window=10))
    async with make_session(url, retry=retry, monotonic=time, sleep=time.sleep) as session:
        for _ in range(3):
            with pytest.raises(ThrottledError):
                await session.request("GET", "/text/auditing/st1")
            time.now += 11
        assert session.slowdown is not None and session.slowdown.delay() == 0
    assert time.sleeps == []


async def test_a_pause_past_the_deadline_fails_at_once_without_sending(
    script: tuple[Script, str],
) -> None:
    server, url = script
    server.answers = [(503, error_body("SlowDown"), {})]  # COS throttles with 503 SlowDown
    time = FakeTime()
    pause = SlowDownPause(threshold=1, initial=30, maximum=30)
    retry = RetryPolicy(attempts=1, deadline=10, slowdown=pause)
    async with make_session(url, retry=retry, monotonic=time, sleep=time.sleep) as session:
        with pytest.raises(ThrottledError):
            await session.request("GET", "/text/auditing/st1")
        with pytest.raises(ThrottledError) as caught:
            await session.request("GET", "/text/auditing/st1")
    assert len(server.seen) == 1 and time.sleeps == []
    assert caught.value.status == 503 and caught.value.code == "SlowDown"
    assert "deadline" in caught.value.message


# --- malformed answers become typed errors -----------------------------------------------------

Call = Callable[[AuditClient], Awaitable[object]]
GET_TEXT: Call = lambda c: c.text.get("st1")  # noqa: E731
SUBMIT_TEXT: Call = lambda c: c.text.submit(object="a.txt", data_id="d1")  # noqa: E731
SYNC_TEXT: Call = lambda c: c.text.moderate("hello")  # noqa: E731
IMAGE_GET: Call = lambda c: c.image.moderate(object="a.jpg")  # noqa: E731
IMAGE_BATCH: Call = lambda c: c.image.moderate_batch(["a.jpg", "b.jpg"])  # noqa: E731
WEBPAGE: Call = lambda c: c.webpage.submit("https://example.com/")  # noqa: E731


def response(*details: str, root: str = "Response") -> bytes:
    return f"<{root}>{''.join(details)}<RequestId>r0</RequestId></{root}>".encode()


@pytest.mark.parametrize(
    ("call", "body"),
    [
        (GET_TEXT, response("<JobsDetail><State>Success</State></JobsDetail>")),  # no JobId
        (GET_TEXT, response()),  # no JobsDetail
        (GET_TEXT, response("<JobsDetail/>")),
        (GET_TEXT, response("<JobsDetail>st1</JobsDetail>")),
        (GET_TEXT, response("<JobsDetail><JobId><x/></JobId></JobsDetail>")),
        (GET_TEXT, response("<JobsDetail><JobId>st1</JobId><Result>high</Result></JobsDetail>")),
        (GET_TEXT, response("<JobsDetail><JobId>st1</JobId><Section>x</Section></JobsDetail>")),
        (GET_TEXT, response("<JobsDetail><JobId>st1</JobId><PornInfo>1</PornInfo></JobsDetail>")),
        (GET_TEXT, b"<Response>"),
        (GET_TEXT, b"<html><body>502 Bad Gateway</body></html>"),
        (GET_TEXT, b"\xff\xfe<\x00R\x00"),
        (GET_TEXT, b""),
        (GET_TEXT, b"<Response>text</Response>"),
        (SUBMIT_TEXT, response("<JobsDetail><State>Submitted</State></JobsDetail>")),
        (SUBMIT_TEXT, response("<JobsDetail><JobId>st1</JobId></JobsDetail>" * 2)[:40]),
        (SYNC_TEXT, response("<JobsDetail><Label>Normal</Label></JobsDetail>")),
        (IMAGE_GET, response("<JobId>si1</JobId><Score>x</Score>", root="RecognitionResult")),
        (IMAGE_GET, response("<Result>1</Result>", root="RecognitionResult")),
        (IMAGE_GET, response("<JobsDetail><JobId>si1</JobId></JobsDetail>")),  # wrong root
        (IMAGE_BATCH, response("<JobsDetail><JobId>si1</JobId></JobsDetail>")),  # 1 of 2
        (IMAGE_BATCH, response("<JobsDetail><JobId>si1</JobId></JobsDetail><JobsDetail/>")),
        (WEBPAGE, response("<JobsDetail><JobId>sw1</JobId><PageCount>x</PageCount></JobsDetail>")),
    ],
)
async def test_a_malformed_answer_is_malformed_response_with_status_and_request_id(
    script: tuple[Script, str], call: Call, body: bytes
) -> None:
    server, url = script
    server.answers = [(200, body, {})]
    async with client_to(url, retry=RetryPolicy(attempts=1)) as client:
        with pytest.raises(MalformedResponse) as caught:
            await call(client)
    assert caught.value.status == 200
    assert caught.value.request_id in ("rid-1", "r0")
    assert len(server.seen) == 1  # a submission answered 200 was accepted: never resent


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<Error><Code><x/></Code><Message>m</Message></Error>", "HTTP500"),
        (b"<Error>oops</Error>", "HTTP500"),
        (b"<html>Internal Server Error</html>", "HTTP500"),
        (b"<Error><Code>InternalError</Code>", "HTTP500"),
        (b"<Error><Code>InternalError</Code><Code>Two</Code></Error>", "HTTP500"),
    ],
)
async def test_a_malformed_error_body_still_gives_a_typed_error(
    script: tuple[Script, str], body: bytes, code: str
) -> None:
    server, url = script
    server.answers = [(500, body, {})]
    async with client_to(url, retry=RetryPolicy(attempts=1)) as client:
        with pytest.raises(ServerError) as caught:
            await client.text.get("st1")
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (
        500,
        code,
        "rid-1",
    )


# --- clock skew --------------------------------------------------------------------------------


async def test_clock_skew_is_corrected_from_the_date_header_and_kept(
    script: tuple[Script, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, url = script
    server_now = NOW + 1200  # our clock is 20 minutes behind the service's
    server.then(403, error_body("RequestTimeTooSkewed"), Date=http_date(server_now))
    events: list[RetryEvent] = []
    secret = Credentials("AKIDtest", "skew-secret-key", "skew-token")
    caplog.set_level(logging.INFO, "cosaudit")
    async with make_session(
        url, clock=lambda: NOW, on_retry=events.append, credentials=secret
    ) as session:
        await session.request("POST", "/text/auditing", body=b"<Request/>")
        await session.request("GET", "/text/auditing/st1")
        assert session.clock_offset == pytest.approx(1200)
    windows = [signed_window(request) for request in server.seen]
    assert windows[0][0] == NOW - 60
    assert windows[1][0] == windows[2][0] == server_now - 60  # re-signed, and later ones too
    assert server.bodies[0] == server.bodies[1] == b"<Request/>"
    assert [(e.reason, e.wait, e.attempt) for e in events] == [("clock_skew", 0.0, 1)]
    assert "clock skew" in caplog.text and "+1200 s" in caplog.text
    for leak in ("skew-secret-key", "skew-token", "q-signature"):
        assert leak not in caplog.text


async def test_an_expired_answer_is_corrected_only_when_the_date_shows_skew(
    script: tuple[Script, str],
) -> None:
    server, url = script
    expired = error_body("AccessDenied", "Request has expired")
    # the service's clock is within our signed window: skew does not explain it
    server.answers = [(403, expired, {"Date": http_date(NOW + 30)})]
    async with make_session(url, clock=lambda: NOW) as session:
        with pytest.raises(AuthError) as caught:
            await session.request("GET", "/text/auditing/st1")
        assert session.clock_offset == 0
    assert caught.value.code == "AccessDenied" and len(server.seen) == 1
    # the service is 30 minutes behind: our window had not opened for it yet
    server.answers = [(200, OK, {})]
    server.then(403, expired, Date=http_date(NOW - 1800))
    async with make_session(url, clock=lambda: NOW) as session:
        await session.request("GET", "/text/auditing/st1")
        assert session.clock_offset == pytest.approx(-1800)
    assert signed_window(server.seen[-1])[0] == NOW - 1800 - 60


async def test_skew_is_corrected_once_per_call(script: tuple[Script, str]) -> None:
    server, url = script
    skewed = (
        403,
        error_body("RequestTimeTooSkewed"),
        {"Date": http_date(NOW + 1200)},
    )
    server.answers = [skewed]
    events: list[RetryEvent] = []
    async with make_session(url, clock=lambda: NOW, on_retry=events.append) as session:
        with pytest.raises(AuthError) as caught:
            await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert caught.value.code == "RequestTimeTooSkewed"
    assert len(server.seen) == 2 and len(events) == 1


@pytest.mark.parametrize("date", ["", "yesterday", "Mon, 99 Foo 2024 25:61:00 GMT"])
async def test_skew_without_a_readable_date_is_not_guessed(
    script: tuple[Script, str], date: str
) -> None:
    server, url = script
    server.answers = [(403, error_body("RequestTimeTooSkewed"), {"Date": date})]
    async with make_session(url, clock=lambda: NOW) as session:
        with pytest.raises(AuthError):
            await session.request("GET", "/text/auditing/st1")
        assert session.clock_offset == 0
    assert len(server.seen) == 1


async def test_each_session_keeps_its_own_offset(script: tuple[Script, str]) -> None:
    server, url = script
    server.then(403, error_body("RequestTimeTooSkewed"), Date=http_date(NOW + 1200))
    async with (
        make_session(url, clock=lambda: NOW) as first,
        make_session(url, clock=lambda: NOW) as second,
    ):
        await first.request("GET", "/text/auditing/st1")
        await second.request("GET", "/text/auditing/st1")
        assert (first.clock_offset, second.clock_offset) == (pytest.approx(1200), 0)


# --- credentials from a provider ---------------------------------------------------------------


class Provider:
    """Issues ``token-1``, ``token-2``...; each call yields to the loop first, so concurrent
    requests really overlap while a refresh is under way."""

    def __init__(self, lifetime: float | None = None, now: Callable[[], float] = lambda: NOW):
        self.calls = 0
        self.lifetime = lifetime
        self.now = now
        self.fail = False
        self.asked = 0

    async def __call__(self) -> Credentials:
        self.asked += 1
        for _ in range(3):
            await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("broker down")
        self.calls += 1
        expires = None if self.lifetime is None else self.now() + self.lifetime
        return Credentials("AKIDtmp", "k", f"token-{self.calls}", expires_at=expires)


def tokens(server: Script) -> list[str]:
    return [request.headers["x-ci-security-token"] for request in server.seen]


async def test_concurrent_first_requests_ask_the_provider_once(script: tuple[Script, str]) -> None:
    server, url = script
    provider = Provider()
    async with make_session(url, credentials=provider) as session:
        await asyncio.gather(*(session.request("GET", "/text/auditing/st1") for _ in range(20)))
    assert provider.calls == 1
    assert tokens(server) == ["token-1"] * 20


async def test_credentials_are_refreshed_ahead_of_expiry_once_for_many_requests(
    script: tuple[Script, str],
) -> None:
    server, url = script
    now = [NOW]
    provider = Provider(lifetime=1000, now=lambda: now[0])
    async with make_session(url, credentials=provider, clock=lambda: now[0]) as session:
        await session.request("GET", "/text/auditing/st1")
        now[0] += 650  # 350 s left: still used
        await session.request("GET", "/text/auditing/st1")
        now[0] += 100  # 250 s left: inside the 300 s margin
        await asyncio.gather(*(session.request("GET", "/text/auditing/st1") for _ in range(20)))
    assert provider.calls == 2
    assert tokens(server) == ["token-1", "token-1"] + ["token-2"] * 20


async def test_an_expired_token_for_many_concurrent_requests_refreshes_once(
    script: tuple[Script, str],
) -> None:
    server, url = script
    provider = Provider()
    arrived = asyncio.Event()

    async def respond(request: web.Request) -> web.Response:
        if request.headers["x-ci-security-token"] == "token-1":
            if tokens(server).count("token-1") == 20:
                arrived.set()
            await arrived.wait()  # all 20 are in flight with the old token before any answer
            return web.Response(status=400, body=error_body("ExpiredToken"))
        return web.Response(body=OK, content_type="application/xml")

    server.respond = respond
    events: list[RetryEvent] = []
    async with make_session(url, credentials=provider, on_retry=events.append) as session:
        await asyncio.gather(*(session.request("GET", "/text/auditing/st1") for _ in range(20)))
    assert provider.calls == 2
    assert sorted(tokens(server)) == ["token-1"] * 20 + ["token-2"] * 20
    assert [e.reason for e in events] == ["credentials"] * 20


@pytest.mark.parametrize("code", ["ExpiredToken", "SignatureExpired"])
async def test_a_rejected_refresh_is_not_repeated(script: tuple[Script, str], code: str) -> None:
    server, url = script
    server.answers = [(400, error_body(code), {})]
    provider = Provider()
    async with make_session(url, credentials=provider) as session:
        with pytest.raises(AuthError) as caught:
            await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert caught.value.code == code
    assert provider.calls == 2 and tokens(server) == ["token-1", "token-2"]


async def test_a_failing_provider_ahead_of_expiry_keeps_the_valid_credentials(
    script: tuple[Script, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, url = script
    now = [NOW]
    time = FakeTime()
    provider = Provider(lifetime=1000, now=lambda: now[0])
    async with make_session(
        url, credentials=provider, clock=lambda: now[0], monotonic=time
    ) as session:
        await session.request("GET", "/text/auditing/st1")
        provider.fail = True
        now[0] += 800  # 200 s left
        await session.request("GET", "/text/auditing/st1")
        assert provider.asked == 2
        assert "refreshing credentials ahead of expiry failed (RuntimeError)" in caplog.text
        time.now += 9
        await session.request("GET", "/text/auditing/st1")  # not asked again so soon
        assert provider.asked == 2
        time.now += 2
        provider.fail = False
        await session.request("GET", "/text/auditing/st1")  # asked again, and it works
        assert provider.asked == 3
        provider.fail = True
        now[0] += 2000  # token-2 expired too: nothing valid is left to fall back on
        with pytest.raises(RuntimeError, match="broker down"):
            await session.request("GET", "/text/auditing/st1")
    assert tokens(server) == ["token-1", "token-1", "token-1", "token-2"]


async def test_a_provider_of_short_lived_keys_is_not_asked_on_every_request(
    script: tuple[Script, str],
) -> None:
    server, url = script
    time = FakeTime()
    provider = Provider(lifetime=120)  # already inside the 300 s refresh margin when issued
    async with make_session(
        url, credentials=provider, clock=lambda: NOW, monotonic=time
    ) as session:
        for _ in range(5):
            await session.request("GET", "/text/auditing/st1")
        assert provider.asked == 1
        time.now += 11  # asked again after the same pause as after a failed refresh
        await session.request("GET", "/text/auditing/st1")
        assert provider.asked == 2
    assert tokens(server) == ["token-1"] * 5 + ["token-2"]


async def test_a_hanging_provider_cannot_hold_calls_past_their_deadline(
    script: tuple[Script, str],
) -> None:
    server, url = script
    never = asyncio.Event()

    async def provider() -> Credentials:
        await never.wait()
        raise AssertionError("unreachable")

    async with make_session(url, credentials=provider, retry=RetryPolicy(deadline=0.05)) as session:
        calls = [session.request("GET", "/text/auditing/st1") for _ in range(2)]
        # both: the one asking the provider and the one queued behind it
        results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
    assert [type(result) for result in results] == [RequestTimeout, RequestTimeout]
    assert all("credentials" in str(result) for result in results)
    assert server.seen == []


# --- ambiguous submissions ---------------------------------------------------------------------


@pytest.fixture
async def stalled() -> AsyncIterator[tuple[Script, str]]:
    """A server that reads each request and never answers."""
    script = Script()
    script.stall = asyncio.Event()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield script, f"http://127.0.0.1:{server.port}"
    script.stall.set()
    await server.close()


async def test_a_500_on_submit_reports_submission_unknown(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(500, error_body("InternalError"), {})]
    async with client_to(url) as client:
        with pytest.raises(SubmissionUnknown) as caught:
            await client.text.submit(object="a.txt", data_id="post-7")
    unknown = caught.value
    assert (unknown.kind, unknown.data_id, unknown.status, unknown.request_id) == (
        "text",
        "post-7",
        500,
        "rid-1",
    )
    assert isinstance(unknown.cause, ServerError) and len(server.seen) == 1


async def test_a_read_timeout_on_submit_reports_submission_unknown(
    stalled: tuple[Script, str],
) -> None:
    server, url = stalled
    async with client_to(url, timeouts=Timeouts(read=0.05, total=None)) as client:
        with pytest.raises(SubmissionUnknown) as caught:
            await client.webpage.submit("https://example.com/", data_id="page-1")
    assert caught.value.kind == "webpage" and caught.value.data_id == "page-1"
    assert isinstance(caught.value.cause, RequestTimeout)
    assert len(server.seen) == 1


async def test_a_dropped_connection_on_submit_reports_submission_unknown(
    hang_up: tuple[list[bytes], str],
) -> None:
    received, url = hang_up
    async with client_to(url) as client:
        with pytest.raises(SubmissionUnknown) as caught:
            await client.image.submit_batch(
                [ImageInput(object="a.jpg", data_id="i1"), ImageInput(object="b.jpg", data_id="i2")]
            )
    unknown = caught.value
    assert (unknown.kind, unknown.data_id, unknown.data_ids) == ("image", None, ("i1", "i2"))
    assert isinstance(unknown.cause, ConnectionLost)
    assert len(received) == 1


async def test_the_single_image_get_is_a_submission_too(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(502, b"", {})]
    async with client_to(url) as client:
        with pytest.raises(SubmissionUnknown) as caught:
            await client.image.moderate(object="a.jpg", data_id="img-1")
    assert (caught.value.kind, caught.value.data_id, caught.value.status) == ("image", "img-1", 502)
    assert len(server.seen) == 1


@pytest.mark.parametrize(
    ("status", "code", "raised"),
    [
        (400, "InvalidArgument", InvalidArgumentError),
        (403, "AccessDenied", AuthError),
        (501, "NotImplemented", ServerError),
    ],
)
async def test_a_certain_refusal_is_not_ambiguous(
    script: tuple[Script, str], status: int, code: str, raised: type[Exception]
) -> None:
    server, url = script
    server.answers = [(status, error_body(code), {})]
    async with client_to(url) as client:
        with pytest.raises(raised):
            await client.text.submit(object="a.txt")
    assert len(server.seen) == 1


async def test_the_retry_policy_resubmits_and_counts_possible_duplicates(
    script: tuple[Script, str],
) -> None:
    server, url = script
    server.answers = [(200, TEXT_JOB, {})]
    server.then(500, error_body("InternalError")).then(504)
    events: list[RetryEvent] = []
    retry = RetryPolicy(ambiguous_submit=AmbiguousSubmit.RETRY)
    async with client_to(url, retry=retry, on_retry=events.append) as client:
        job = await client.text.submit(object="a.txt", data_id="d1")
    assert job.job_id == "st1"
    assert [(e.reason, e.attempt, e.method) for e in events] == [
        ("ambiguous_submit", 1, "POST"),
        ("ambiguous_submit", 2, "POST"),
    ]
    assert len(server.seen) == 3 and len(set(server.bodies)) == 1


async def test_the_retry_policy_still_reports_when_every_attempt_is_ambiguous(
    hang_up: tuple[list[bytes], str],
) -> None:
    received, url = hang_up
    events: list[RetryEvent] = []
    retry = RetryPolicy(attempts=3, ambiguous_submit=AmbiguousSubmit.RETRY)
    async with client_to(url, retry=retry, on_retry=events.append) as client:
        with pytest.raises(SubmissionUnknown) as caught:
            await client.text.submit(object="a.txt", data_id="d9")
    assert caught.value.data_id == "d9"
    assert [e.reason for e in events] == ["ambiguous_submit"] * 2
    assert len(received) == 3


async def test_the_retry_policy_never_resends_a_malformed_success(
    script: tuple[Script, str],
) -> None:
    server, url = script
    server.answers = [(200, b"<Response><JobsDetail>", {})]
    retry = RetryPolicy(ambiguous_submit=AmbiguousSubmit.RETRY)
    async with client_to(url, retry=retry) as client:
        with pytest.raises(MalformedResponse):
            await client.text.submit(object="a.txt")
    assert len(server.seen) == 1


async def test_throttled_submissions_are_retried_as_transient(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(200, TEXT_JOB, {})]
    server.then(429, error_body("SlowDown")).then(503, error_body("ServiceUnavailable"))
    events: list[RetryEvent] = []
    async with client_to(url, on_retry=events.append) as client:
        await client.text.submit(object="a.txt")
    assert [e.reason for e in events] == ["transient", "transient"]


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "ServiceUnavailable"), (429, "SlowDown"), (400, "InvalidArgument")],
)
async def test_a_refused_resubmission_leaves_the_earlier_attempt_unknown(
    script: tuple[Script, str], status: int, code: str
) -> None:
    server, url = script
    server.answers = [(status, error_body(code), {})]
    server.then(500, error_body("InternalError"))
    retry = RetryPolicy(attempts=2, ambiguous_submit=AmbiguousSubmit.RETRY)
    async with client_to(url, retry=retry) as client:
        with pytest.raises(SubmissionUnknown) as caught:
            await client.text.submit(object="a.txt", data_id="d3")
    # the first attempt may have made the job; the second one's refusal does not settle it
    unknown = caught.value
    assert (unknown.data_id, unknown.status, unknown.request_id) == ("d3", 500, "rid-1")
    assert isinstance(unknown.cause.__context__, ServiceError)
    assert unknown.cause.__context__.status == status
    assert len(server.seen) == 2
