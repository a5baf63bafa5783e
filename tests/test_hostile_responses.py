"""Hostile answers over loopback HTTP: entity bombs, external entities, huge and deep bodies.

Each must end in a typed error carrying the HTTP status and the request id, and the limit that
stopped it must show in the message: that is how these tests know memory and time stayed
bounded, without timing anything.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from test_emulator import Api

from cosaudit import AuditClient, Credentials
from cosaudit.config import RetryPolicy
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.errors import MalformedResponse, ServerError
from cosaudit.wire.xmlcodec import BYTES_PER_ELEMENT, DEFAULT_MAX_BYTES, MAX_DEPTH

MAX_ELEMENTS = DEFAULT_MAX_BYTES // BYTES_PER_ELEMENT

KEY = Credentials("AKIDhostile", "hostile-test-key")
MB = 1024 * 1024

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]><Response><JobsDetail><JobId>st1</JobId><Label>&lol9;</Label></JobsDetail></Response>"
)
LOCAL_FILE = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
    "<Response><JobsDetail><JobId>st1</JobId><Label>&xxe;</Label></JobsDetail></Response>"
)


def external_dtd(url: str) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{url}">'
        "<Response><JobsDetail><JobId>st1</JobId></JobsDetail></Response>"
    )


def parameter_entity(url: str) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % ext SYSTEM "{url}"> %ext;]>'
        "<Response><JobsDetail><JobId>st1</JobId></JobsDetail></Response>"
    )


class Hostile:
    """A loopback server answering every request with ``answer``; counts what it was asked."""

    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.headers: dict[str, str] = {}
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.path)
        headers = {"x-ci-request-id": f"hostile-{len(self.seen)}", **self.headers}
        return web.Response(
            status=self.status, body=self.body, headers=headers, content_type="application/xml"
        )


@pytest.fixture
async def hostile() -> AsyncIterator[tuple[Hostile, str]]:
    server = Hostile()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield server, f"http://127.0.0.1:{test_server.port}"
    await test_server.close()


def client_for(url: str) -> AuditClient:
    return AuditClient(
        bucket="examplebucket-1250000000",
        region="ap-guangzhou",
        endpoint=url,
        credentials=KEY,
        retry=RetryPolicy(attempts=1),
    )


async def _malformed(url: str) -> MalformedResponse:
    async with client_for(url) as client:
        with pytest.raises(MalformedResponse) as caught:
            await client.text.get("st1")
    return caught.value


# The codecs of Python that write no BOM: expat must be told by the declaration alone.
DECLARED = {"utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE", "iso-8859-1": "ISO-8859-1"}


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "iso-8859-1"]
)
async def test_billion_laughs_is_refused_in_any_encoding(
    hostile: tuple[Hostile, str], encoding: str
) -> None:
    server, url = hostile
    body = LAUGHS.encode(encoding)
    if encoding in DECLARED:
        declaration = f'version="1.0" encoding="{DECLARED[encoding]}"'
        body = LAUGHS.replace('version="1.0"', declaration).encode(encoding)
    server.body = body
    error = await _malformed(url)
    assert (error.status, error.request_id) == (200, "hostile-1")
    assert "DTD or entities" in str(error) or "entities are disabled" in str(error)


async def test_local_file_entity_is_refused_and_not_read(hostile: tuple[Hostile, str]) -> None:
    server, url = hostile
    server.body = LOCAL_FILE.encode()
    error = await _malformed(url)
    assert "DTD or entities" in str(error)
    assert error.request_id == "hostile-1"


@pytest.mark.parametrize("make", [external_dtd, parameter_entity], ids=["dtd", "parameter"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_external_entities_are_never_fetched(
    hostile: tuple[Hostile, str],
    make: Callable[[str], str],
    encoding: str,
) -> None:
    server, url = hostile
    # The DTD points back at the same server: any fetch would show up in server.seen.
    server.body = (
        make(f"{url}/evil.dtd")
        .replace('1.0"?>', f'1.0" encoding="{encoding}"?>', 1)
        .encode(encoding)
    )
    error = await _malformed(url)
    assert "DTD or entities" in str(error)
    assert server.seen == ["/text/auditing/st1"]


async def test_an_error_answer_with_an_entity_bomb_keeps_its_status(
    hostile: tuple[Hostile, str],
) -> None:
    server, url = hostile
    server.status, server.body = 503, LAUGHS.replace("Response", "Error").encode()
    async with client_for(url) as client:
        with pytest.raises(ServerError) as caught:
            await client.text.get("st1")
    assert (caught.value.status, caught.value.code) == (503, "HTTP503")
    assert caught.value.request_id == "hostile-1"
    assert "lol" not in str(caught.value)


async def _fifty_megabytes(request: web.Request, *, declared: bool) -> web.StreamResponse:
    total = 50 * MB
    response = web.StreamResponse(headers={"x-ci-request-id": "big-1"})
    response.content_type = "application/xml"
    if declared:
        response.content_length = total
    else:
        response.enable_chunked_encoding()
    await response.prepare(request)
    chunk = b"<Response>" + b"x" * (MB - 10)
    written = 0
    try:
        while written < total:
            await response.write(chunk)
            written += len(chunk)
            request.app[WRITTEN].append(written)
            chunk = b"x" * MB
    except (ConnectionError, RuntimeError):
        pass  # the client hung up, as it should
    return response


WRITTEN = web.AppKey("written", list)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_50_megabyte_answer_is_cut_off_at_the_cap(declared: bool) -> None:
    app = web.Application()
    app[WRITTEN] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        return await _fifty_megabytes(request, declared=declared)

    app.router.add_route("*", "/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        error = await _malformed(f"http://127.0.0.1:{server.port}")
    finally:
        await server.close()
    assert (error.status, error.request_id) == (200, "big-1")
    assert f"exceeds the limit of {DEFAULT_MAX_BYTES} bytes" in str(error)
    if declared:  # refused on the header: not one chunk of the body was needed
        assert f"answer of {50 * MB} bytes" in str(error)


async def test_the_client_may_raise_the_size_cap(hostile: tuple[Hostile, str]) -> None:
    # a video of thousands of snapshots that all hit, with sound, answers more than 16 MB
    server, url = hostile
    job = b"<JobsDetail><JobId>st1</JobId><State>Success</State></JobsDetail>"
    server.body = b"<Response>" + job * 100 + b"</Response>"  # 6.6 KB, 301 elements
    for limit, fits in [(4096, False), (8192, True)]:
        client = AuditClient(
            bucket="examplebucket-1250000000",
            region="ap-guangzhou",
            endpoint=url,
            credentials=KEY,
            retry=RetryPolicy(attempts=1),
            max_response_bytes=limit,
        )
        async with client:
            if fits:
                assert (await client.text.get("st1")).job_id == "st1"
            else:
                with pytest.raises(MalformedResponse, match=f"limit of {limit} bytes"):
                    await client.text.get("st1")


# Response, JobsDetail and Section are 3 levels: MAX_DEPTH - 2 <a> make MAX_DEPTH + 1 in all.
@pytest.mark.parametrize("depth", [MAX_DEPTH - 2, 200_000])
async def test_deeply_nested_xml_is_refused(hostile: tuple[Hostile, str], depth: int) -> None:
    server, url = hostile
    server.body = (
        b"<Response><JobsDetail><JobId>st1</JobId><Section>"
        + b"<a>" * depth
        + b"</a>" * depth
        + b"</Section></JobsDetail></Response>"
    )
    error = await _malformed(url)
    assert (error.status, error.request_id) == (200, "hostile-1")
    assert f"nest deeper than the limit of {MAX_DEPTH}" in str(error)


async def test_nesting_up_to_the_limit_is_fine(hostile: tuple[Hostile, str]) -> None:
    server, url = hostile
    depth = MAX_DEPTH - 3
    server.body = (
        b"<Response><JobsDetail><JobId>st1</JobId><State>Success</State><Section>"
        + b"<a>" * depth
        + b"</a>" * depth
        + b"</Section></JobsDetail></Response>"
    )
    async with client_for(url) as client:
        job = await client.text.get("st1")
    assert job.job_id == "st1"
    assert len(job.sections) == 1  # the unknown <a> nest stays in the section's raw


async def test_a_flood_of_tiny_elements_is_refused_early(hostile: tuple[Hostile, str]) -> None:
    server, url = hostile
    # 4 MB of "<a/>": a quarter of the byte cap, but more elements than any answer holds
    # (answers average 21 bytes an element); parsing them all took 1.3 s and 100 MB.
    server.body = b"<Response>" + b"<a/>" * MAX_ELEMENTS + b"</Response>"
    error = await _malformed(url)
    assert (error.status, error.request_id) == (200, "hostile-1")
    assert f"more than the limit of {MAX_ELEMENTS} elements" in str(error)


async def test_the_densest_emulator_answer_stays_under_the_element_limit(tmp_path: Path) -> None:
    # Snapshots and sound hitting every scene are the most elements per byte the emulator
    # answers (a 10,000-snapshot video: 14.0 MB, 660,022 elements); at more bytes per element
    # than BYTES_PER_ELEMENT, whatever fits under the byte cap fits under the element cap.
    text = "porn bomb coup buy now"
    manifest = {
        "duration_ms": 200_000,
        "frames": [{"time_ms": 0, "text": text}],
        "audio": [{"offset_ms": i * 1000, "duration_ms": 1000, "text": text} for i in range(200)],
    }
    (tmp_path / "dense.mp4").write_bytes(b"\x00")
    (tmp_path / "dense.mp4.cosaudit.json").write_text(json.dumps(manifest))
    snapshot = {"Mode": "Interval", "Count": "200", "TimeInterval": "1"}
    request = {"Input": {"Object": "dense.mp4"}, "Conf": {"Snapshot": snapshot, "DetectContent": 1}}
    config = EmulatorConfig(bucket_dir=tmp_path, final_after_polls=1)
    async with Emulator(config) as emu, aiohttp.ClientSession() as http:
        api = Api(emu, http)
        job_id = (await api.submit("video", request)).detail["JobId"]
        answer = await api.query("video", job_id)
    assert answer.detail["State"] == "Success"
    elements = answer.body.count(b"</") + answer.body.count(b"/>")
    assert elements > 400 * 40  # the 200 snapshots and 200 sections, each with 4 scenes
    assert len(answer.body) / elements > BYTES_PER_ELEMENT, len(answer.body) / elements


async def test_a_gzip_bomb_is_cut_off_at_the_cap(hostile: tuple[Hostile, str]) -> None:
    server, url = hostile
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip framing
    zeros = b"\0" * (4 * MB)
    # 32 MB of XML text packed into some 32 KB: the cap counts what it unpacks to.
    server.body = (
        packer.compress(b"<Response>")
        + b"".join(packer.compress(zeros) for _ in range(8))
        + packer.flush()
    )
    server.headers = {"Content-Encoding": "gzip"}
    assert len(server.body) < MB
    error = await _malformed(url)
    assert (error.status, error.request_id) == (200, "hostile-1")
    assert f"exceeds the limit of {DEFAULT_MAX_BYTES} bytes" in str(error)
    # Cut while unpacking (the declared length counts packed bytes), never unpacked whole and
    # refused by the parser afterwards: a 16 MB bomb would unpack to 16 GB first.
    assert f"answer exceeds the limit of {DEFAULT_MAX_BYTES} bytes" in str(error)
