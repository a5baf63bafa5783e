"""Bucket listing end to end: ``client.list_objects`` against the emulator's ``GET /`` over
loopback, the wire it sends (a scripted server), and the kind guessed from a key."""

from __future__ import annotations

import doctest
import hashlib
import re
import textwrap
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import BUCKET, BUCKET_OBJECTS, KEY, NoWait, Script, client_for

import cosaudit.formats
from cosaudit import AuditClient, Credentials, ObjectEntry, RetryEvent
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.endpoints import Service
from cosaudit.errors import (
    AuthError,
    InvalidArgumentError,
    InvalidInput,
    LimitExceeded,
    MalformedResponse,
    NotFoundError,
)
from cosaudit.formats import EXTENSIONS, guess_kind

README = Path(__file__).parent.parent / "README.md"
UPLOADS = [f"uploads/{name}" for name in ("a.png", "b 1+2.txt", "c/d.mp4", "广告.jpg", "z.pdf")]
OTHERS = ["uploads.bak", "uploadsX/e.txt", "top.txt"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Five keys under ``uploads/``, three that only look alike, and two sidecar manifests."""
    root = tmp_path / "bucket"
    for index, key in enumerate([*UPLOADS, *OTHERS]):
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * index)
    (root / "uploads" / "c" / "d.mp4.cosaudit.json").write_text("{}")
    (root / "uploads" / "live.cosaudit.json").write_text("{}")
    return root


@pytest.fixture
async def emu(folder: Path) -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(bucket_dir=folder)) as emulator:
        yield emulator


async def listed(client: AuditClient, **kwargs: Any) -> list[ObjectEntry]:
    return [entry async for entry in client.list_objects(**kwargs)]


def pages(emu: Emulator) -> int:
    return emu.stats.requests["GET / (GET Bucket)"]


async def test_a_prefix_is_listed_over_several_pages(emu: Emulator, folder: Path) -> None:
    async with client_for(emu) as client:
        entries = await listed(client, prefix="uploads/", max_keys=2)
    assert [entry.key for entry in entries] == sorted(UPLOADS)  # UTF-8 byte order
    assert pages(emu) == 3  # 2 + 2 + 1
    for entry in entries:
        path = folder / entry.key
        assert entry.size == path.stat().st_size
        assert entry.etag == f'"{hashlib.md5(path.read_bytes()).hexdigest()}"'
        modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
        assert abs((entry.last_modified - modified).total_seconds()) < 0.001
        assert entry.last_modified.tzinfo is not None


async def test_a_page_boundary_on_every_key_loses_and_repeats_nothing(emu: Emulator) -> None:
    async with client_for(emu) as client:
        one_by_one = await listed(client, prefix="uploads/", max_keys=1)
        after = await listed(client, prefix="uploads/", marker=sorted(UPLOADS)[1])
    assert [entry.key for entry in one_by_one] == sorted(UPLOADS)
    assert [entry.key for entry in after] == sorted(UPLOADS)[2:]


async def test_a_key_xml_cannot_carry_is_listed_and_paged_past(emu: Emulator, folder: Path) -> None:
    (folder / "uploads" / "b\x01ctl.txt").write_bytes(b"?")  # a key COS allows, XML does not
    async with client_for(emu) as client:
        keys = [entry.key for entry in await listed(client, prefix="uploads/", max_keys=1)]
    assert keys == sorted([*UPLOADS, "uploads/b\x01ctl.txt"])


async def test_an_empty_prefix_lists_the_whole_bucket(bucket_dir: Path) -> None:
    (bucket_dir / "texts" / "hello.txt.cosaudit.json").write_text("{}")
    async with Emulator(EmulatorConfig(bucket_dir=bucket_dir)) as emu, client_for(emu) as client:
        entries = await listed(client)
        nothing = await listed(client, prefix="no/such/")
    assert [entry.key for entry in entries] == sorted(BUCKET_OBJECTS)
    assert nothing == []
    assert pages(emu) == 2


async def test_sidecar_manifests_are_hidden(emu: Emulator, folder: Path) -> None:
    assert (folder / "uploads" / "live.cosaudit.json").is_file()
    async with client_for(emu) as client:
        keys = [entry.key for entry in await listed(client)]
        only_sidecar = await listed(client, prefix="uploads/live")
    assert keys == sorted([*UPLOADS, *OTHERS])
    assert not any(key.endswith(".cosaudit.json") for key in keys)
    assert only_sidecar == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_keys": 0}, "max_keys"),
        ({"max_keys": 1001}, "max_keys"),
        ({"max_keys": True}, "max_keys"),
        ({"max_keys": "10"}, "max_keys"),
        ({"prefix": 5}, "prefix"),
        ({"prefix": None}, "prefix"),
        ({"prefix": "a\ud800"}, "prefix"),
        ({"marker": b"uploads/"}, "marker"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    emu: Emulator, kwargs: dict[str, Any], field: str
) -> None:
    async with client_for(emu) as client:
        with pytest.raises(InvalidInput) as caught:
            client.list_objects(**kwargs)  # at the call, not at the first iteration
    assert caught.value.field == field
    assert sum(emu.stats.requests.values()) == 0


async def test_a_prefix_longer_than_any_key_is_refused(emu: Emulator) -> None:
    async with client_for(emu) as client:
        with pytest.raises(LimitExceeded, match="850"):
            client.list_objects(prefix="k" * 851)
    assert sum(emu.stats.requests.values()) == 0


async def test_a_wrong_signature_is_refused(emu: Emulator) -> None:
    wrong = AuditClient(
        bucket=BUCKET,
        region="ap-guangzhou",
        endpoint=emu.url,
        credentials=Credentials(emu.config.secret_id, "not-the-secret-key"),
    )
    async with wrong:
        with pytest.raises(AuthError) as caught:
            await listed(wrong)
    assert (caught.value.status, caught.value.code) == (403, "SignatureDoesNotMatch")
    assert emu.stats.auth_failures == 1


async def test_a_missing_bucket_is_a_not_found_service_error(tmp_path: Path) -> None:
    config = EmulatorConfig(bucket_dir=tmp_path / "gone")
    async with Emulator(config) as emu, client_for(emu) as client:
        with pytest.raises(NotFoundError) as caught:
            await listed(client, prefix="uploads/")
    error = caught.value
    assert (error.status, error.code) == (404, "NoSuchBucket")
    assert error.request_id and error.trace_id
    assert error.method == "GET" and "prefix=..." in error.url  # values never shown


async def test_another_accounts_bucket_is_access_denied(emu: Emulator) -> None:
    other = AuditClient(
        bucket="examplebucket-1300000000",
        region="ap-guangzhou",
        endpoint=emu.url,
        credentials=Credentials(emu.config.secret_id, emu.config.secret_key),
    )
    async with other:
        with pytest.raises(AuthError) as caught:
            await listed(other)
    assert (caught.value.status, caught.value.code) == (403, "AccessDenied")


async def test_a_page_is_retried_like_any_query(emu: Emulator) -> None:
    events: list[RetryEvent] = []
    async with client_for(emu, on_retry=events.append, sleep=NoWait()) as client:
        emu.faults.fail_next(1, status=503, code="SlowDown", path_prefix="/")
        entries = await listed(client, prefix="uploads/")
    assert len(entries) == len(UPLOADS)
    assert [event.error.code for event in events] == ["SlowDown"]  # type: ignore[attr-defined]
    assert pages(emu) == 2


async def test_the_listing_lives_on_the_cos_host_only(emu: Emulator) -> None:
    """The same signed ``GET /`` sent for the CI host is no API there (the emulator's choice of
    telling the two front ends apart by ``Host``)."""
    async with client_for(emu) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.session.request("GET", "/", service=Service.CI, root="ListBucketResult")
        on_cos = await client.session.request(
            "GET", "/", service=Service.COS, params={"max-keys": "1"}, root="ListBucketResult"
        )
    assert caught.value.code == "InvalidUrl"
    assert on_cos.body["IsTruncated"] == "true"


async def test_the_emulator_refuses_a_bad_max_keys(emu: Emulator) -> None:
    async with client_for(emu) as client:
        for value in ("1001", "0", "ten", "-1", ""):
            with pytest.raises(InvalidArgumentError, match="max-keys"):
                await client.session.request(
                    "GET",
                    "/",
                    service=Service.COS,
                    params={"max-keys": value},
                    root="ListBucketResult",
                )


async def test_the_readme_listing_runs(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's block, as written, with its AuditClient pointed at the emulator."""
    found = re.search(
        r"#### The objects under a prefix\n.*?```python\n(.*?)```", README.read_text("utf-8"), re.S
    )
    assert found is not None, "the README shows list_objects"
    namespace: dict[str, Any] = {"AuditClient": lambda **_: client_for(emu)}
    exec(f"async def main():\n{textwrap.indent(found.group(1), '    ')}", namespace)
    await namespace["main"]()
    printed = capsys.readouterr().out.splitlines()
    pairs = zip(printed, sorted(UPLOADS), strict=True)  # one line an object, in key order
    assert all(line.startswith(f"{key} ") for line, key in pairs)


# --- the wire, against a scripted server ---------------------------------------------------------


def page_xml(keys: list[str], *, truncated: bool, next_marker: str | None = None) -> bytes:
    contents = "".join(
        f"<Contents><Key>{key}</Key><LastModified>2020-12-10T03:37:30.000Z</LastModified>"
        f'<ETag>"e"</ETag><Size>3</Size></Contents>'
        for key in keys
    )
    marker = f"<NextMarker>{next_marker}</NextMarker>" if next_marker else ""
    return (
        f"<ListBucketResult><IsTruncated>{str(truncated).lower()}</IsTruncated>{marker}"
        f"{contents}</ListBucketResult>"
    ).encode()


def script_client(url: str, credentials: Credentials = KEY) -> AuditClient:
    return AuditClient(bucket=BUCKET, region="ap-guangzhou", endpoint=url, credentials=credentials)


async def test_pages_go_to_the_cos_host_with_its_token_header(
    script: tuple[Script, str],
) -> None:
    server, url = script
    server.answers = [
        (200, page_xml(["a%2Fx%20y"], truncated=True, next_marker="a%2Fx%20y"), {}),
        (200, page_xml(["b"], truncated=False), {}),
    ]
    temporary = Credentials("AKIDtmp", "tmp-secret", token="the-token")
    async with script_client(url, credentials=temporary) as client:
        keys = [entry.key for entry in await listed(client, prefix="a", max_keys=5)]
    assert keys == ["a/x y", "b"]  # percent-encoded keys decoded
    first, second = server.seen
    assert first.headers["Host"] == f"{BUCKET}.cos.ap-guangzhou.myqcloud.com"
    assert first.headers["x-cos-security-token"] == "the-token"
    assert "x-ci-security-token" not in first.headers
    assert first.path == "/"
    assert dict(first.query) == {"encoding-type": "url", "max-keys": "5", "prefix": "a"}
    assert dict(second.query)["marker"] == "a/x y"


async def test_a_truncated_page_without_next_marker_goes_on_from_its_last_key(
    script: tuple[Script, str],
) -> None:
    server, url = script
    server.answers = [
        (200, page_xml(["k1", "k2"], truncated=True), {}),
        (200, page_xml(["k3"], truncated=False), {}),
    ]
    async with script_client(url) as client:
        entries = await listed(client)
    assert [entry.key for entry in entries] == ["k1", "k2", "k3"]
    assert dict(server.seen[1].query)["marker"] == "k2"
    assert entries[0].last_modified == datetime(2020, 12, 10, 3, 37, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (page_xml(["k1"], truncated=True, next_marker="k1"), "next page"),
        (page_xml([], truncated=True), "next page"),
        (page_xml(["k1"], truncated=False).replace(b"<Size>3", b"<Size>-3"), "Size"),
        (page_xml(["k1"], truncated=False).replace(b".000Z", b""), "LastModified"),
        (page_xml(["k1"], truncated=False).replace(b"<Key>k1</Key>", b""), "no <Key>"),
        (b"<ListBucketResult></ListBucketResult>", "IsTruncated"),
    ],
)
async def test_an_answer_that_would_loop_or_lies_is_malformed(
    script: tuple[Script, str], body: bytes, detail: str
) -> None:
    server, url = script
    server.answers = [(200, body, {})]
    async with script_client(url) as client:
        with pytest.raises(MalformedResponse, match=detail) as caught:
            await listed(client, marker="k1" if b"k1</NextMarker>" in body else "")
    assert caught.value.request_id == "rid-1"


async def test_a_service_error_on_a_later_page_ends_the_listing_with_its_code(
    script: tuple[Script, str],
) -> None:
    server, url = script
    error = (
        b"<Error><Code>AccessDenied</Code><Message>Access Denied.</Message>"
        b"<Resource>r</Resource><RequestId>req-9</RequestId><TraceId>t</TraceId></Error>"
    )
    server.answers = [(200, page_xml(["k1"], truncated=True), {}), (403, error, {})]
    seen: list[str] = []

    async def collect(client: AuditClient) -> None:
        async for entry in client.list_objects():
            seen.append(entry.key)

    async with script_client(url) as client:
        with pytest.raises(AuthError) as caught:
            await collect(client)
    assert seen == ["k1"]
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        "AccessDenied",
        403,
        "Access Denied.",
    )
    assert caught.value.request_id == "rid-2"


# --- the kind an extension suggests --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("uploads/cat.PNG", "image"),
        ("a.b/photo.heic", "image"),
        ("v/clip.mp4", "video"),
        ("v/clip.3gp", "video"),
        ("song.flac", "audio"),
        ("docs/report.docx", "document"),
        ("sheet.csv", "document"),
        ("posts/1.txt", "text"),
        ("archive.zip", None),
        ("noextension", None),
        ("dir.png/file", None),
        (".png", None),
        ("trailing.", None),
    ],
)
def test_guess_kind(key: str, kind: str | None) -> None:
    assert guess_kind(key) == kind


def test_each_extension_belongs_to_one_kind_and_the_examples_run() -> None:
    every = [extension for extensions in EXTENSIONS.values() for extension in extensions]
    assert len(every) == len(set(every))
    assert all(extension == extension.lower() for extension in every)
    failed, attempted = doctest.testmod(cosaudit.formats)
    assert (failed, attempted) == (0, 1)


def test_an_entry_is_frozen_slotted_data() -> None:
    entry = ObjectEntry("k", 1, datetime(2020, 1, 1, tzinfo=timezone.utc), '"e"')
    with pytest.raises(AttributeError):
        entry.size = 2  # type: ignore[misc]
    assert not hasattr(entry, "__dict__")
    assert entry == ObjectEntry("k", 1, datetime(2020, 1, 1, tzinfo=timezone.utc), '"e"')
