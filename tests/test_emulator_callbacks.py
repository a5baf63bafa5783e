"""The emulator's callbacks over real loopback HTTP: a plain aiohttp server in the test is the
callback target; jobs are submitted by the raw signed ``Api`` of ``test_emulator.py`` (never
the cosaudit client). Bodies per kind and version, ``CallbackType=2``, live streams calling
back while watched, retries, every callback fault, and the loopback-only rule."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from attrs import define
from conftest import url_of
from test_emulator import Api

from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.cli import build_parser
from cosaudit.emulator.config import CallbackPolicy
from cosaudit.emulator.faults import Fault, FaultKind
from cosaudit.emulator.faultspec import parse_faults

HOST = "examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com"
BIZ = "b81d45f94b91a683255e9a9506f45a11"
FAST = CallbackPolicy(attempts=3, backoff=0.02, timeout=2.0)


@define(frozen=True)
class Pushed:
    """One callback as the target received it."""

    path: str
    headers: Mapping[str, str]
    body: Any
    at: float

    @property
    def detail(self) -> Any:
        return self.body["JobsDetail"]


class Target:
    """The callback target: records every POST and answers from ``statuses`` (last repeats)."""

    def __init__(self) -> None:
        self.received: list[Pushed] = []
        self.arrived: asyncio.Queue[Pushed] = asyncio.Queue()
        self.statuses = [200]
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        pushed = Pushed(
            request.path, dict(request.headers), json.loads(await request.read()), time.monotonic()
        )
        self.received.append(pushed)
        self.arrived.put_nowait(pushed)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return web.Response(status=status)

    async def next(self, timeout: float = 10.0) -> Pushed:
        return await asyncio.wait_for(self.arrived.get(), timeout)


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    hook = Target()
    app = web.Application()
    app.router.add_post("/{tail:.*}", hook.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hook.url = url_of(server, "/hook")
    yield hook
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def make_api(session: aiohttp.ClientSession) -> Callable[..., Any]:
    def start(bucket_dir: Path, **overrides: Any) -> Any:
        settings: dict[str, Any] = {
            "bucket_dir": bucket_dir,
            "job_duration": 0.05,
            "callback_policy": FAST,
        }
        settings.update(overrides)
        return Emulator(EmulatorConfig(**settings))

    return start


@pytest.fixture
async def api(bucket_dir: Path, session: aiohttp.ClientSession) -> AsyncIterator[Api]:
    """Jobs final after 0.05 s; callbacks tried 3 times, 0.02 s then 0.04 s apart."""
    async with make_api(session)(bucket_dir) as emu:
        yield Api(emu, session)


async def submit(api: Api, kind: str, request: Mapping[str, Any]) -> str:
    reply = await api.submit(kind, request, headers={"Host": HOST})
    assert reply.status == 200, reply.body
    job_id: str = reply.detail["JobId"]
    return job_id


def text_job(key: str, url: str, **conf: str) -> dict[str, Any]:
    return {"Input": {"Object": key, "DataId": f"id-{key}"}, "Conf": {"Callback": url, **conf}}


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the loop run until ``condition`` holds (for counters the emulator updates after the
    target has answered)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


def put(bucket: Path, key: str, manifest: Any) -> str:
    path = bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00media")
    (bucket / f"{key}.cosaudit.json").write_text(json.dumps(manifest), encoding="utf-8")
    return key


# --- bodies, per kind and version ----------------------------------------------------------------


async def test_text_detail_is_the_query_answer_as_json(api: Api, target: Target) -> None:
    job_id = await submit(
        api, "text", text_job("texts/abuse.txt", target.url, CallbackVersion="Detail")
    )
    pushed = await target.next()
    assert pushed.path == "/hook"
    assert pushed.headers["Content-Type"] == "application/json"
    assert pushed.headers["X-Ci-Content-Version"] == "Detail"
    assert pushed.body["EventName"] == "ReviewText"
    detail = pushed.detail
    assert (detail["JobId"], detail["State"], detail["DataId"]) == (
        job_id,
        "Success",
        "id-texts/abuse.txt",
    )
    assert (detail["BucketId"], detail["Region"]) == ("examplebucket-1250000000", "ap-guangzhou")
    assert (detail["ForbidState"], detail["CosHeaders"]) == (0, {})
    assert (detail["Result"], detail["Label"], detail["SectionCount"]) == (1, "Abuse", 1)
    assert detail["AbuseInfo"] == {"HitFlag": 1, "Count": 1}  # numbers are numbers
    (section,) = detail["Section"]  # a list of one is still an array
    assert section["AbuseInfo"]["Keywords"] == "idiot"
    # The same fields the query answers, in the same order, then the callback's own.
    query = (await api.query("text", job_id)).detail
    assert list(detail)[: len(query)] == list(query)
    assert {k: str(v) for k, v in detail.items() if not isinstance(v, dict | list)} | {
        "ForbidState": "0"
    } == {k: v for k, v in query.items() if not isinstance(v, dict | list)} | {
        "BucketId": "examplebucket-1250000000",
        "Region": "ap-guangzhou",
        "ForbidState": "0",
    }
    assert api.emu.callbacks.delivered == 1
    assert api.emu.jobs[job_id].polls == 1  # the callback did not count as a query


async def test_text_simple_is_the_default(api: Api, target: Target) -> None:
    job_id = await submit(api, "text", text_job("texts/abuse.txt", target.url))
    pushed = await target.next()
    assert pushed.headers["X-Ci-Content-Version"] == "Simple"
    assert pushed.body == {
        "code": 0,
        "message": "success",
        "data": {
            "trace_id": job_id,
            "url": "https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/texts/abuse.txt",
            "event": "ReviewText",
            "result": 1,
            "forbidden_status": 0,
            "data_id": "id-texts/abuse.txt",
            "porn_info": {"hit_flag": 0, "label": "", "count": 0},
            "ads_info": {"hit_flag": 0, "label": "", "count": 0},
            "illegal_info": {"hit_flag": 0, "label": "", "count": 0},
            "abuse_info": {"hit_flag": 1, "label": "Abuse", "count": 1},
        },
    }


async def test_a_failed_job_calls_back_with_its_numeric_code(api: Api, target: Target) -> None:
    job_id = await submit(api, "text", text_job("texts/missing.txt", target.url))
    simple = (await target.next()).body
    assert (simple["code"], simple["data"]["trace_id"]) == (-61011, job_id)
    assert "does not exist" in simple["message"] and "result" not in simple["data"]
    await submit(api, "text", text_job("texts/missing.txt", target.url, CallbackVersion="Detail"))
    detail = (await target.next()).detail
    assert (detail["State"], detail["Code"]) == ("Failed", "ResourceNotFound")


async def test_image_callbacks_are_always_detail(api: Api, target: Target) -> None:
    batch = {
        "Input": [{"Object": "images/ads.png"}, {"Object": "images/clean.png"}],
        "Conf": {"Async": "1", "Callback": target.url, "CallbackVersion": "Simple"},
    }
    reply = await api.submit("image", batch, headers={"Host": HOST})
    ids = {item["JobId"] for item in reply.detail}
    single = await api.call(
        "GET",
        "/images/porn.jpg",
        params={
            "ci-process": "sensitive-content-recognition",
            "async": "1",
            "callback": target.url,
        },
    )
    assert single.status == 200, single.body
    ids.add(single.tree["RecognitionResult"]["JobId"])
    pushed = [await target.next() for _ in range(3)]
    assert {p.detail["JobId"] for p in pushed} == ids
    assert {p.headers["X-Ci-Content-Version"] for p in pushed} == {"Detail"}
    assert {p.body["EventName"] for p in pushed} == {"ReviewImage"}
    # The GET's Host was an IP address: the emulator's own bucket, no region.
    places = {(p.detail["BucketId"], p.detail["Region"]) for p in pushed}
    assert places == {
        ("examplebucket-1250000000", "ap-guangzhou"),
        ("examplebucket-1250000000", ""),
    }
    labels = {p.detail.get("Object"): p.detail["Label"] for p in pushed}
    assert labels == {
        "images/ads.png": "Ads",
        "images/clean.png": "Normal",
        "images/porn.jpg": "Porn",
    }


async def test_a_sync_answer_never_calls_back(api: Api, target: Target) -> None:
    reply = await api.text("idiot", conf={"Callback": target.url})
    assert reply.detail["State"] == "Success"
    await submit(api, "text", text_job("texts/hello.txt", target.url))
    assert (await target.next()).body["data"]["result"] == 0  # only the async job
    assert len(target.received) == 1


CLIP = {
    "duration_ms": 6000,
    "frames": [{"time_ms": 0, "text": "hello"}, {"time_ms": 3000, "text": "xxx"}],
    "audio": [
        {"offset_ms": 0, "duration_ms": 1000, "text": "fine"},
        {"offset_ms": 1000, "duration_ms": 1000, "text": "buy now"},
    ],
}


@pytest.mark.parametrize("version", ["Simple", "Detail"])
async def test_video_and_audio_in_both_versions(
    api: Api, target: Target, bucket_dir: Path, version: str
) -> None:
    put(bucket_dir, "media/clip.mp4", CLIP)
    video = {
        "Input": {"Object": "media/clip.mp4"},
        "Conf": {
            "Snapshot": {"Mode": "Average", "Count": "2"},
            "DetectContent": "1",
            "Callback": target.url,
            "CallbackVersion": version,
        },
    }
    video_id = await submit(api, "video", video)
    pushed = await target.next()
    assert pushed.headers["X-Ci-Content-Version"] == version
    if version == "Detail":
        assert pushed.body["EventName"] == "ReviewVideo"
        detail = pushed.detail
        assert (detail["JobId"], detail["SnapshotCount"], detail["Label"]) == (video_id, 2, "Porn")
        assert [s["SnapshotTime"] for s in detail["Snapshot"]] == [0, 3000]
        assert [a["Result"] for a in detail["AudioSection"]] == [0, 1]
        assert detail["PornInfo"] == {"HitFlag": 1, "Count": 1}
    else:
        data = pushed.body["data"]
        assert (data["trace_id"], data["event"], data["result"]) == (video_id, "ReviewVideo", 1)
        assert data["porn_info"] == {"hit_flag": 1, "label": "Porn", "count": 1}
        assert data["ads_info"] == {"hit_flag": 1, "label": "Ads", "count": 1}

    put(bucket_dir, "media/talk.mp3", CLIP)
    audio = {"Input": {"Object": "media/talk.mp3"}, "Conf": {"Callback": target.url}}
    if version == "Detail":
        audio["Conf"]["CallbackVersion"] = "Detail"
    audio_id = await submit(api, "audio", audio)
    pushed = await target.next()
    if version == "Detail":
        assert pushed.body["EventName"] == "ReviewAudio"
        assert [s["Text"] for s in pushed.detail["Section"]] == ["fine", "buy now"]
        assert pushed.detail["Section"][1]["AdsInfo"]["Keywords"] == ["buy now"]
    else:
        data = pushed.body["data"]
        assert "event" not in data  # as the audio page's Simple sample
        assert data["trace_id"] == audio_id
        assert data["ads_info"]["hit_flag"] == 1 and data["ads_info"]["label"] == "buy now"
        assert "score" in data["ads_info"] and "count" not in data["ads_info"]


async def test_document_and_webpage_have_one_shape_and_no_version_header(
    api: Api, target: Target, bucket_dir: Path, site: TestServer
) -> None:
    put(bucket_dir, "docs/a.docx", {"pages": [{"text": "intro"}, {"text": "xxx"}]})
    doc_id = await submit(
        api,
        "document",
        {"Input": {"Object": "docs/a.docx"}, "Conf": {"Callback": target.url}},
    )
    pushed = await target.next()
    assert "X-Ci-Content-Version" not in pushed.headers
    assert pushed.body["EventName"] == "ReviewDocument"
    assert (pushed.detail["JobId"], pushed.detail["Suggestion"]) == (doc_id, 1)
    assert [p["PageNumber"] for p in pushed.detail["PageSegment"]["Results"]] == [1, 2]

    page = url_of(site, "/page.html")
    web_id = await submit(
        api, "webpage", {"Input": {"Url": page}, "Conf": {"Callback": target.url}}
    )
    pushed = await target.next()
    assert "X-Ci-Content-Version" not in pushed.headers
    assert pushed.body["EventName"] == "ReviewHtml"
    assert (pushed.detail["JobId"], pushed.detail["Url"]) == (web_id, page)
    assert pushed.detail["TextResults"]["Results"][0]["Label"] == "Abuse"


async def test_virus_jobs_never_call_back(api: Api, target: Target) -> None:
    body = b"<Request><Input><Object>texts/hello.txt</Object></Input><Conf><DetectType>Virus"
    body += f"</DetectType><Callback>{target.url}</Callback></Conf></Request>".encode()
    reply = await api.call("POST", "/virus/detect", body=body)
    assert reply.status == 200, reply.body
    await submit(api, "text", text_job("texts/hello.txt", target.url))
    await target.next()  # the text job, submitted after and due after, has called back
    await until(lambda: api.emu.callbacks.pending == 0)
    assert len(target.received) == 1


# --- CallbackType=2 ------------------------------------------------------------------------------


async def test_callback_type_2_keeps_only_violating_items(
    api: Api, target: Target, bucket_dir: Path
) -> None:
    await submit(
        api,
        "text",
        text_job("texts/long.txt", target.url, CallbackVersion="Detail", CallbackType="2"),
    )
    detail = (await target.next()).detail
    assert detail["SectionCount"] == 2  # the job's totals stay
    assert [s["StartByte"] for s in detail["Section"]] == [10_000]  # the clean one is gone

    put(bucket_dir, "docs/b.docx", {"pages": [{"text": "intro"}, {"text": "sexy"}]})
    await submit(
        api,
        "document",
        {"Input": {"Object": "docs/b.docx"}, "Conf": {"Callback": target.url, "CallbackType": "2"}},
    )
    detail = (await target.next()).detail
    assert [p["PageNumber"] for p in detail["PageSegment"]["Results"]] == [2]  # suspicious counts

    put(bucket_dir, "media/c.mp4", CLIP)
    await submit(
        api,
        "video",
        {
            "Input": {"Object": "media/c.mp4"},
            "Conf": {
                "Snapshot": {"Mode": "Average", "Count": "2"},
                "DetectContent": "1",
                "Callback": target.url,
                "CallbackVersion": "Detail",
                "CallbackType": "2",
            },
        },
    )
    detail = (await target.next()).detail
    assert [s["SnapshotTime"] for s in detail["Snapshot"]] == [3000]
    assert [a["Text"] for a in detail["AudioSection"]] == ["buy now"]


# --- live streams --------------------------------------------------------------------------------


STREAM = {
    "duration_ms": 600,
    "frames": [
        {"time_ms": 0, "text": "welcome"},
        {"time_ms": 200, "text": "buy now"},
        {"time_ms": 400, "text": "xxx"},
    ],
}


def live_job(url: str, room: str, **conf: str) -> dict[str, Any]:
    return {
        "Type": "live_video",
        "Input": {"Url": f"rtmp://127.0.0.1/live/{room}"},
        "Conf": {"BizType": BIZ, "Callback": url, "CallbackVersion": "Detail", **conf},
    }


async def test_live_streams_call_back_while_watched_then_once_final(
    api: Api, target: Target, bucket_dir: Path
) -> None:
    put(bucket_dir, "live/show", STREAM)
    job_id = await submit(api, "video", live_job(target.url, "show"))
    pushed = [await target.next()]
    while pushed[-1].detail["State"] == "Auditing":
        pushed.append(await target.next())
    updates, final = pushed[:-1], pushed[-1]
    assert updates, "no callback while the stream was watched"
    seen: list[int] = []
    for update in updates:
        detail = update.detail
        assert (detail["JobId"], detail["Type"], update.body["EventName"]) == (
            job_id,
            "live_video",
            "ReviewVideo",
        )
        # Only what is new in each: SnapshotCount counts the snapshots of this callback.
        assert detail["SnapshotCount"] == len(detail["Snapshot"]) >= 1
        seen += [s["SnapshotTime"] for s in detail["Snapshot"]]
    assert seen == sorted(set(seen))  # nothing sent twice, in stream order
    assert updates[0].detail["Snapshot"][0]["Text"] == "welcome"
    assert (final.detail["State"], final.detail["SnapshotCount"], final.detail["Label"]) == (
        "Success",
        3,
        "Porn",
    )
    start = final.detail["Snapshot"][0]["SnapshotTime"]  # epoch milliseconds
    assert [s["SnapshotTime"] - start for s in final.detail["Snapshot"]] == [0, 200, 400]
    assert set(seen) <= {s["SnapshotTime"] for s in final.detail["Snapshot"]}


async def test_live_callback_type_2_and_cancel(api: Api, target: Target, bucket_dir: Path) -> None:
    put(bucket_dir, "live/endless", {"frames": STREAM["frames"]})  # runs until cancelled
    job_id = await submit(api, "video", live_job(target.url, "endless", CallbackType="2"))
    first = await target.next()
    # The clean frame at 0 ms called nothing back: the first callback has the ads frame.
    assert [s["Text"] for s in first.detail["Snapshot"]] == ["buy now"]
    await target.next()  # the porn frame
    cancelled = await api.call("POST", f"/video/cancel_auditing/{job_id}", body=b"")
    assert cancelled.status == 200
    final = await target.next()
    assert final.detail["State"] == "Cancelled"
    assert [s["Text"] for s in final.detail["Snapshot"]] == ["buy now", "xxx"]
    assert final.detail["SnapshotCount"] == 2


# --- retries -------------------------------------------------------------------------------------


async def test_a_failed_delivery_is_tried_again(api: Api, target: Target) -> None:
    target.statuses = [500, 302, 204]
    job_id = await submit(api, "text", text_job("texts/hello.txt", target.url))
    tries = [await target.next() for _ in range(3)]
    assert {t.body["data"]["trace_id"] for t in tries} == {job_id}
    assert tries[1].at - tries[0].at >= 0.02 and tries[2].at - tries[1].at >= 0.04  # backoff
    await until(lambda: api.emu.callbacks.delivered == 1)
    log = list(api.emu.callbacks.log)
    assert [(d.attempt, d.status, d.ok) for d in log] == [
        (1, 500, False),
        (2, 302, False),  # a redirect is not followed: a failed try
        (3, 204, True),
    ]
    assert (api.emu.callbacks.failed_attempts, api.emu.callbacks.given_up) == (2, 0)


async def test_a_callback_is_given_up_after_three_tries(api: Api, target: Target) -> None:
    target.statuses = [503]
    await submit(api, "text", text_job("texts/hello.txt", target.url))
    for _ in range(3):
        await target.next()
    await until(lambda: api.emu.callbacks.given_up == 1)
    assert (api.emu.callbacks.delivered, api.emu.callbacks.failed_attempts) == (0, 3)
    # Nobody listening: a connection error is a failed try too.
    dead = "http://127.0.0.1:9/hook"  # the discard port: refused
    await submit(api, "text", text_job("texts/hello.txt", dead))
    await until(lambda: api.emu.callbacks.given_up == 2)
    assert [d.error for d in api.emu.callbacks.log][-3:] == ["ClientConnectorError"] * 3


# --- faults --------------------------------------------------------------------------------------


async def test_dropped(api: Api, target: Target) -> None:
    api.emu.faults.add("callback-dropped", count=1)
    lost = await submit(api, "text", text_job("texts/abuse.txt", target.url))
    kept = await submit(api, "text", text_job("texts/hello.txt", target.url))
    assert (await target.next()).body["data"]["trace_id"] == kept
    await until(lambda: api.emu.callbacks.pending == 0)
    assert len(target.received) == 1
    assert api.emu.callbacks.dropped == 1 and dict(api.emu.stats.faults) == {"callback-dropped": 1}
    assert (await api.query("text", lost)).detail["State"] == "Success"  # the job itself is fine


async def test_delayed(api: Api, target: Target) -> None:
    api.emu.faults.add("callback-delayed", count=1, delay=0.3)
    late = await submit(api, "text", text_job("texts/abuse.txt", target.url))
    on_time = await submit(api, "text", text_job("texts/hello.txt", target.url))
    first, second = await target.next(), await target.next()
    assert [first.body["data"]["trace_id"], second.body["data"]["trace_id"]] == [on_time, late]
    assert second.at - first.at >= 0.2


async def test_duplicated(api: Api, target: Target) -> None:
    api.emu.faults.add("callback-duplicated", count=1)
    job_id = await submit(api, "text", text_job("texts/abuse.txt", target.url))
    first, second = await target.next(), await target.next()
    assert first.body == second.body and first.body["data"]["trace_id"] == job_id
    await until(lambda: api.emu.callbacks.delivered == 2)


async def test_reordered(api: Api, target: Target) -> None:
    api.emu.faults.add("callback-reordered", count=1, delay=30)
    held = await submit(api, "text", text_job("texts/abuse.txt", target.url))
    other = await submit(api, "text", text_job("texts/hello.txt", target.url))
    first, second = await target.next(), await target.next()
    # Sent after the next callback, though its job finished first.
    assert [first.body["data"]["trace_id"], second.body["data"]["trace_id"]] == [other, held]


async def test_a_reordered_callback_is_sent_once(api: Api, target: Target) -> None:
    api.emu.faults.add("callback-reordered", count=1, delay=0.2)
    await submit(api, "text", text_job("texts/abuse.txt", target.url))
    await submit(api, "text", text_job("texts/hello.txt", target.url))
    await target.next(), await target.next()
    await until(lambda: api.emu.callbacks.pending == 0)  # its hold has run out meanwhile
    assert (len(target.received), api.emu.callbacks.delivered) == (2, 2)


async def test_reordered_is_released_when_no_other_callback_comes(api: Api, target: Target) -> None:
    api.emu.faults.add("callback-reordered", count=1, delay=0.1)
    job_id = await submit(api, "text", text_job("texts/abuse.txt", target.url))
    assert (await target.next()).body["data"]["trace_id"] == job_id


async def test_early_arrives_before_the_submission_answers(api: Api, target: Target) -> None:
    api.emu.faults.add("callback-early", count=1, path_prefix="/text")
    job_id = await submit(api, "text", text_job("texts/abuse.txt", target.url))
    # Already there when the answer came, for a job meant to last 0.05 s.
    assert [p.body["data"]["trace_id"] for p in target.received] == [job_id]
    assert api.emu.jobs[job_id].state == "Success"
    assert (await api.query("text", job_id)).detail["State"] == "Success"
    normal = await submit(api, "text", text_job("texts/hello.txt", target.url))
    assert len(target.received) == 1  # without the fault: after the answer
    assert (await target.next()).body["data"]["trace_id"] == job_id
    assert (await target.next()).body["data"]["trace_id"] == normal


async def test_early_retries_before_answering(api: Api, target: Target) -> None:
    api.emu.faults.add("callback-early", count=1)
    target.statuses = [500, 200]
    await submit(api, "text", text_job("texts/hello.txt", target.url))
    assert len(target.received) == 2
    assert [d.status for d in api.emu.callbacks.log] == [500, 200]


async def test_callback_faults_match_the_submission_path(api: Api, target: Target) -> None:
    api.emu.faults.add("callback-dropped", path_prefix="/video")
    job_id = await submit(api, "text", text_job("texts/abuse.txt", target.url))
    assert (await target.next()).body["data"]["trace_id"] == job_id
    assert api.emu.stats.faults_injected == 0


def test_callback_faults_in_specs_and_their_options() -> None:
    plan = parse_faults(
        "callback-dropped:p=0.1;callback-delayed:delay=2;callback-duplicated:every=3;"
        "callback-reordered;callback-early:next=1,path=/image"
    )
    assert [(r.fault.kind, r.fault.delay) for r in plan.rules] == [
        (FaultKind.CALLBACK_DROPPED, None),
        (FaultKind.CALLBACK_DELAYED, 2.0),
        (FaultKind.CALLBACK_DUPLICATED, None),
        (FaultKind.CALLBACK_REORDERED, 1.0),
        (FaultKind.CALLBACK_EARLY, None),
    ]
    assert Fault.make("callback-delayed").delay == 5.0
    with pytest.raises(ValueError, match="callback-dropped acts on a callback: it takes no phase"):
        Fault.make("callback-dropped", phase="after")
    with pytest.raises(ValueError, match="delay applies to slow faults only"):
        Fault.make("callback-duplicated", delay=1)


# --- where callbacks may go, and switching them off ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "https://example.com/hook",
        "http://127.1/hook",  # a short form of loopback is refused, as for Url inputs
        "ftp://127.0.0.1/hook",
        "/hook",
    ],
)
async def test_a_callback_off_loopback_is_refused_at_submission(api: Api, url: str) -> None:
    reply = await api.submit("text", text_job("texts/hello.txt", url))
    assert (reply.status, reply.tree["Error"]["Code"]) == (400, "InvalidArgument")
    assert "Callback" in reply.tree["Error"]["Message"]
    batch = {"Input": {"Object": "images/ads.png"}, "Conf": {"Async": "1", "Callback": url}}
    assert (await api.submit("image", batch)).status == 400
    assert len(api.emu.jobs) == 0


async def test_remote_callbacks_can_be_allowed(
    bucket_dir: Path, session: aiohttp.ClientSession
) -> None:
    async with make_api(session)(bucket_dir, allow_remote_callbacks=True, callbacks=False) as emu:
        reply = await Api(emu, session).submit(
            "text", text_job("texts/hello.txt", "https://example.com/hook")
        )
        assert reply.status == 200, reply.body


async def test_callbacks_switched_off_send_nothing(
    bucket_dir: Path, session: aiohttp.ClientSession, target: Target
) -> None:
    async with make_api(session)(bucket_dir, callbacks=False) as emu:
        api = Api(emu, session)
        job_id = await submit(api, "text", text_job("texts/hello.txt", target.url))
        await api.query("text", job_id)
        emu.callbacks.enabled = True
        other = await submit(api, "text", text_job("texts/abuse.txt", target.url))
        assert (await target.next()).body["data"]["trace_id"] == other
        assert len(target.received) == 1 and emu.callbacks.pending == 0


async def test_a_job_final_by_polls_calls_back_on_that_query(
    bucket_dir: Path, session: aiohttp.ClientSession, target: Target
) -> None:
    async with make_api(session)(bucket_dir, final_after_polls=2) as emu:
        api = Api(emu, session)
        job_id = await submit(api, "text", text_job("texts/hello.txt", target.url))
        assert (await api.query("text", job_id)).detail["State"] == "Submitted"
        assert (await api.query("text", job_id)).detail["State"] == "Success"
        assert (await target.next()).body["data"]["trace_id"] == job_id


async def test_held_jobs_call_back_once_released(api: Api, target: Target) -> None:
    api.emu.controls.hold = True
    job_id = await submit(api, "text", text_job("texts/hello.txt", target.url))
    assert api.emu.jobs[job_id].state == "Auditing"
    api.emu.controls.hold = False
    assert (await target.next()).body["data"]["trace_id"] == job_id


async def test_shutdown_stops_pending_callbacks(
    bucket_dir: Path, session: aiohttp.ClientSession, target: Target
) -> None:
    async with make_api(session)(bucket_dir, job_duration=60) as emu:
        await submit(Api(emu, session), "text", text_job("texts/hello.txt", target.url))
        assert emu.callbacks.pending == 1
    assert emu.callbacks.pending == 0 and target.received == []


def test_the_command_line_switches() -> None:
    args = build_parser().parse_args(["--no-callbacks", "--allow-remote-callbacks"])
    assert (args.no_callbacks, args.allow_remote_callbacks) == (True, True)
    args = build_parser().parse_args([])
    assert (args.no_callbacks, args.allow_remote_callbacks) == (False, False)
