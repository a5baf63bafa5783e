"""What the media kinds put on the wire, against a loopback server answering with the pages'
samples: request bodies equal the documented sample requests, answers become typed jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from cosaudit import (
    AudioJob,
    AuditClient,
    Credentials,
    LiveJob,
    RetryPolicy,
    UserInfo,
    VideoJob,
)
from cosaudit.errors import MalformedResponse, ServerError
from cosaudit.models import JobState, Result, VirusSuggestion
from cosaudit.wire.xmlcodec import parse

FIXTURES = Path(__file__).parent / "fixtures"
UTC = timezone.utc

# route -> the fixture answered
ANSWERS = {
    ("POST", "/video/auditing"): "video_submit_48249.xml",
    ("GET", "/video/auditing/av0ca69557bd6111ed904c525400cacf1"): "video_query.xml",
    ("GET", "/video/auditing/vab1ca9fc8a3ed11ea834c525400863904"): "live_query_48279.xml",
    ("POST", "/video/cancel_auditing/vab1ca9fc8a3ed11ea834c525400863904"): "live_cancel_48278.xml",
    ("POST", "/audio/auditing"): "video_submit_48249.xml",  # "response like video submit"
    ("GET", "/audio/auditing/aab1ca9fc8a3ed11ea834c525400863904"): "audio_query_48263.xml",
    ("POST", "/document/auditing"): "document_submit_48258.xml",
    ("POST", "/virus/detect"): "virus_submit_50132.xml",
    ("GET", "/virus/detect/ss5a8c6e43c9e111eba532525400946f76"): "virus_query_full.xml",
    ("POST", "/report/badcase"): "badcase_response.xml",
}


@dataclass
class Seen:
    """What the server received."""

    method: str
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Service:
    server: TestServer
    seen: list[Seen] = field(default_factory=list)
    fail_first: int = 0  # answer this many requests with a 500 first

    def body(self, index: int = -1) -> dict[str, Any]:
        return parse(self.seen[index].body)


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    state: dict[str, Service] = {}

    async def handle(request: web.Request) -> web.Response:
        svc = state["service"]
        svc.seen.append(
            Seen(request.method, request.path, await request.read(), dict(request.headers))
        )
        if svc.fail_first > 0:
            svc.fail_first -= 1
            error = "<Error><Code>InternalError</Code><Message>boom</Message></Error>"
            return web.Response(status=500, body=error, content_type="application/xml")
        name = ANSWERS.get((request.method, request.path))
        if name is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=(FIXTURES / name).read_bytes(),
            content_type="application/xml",
            headers={"x-ci-request-id": "req-1"} if name != "badcase_response.xml" else {},
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state["service"] = Service(server)
    yield state["service"]
    await server.close()


def client_for(service: Service, **kwargs: Any) -> AuditClient:
    return AuditClient(
        bucket="examplebucket-1250000000",
        region="ap-beijing",
        endpoint=str(service.server.make_url("")).rstrip("/"),
        credentials=Credentials("AKIDexample", "secret"),
        **kwargs,
    )


def sample_request(name: str) -> dict[str, Any]:
    return parse((FIXTURES / name).read_bytes())


async def test_video_submit_sends_the_documented_request(service: Service) -> None:
    async with client_for(service) as client:
        job = await client.video.submit(
            object="a.mp4",
            data_id="123-fdrsg-123",
            snapshot_mode="Interval",
            snapshot_interval=50,
            snapshot_count=100,
            callback="http://callback.com/",
            biz_type="b81d45f94b91a683255e9a9506f45a11",
            detect_content=True,
        )
    assert service.body() == sample_request("video_submit_request_48249.xml")
    seen = service.seen[-1]
    assert (seen.method, seen.path) == ("POST", "/video/auditing")
    assert seen.headers["Content-Type"] == "application/xml"
    assert seen.headers["Host"] == "examplebucket-1250000000.ci.ap-beijing.myqcloud.com"
    assert isinstance(job, VideoJob) and job.state is JobState.SUBMITTED
    assert job.job_id == "vab1ca9fc8a3ed11ea834c525400863904"


async def test_video_optional_nodes_and_query(service: Service) -> None:
    async with client_for(service) as client:
        await client.video.submit(
            url="https://example.com/v.mp4",
            snapshot_count=3,
            snapshot_mode="fps",
            snapshot_interval=0.25,
            user_info=UserInfo(token_id="u1"),
            callback_version="Detail",
            callback_type=2,
            detect_type=["Porn", "terrorism"],
        )
        job = await client.video.get("av0ca69557bd6111ed904c525400cacf1")
    request = service.body(0)["Request"]
    assert request["Input"] == {"Url": "https://example.com/v.mp4", "UserInfo": {"TokenId": "u1"}}
    assert request["Conf"] == {
        "DetectType": "Porn,Terrorism",
        "CallbackVersion": "Detail",
        "CallbackType": "2",
        "Snapshot": {"Mode": "Fps", "Count": "3", "TimeInterval": "0.25"},
    }
    assert job.snapshot_count == 2 and job.is_sensitive
    assert job.hit_keywords("Ads") == ("scan", "win", "wechat", "cheap pills")


async def test_audio_submit_and_get(service: Service) -> None:
    async with client_for(service) as client:
        await client.audio.submit(object="a.mp3", callback_type=1, detect_type="Porn")
        job = await client.audio.get("aab1ca9fc8a3ed11ea834c525400863904")
    assert service.body(0) == {
        "Request": {
            "Input": {"Object": "a.mp3"},
            "Conf": {"DetectType": "Porn", "CallbackType": "1"},
        }
    }
    assert isinstance(job, AudioJob)
    assert job.sections[0].porn_info is not None
    assert job.sections[0].porn_info.keywords == ("xx", "wc")


async def test_document_submit_sends_the_documented_request(service: Service) -> None:
    async with client_for(service) as client:
        job = await client.document.submit(
            url="http://www.example.com/doctest.doc",
            data_id="123-fdrsg-123",
            detect_type="Porn,Ads",
            biz_type="b81d45f94b91a683255e9a9506f40000",
        )
        await client.document.submit(object="uploads/contract", file_type="DOCX")
    assert service.body(0) == sample_request("document_submit_request_48258.xml")
    assert service.body(1)["Request"]["Input"] == {"Object": "uploads/contract", "Type": "docx"}
    assert job.job_id == "vab1ca9fc8a3ed11ea834c52540086****"


async def test_live_submit_get_cancel(service: Service) -> None:
    async with client_for(service) as client:
        submitted = await client.live.submit(
            "rtmp://example.com/live/123",
            biz_type="766d07a7af937c26216c51db29793ea6",
            data_id="room-123",
            callback="https://callback.com/live",
            callback_type=2,
        )
        running = await client.live.get("vab1ca9fc8a3ed11ea834c525400863904")
        cancelled = await client.live.cancel("vab1ca9fc8a3ed11ea834c525400863904")
    assert service.body(0) == sample_request("live_submit_request_48277.xml")
    assert isinstance(submitted, LiveJob) and submitted.state is JobState.SUBMITTED
    assert running.type == "live_video"
    assert running.snapshots[0].snapshot_at == datetime(2022, 4, 8, 3, 5, 57, tzinfo=UTC)
    cancel = service.seen[2]
    assert (cancel.method, cancel.path, cancel.body) == (
        "POST",
        "/video/cancel_auditing/vab1ca9fc8a3ed11ea834c525400863904",
        b"",
    )
    assert cancel.headers["Content-Length"] == "0"
    assert cancelled.job_id == "vab1ca9fc8a3ed11ea834c525400863904"
    assert cancelled.creation_time == datetime(2021, 8, 7, 4, 12, 12, tzinfo=UTC)


async def test_live_storage_path(service: Service) -> None:
    async with client_for(service) as client:
        await client.live.submit(
            "https://example.com/live/1.m3u8", biz_type="b1", storage_path="rec/"
        )
    assert service.body()["Request"]["StorageConf"] == {"Path": "rec/"}
    assert service.body()["Request"]["Type"] == "live_video"


async def test_cancel_is_retried_like_a_query(service: Service) -> None:
    service.fail_first = 1
    async with client_for(service, retry=RetryPolicy(attempts=2, initial=0.0)) as client:
        cancelled = await client.live.cancel("vab1ca9fc8a3ed11ea834c525400863904")
    assert len(service.seen) == 2
    assert cancelled.data_id == "123-fdrsg-123"


async def test_a_badcase_report_is_not_resent_after_a_500(service: Service) -> None:
    service.fail_first = 1
    async with client_for(service, retry=RetryPolicy(attempts=3, initial=0.0)) as client:
        with pytest.raises(ServerError):
            await client.report_badcase(label="Porn", suggested_label="Normal", text="x")
    assert len(service.seen) == 1


async def test_virus_submit_sends_the_documented_request(service: Service) -> None:
    async with client_for(service) as client:
        # The documented answer is an empty skeleton: a job without JobId cannot be waited
        # for, so it is refused as malformed (status and request id kept), never returned.
        with pytest.raises(MalformedResponse, match="VirusJob answer has no JobId") as caught:
            await client.virus.submit(object="test/virus.doc", callback="http://www.callback.com")
        job = await client.virus.get("ss5a8c6e43c9e111eba532525400946f76")
    assert service.body(0) == sample_request("virus_submit_request_50132.xml")
    assert caught.value.status == 200
    assert job.suggestion is VirusSuggestion.BLOCK and job.verdict is Result.SENSITIVE


async def test_badcase_sends_the_documented_request(service: Service) -> None:
    async with client_for(service) as client:
        request_id = await client.report_badcase(
            text="这是为什么", label="Porn", suggested_label="Normal"
        )
        await client.report_badcase(
            url="https://example.com/a.png",
            label="Normal",
            suggested_label="Porn",
            job_id="si1f1ae5bc5c4911ecb77552540070ab12",
            moderation_time=datetime(2021, 8, 7, 12, 12, 12, tzinfo=timezone(timedelta(hours=8))),
        )
    assert service.body(0) == sample_request("badcase_text_request.xml")
    assert request_id == "xxxxxxxxxxxxxx"  # the body's RequestId: this answer has no header
    assert service.body(1)["Request"] == {
        "ContentType": "2",
        "Url": "https://example.com/a.png",
        "Label": "Normal",
        "SuggestedLabel": "Porn",
        "JobId": "si1f1ae5bc5c4911ecb77552540070ab12",
        "ModerationTime": "2021-08-07T12:12:12+08:00",
    }
    assert service.seen[0].path == "/report/badcase"
