"""The session over real loopback HTTP against a scripted aiohttp server."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import KEY, Script, Sleeps, error_body, make_session

from cosaudit.client import AuditClient
from cosaudit.config import RetryPolicy, Timeouts
from cosaudit.credentials import Credentials
from cosaudit.endpoints import Service
from cosaudit.errors import (
    ClientStateError,
    ConnectError,
    ConnectionLost,
    InvalidArgumentError,
    MalformedResponse,
    NotFoundError,
    RequestTimeout,
    ServerError,
    ServiceError,
    ThrottledError,
)
from cosaudit.retrying import is_ambiguous
from cosaudit.session import RetryEvent
from cosaudit.wire.signing import compute_signature, parse_authorization


async def test_request_is_signed_for_the_real_host(script: tuple[Script, str]) -> None:
    server, url = script
    async with make_session(url) as session:
        response = await session.request("POST", "/text/auditing", body=b"<Request/>")
    request = server.seen[0]
    assert request.headers["Host"] == "examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com"
    parts = parse_authorization(request.headers["Authorization"])
    assert parts.header_list == ("content-length", "content-type", "host")
    signed = compute_signature(
        KEY.secret_key,
        "POST",
        "/text/auditing",
        {},
        {name: request.headers[name] for name in parts.header_list},
        parts.key_time,
    )
    assert signed.signature == parts.signature
    assert response.request_id == "rid-1"
    assert response.body["JobsDetail"] == {"JobId": "st1"}


async def test_query_and_object_path_are_signed_decoded(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(200, b"<RecognitionResult><JobId>si1</JobId></RecognitionResult>", {})]
    params = {"ci-process": "sensitive-content-recognition", "dataid": "a b+c/=&"}
    async with make_session(url) as session:
        await session.request(
            "GET",
            "/dir/%E5%9B%BE%201.jpg",
            service=Service.COS,
            params=params,
            signed_path="/dir/图 1.jpg",
            root="RecognitionResult",
        )
    request = server.seen[0]
    assert request.headers["Host"] == "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com"
    assert request.path == "/dir/图 1.jpg"
    assert dict(parse_qsl(request.query_string)) == params
    parts = parse_authorization(request.headers["Authorization"])
    signed = compute_signature(
        KEY.secret_key,
        "GET",
        request.path,
        params,
        {"host": request.headers["Host"]},
        parts.key_time,
    )
    assert signed.signature == parts.signature


@pytest.mark.parametrize(
    ("service", "header"),
    [(Service.CI, "x-ci-security-token"), (Service.COS, "x-cos-security-token")],
)
async def test_token_header_depends_on_host(
    script: tuple[Script, str], service: Service, header: str
) -> None:
    server, url = script
    server.answers = [(200, b"<Response/>", {})]
    async with make_session(url, credentials=Credentials("AKIDtmp", "k", "tok+/=")) as session:
        await session.request("GET", "/text/auditing/st1", service=service)
    request = server.seen[0]
    assert request.headers[header] == "tok+/="
    assert header in parse_authorization(request.headers["Authorization"]).header_list


async def test_query_retries_5xx_then_succeeds(script: tuple[Script, str]) -> None:
    server, url = script
    server.then(500, error_body("InternalError")).then(502)
    sleeps = Sleeps()
    events: list[RetryEvent] = []
    async with make_session(url, sleep=sleeps, on_retry=events.append) as session:
        response = await session.request("GET", "/text/auditing/st1")
    assert len(server.seen) == 3
    assert response.request_id == "rid-3"
    assert len(sleeps.calls) == 2
    assert [event.attempt for event in events] == [1, 2]
    assert isinstance(events[0].error, ServerError)
    assert events[0].error.code == "InternalError"


@pytest.mark.parametrize(("status", "code"), [(429, "SlowDown"), (503, "ServiceUnavailable")])
async def test_submit_retried_when_service_turned_it_away(
    script: tuple[Script, str], status: int, code: str
) -> None:
    server, url = script
    server.then(status, error_body(code))
    async with make_session(url) as session:
        await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert len(server.seen) == 2
    assert server.bodies[0] == server.bodies[1] == b"<Request/>"


async def test_submit_not_retried_after_500(script: tuple[Script, str]) -> None:
    server, url = script
    server.then(500, error_body("InternalError", "boom"))
    async with make_session(url) as session:
        with pytest.raises(ServerError) as caught:
            await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert len(server.seen) == 1
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        500,
        "InternalError",
        "boom",
    )


async def test_400_is_typed_and_not_retried(script: tuple[Script, str]) -> None:
    server, url = script
    server.then(400, error_body("InvalidArgument", "bad DataId"))
    async with make_session(url) as session:
        with pytest.raises(InvalidArgumentError) as caught:
            await session.request("GET", "/text/auditing/st1")
    error = caught.value
    assert len(server.seen) == 1
    assert (error.status, error.code, error.message) == (400, "InvalidArgument", "bad DataId")
    assert error.request_id == "rid-1"
    assert error.trace_id == "t"


async def test_throttling_gives_up_after_the_budget(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(429, error_body("SlowDown"), {})]
    async with make_session(url, retry=RetryPolicy(attempts=3)) as session:
        with pytest.raises(ThrottledError):
            await session.request("GET", "/text/auditing/st1")
    assert len(server.seen) == 3


async def test_error_without_body_still_carries_status(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(404, b"", {})]
    async with make_session(url) as session:
        with pytest.raises(NotFoundError) as caught:
            await session.request("GET", "/text/auditing/st1")
    assert caught.value.status == 404
    assert caught.value.code == "HTTP404"


@pytest.mark.parametrize(
    "body",
    [
        b"<Response><JobsDetail>",
        b"not xml at all",
        b"<Other/>",
        b'<!DOCTYPE x [<!ENTITY a "b">]><Response/>',
    ],
)
async def test_malformed_answers_are_typed(script: tuple[Script, str], body: bytes) -> None:
    server, url = script
    server.answers = [(200, body, {})]
    async with make_session(url, retry=RetryPolicy(attempts=2)) as session:
        with pytest.raises(MalformedResponse) as caught:
            await session.request("GET", "/text/auditing/st1")
    assert caught.value.status == 200
    assert caught.value.request_id == "rid-2"
    assert len(server.seen) == 2


async def test_oversized_answer_is_refused(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(200, b"<Response>" + b"x" * 5000 + b"</Response>", {})]
    async with make_session(url, retry=RetryPolicy(attempts=1), max_response_bytes=1000) as session:
        with pytest.raises(MalformedResponse, match="exceeds"):
            await session.request("GET", "/text/auditing/st1")


async def test_oversized_chunked_answer_is_refused(script: tuple[Script, str]) -> None:
    server, url = script
    server.chunked = True
    server.answers = [(200, b"<Response>" + b"x" * 5000 + b"</Response>", {})]
    async with make_session(url, retry=RetryPolicy(attempts=1), max_response_bytes=1000) as session:
        with pytest.raises(MalformedResponse, match="exceeds the limit of 1000 bytes"):
            await session.request("GET", "/text/auditing/st1")


@pytest.mark.parametrize("chunked", [False, True])
async def test_an_oversized_error_answer_keeps_its_status(
    script: tuple[Script, str], chunked: bool
) -> None:
    server, url = script
    server.chunked = chunked  # the size is then known only while reading
    server.answers = [(500, error_body("InternalError") + b" " * 5000, {})]
    async with make_session(url, max_response_bytes=1000) as session:
        with pytest.raises(ServerError) as caught:
            await session.request("POST", "/text/auditing", body=b"<Request/>")
    error = caught.value
    assert (error.status, error.code, error.request_id) == (500, "HTTP500", "rid-1")
    assert "limit of 1000 bytes" in error.message
    # a 500 on a submission stays ambiguous, never a MalformedResponse (which means a 2xx)
    assert is_ambiguous(error) and len(server.seen) == 1


async def test_an_oversized_503_is_still_turned_away_and_resent(script: tuple[Script, str]) -> None:
    server, url = script
    server.then(503, error_body("ServiceUnavailable") + b" " * 5000)
    async with make_session(url, max_response_bytes=1000) as session:
        response = await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert response.request_id == "rid-2" and len(server.seen) == 2


async def test_auth_error_refreshes_provider_credentials_once(script: tuple[Script, str]) -> None:
    server, url = script
    server.then(400, error_body("ExpiredToken"))
    issued: list[Credentials] = []

    async def provider() -> Credentials:
        issued.append(Credentials("AKIDtmp", "k", f"token-{len(issued)}"))
        return issued[-1]

    async with make_session(url, credentials=provider) as session:
        await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert [r.headers["x-ci-security-token"] for r in server.seen] == ["token-0", "token-1"]


async def test_nothing_listening_is_a_connect_error_and_is_retried() -> None:
    events: list[RetryEvent] = []
    retry = RetryPolicy(attempts=3)
    async with make_session("http://127.0.0.1:9", retry=retry, on_retry=events.append) as session:
        with pytest.raises(ConnectError):
            await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert [event.attempt for event in events] == [1, 2]


async def test_submit_is_not_resent_when_the_connection_drops_after_sending(
    hang_up: tuple[list[bytes], str],
) -> None:
    received, url = hang_up
    async with make_session(url) as session:
        with pytest.raises(ConnectionLost):
            await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert len(received) == 1


async def test_query_is_resent_when_the_connection_drops(hang_up: tuple[list[bytes], str]) -> None:
    received, url = hang_up
    events: list[RetryEvent] = []
    retry = RetryPolicy(attempts=3)
    async with make_session(url, retry=retry, on_retry=events.append) as session:
        with pytest.raises(ConnectionLost):
            await session.request("GET", "/text/auditing/st1")
    assert [event.attempt for event in events] == [1, 2]
    # each attempt sent once: aiohttp's own unseen resend of a GET is switched off
    assert len(received) == 3


async def test_submit_is_not_resent_after_a_read_timeout(script: tuple[Script, str]) -> None:
    server, url = script
    server.stall = asyncio.Event()  # never set: the server does not answer
    timeouts = Timeouts(connect=1, read=0.05, total=None)
    async with make_session(url, timeouts=timeouts) as session:
        with pytest.raises(RequestTimeout):
            await session.request("POST", "/text/auditing", body=b"<Request/>")
    assert len(server.seen) == 1


async def test_redirects_are_not_followed(script: tuple[Script, str]) -> None:
    server, url = script
    other, other_url = Script(), ""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", other.handle)
    elsewhere = TestServer(app, host="127.0.0.1")
    await elsewhere.start_server()
    other_url = f"http://127.0.0.1:{elsewhere.port}/stolen"
    server.answers = [(307, b"", {"Location": other_url})]
    creds = Credentials("AKIDtmp", "k", "sts-token")
    try:
        async with make_session(url, credentials=creds) as session:
            with pytest.raises(ServiceError) as caught:
                await session.request("POST", "/text/auditing", body=b"<Request/>")
    finally:
        await elsewhere.close()
    assert caught.value.status == 307
    assert len(server.seen) == 1
    assert other.seen == []


async def test_retries_never_start_past_the_deadline(script: tuple[Script, str]) -> None:
    server, url = script
    server.answers = [(503, error_body("ServiceUnavailable"), {})]
    now = [0.0]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    retry = RetryPolicy(attempts=50, initial=4, maximum=8, deadline=10)
    session = make_session(url, retry=retry, sleep=sleep, monotonic=lambda: now[0])
    async with session:
        with pytest.raises(ServerError):
            await session.request("GET", "/text/auditing/st1")
    # the clock stands where the last attempt started: no sleep follows the last failure
    assert len(server.seen) == len(sleeps) + 1 >= 2
    assert now[0] < 10


async def test_transport_errors_carry_no_secrets() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    events: list[RetryEvent] = []
    creds = Credentials("AKIDtmp", "the-secret-key", "STS-TOKEN-abc")
    params = {
        "ci-process": "sensitive-content-recognition",
        "detect-url": "https://x/a.jpg?q-signature=PRESIGNED",
    }
    try:
        async with make_session(url, credentials=creds, on_retry=events.append) as session:
            with pytest.raises(ConnectionLost) as caught:
                await session.request(
                    "GET", "/", service=Service.COS, params=params, root="RecognitionResult"
                )
    finally:
        server.close()
        await server.wait_closed()
    text = " ".join([str(caught.value), repr(caught.value), *(repr(e) for e in events)])
    for secret in ("STS-TOKEN-abc", "the-secret-key", "q-signature", "PRESIGNED", "Authorization"):
        assert secret not in text
    assert "detect-url=..." in text


async def test_read_timeout(script: tuple[Script, str]) -> None:
    server, url = script
    server.stall = asyncio.Event()  # never set: the server does not answer
    timeouts = Timeouts(connect=1, read=0.05, total=None)
    async with make_session(url, timeouts=timeouts, retry=RetryPolicy(attempts=1)) as session:
        with pytest.raises(RequestTimeout):
            await session.request("GET", "/text/auditing/st1")


async def test_states() -> None:
    session = make_session("http://127.0.0.1:9")
    with pytest.raises(ClientStateError, match="unopened"):
        await session.request("GET", "/text/auditing/st1")
    async with session:
        pass
    with pytest.raises(ClientStateError, match="closed"):
        await session.request("GET", "/text/auditing/st1")
    with pytest.raises(ClientStateError):
        await session.open()
    assert "test-secret-key" not in repr(session)


async def test_a_synchronous_answer_without_state_is_final(script: tuple[Script, str]) -> None:
    server, url = script
    # the documented single-image sample (spec §4.1) carries no <State>
    server.answers = [
        (
            200,
            b"<RecognitionResult><JobId>si1</JobId><Result>1</Result><Label>Porn</Label>"
            b"<PornInfo><Code>0</Code><Msg>OK</Msg><HitFlag>1</HitFlag><Score>95</Score></PornInfo>"
            b"</RecognitionResult>",
            {},
        )
    ]
    client = AuditClient(
        bucket="examplebucket-1250000000", region="ap-guangzhou", endpoint=url, credentials=KEY
    )
    async with client:
        job = await client.image.moderate(object="a.jpg")
    assert job.job_id == "si1" and job.label == "Porn" and job.is_sensitive
    assert job.porn_info is not None and job.porn_info.score == 95
    assert [r.path for r in server.seen] == ["/a.jpg"]
