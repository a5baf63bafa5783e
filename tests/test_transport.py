"""The transport seam: a session over an in-process transport that answers canned bytes.

Everything above the transport is the real thing (auth flow, retrying, reading the answer);
only the network is replaced, so these pin what the session does with what comes back.
"""

from __future__ import annotations

import asyncio
import random
from email.utils import formatdate

import pytest
from conftest import KEY, FakeTime

from cosaudit.config import RetryPolicy
from cosaudit.credentials import Credentials
from cosaudit.endpoints import Endpoints, Service
from cosaudit.errors import (
    AuthError,
    ConnectionLost,
    MalformedResponse,
    ServerError,
)
from cosaudit.messages import RawResponse, Request
from cosaudit.session import RetryEvent, Session
from cosaudit.transport import Transport
from cosaudit.wire.signing import compute_signature, parse_authorization

OK = b"<Response><JobsDetail><JobId>st1</JobId></JobsDetail><RequestId>r1</RequestId></Response>"


def error_answer(status: int, code: str, **headers: str) -> RawResponse:
    body = f"<Error><Code>{code}</Code><Message>m</Message></Error>".encode()
    return RawResponse(status, headers, body)


class Canned:
    """Answers each request with the next canned answer (or raises it), recording requests."""

    def __init__(self, *answers: RawResponse | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[Request] = []
        self.closed = False

    async def send(self, request: Request, timeout: float) -> RawResponse:
        assert timeout > 0
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def close(self) -> None:
        self.closed = True


def session_over(transport: Transport, **kwargs: object) -> tuple[Session, list[RetryEvent]]:
    events: list[RetryEvent] = []
    time = FakeTime()
    session = Session(
        Endpoints("examplebucket-1250000000", "ap-guangzhou", "http://127.0.0.1:9"),
        kwargs.pop("credentials", KEY),  # type: ignore[arg-type]
        monotonic=time,
        sleep=time.sleep,
        on_retry=events.append,
        transport=transport,
        **kwargs,  # type: ignore[arg-type]
    )
    return session, events


async def test_an_in_process_transport_gets_signed_requests_and_its_answers_are_parsed() -> None:
    transport = Canned(error_answer(503, "ServiceUnavailable"), RawResponse(200, {}, OK))
    session, events = session_over(transport)
    async with session:
        response = await session.request("GET", "/text/auditing/st1")
    assert transport.closed  # the session closes the transport it was given
    assert response.body == {"JobsDetail": {"JobId": "st1"}, "RequestId": "r1"}
    assert response.request_id == "r1"
    assert [(e.attempt, e.reason, type(e.error)) for e in events] == [(1, "transient", ServerError)]
    assert len(transport.sent) == 2
    for request in transport.sent:
        headers = {name.lower(): value for name, value in request.headers.items()}
        assert headers["host"] == "examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com"
        parts = parse_authorization(headers["authorization"])
        signed = compute_signature(
            KEY.secret_key,
            "GET",
            "/text/auditing/st1",
            {},
            {name: headers[name] for name in parts.header_list},
            parts.key_time,
        )
        assert signed.signature == parts.signature


async def test_a_transport_failure_on_a_submission_is_not_resent() -> None:
    transport = Canned(ConnectionLost("connection lost: reset", method="POST", url="x"))
    session, events = session_over(transport)
    async with session:
        with pytest.raises(ConnectionLost):
            await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert len(transport.sent) == 1 and events == []


async def test_an_oversize_answer_is_malformed_and_an_oversize_error_keeps_its_status() -> None:
    too_big = "of 9 bytes exceeds the limit of 8 bytes"
    transport = Canned(
        RawResponse(503, {}, b"", too_big),  # turned away: resent, though its body is unread
        RawResponse(200, {"x-ci-request-id": "r2"}, b"", too_big),
    )
    session, events = session_over(transport, retry=RetryPolicy(attempts=2))
    async with session:
        with pytest.raises(MalformedResponse, match="answer of 9 bytes") as caught:
            await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert caught.value.status == 200 and caught.value.request_id == "r2"
    assert [type(e.error) for e in events] == [ServerError]
    assert "error body of 9 bytes exceeds the limit of 8 bytes, not read" in str(events[0].error)


async def test_the_token_header_follows_the_host() -> None:
    token = Credentials(KEY.secret_id, KEY.secret_key, token="tok")
    transport = Canned(RawResponse(200, {}, OK), RawResponse(200, {}, b"<R/>"))
    session, _ = session_over(transport, credentials=token)
    async with session:
        await session.request("POST", "/text/auditing", body=b"<Request/>")
        await session.request("GET", "/x", service=Service.COS, root="R")
    ci, cos = (request.headers for request in transport.sent)
    assert ci["x-ci-security-token"] == "tok" and "x-cos-security-token" not in ci
    assert cos["x-cos-security-token"] == "tok" and "x-ci-security-token" not in cos


async def test_clock_skew_is_mended_once_by_the_auth_flow_not_retried() -> None:
    served = 1_700_000_000.0
    skewed = error_answer(403, "RequestTimeTooSkewed", Date=formatdate(served, usegmt=True))
    transport = Canned(skewed, skewed)
    session, events = session_over(transport, clock=lambda: served - 3600)
    async with session:
        with pytest.raises(AuthError) as caught:
            await session.request("POST", "/text/auditing", body=b"<Request/>")
        assert session.clock_offset == pytest.approx(3600)
    assert caught.value.code == "RequestTimeTooSkewed"  # the second skewed answer ends the call
    assert [(e.attempt, e.reason, e.wait) for e in events] == [(1, "clock_skew", 0.0)]
    first, second = (r.signed_at for r in transport.sent)
    assert second - first == pytest.approx(3600)
    assert session.budget is not None and session.budget.available == 500  # no retry taken


class FirstTurnedAway:
    """Turns away the first send of each body with a 503, then answers it."""

    def __init__(self) -> None:
        self.seen: list[bytes | None] = []

    async def send(self, request: Request, timeout: float) -> RawResponse:
        body = request.call.body
        first = body not in self.seen
        self.seen.append(body)
        await asyncio.sleep(0)  # let the other calls run in between
        if first:
            return error_answer(503, "ServiceUnavailable")
        return RawResponse(200, {}, OK)

    async def close(self) -> None:
        pass


async def test_concurrent_calls_keep_their_own_retry_state() -> None:
    # One tenacity AsyncRetrying serves the whole session; each call's state is its own.
    transport = FirstTurnedAway()
    session, events = session_over(transport)
    bodies = [f"<Request>{i}</Request>".encode() for i in range(20)]
    async with session:
        answers = await asyncio.gather(
            *(session.request("POST", "/text/auditing", body=body) for body in bodies)
        )
    assert len(answers) == 20 and len(transport.seen) == 40
    assert sorted(e.attempt for e in events) == [1] * 20
    # every retry took 5 tokens and its success put them back
    assert session.budget is not None and session.budget.available == 500


class CountingRandom(random.Random):
    """A seeded source of jitter that counts its draws."""

    def __init__(self) -> None:
        super().__init__(7)
        self.draws = 0

    def uniform(self, a: float, b: float) -> float:
        self.draws += 1
        return super().uniform(a, b)


async def test_jitter_is_drawn_only_for_waits_taken() -> None:
    # tenacity asks for the wait before it asks whether to stop; the last failure of a call
    # must not draw jitter, or a seeded run's later waits would shift.
    rng = CountingRandom()
    transport = Canned(*(error_answer(503, "ServiceUnavailable") for _ in range(3)))
    session, events = session_over(transport, rng=rng, retry=RetryPolicy(attempts=3))
    async with session:
        with pytest.raises(ServerError):
            await session.request("GET", "/text/auditing/st1")
    assert len(transport.sent) == 3 and len(events) == 2
    assert rng.draws == 2
