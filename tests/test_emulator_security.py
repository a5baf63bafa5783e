"""The emulator's own defences: loopback binding, constant-time signature checks, a body cap,
and no server-side request forgery through ``Url`` inputs (loopback only unless allowed).
"""

from __future__ import annotations

import ast
import asyncio
import hmac
import inspect
import socket
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import url_of

from cosaudit import AuditClient, Credentials, PollPolicy, RetryPolicy
from cosaudit.emulator import Emulator, EmulatorConfig, auth
from cosaudit.emulator.cli import build_parser
from cosaudit.emulator.sources import is_loopback_url
from cosaudit.errors import AuthError
from cosaudit.wire.signing import Signer

BUCKET, REGION = "examplebucket-1250000000", "ap-guangzhou"
CI_HOST = f"{BUCKET}.ci.{REGION}.myqcloud.com"
FAST = PollPolicy(initial=0.01, maximum=0.05, timeout=10)


def client_for(
    emu: Emulator, secret_key: str | None = None, token: str | None = None
) -> AuditClient:
    return AuditClient(
        bucket=BUCKET,
        region=REGION,
        endpoint=emu.url,
        credentials=Credentials(emu.config.secret_id, secret_key or emu.config.secret_key, token),
        poll=FAST,
        retry=RetryPolicy(attempts=1),
    )


# --- binding -------------------------------------------------------------------------------------


def test_loopback_is_the_default_address() -> None:
    assert EmulatorConfig().host == "127.0.0.1"
    assert build_parser().parse_args([]).host == "127.0.0.1"


def _outward_address() -> str | None:
    """An address of this machine that is not loopback, if it has one.

    Connecting a UDP socket sends nothing; it only picks the interface a packet would leave by.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


async def test_the_emulator_is_not_reachable_from_outside_loopback() -> None:
    async with Emulator(EmulatorConfig()) as emu:
        assert emu.url.startswith("http://127.0.0.1:")
        address = _outward_address()
        if address is None:
            pytest.skip("this machine has no non-loopback address to try")
        # Connecting to our own outward address stays on this machine.
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(address, emu.port)


# --- constant-time comparison --------------------------------------------------------------------


async def test_signatures_and_tokens_are_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[bytes, bytes]] = []

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return hmac.compare_digest(a, b)

    monkeypatch.setattr(auth, "hmac", SimpleNamespace(compare_digest=spy))
    config = EmulatorConfig(token="emu-token")
    async with Emulator(config) as emu:
        async with client_for(emu, token="not-the-token") as client:
            with pytest.raises(AuthError):  # right signature, wrong token
                await client.text.moderate("hello")
        async with client_for(emu, secret_key="wrong") as client:
            with pytest.raises(AuthError):  # wrong signature
                await client.text.moderate("hello")
    # the first request's signature and token, the second request's signature
    assert [(len(a), len(b)) for a, b in compared] == [(40, 40), (13, 9), (40, 40)]


def test_no_secret_is_compared_with_equality() -> None:
    tree = ast.parse(inspect.getsource(auth))
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
        ):
            names = ast.unparse(node)
            assert "signature" not in names and "token" not in names, names


# --- query values are decoded once ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["%00", "100%", "a%2Fb", "%25", "%E8%85%BE", "x%2B y"])
async def test_query_values_holding_percent_signs_are_read_as_sent(
    site: TestServer, value: str
) -> None:
    # The emulator used to decode the query twice: 'a%2Fb' became 'a/b', the signature no
    # longer matched (403), and a pre-signed detect-url would have been fetched wrong.
    async with Emulator(EmulatorConfig()) as emu, client_for(emu) as client:
        job = await client.image.moderate(url=f"{url_of(site, '/ads.png')}?sig={value}")
    assert job.url == f"{url_of(site, '/ads.png')}?sig={value}"
    assert job.is_sensitive


# --- body cap -------------------------------------------------------------------------------------


async def _signed_post(
    emu: Emulator, body: bytes | Callable[[], Any], headers: dict[str, str]
) -> tuple[int, str]:
    headers = {"Host": CI_HOST, "Content-Type": "application/xml", **headers}
    headers["Authorization"] = Signer().sign(
        emu.config.secret_id,
        emu.config.secret_key,
        "POST",
        "/text/auditing",
        {},
        headers,
        __import__("time").time(),
    )
    data = body() if callable(body) else body
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.url}/text/auditing", data=data, headers=headers) as response,
    ):
        return response.status, await response.text()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_bodies_over_the_cap_get_413(declared: bool) -> None:
    body = b"<Request><Input><Content>" + b"A" * 4000 + b"</Content></Input></Request>"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    async with Emulator(EmulatorConfig(max_body_bytes=1000)) as emu:
        if declared:
            status, text = await _signed_post(emu, body, {"Content-Length": str(len(body))})
        else:
            status, text = await _signed_post(emu, chunks, {})
        assert status == 413
        assert "<Code>InvalidContent</Code>" in text
        assert "exceeds 1000 bytes" in text
        small = b"<Request><Input><Content>aGk=</Content></Input></Request>"
        status, _ = await _signed_post(emu, small, {"Content-Length": str(len(small))})
        assert status == 200


@pytest.mark.parametrize(
    "body",
    [
        b"<Request><Input>" + b"<a>" * 100 + b"</a>" * 100 + b"</Input></Request>",
        b'<!DOCTYPE r [<!ENTITY a "b">]><Request><Input><Content>&a;</Content></Input></Request>',
    ],
    ids=["deep", "entity"],
)
async def test_hostile_request_xml_is_refused(body: bytes) -> None:
    async with Emulator(EmulatorConfig()) as emu:
        status, text = await _signed_post(emu, body, {"Content-Length": str(len(body))})
    assert status == 400
    assert "<Code>InvalidArgument</Code>" in text


async def test_a_compressed_body_is_capped_by_what_it_unpacks_to() -> None:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    body = packer.compress(b"<Request><Input><Content>")
    body += b"".join(packer.compress(b"A" * 1_000_000) for _ in range(8)) + packer.flush()
    async with Emulator(EmulatorConfig(max_body_bytes=1_000_000)) as emu:
        status, text = await _signed_post(
            emu, body, {"Content-Length": str(len(body)), "Content-Encoding": "gzip"}
        )
    assert len(body) < 100_000
    assert status == 413
    assert "<Code>InvalidContent</Code>" in text


def test_the_default_body_cap() -> None:
    assert EmulatorConfig().max_body_bytes == 64 * 1024 * 1024


# --- no server-side request forgery ---------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.path_qs)
        return web.Response(text="buy now", content_type="text/plain")


@pytest.fixture
async def target() -> AsyncIterator[tuple[Recorder, int]]:
    """A loopback server standing for an internal service the emulator must not reach."""
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield recorder, server.port
    await server.close()


FORBIDDEN: list[tuple[str, Callable[[int], str]]] = [
    ("any address", lambda p: f"http://0.0.0.0:{p}/secret"),
    ("IPv6 any address", lambda p: f"http://[::]:{p}/secret"),
    ("decimal IP", lambda p: f"http://2130706433:{p}/secret"),
    ("hex IP", lambda p: f"http://0x7f000001:{p}/secret"),
    ("octal IP", lambda p: f"http://0177.0.0.1:{p}/secret"),
    ("short IP", lambda p: f"http://127.1:{p}/secret"),
    ("IPv4-mapped private", lambda p: f"http://[::ffff:10.0.0.1]:{p}/secret"),
    ("private IP", lambda p: f"http://10.0.0.1:{p}/secret"),
    ("link-local metadata", lambda p: f"http://169.254.169.254:{p}/latest/meta-data"),
    ("a name resolving to loopback", lambda p: f"http://127.0.0.1.nip.io:{p}/secret"),
    ("this machine's name", lambda p: f"http://{socket.gethostname()}:{p}/secret"),
    ("localhost as a subdomain", lambda p: f"http://localhost.evil.example:{p}/secret"),
    ("userinfo before the host", lambda p: f"http://127.0.0.1:{p}@evil.example/secret"),
    ("backslash trick", lambda p: f"http://evil.example\\@127.0.0.1:{p}/secret"),
]


@pytest.mark.parametrize(("what", "make"), FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
async def test_url_inputs_off_loopback_are_refused(
    target: tuple[Recorder, int], what: str, make: Callable[[int], str]
) -> None:
    recorder, port = target
    url = make(port)
    assert not is_loopback_url(url)
    async with Emulator(EmulatorConfig(job_duration=0.01)) as emu, client_for(emu) as client:
        job = await client.text.moderate(url=url, raise_on_failure=False)
    assert job.is_failed
    assert job.code == "ResourceDownloadFailed"
    assert "loopback URLs only" in (job.message or "")
    assert recorder.seen == []


async def test_loopback_urls_are_fetched(target: tuple[Recorder, int]) -> None:
    recorder, port = target
    urls = [f"http://127.0.0.1:{port}/a.txt", f"http://localhost:{port}/b.txt"]
    async with Emulator(EmulatorConfig(job_duration=0.01)) as emu, client_for(emu) as client:
        jobs = [await client.text.moderate(url=url) for url in urls]
    assert [job.state.value for job in jobs] == ["Success", "Success"]  # type: ignore[union-attr]
    assert [path for path in recorder.seen if not path.endswith(".cosaudit.json")] == [
        "/a.txt",
        "/b.txt",
    ]


async def test_remote_fetching_only_when_allowed(target: tuple[Recorder, int]) -> None:
    recorder, port = target
    url = f"http://0.0.0.0:{port}/allowed.txt"  # reaches the loopback target on Linux
    config = EmulatorConfig(job_duration=0.01, allow_remote_fetch=True)
    async with Emulator(config) as emu, client_for(emu) as client:
        await client.text.moderate(url=url, raise_on_failure=False)
    assert "/allowed.txt" in recorder.seen


async def test_a_redirect_from_loopback_is_not_followed(target: tuple[Recorder, int]) -> None:
    recorder, port = target
    app = web.Application()

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://127.0.0.1:{port}/stolen")

    app.router.add_get("/{tail:.*}", redirect)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with Emulator(EmulatorConfig(job_duration=0.01)) as emu, client_for(emu) as client:
            job = await client.text.moderate(
                url=f"http://127.0.0.1:{server.port}/go.txt", raise_on_failure=False
            )
    finally:
        await server.close()
    assert job.code == "ResourceDownloadFailed"
    assert "answered 302" in (job.message or "")
    assert recorder.seen == []


async def test_a_webpage_cannot_make_the_emulator_fetch_elsewhere(
    target: tuple[Recorder, int],
) -> None:
    recorder, port = target
    page = (
        "<html><body><p>hello</p>"
        f'<img src="http://0.0.0.0:{port}/a.png"><img src="http://2130706433:{port}/b.png">'
        f'<img src="http://127.0.0.1:{port}@evil.example/c.png"></body></html>'
    )
    app = web.Application()

    async def handle(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app.router.add_get("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with Emulator(EmulatorConfig(job_duration=0.01)) as emu, client_for(emu) as client:
            job = await client.webpage.moderate(f"http://127.0.0.1:{server.port}/page.html")
    finally:
        await server.close()
    assert job.state is not None and job.state.value == "Success"  # type: ignore[union-attr]
    assert recorder.seen == []


def test_bucket_objects_cannot_escape_the_bucket_folder(tmp_path: Path) -> None:
    from cosaudit.emulator.sources import SourceError, Sources

    (tmp_path / "bucket").mkdir()
    (tmp_path / "secret.txt").write_text("outside")
    sources = Sources(tmp_path / "bucket", allow_remote_fetch=False)
    for key in ("../secret.txt", "a/../../secret.txt", "/../secret.txt", "..\\secret.txt"):
        with pytest.raises(SourceError):
            sources.read_object(key, 1000)


async def test_a_failed_download_is_explained_in_words_not_an_aiohttp_repr() -> None:
    with socket.socket() as probe:  # a loopback port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Emulator(EmulatorConfig(job_duration=0.01)) as emu, client_for(emu) as client:
        job = await client.text.moderate(
            url=f"http://127.0.0.1:{port}/x.txt", raise_on_failure=False
        )
    assert job.code == "ResourceDownloadFailed"
    assert f"cannot connect to 127.0.0.1:{port}" in (job.message or "")
    assert "ConnectionKey" not in (job.message or "") and "Error(" not in (job.message or "")
