"""Conformance: the official ``cos-python-sdk-v5`` drives the emulator over loopback.

The SDK is what real users run against the real service, so its requests (signature over the
bucket ``.cos.`` host without port, ``x-ci-security-token``, ``+`` in queries, XML declaration,
empty ``<Conf/>``) must be accepted and its parser must read our answers. Its calls are
synchronous (``requests``), so they run in a thread while the emulator serves on the loop.

SDK quirks seen here: webpage calls are named ``ci_auditing_html_*``; ``ci_auditing_image_batch``
never sends ``Async`` when asked for 1, so batches from the SDK are always synchronous (the
async image path is exercised through the single-image GET with ``Async=1``); and the SDK's error
digest insists on a ``<Resource>`` element, which the documented CI error body does not have, so
for CI paths ``get_error_code()`` is ``"Unknown"`` and the code is only in ``get_origin_msg()``
(we keep the documented body; COS-path errors carry ``Resource`` and digest fine).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import xmltodict
from aiohttp.test_utils import TestServer
from conftest import BUCKET_OBJECTS, url_of
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_comm import CiDetectType
from qcloud_cos.cos_exception import CosServiceError

from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.images import png_with_text
from cosaudit.emulator.media import eicar

BUCKET = "examplebucket-1250000000"
SECRET_ID = "AKIDcosauditEMULATOR"
SECRET_KEY = "cosaudit-emulator-secret"


def sdk(emu: Emulator, *, secret_key: str = SECRET_KEY, token: str | None = None) -> CosS3Client:
    config = CosConfig(
        Region="ap-guangzhou",
        SecretId=SECRET_ID,
        SecretKey=secret_key,
        Token=token,
        IP="127.0.0.1",
        Port=emu.port,
        Scheme="http",
        Timeout=10,
    )
    return CosS3Client(config, retry=0)


async def run(call: Callable[..., Any], **kwargs: Any) -> Any:
    return await asyncio.to_thread(call, **kwargs)


def ci_code(error: CosServiceError) -> str:
    """The ``<Code>`` of a CI-dialect error, which the SDK's own digest loses (no Resource)."""
    assert error.get_error_code() == "Unknown"
    code: str = xmltodict.parse(error.get_origin_msg())["Error"]["Code"]
    return code


@pytest.fixture
async def emu(bucket_dir: Path) -> AsyncIterator[Emulator]:
    """Jobs turn final on their second query, so tests see one pending state then the result."""
    async with Emulator(EmulatorConfig(bucket_dir=bucket_dir, final_after_polls=2)) as emulator:
        yield emulator


async def test_text_content_is_answered_synchronously(emu: Emulator) -> None:
    client = sdk(emu)
    data = await run(
        client.ci_auditing_text_submit,
        Bucket=BUCKET,
        Content=b"Buy now, you idiot",
        DataId="post-1",
        UserInfo={"TokenId": "user-1"},
    )
    detail = data["JobsDetail"]
    assert (detail["State"], detail["Label"], detail["Result"]) == ("Success", "Abuse", "1")
    assert (detail["DataId"], detail["UserInfo"]["TokenId"]) == ("post-1", "user-1")
    assert detail["AdsInfo"] == {"HitFlag": "1", "Count": "1"}
    section = detail["Section"][0]  # the SDK turns Section into a list
    assert (section["StartByte"], section["AbuseInfo"]["Keywords"]) == ("0", "idiot")
    assert data["RequestId"]


async def test_text_object_job_is_queried_until_final(emu: Emulator) -> None:
    client = sdk(emu)
    submitted = await run(
        client.ci_auditing_text_submit,
        Bucket=BUCKET,
        Key="texts/long.txt",
        DetectType=CiDetectType.PORN | CiDetectType.ABUSE,
    )
    job_id = submitted["JobsDetail"]["JobId"]
    assert submitted["JobsDetail"]["State"] == "Submitted"
    first = await run(client.ci_auditing_text_query, Bucket=BUCKET, JobID=job_id)
    assert first["JobsDetail"]["State"] == "Submitted"
    final = (await run(client.ci_auditing_text_query, Bucket=BUCKET, JobID=job_id))["JobsDetail"]
    assert (final["State"], final["Object"], final["Label"]) == (
        "Success",
        "texts/long.txt",
        "Porn",
    )
    assert final["SectionCount"] == "2"
    assert [s["StartByte"] for s in final["Section"]] == ["0", "10000"]
    assert set(final) >= {"PornInfo", "AbuseInfo"} and "AdsInfo" not in final


async def test_single_image_sync_and_async(emu: Emulator) -> None:
    client = sdk(emu)
    result = await run(
        client.get_object_sensitive_content_recognition,
        Bucket=BUCKET,
        Key="images/广告 1.png",
        DetectType=CiDetectType.PORN | CiDetectType.TERRORIST | CiDetectType.ADS,
        DataId="id with space+plus",
    )
    assert (result["State"], result["Label"], result["Result"]) == ("Success", "Ads", "1")
    assert result["DataId"] == "id with space+plus"
    assert result["Object"] == "images/广告 1.png"
    assert result["AdsInfo"]["OcrResults"][0]["Keywords"] == ["加微信"]
    assert result["TerroristInfo"]["HitFlag"] == "0"

    submitted = await run(
        client.get_object_sensitive_content_recognition,
        Bucket=BUCKET,
        Key="images/porn.jpg",
        Async=1,
    )
    assert submitted["State"] == "Submitted"
    job_id = submitted["JobId"]
    await run(client.ci_auditing_image_query, Bucket=BUCKET, JobID=job_id)
    final = (await run(client.ci_auditing_image_query, Bucket=BUCKET, JobID=job_id))["JobsDetail"]
    assert (final["State"], final["Label"], final["Object"]) == (
        "Success",
        "Porn",
        "images/porn.jpg",
    )
    assert final["PornInfo"]["OcrResults"][0]["Text"] == "xxx"


async def test_image_batch(emu: Emulator, site: TestServer) -> None:
    client = sdk(emu)
    data = await run(
        client.ci_auditing_image_batch,
        Bucket=BUCKET,
        Input=[
            {"Object": "images/clean.png", "DataId": "a"},
            {"Content": base64.b64encode(png_with_text("nude beach")).decode(), "DataId": "b"},
            {"Url": url_of(site, "/ads.png"), "DataId": "c"},
        ],
    )
    labels = [(d["DataId"], d["State"], d["Label"]) for d in data["JobsDetail"]]
    assert labels == [("a", "Success", "Normal"), ("b", "Success", "Porn"), ("c", "Success", "Ads")]
    ads = data["JobsDetail"][2]["AdsInfo"]
    assert ads["OcrResults"][0]["Keywords"] == ["buy now", "limited offer"]


async def test_webpage_job(emu: Emulator, site: TestServer) -> None:
    client = sdk(emu)
    url = url_of(site, "/page.html")
    submitted = await run(
        client.ci_auditing_html_submit, Bucket=BUCKET, Url=url, ReturnHighlightHtml=True
    )
    job_id = submitted["JobsDetail"]["JobId"]
    assert job_id.startswith("sh")
    await run(client.ci_auditing_html_query, Bucket=BUCKET, JobID=job_id)
    detail = (await run(client.ci_auditing_html_query, Bucket=BUCKET, JobID=job_id))["JobsDetail"]
    assert (detail["State"], detail["Label"], detail["Suggestion"]) == ("Success", "Abuse", "1")
    assert detail["PageCount"] == "3"
    assert [r["Label"] for r in detail["ImageResults"]["Results"]] == ["Ads", "Normal"]
    assert "cosaudit-highlight" in detail["HighlightHtml"]


async def test_temporary_key_with_token(emu: Emulator) -> None:
    emu.add_key("AKIDtemporary", "temporary-secret", token="sts-token/with+special=chars")
    config = dict(SecretId="AKIDtemporary", SecretKey="temporary-secret")
    good = CosS3Client(
        CosConfig(
            Region="ap-guangzhou",
            IP="127.0.0.1",
            Port=emu.port,
            Scheme="http",
            Token="sts-token/with+special=chars",
            **config,
        ),
        retry=0,
    )
    text = await run(good.ci_auditing_text_submit, Bucket=BUCKET, Content=b"hello")
    assert text["JobsDetail"]["Label"] == "Normal"
    image = await run(
        good.get_object_sensitive_content_recognition, Bucket=BUCKET, Key="images/clean.png"
    )  # x-cos-security-token on the COS path
    assert image["Label"] == "Normal"
    tokenless = CosS3Client(
        CosConfig(Region="ap-guangzhou", IP="127.0.0.1", Port=emu.port, Scheme="http", **config),
        retry=0,
    )
    with pytest.raises(CosServiceError) as refused:
        await run(tokenless.ci_auditing_text_submit, Bucket=BUCKET, Content=b"hello")
    assert (refused.value.get_status_code(), ci_code(refused.value)) == (403, "AccessDenied")


async def test_wrong_secret_key_is_refused(emu: Emulator) -> None:
    client = sdk(emu, secret_key="not-the-secret")
    with pytest.raises(CosServiceError) as ci:
        await run(client.ci_auditing_text_query, Bucket=BUCKET, JobID="st" + "0" * 32)
    assert (ci.value.get_status_code(), ci_code(ci.value)) == (403, "SignatureDoesNotMatch")
    with pytest.raises(CosServiceError) as cos:
        await run(
            client.get_object_sensitive_content_recognition, Bucket=BUCKET, Key="images/ads.png"
        )
    assert cos.value.get_error_code() == "SignatureDoesNotMatch"
    assert emu.stats.auth_failures == 2


async def test_errors_reach_the_sdk_with_their_codes(emu: Emulator) -> None:
    client = sdk(emu)
    with pytest.raises(CosServiceError) as unknown:
        await run(client.ci_auditing_text_query, Bucket=BUCKET, JobID="st" + "0" * 32)
    assert (unknown.value.get_status_code(), ci_code(unknown.value)) == (404, "AuditingJobNotFound")
    emu.faults.fail_next(1, status=429, code="SlowDown")
    with pytest.raises(CosServiceError) as throttled:
        await run(client.ci_auditing_text_submit, Bucket=BUCKET, Content=b"hi")
    assert (throttled.value.get_status_code(), ci_code(throttled.value)) == (429, "SlowDown")
    emu.faults.fail_next(1, status=403, code="AccessDenied", path_prefix="/images")
    with pytest.raises(CosServiceError) as denied:
        await run(
            client.get_object_sensitive_content_recognition, Bucket=BUCKET, Key="images/a.png"
        )
    assert (denied.value.get_error_code(), denied.value.get_resource_location()) == (
        "AccessDenied",
        "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/images/a.png",
    )


# --- media kinds (issue 3) -----------------------------------------------------------------------
# More SDK quirks: the live cancel is spelled ``ci_auditing_live_video_cancle`` and sends no body
# nor Content-Type (Content-Length 0); the video submit always sends ``Snapshot/TimeInterval``
# (1.0 by default, even in Average mode) and ``CallbackVersion`` Simple; the live submit puts
# ``<Type>live_video</Type>`` after ``Conf``; the virus query turns ``DetectDetail`` into a list.

CLIP = {
    "duration_ms": 10_000,
    "frames": [{"time_ms": 0, "text": "hello"}, {"time_ms": 4000, "text": "buy now"}],
    "audio": [{"offset_ms": 1000, "duration_ms": 2000, "text": "so sexy"}],
}


def put(bucket: Path, key: str, data: bytes = b"\x00media", manifest: Any = None) -> str:
    path = bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if manifest is not None:
        (bucket / f"{key}.cosaudit.json").write_text(json.dumps(manifest), encoding="utf-8")
    return key


async def test_video_job(emu: Emulator, bucket_dir: Path) -> None:
    client = sdk(emu)
    key = put(bucket_dir, "videos/clip.mp4", manifest=CLIP)
    submitted = await run(
        client.ci_auditing_video_submit,
        Bucket=BUCKET,
        Key=key,
        DetectType=CiDetectType.PORN | CiDetectType.ADS,
        DetectContent=1,
        Count=3,
        TimeInterval=4.0,
        DataId="v-1",
        UserInfo={"TokenId": "user-1"},
    )
    job_id = submitted["JobsDetail"]["JobId"]
    assert submitted["JobsDetail"]["State"] == "Submitted"
    await run(client.ci_auditing_video_query, Bucket=BUCKET, JobID=job_id)
    detail = (await run(client.ci_auditing_video_query, Bucket=BUCKET, JobID=job_id))["JobsDetail"]
    assert (detail["State"], detail["Label"], detail["SnapshotCount"]) == ("Success", "Ads", "3")
    assert [s["SnapshotTime"] for s in detail["Snapshot"]] == ["0", "4000", "8000"]
    assert detail["Snapshot"][1]["AdsInfo"]["OcrResults"][0]["Keywords"] == ["buy now"]
    assert detail["AudioSection"][0]["PornInfo"]["Keywords"] == ["sexy"]
    assert (detail["DataId"], detail["UserInfo"]["TokenId"]) == ("v-1", "user-1")


async def test_audio_job(emu: Emulator, bucket_dir: Path) -> None:
    client = sdk(emu)
    key = put(bucket_dir, "audio/call.mp3", manifest=CLIP)
    job_id = (await run(client.ci_auditing_audio_submit, Bucket=BUCKET, Key=key))["JobsDetail"][
        "JobId"
    ]
    await run(client.ci_auditing_audio_query, Bucket=BUCKET, JobID=job_id)
    detail = (await run(client.ci_auditing_audio_query, Bucket=BUCKET, JobID=job_id))["JobsDetail"]
    assert (detail["State"], detail["Label"], detail["AudioText"]) == ("Success", "Porn", "so sexy")
    assert detail["Section"][0]["PornInfo"]["Keywords"] == ["sexy"]


async def test_document_job(emu: Emulator, bucket_dir: Path) -> None:
    client = sdk(emu)
    key = put(bucket_dir, "docs/contract", manifest={"pages": [{"text": "hi"}, {"text": "nude"}]})
    job_id = (await run(client.ci_auditing_document_submit, Bucket=BUCKET, Key=key, Type="docx"))[
        "JobsDetail"
    ]["JobId"]
    await run(client.ci_auditing_document_query, Bucket=BUCKET, JobID=job_id)
    detail = (await run(client.ci_auditing_document_query, Bucket=BUCKET, JobID=job_id))[
        "JobsDetail"
    ]
    assert (detail["State"], detail["Suggestion"], detail["PageCount"]) == ("Success", "1", "2")
    pages = detail["PageSegment"]["Results"]
    assert [(p["PageNumber"], p["Label"]) for p in pages] == [("1", "Normal"), ("2", "Porn")]


async def test_live_stream_started_queried_and_cancelled(emu: Emulator, bucket_dir: Path) -> None:
    client = sdk(emu)
    put(bucket_dir, "live/room1.cosaudit.json", json.dumps(CLIP).encode())
    submitted = await run(
        client.ci_auditing_live_video_submit,
        Bucket=BUCKET,
        BizType="b81d45f94b91a683255e9a9506f45a11",
        Url="rtmp://127.0.0.1/live/room1",
        DataId="room-1",
        StorageConf={"Path": "dump/"},
    )
    job_id = submitted["JobsDetail"]["JobId"]
    running = (await run(client.ci_auditing_video_query, Bucket=BUCKET, JobID=job_id))["JobsDetail"]
    assert (running["State"], running["Type"], running["SnapshotCount"]) == (
        "Auditing",
        "live_video",
        "1",
    )
    cancelled = await run(client.ci_auditing_live_video_cancle, Bucket=BUCKET, JobID=job_id)
    assert (cancelled["JobsDetail"]["JobId"], cancelled["JobsDetail"]["DataId"]) == (
        job_id,
        "room-1",
    )
    after = (await run(client.ci_auditing_video_query, Bucket=BUCKET, JobID=job_id))["JobsDetail"]
    assert after["State"] == "Cancelled"


async def test_virus_job(emu: Emulator, bucket_dir: Path) -> None:
    client = sdk(emu)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("docs/readme.txt", b"fine")
        bundle.writestr("bin/eicar.com", eicar())
    key = put(bucket_dir, "files/bundle.zip", archive.getvalue())
    job_id = (await run(client.ci_auditing_virus_submit, Bucket=BUCKET, Key=key))["JobsDetail"][
        "JobId"
    ]
    await run(client.ci_auditing_virus_query, Bucket=BUCKET, JobID=job_id)
    detail = (await run(client.ci_auditing_virus_query, Bucket=BUCKET, JobID=job_id))["JobsDetail"]
    assert (detail["State"], detail["Suggestion"]) == ("Success", "block")
    assert detail["DetectDetail"][0]["Result"] == [
        {"FileName": "bin/eicar.com", "VirusName": "EICAR-Test-File"}
    ]


async def test_report_badcase(emu: Emulator) -> None:
    client = sdk(emu)
    answer = await run(
        client.ci_auditing_report_badcase,
        Bucket=BUCKET,
        ContentType=1,
        Label="Ads",
        SuggestedLabel="Normal",
        Text=base64.b64encode(b"not an advert").decode(),
        JobId="st" + "0" * 32,
    )
    assert list(answer) == ["RequestId"]
    (report,) = emu.badcases
    assert (report.text, report.label, report.request_id) == (
        "not an advert",
        "Ads",
        answer["RequestId"],
    )


# --- bucket listing (issue 10) -------------------------------------------------------------------
# The SDK's list_objects always sends prefix, delimiter, marker (empty when not given), max-keys
# and encoding-type=url, and percent-decodes Key, Prefix, Marker, NextMarker and the common
# prefixes of the answer; it turns Contents and CommonPrefixes into lists.


async def test_list_objects_pages_through_a_prefix(emu: Emulator, bucket_dir: Path) -> None:
    put(bucket_dir, "images/party.mp4", manifest=CLIP)  # its sidecar manifest is not an object
    client = sdk(emu)
    keys: list[str] = []
    marker, requests = "", 0
    while True:
        page = await run(
            client.list_objects, Bucket=BUCKET, Prefix="images/", Marker=marker, MaxKeys=2
        )
        requests += 1
        keys += [item["Key"] for item in page.get("Contents", [])]
        if page["IsTruncated"] == "false":
            break
        marker = page["NextMarker"]
    expected = sorted(
        key for key in [*BUCKET_OBJECTS, "images/party.mp4"] if key.startswith("images/")
    )
    assert keys == expected  # "images/广告 1.png" decoded by the SDK
    assert requests == 4  # 7 keys, 2 a page
    assert (page["Name"], page["Prefix"], page["MaxKeys"]) == (BUCKET, "images/", "2")
    first = (await run(client.list_objects, Bucket=BUCKET, Prefix="texts/h"))["Contents"]
    assert first[0]["Key"] == "texts/hello.txt" and first[0]["Size"] == "11"
    assert first[0]["ETag"] == '"5eb63bbbe01eeed093cb22bb8f5acdc3"'  # MD5 of "hello world"
    assert first[0]["LastModified"].endswith("Z") and first[0]["StorageClass"] == "STANDARD"


async def test_list_objects_with_a_delimiter_rolls_up_folders(emu: Emulator) -> None:
    client = sdk(emu)
    top = await run(client.list_objects, Bucket=BUCKET, Delimiter="/")
    assert [item["Prefix"] for item in top["CommonPrefixes"]] == ["images/", "texts/"]
    assert "Contents" not in top and top["IsTruncated"] == "false"
    paged = await run(client.list_objects, Bucket=BUCKET, Delimiter="/", MaxKeys=1)
    assert [item["Prefix"] for item in paged["CommonPrefixes"]] == ["images/"]
    assert paged["NextMarker"] == "images/"
    rest = await run(client.list_objects, Bucket=BUCKET, Delimiter="/", Marker="images/")
    assert [item["Prefix"] for item in rest["CommonPrefixes"]] == ["texts/"]


async def test_list_objects_errors_reach_the_sdk_with_their_codes(tmp_path: Path) -> None:
    async with Emulator(EmulatorConfig(bucket_dir=tmp_path / "none")) as missing:
        with pytest.raises(CosServiceError) as no_bucket:
            await run(sdk(missing).list_objects, Bucket=BUCKET)
    assert (no_bucket.value.get_status_code(), no_bucket.value.get_error_code()) == (
        404,
        "NoSuchBucket",
    )
    async with Emulator(EmulatorConfig(bucket_dir=tmp_path)) as emu:
        for max_keys in (1001, "many"):
            with pytest.raises(CosServiceError) as bad:
                await run(sdk(emu).list_objects, Bucket=BUCKET, MaxKeys=max_keys)
            assert (bad.value.get_status_code(), bad.value.get_error_code()) == (
                400,
                "InvalidArgument",
            )
        with pytest.raises(CosServiceError) as unsigned:
            await run(sdk(emu, secret_key="not-the-secret").list_objects, Bucket=BUCKET)
        assert unsigned.value.get_error_code() == "SignatureDoesNotMatch"
