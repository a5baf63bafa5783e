"""Where requests go: nothing a caller passes (or the environment holds) sends a request to
another host or path, redirects are never followed, and TLS is verified unless switched off.

Inputs that could steer are refused outright (tests/test_bad_input.py, tests/BAD_INPUTS.md);
these tests send real requests over loopback and look at what arrived.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import event, given
from hypothesis import strategies as st
from yarl import URL

from cosaudit import AuditClient, Credentials
from cosaudit.config import RetryPolicy
from cosaudit.endpoints import Endpoints, Service
from cosaudit.errors import ConnectError, InvalidInput, ServiceError

BUCKET, REGION = "examplebucket-1250000000", "ap-guangzhou"
KEY = Credentials("AKIDsteer", "steer-key", "steer-token")
CI_HOST = f"{BUCKET}.ci.{REGION}.myqcloud.com"
COS_HOST = f"{BUCKET}.cos.{REGION}.myqcloud.com"
SYNC_IMAGE = b"<RecognitionResult><JobId>si1</JobId><Result>0</Result></RecognitionResult>"
QUERY = b"<Response><JobsDetail><JobId>st1</JobId><State>Success</State></JobsDetail></Response>"


class Recorder:
    """A loopback server keeping every request; answers with ``body`` (or ``status``)."""

    def __init__(self) -> None:
        self.requests: list[web.Request] = []
        self.status = 200
        self.body = QUERY
        self.headers: dict[str, str] = {}

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.requests.append(request)
        return web.Response(
            status=self.status, body=self.body, headers=self.headers, content_type="application/xml"
        )


async def _serve(recorder: Recorder) -> TestServer:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    found = Recorder()
    server = await _serve(found)
    yield found, f"http://127.0.0.1:{server.port}"
    await server.close()


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[Recorder, str]]:
    """A second server standing for 'another host': it must never see a request."""
    found = Recorder()
    server = await _serve(found)
    yield found, f"http://127.0.0.1:{server.port}"
    await server.close()


def client_for(endpoint: str | None, **kwargs: object) -> AuditClient:
    return AuditClient(
        bucket=BUCKET,
        region=REGION,
        endpoint=endpoint,
        credentials=KEY,
        retry=RetryPolicy(attempts=1),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "key",
    [
        "a?b.jpg",
        "a#b.jpg",
        "a?ci-process=x&detect-url=http://evil/#.jpg",
        "a/%2e%2e/b.jpg",
        "%2F..%2Fetc",
        "dir\\..\\b.jpg",
        "a b+c;d=e@f.jpg",
        "图片/广告 1.png",
        "a//b.jpg",
        "..a/b..",
        "a/ /b",
    ],
)
async def test_object_keys_arrive_as_one_path_and_add_no_query(
    recorder: tuple[Recorder, str], key: str
) -> None:
    server, url = recorder
    server.body = SYNC_IMAGE
    async with client_for(url) as client:
        job = await client.image.moderate(object=key)
    assert job.job_id == "si1"
    (request,) = server.requests
    assert request.path == "/" + key
    assert dict(request.query) == {"ci-process": "sensitive-content-recognition"}
    assert request.headers["Host"] == COS_HOST
    assert "#" not in request.raw_path and request.raw_path.count("?") == 1


@pytest.mark.parametrize("service", list(Service))
async def test_every_request_names_the_bucket_host(
    recorder: tuple[Recorder, str], service: Service
) -> None:
    server, url = recorder
    async with client_for(url) as client:
        await client.session.request("GET", "/text/auditing/st1", service=service)
    assert server.requests[0].headers["Host"] == (CI_HOST if service is Service.CI else COS_HOST)


@pytest.mark.parametrize("suffix", ["", "/"])
async def test_an_endpoint_with_a_trailing_slash_keeps_the_path(
    recorder: tuple[Recorder, str], suffix: str
) -> None:
    server, url = recorder
    async with client_for(url + suffix) as client:
        await client.text.get("st1")
    assert [r.path_qs for r in server.requests] == ["/text/auditing/st1"]


async def test_localhost_endpoint_is_accepted(recorder: tuple[Recorder, str]) -> None:
    server, url = recorder
    async with client_for(url.replace("127.0.0.1", "localhost")) as client:
        await client.text.get("st1")
    assert len(server.requests) == 1


def test_without_an_endpoint_requests_go_to_the_bucket_over_https() -> None:
    endpoints = Endpoints(BUCKET, REGION)
    assert endpoints.base_url(Service.CI) == f"https://{CI_HOST}"
    assert endpoints.base_url(Service.COS) == f"https://{COS_HOST}"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_redirects_are_never_followed(
    recorder: tuple[Recorder, str],
    elsewhere: tuple[Recorder, str],
    status: int,
    method: str,
) -> None:
    server, url = recorder
    other, other_url = elsewhere
    server.status, server.body = status, b""
    server.headers = {"Location": f"{other_url}/stolen"}
    async with client_for(url) as client:
        call = client.text.get("st1") if method == "GET" else client.text.submit(object="a.txt")
        with pytest.raises(ServiceError) as caught:
            await call
    assert caught.value.status == status
    assert len(server.requests) == 1
    assert other.requests == []


async def test_proxy_settings_in_the_environment_are_ignored(
    recorder: tuple[Recorder, str],
    elsewhere: tuple[Recorder, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, url = recorder
    proxy, proxy_url = elsewhere
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with client_for(url) as client:
        await client.text.get("st1")
    assert len(server.requests) == 1
    assert proxy.requests == []


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_server(authority: trustme.CA) -> AsyncIterator[tuple[Recorder, str]]:
    """An HTTPS server on loopback whose certificate no system store trusts."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    found = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    yield found, f"https://127.0.0.1:{port}"
    await runner.cleanup()


async def test_tls_is_verified_by_default(tls_server: tuple[Recorder, str]) -> None:
    server, url = tls_server
    async with client_for(url) as client:
        with pytest.raises(ConnectError) as caught:
            await client.text.get("st1")
    assert "certificate" in str(caught.value).lower() or "SSL" in str(caught.value)
    assert server.requests == []  # the handshake failed: no request, no token, was sent


async def test_tls_verification_is_off_only_when_asked(tls_server: tuple[Recorder, str]) -> None:
    server, url = tls_server
    async with client_for(url, verify_ssl=False) as client:
        job = await client.text.get("st1")
    assert job.job_id == "st1"
    assert len(server.requests) == 1


@pytest.mark.parametrize("value", ["no", "false", 0, None, 1])
def test_verify_ssl_takes_only_true_or_false(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        client_for("https://127.0.0.1:1", verify_ssl=value)
    assert caught.value.field == "verify_ssl"


# --- properties: whatever is accepted names exactly one host and keeps the path ----------------

_ODD = "/?#@:;\\%. \t\r\n[]-_~!$&'()*+,="
pieces = st.text(alphabet=st.sampled_from(_ODD + "abcz019"), max_size=6)
endpoints = st.builds(
    lambda scheme, host, port, tail: scheme + host + port + tail,
    st.sampled_from(["http://", "https://", "http://", "https://", "HTTP://", "ftp://", "//"]),
    st.one_of(
        st.sampled_from(["127.0.0.1", "localhost", "[::1]", "[::ffff:1.2.3.4]", "a.b-c", "a_b"]),
        pieces,
    ),
    st.one_of(st.just(""), st.integers(0, 70_000).map(lambda p: f":{p}"), pieces.map(":".__add__)),
    st.one_of(st.just(""), st.just("/"), pieces),
)
# Mostly valid names, with an odd piece spliced in half the time.
names = st.from_regex(r"[a-z0-9][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True)
spliced = st.builds(lambda a, odd, b: a + odd + b, names, pieces, names)
buckets = st.one_of(names, spliced).map(lambda b: b + "-1250000000")
regions = st.one_of(
    st.sampled_from(["ap-guangzhou", "ap-beijing", "na-siliconvalley"]),
    st.builds(lambda odd: "ap-guangzhou" + odd, pieces),
    st.builds(lambda odd: odd + "-guangzhou", pieces),
)


def _make(bucket: str, region: str, endpoint: str | None = None) -> Endpoints | str:
    """The endpoints, or the field the refusal named."""
    try:
        return Endpoints(bucket, region, endpoint)
    except InvalidInput as error:
        return error.field


@given(endpoint=endpoints)
def test_an_accepted_endpoint_keeps_host_and_path(endpoint: str) -> None:
    chosen = _make(BUCKET, REGION, endpoint)
    event("accepted" if isinstance(chosen, Endpoints) else "refused")
    if not isinstance(chosen, Endpoints):
        assert chosen == "endpoint"
        return
    url = URL(chosen.base_url(Service.CI) + "/text/auditing/st1", encoded=True)
    assert url.scheme in ("http", "https")
    assert url.host and url.user is None and url.password is None
    assert (url.path, url.query_string, url.fragment) == ("/text/auditing/st1", "", "")
    assert url.host in endpoint


@given(bucket=buckets, region=regions)
def test_an_accepted_bucket_and_region_make_one_host(bucket: str, region: str) -> None:
    chosen = _make(bucket, region)
    event("accepted" if isinstance(chosen, Endpoints) else "refused")
    if not isinstance(chosen, Endpoints):
        assert chosen in ("bucket", "region")
        return
    for service in Service:
        host = chosen.host(service)
        url = URL(chosen.base_url(service) + "/x")
        assert url.host == host and url.path == "/x"
        assert host == f"{bucket}.{service.value}.{region}.myqcloud.com"
        assert all(ch.isalnum() or ch in ".-" for ch in host)
