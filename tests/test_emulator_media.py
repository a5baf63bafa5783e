"""The emulator's media kinds over real loopback HTTP: video, live streams, audio, documents,
virus detection and badcase reports, with what media "contain" told by sidecar manifests
(``<key>.cosaudit.json``) or read from their bytes. Requests are signed and sent by the same raw
``Api`` as ``test_emulator.py`` (never the cosaudit client)."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import xmltodict
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import ManualClock
from test_emulator import Api, Reply

from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.kinds.timeline import capture_times
from cosaudit.emulator.media import (
    MAX_MEMBER_BYTES,
    MAX_NESTING,
    eicar,
    parse_manifest,
    scan_files,
)
from cosaudit.emulator.sources import SourceError

WALL = 1_700_000_000.0  # the emulator's wall clock in timed tests: epoch ms 1_700_000_000_000
START_MS = int(WALL * 1000)
SNAPSHOT = {"Mode": "Interval", "Count": "100", "TimeInterval": "2"}

CLIP = {  # a 10 s video: a greeting, an advert from 4 s, porn from 8 s; one line of sound
    "duration_ms": 10_000,
    "frames": [
        {"time_ms": 0, "text": "hello"},
        {"time_ms": 4000, "text": "buy now"},
        {"time_ms": 8000, "text": "xxx"},
    ],
    "audio": [
        {"offset_ms": 1000, "duration_ms": 2500, "text": "so sexy, nude"},
        {"offset_ms": 5000, "duration_ms": 1000, "text": "nice weather"},
    ],
}


def put(bucket: Path, key: str, data: bytes = b"\x00media", manifest: Any = None) -> str:
    """Write object ``key`` and, if given, its manifest; return the key."""
    path = bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if manifest is not None:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        (bucket / f"{key}.cosaudit.json").write_text(text, encoding="utf-8")
    return key


def as_list(node: Any) -> list[Any]:
    """A repeated element as a list (xmltodict gives a lone one as itself, none as absent)."""
    if node is None:
        return []
    return node if isinstance(node, list) else [node]


def video_request(
    source: Mapping[str, str], snapshot: Mapping[str, str] = SNAPSHOT, **conf: str
) -> dict[str, Any]:
    return {"Input": dict(source), "Conf": {"Snapshot": dict(snapshot), **conf}}


def live_request(url: str, **conf: str) -> dict[str, Any]:
    return {
        "Type": "live_video",
        "Input": {"Url": url, "DataId": "room-1"},
        "Conf": {"BizType": "b81d45f94b91a683255e9a9506f45a11", **conf},
    }


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as client:
        yield client


@pytest.fixture
async def api(bucket_dir: Path, session: aiohttp.ClientSession) -> AsyncIterator[Api]:
    """Jobs final on their second query."""
    async with Emulator(EmulatorConfig(bucket_dir=bucket_dir, final_after_polls=2)) as emu:
        yield Api(emu, session)


@pytest.fixture
async def timed(
    bucket_dir: Path, clock: ManualClock, session: aiohttp.ClientSession
) -> AsyncIterator[Api]:
    """Jobs take 1 s of a manual clock; the wall clock stands at :data:`WALL`."""
    config = EmulatorConfig(
        bucket_dir=bucket_dir, job_duration=1.0, clock=clock, wall_clock=lambda: WALL
    )
    async with Emulator(config) as emu:
        yield Api(emu, session)


async def final(api: Api, kind: str, job_id: str) -> Any:
    """The job's JobsDetail once final (``api`` jobs are final on their second query)."""
    await api.query(kind, job_id)
    reply = await api.query(kind, job_id)
    assert reply.status == 200, reply.body
    return reply.detail


async def submitted(api: Api, kind: str, request: Mapping[str, Any]) -> str:
    reply = await api.submit(kind, request) if kind != "virus" else await virus_submit(api, request)
    assert reply.status == 200, reply.body
    assert reply.detail["State"] == "Submitted"
    job_id: str = reply.detail["JobId"]
    return job_id


async def virus_submit(api: Api, request: Mapping[str, Any]) -> Reply:
    body = xmltodict.unparse({"Request": request}).encode()
    return await api.call("POST", "/virus/detect", body=body)


async def cancel(api: Api, job_id: str) -> Reply:
    return await api.call("POST", f"/video/cancel_auditing/{job_id}", body=b"")


# --- video ---------------------------------------------------------------------------------------


async def test_video_passes_through_snapshoting_and_answers_its_snapshots(
    timed: Api, clock: ManualClock, bucket_dir: Path
) -> None:
    key = put(bucket_dir, "videos/clip.mp4", manifest=CLIP)
    reply = await timed.submit("video", video_request({"Object": key, "DataId": "v-1"}))
    assert list(reply.detail) == ["DataId", "JobId", "State", "CreationTime"]
    job_id = reply.detail["JobId"]
    assert job_id.startswith("av") and len(job_id) == 34
    states = []
    for step in (0.0, 0.2, 0.4, 0.4):  # 0, 0.2, 0.6, 1.0 s of a 1 s job
        clock.advance(step)
        states.append((await timed.query("video", job_id)).detail["State"])
    assert states == ["Submitted", "Snapshoting", "Auditing", "Success"]

    detail = (await timed.query("video", job_id)).detail
    assert (detail["DataId"], detail["Object"]) == ("v-1", key)
    assert (detail["SnapshotCount"], detail["Label"], detail["Result"]) == ("5", "Porn", "1")
    # Aggregates: the worst HitFlag and how many snapshots hit (no sound was asked for).
    assert detail["PornInfo"] == {"HitFlag": "1", "Count": "1"}
    assert detail["AdsInfo"] == {"HitFlag": "1", "Count": "2"}
    assert detail["TerrorismInfo"] == {"HitFlag": "0", "Count": "0"}
    assert "AudioSection" not in detail
    shots = detail["Snapshot"]
    assert [(s["SnapshotTime"], s["Text"], s["Label"], s["Result"]) for s in shots] == [
        ("0", "hello", "Normal", "0"),
        ("2000", "hello", "Normal", "0"),
        ("4000", "buy now", "Ads", "1"),
        ("6000", "buy now", "Ads", "1"),
        ("8000", "xxx", "Porn", "1"),
    ]
    ads = shots[2]["AdsInfo"]  # an image-type container, without the image-only Code/Msg
    assert (ads["HitFlag"], ads["Label"], ads["OcrResults"]["Keywords"]) == ("1", "Ads", "buy now")
    assert "Code" not in ads and shots[2]["Url"].startswith("https://cosaudit.emulator.invalid/")
    record = timed.emu.jobs[job_id]
    assert (record.kind, record.state) == ("video", "Success")


@pytest.mark.parametrize(
    ("mode", "count", "interval", "length", "times"),
    [
        ("Interval", 100, 2.0, 10_000, [0, 2000, 4000, 6000, 8000]),
        ("Interval", 3, 2.0, 10_000, [0, 2000, 4000]),  # Count caps
        ("Interval", 4, 0.001, 10_000, [0, 1, 2, 3]),  # millisecond precision
        ("Interval", 3, None, 10_000, [0, 40, 80]),  # "every frame": 25 fps assumed
        ("Average", 4, 2.0, 10_000, [0, 2500, 5000, 7500]),  # TimeInterval ignored
        ("Average", 3, None, 0, []),
        ("Fps", 100, 2.0, 2_000, [0, 500, 1000, 1500]),  # TimeInterval frames per second
        ("Fps", 2, None, 10_000, [0, 1000]),  # 1 fps without TimeInterval
        ("Interval", 10_000, 60.0, 3_600_000, [60_000 * i for i in range(60)]),
    ],
)
def test_capture_times_follow_mode_count_and_interval(
    mode: str, count: int, interval: float | None, length: int, times: list[int]
) -> None:
    assert capture_times(mode, count, interval, length) == times


async def test_video_average_mode_and_sound(api: Api, bucket_dir: Path) -> None:
    key = put(bucket_dir, "videos/clip.mp4", manifest=CLIP)
    request = video_request({"Object": key}, {"Mode": "Average", "Count": "2"}, DetectContent="1")
    detail = await final(api, "video", await submitted(api, "video", request))
    assert [s["SnapshotTime"] for s in detail["Snapshot"]] == ["0", "5000"]
    assert [s["Text"] for s in detail["Snapshot"]] == ["hello", "buy now"]
    sections = detail["AudioSection"]
    assert [(a["OffsetTime"], a["Duration"], a["Text"]) for a in sections] == [
        ("1000", "2500", "so sexy, nude"),
        ("5000", "1000", "nice weather"),
    ]
    porn = sections[0]["PornInfo"]  # audio-type: Keywords repeated, one per keyword
    assert (porn["HitFlag"], porn["Keywords"]) == ("1", ["nude", "sexy"])
    assert sections[1]["PornInfo"]["Keywords"] is None  # an empty <Keywords/> when none hit
    assert (sections[0]["Label"], sections[0]["Result"]) == ("Porn", "1")
    # The sound counts in the aggregates and the overall verdict.
    assert detail["PornInfo"] == {"HitFlag": "1", "Count": "1"}
    assert (detail["Label"], detail["Result"]) == ("Porn", "1")


async def test_video_detect_type_chooses_the_scenes(api: Api, bucket_dir: Path) -> None:
    key = put(bucket_dir, "videos/clip.mp4", manifest=CLIP)
    request = video_request({"Object": key}, DetectType="Ads")
    detail = await final(api, "video", await submitted(api, "video", request))
    assert (detail["Label"], detail["AdsInfo"]["Count"]) == ("Ads", "2")
    assert "PornInfo" not in detail and "PornInfo" not in detail["Snapshot"][0]


async def test_video_without_manifest_is_read_as_text(api: Api, bucket_dir: Path) -> None:
    key = put(bucket_dir, "videos/raw.mp4", b"\x00\x00ftypmp42 nude \xff\xfe beach")
    detail = await final(
        api, "video", await submitted(api, "video", video_request({"Object": key}))
    )
    # One frame at 0 ms lasting 1 s: one capture every 2 s gives one snapshot.
    assert detail["SnapshotCount"] == "1"
    assert detail["Snapshot"]["Text"] == "\x00\x00ftypmp42 nude  beach".replace("\x00", "\ufffd")
    assert detail["Label"] == "Porn"


async def test_video_url_reads_the_manifest_beside_it(api: Api) -> None:
    async def handle(request: web.Request) -> web.Response:
        if request.path == "/clip.mp4":
            return web.Response(body=b"\x00video")
        if request.path == "/clip.mp4.cosaudit.json":
            return web.json_response(CLIP)
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("/clip.mp4"))
        job_id = await submitted(api, "video", video_request({"Url": url}))
        detail = await final(api, "video", job_id)
        missing = str(server.make_url("/gone.mp4"))
        failed = await final(
            api, "video", await submitted(api, "video", video_request({"Url": missing}))
        )
    assert (detail["Url"], detail["SnapshotCount"], detail["Label"]) == (url, "5", "Porn")
    assert (failed["State"], failed["Code"]) == ("Failed", "ResourceNotFound")


@pytest.mark.parametrize(
    ("manifest", "code", "message"),
    [
        (
            {"fail": {"code": "ResourceNotSupported", "message": "corrupt file"}},
            "ResourceNotSupported",
            "corrupt file",
        ),
        (
            {"frames": [{"time_ms": -1}]},
            "ResourceNotSupported",
            "frames[0].time_ms must be a whole number >= 0",
        ),
        ({"frame": []}, "ResourceNotSupported", "unknown field 'frame'"),
        ("{not json", "ResourceNotSupported", "is not JSON"),
    ],
)
async def test_a_manifest_can_fail_the_job_and_a_bad_one_does(
    api: Api, bucket_dir: Path, manifest: Any, code: str, message: str
) -> None:
    key = put(bucket_dir, "videos/bad.mp4", manifest=manifest)
    detail = await final(
        api, "video", await submitted(api, "video", video_request({"Object": key}))
    )
    assert (detail["State"], detail["Code"]) == ("Failed", code)
    assert message in detail["Message"]
    assert "Snapshot" not in detail


async def test_missing_media_object_fails_the_job(api: Api) -> None:
    detail = await final(
        api, "video", await submitted(api, "video", video_request({"Object": "videos/none.mp4"}))
    )
    assert (detail["State"], detail["Code"]) == ("Failed", "ResourceNotFound")


@pytest.mark.parametrize(
    ("request_tree", "fragment"),
    [
        ({"Input": {"Object": "a.mp4"}, "Conf": {}}, "Conf.Snapshot is required"),
        (video_request({"Object": "a.mp4"}, {"Mode": "Interval"}), "Count is required"),
        (video_request({"Object": "a.mp4"}, {"Count": "0"}), "Count is illegal"),
        (video_request({"Object": "a.mp4"}, {"Count": "10001"}), "Count is illegal"),
        (video_request({"Object": "a.mp4"}, {"Count": "1", "TimeInterval": "0"}), "(0, 60]"),
        (video_request({"Object": "a.mp4"}, {"Count": "1", "TimeInterval": "60.5"}), "(0, 60]"),
        (video_request({"Object": "a.mp4"}, {"Count": "1", "TimeInterval": "nan"}), "(0, 60]"),
        (video_request({"Object": "a.mp4"}, {"Count": "1", "TimeInterval": "1s"}), "TimeInterval"),
        (video_request({"Object": "a.mp4"}, {"Count": "1", "Mode": "Random"}), "Mode is illegal"),
        (video_request({"Object": "a.mp4"}, DetectContent="2"), "DetectContent is illegal"),
        (video_request({"Object": "a.mp4"}, CallbackType="3"), "CallbackType is illegal"),
        (video_request({"Object": "a.mp4"}, CallbackVersion="Full"), "CallbackVersion"),
        (video_request({"Content": "aGk="}), "Input needs one of Object or Url"),
        ({**video_request({"Object": "a.mp4"}), "Type": "vod"}, "Type is illegal"),
    ],
)
async def test_bad_video_requests_are_refused(
    api: Api, request_tree: dict[str, Any], fragment: str
) -> None:
    reply = await api.submit("video", request_tree)
    assert (reply.status, reply.error["Code"]) == (400, "InvalidArgument")
    assert fragment in reply.error["Message"]
    assert api.emu.stats.submits["video"] == 0


# --- live streams --------------------------------------------------------------------------------

ROOM = {  # a live room: frames at 0, 2 s and 5 s; one line of sound from 1 s to 3 s
    "frames": [
        {"time_ms": 0, "text": "welcome"},
        {"time_ms": 2000, "text": "buy now"},
        {"time_ms": 5000, "text": "xxx"},
    ],
    "audio": [{"offset_ms": 1000, "duration_ms": 2000, "text": "a lingerie promo"}],
}


async def test_live_stream_is_watched_as_time_passes_then_cancelled(
    timed: Api, clock: ManualClock, bucket_dir: Path
) -> None:
    put(bucket_dir, "live/room1.cosaudit.json", json.dumps(ROOM).encode())
    reply = await timed.submit("video", live_request("rtmp://127.0.0.1/live/room1"))
    assert list(reply.detail) == ["DataId", "JobId", "State", "CreationTime"]
    job_id = reply.detail["JobId"]

    running = (await timed.query("video", job_id)).detail
    assert (running["State"], running["Url"], running["Type"]) == (
        "Auditing",
        "rtmp://127.0.0.1/live/room1",
        "live_video",
    )
    assert running["SnapshotCount"] == "1"
    assert running["Snapshot"]["SnapshotTime"] == str(START_MS)  # epoch milliseconds
    assert "AudioSection" not in running  # the segment has not ended yet

    clock.advance(3.0)
    later = (await timed.query("video", job_id)).detail
    assert (later["State"], later["SnapshotCount"], later["Label"]) == ("Auditing", "2", "Ads")
    assert [s["SnapshotTime"] for s in later["Snapshot"]] == [str(START_MS), str(START_MS + 2000)]
    section = later["AudioSection"]
    assert (section["OffsetTime"], section["Duration"]) == (str(START_MS + 1000), "2000")
    assert section["PornInfo"]["Keywords"] == "lingerie"
    assert later["AdsInfo"] == {"HitFlag": "1", "Count": "2"}  # a frame and the segment

    stopped = await cancel(timed, job_id)
    assert stopped.status == 200, stopped.body
    assert stopped.tree["Response"]["JobsDetail"] == {
        "DataId": "room-1",
        "JobId": job_id,
        "CreationTime": reply.detail["CreationTime"],
    }
    assert stopped.tree["Response"]["RequestId"]
    clock.advance(10.0)
    ended = (await timed.query("video", job_id)).detail
    # Final, with what was seen until the cancel: the porn frame at 5 s never showed.
    assert (ended["State"], ended["SnapshotCount"], ended["Label"]) == ("Cancelled", "2", "Ads")
    assert timed.emu.jobs[job_id].state == "Cancelled"

    clock.advance(1.0)
    again = await cancel(timed, job_id)  # a retried cancel: same answer, nothing changes
    assert again.status == 200, again.body
    assert again.tree["Response"]["JobsDetail"] == stopped.tree["Response"]["JobsDetail"]
    assert (await timed.query("video", job_id)).detail == ended


async def test_live_stream_with_a_duration_ends_by_itself(
    timed: Api, clock: ManualClock, bucket_dir: Path
) -> None:
    put(bucket_dir, "live/show.cosaudit.json", json.dumps({**ROOM, "duration_ms": 6000}).encode())
    job_id = await submitted(timed, "video", live_request("https://127.0.0.1/live/show"))
    clock.advance(5.999)
    assert (await timed.query("video", job_id)).detail["State"] == "Auditing"
    clock.advance(0.001)
    done = (await timed.query("video", job_id)).detail
    assert (done["State"], done["SnapshotCount"], done["Label"]) == ("Success", "3", "Porn")
    refused = await cancel(timed, job_id)
    assert (refused.status, refused.error["Code"]) == (400, "InvalidArgument")
    assert "already ended (Success)" in refused.error["Message"]


async def test_live_stream_without_manifest_runs_until_cancelled(
    timed: Api, clock: ManualClock
) -> None:
    job_id = await submitted(timed, "video", live_request("rtmp://127.0.0.1/live/nobody"))
    clock.advance(3600)
    running = (await timed.query("video", job_id)).detail
    assert (running["State"], running["SnapshotCount"], running["Label"]) == (
        "Auditing",
        "0",
        "Normal",
    )
    assert (await cancel(timed, job_id)).status == 200
    assert (await timed.query("video", job_id)).detail["State"] == "Cancelled"


async def test_a_live_stream_ends_after_five_hours(
    timed: Api, clock: ManualClock, bucket_dir: Path
) -> None:
    """The documented limit of a live stream is 5 h: an endless stream, or one whose manifest
    says it runs longer, ends then (Success), with what it showed until then."""
    marathon_manifest = json.dumps({**ROOM, "duration_ms": 10**8}).encode()
    put(bucket_dir, "live/marathon.cosaudit.json", marathon_manifest)
    endless = await submitted(timed, "video", live_request("rtmp://127.0.0.1/live/nobody"))
    marathon = await submitted(timed, "video", live_request("rtmp://127.0.0.1/live/marathon"))
    clock.advance(5 * 3600 - 0.001)
    assert (await timed.query("video", endless)).detail["State"] == "Auditing"
    clock.advance(0.001)
    assert (await timed.query("video", endless)).detail["State"] == "Success"
    done = (await timed.query("video", marathon)).detail
    assert (done["State"], done["SnapshotCount"], done["Label"]) == ("Success", "3", "Porn")
    clock.advance(3600)
    assert (await timed.query("video", marathon)).detail == done  # nothing more after the end
    # both channels are free again
    for i in range(10):
        await submitted(timed, "video", live_request(f"rtmp://127.0.0.1/live/room{i}"))


async def test_the_eleventh_live_stream_is_refused_until_a_channel_frees(
    timed: Api, clock: ManualClock, bucket_dir: Path
) -> None:
    put(bucket_dir, "live/short.cosaudit.json", json.dumps({"duration_ms": 1000}).encode())
    ended = await submitted(timed, "video", live_request("rtmp://127.0.0.1/live/short"))
    streams = [
        await submitted(timed, "video", live_request(f"rtmp://127.0.0.1/live/room{i}"))
        for i in range(9)
    ]
    refused = await timed.submit("video", live_request("rtmp://127.0.0.1/live/room10"))
    assert (refused.status, refused.error["Code"]) == (403, "QueueSaturated")
    assert "At most 10 live streams" in refused.error["Message"]
    assert timed.emu.stats.submits["video"] == 10
    # Neither a file video nor another kind is limited.
    put(bucket_dir, "videos/clip.mp4", manifest=CLIP)
    assert (await timed.submit("video", video_request({"Object": "videos/clip.mp4"}))).status == 200

    clock.advance(1.0)  # the short stream ends, unqueried: its channel frees
    assert timed.emu.jobs[ended].state == "Success"
    streams.append(await submitted(timed, "video", live_request("rtmp://127.0.0.1/live/room10")))
    assert (await timed.submit("video", live_request("rtmp://127.0.0.1/live/x"))).status == 403
    assert (await cancel(timed, streams[0])).status == 200  # so does a cancelled one
    assert (await timed.submit("video", live_request("rtmp://127.0.0.1/live/x"))).status == 200


async def test_a_failing_live_manifest_fails_the_job_at_once(api: Api, bucket_dir: Path) -> None:
    put(bucket_dir, "live/broken.cosaudit.json", b'{"fail": {"code": "ResourceDownloadFailed"}}')
    job_id = await submitted(api, "video", live_request("rtmp://127.0.0.1/live/broken"))
    detail = (await api.query("video", job_id)).detail
    assert (detail["State"], detail["Code"], detail["Type"]) == (
        "Failed",
        "ResourceDownloadFailed",
        "live_video",
    )
    assert (await cancel(api, job_id)).status == 400


async def test_an_injected_job_failure_fails_a_live_stream_at_once(api: Api) -> None:
    api.emu.faults.add("job-failed", code="ResourceDownloadFailed", count=1)
    job_id = await submitted(api, "video", live_request("rtmp://127.0.0.1/live/room1"))
    detail = (await api.query("video", job_id)).detail
    assert (detail["State"], detail["Code"]) == ("Failed", "ResourceDownloadFailed")
    for i in range(10):  # it holds no channel
        await submitted(api, "video", live_request(f"rtmp://127.0.0.1/live/room{i}"))


@pytest.mark.parametrize(
    ("request_tree", "fragment"),
    [
        ({**live_request("rtmp://h/live/a"), "Conf": {}}, "BizType is required"),
        (
            {**live_request("rtmp://h/live/a"), "Input": {"Object": "a.mp4"}},
            "Input.Url is required",
        ),
        (live_request("ftp://h/live/a"), "must be a stream URL"),
        (live_request("room1"), "must be a stream URL"),
        (live_request("rtmp://h/live/a", CallbackType="0"), "CallbackType is illegal"),
        ({**live_request("rtmp://h/live/a"), "StorageConf": {"Path": {"x": "y"}}}, "Path"),
    ],
)
async def test_bad_live_requests_are_refused(
    api: Api, request_tree: dict[str, Any], fragment: str
) -> None:
    reply = await api.submit("video", request_tree)
    assert (reply.status, reply.error["Code"]) == (400, "InvalidArgument")
    assert fragment in reply.error["Message"]


async def test_cancel_of_what_is_not_a_running_live_stream(api: Api, bucket_dir: Path) -> None:
    unknown = await cancel(api, "av" + "0" * 32)
    assert (unknown.status, unknown.error["Code"]) == (404, "AuditingJobNotFound")
    text_job = (await api.text("hello")).detail["JobId"]
    assert (await cancel(api, text_job)).status == 404  # a job of another kind is unknown here
    put(bucket_dir, "videos/clip.mp4", manifest=CLIP)
    video_job = await submitted(api, "video", video_request({"Object": "videos/clip.mp4"}))
    not_live = await cancel(api, video_job)
    assert (not_live.status, not_live.error["Code"]) == (400, "InvalidArgument")
    assert "not a live_video job" in not_live.error["Message"]
    wrong_method = await api.call("GET", f"/video/cancel_auditing/{video_job}")
    assert (wrong_method.status, wrong_method.error["Code"]) == (405, "MethodNotAllowed")


# --- audio ---------------------------------------------------------------------------------------


async def test_audio_sections_and_audio_text(
    timed: Api, clock: ManualClock, bucket_dir: Path
) -> None:
    key = put(bucket_dir, "audio/call.mp3", manifest=CLIP)
    job_id = await submitted(
        timed, "audio", {"Input": {"Object": key, "DataId": "a-1"}, "Conf": {}}
    )
    assert job_id.startswith("sa")
    clock.advance(0.5)
    assert (await timed.query("audio", job_id)).detail["State"] == "Auditing"  # no Snapshoting
    clock.advance(0.5)
    detail = (await timed.query("audio", job_id)).detail
    assert (detail["State"], detail["Label"], detail["Result"]) == ("Success", "Porn", "1")
    assert detail["AudioText"] == "so sexy, nude nice weather"
    # Top-level audio containers: HitFlag, Score and the keyword that hit as Label.
    assert (detail["PornInfo"]["HitFlag"], detail["PornInfo"]["Label"]) == ("1", "nude")
    assert int(detail["PornInfo"]["Score"]) >= 90
    assert detail["AdsInfo"] == {"HitFlag": "0", "Score": "0", "Label": None}
    sections = detail["Section"]
    assert [(s["OffsetTime"], s["Duration"], s["Text"]) for s in sections] == [
        ("1000", "2500", "so sexy, nude"),
        ("5000", "1000", "nice weather"),
    ]
    assert sections[0]["PornInfo"]["Keywords"] == ["nude", "sexy"]
    assert "Snapshot" not in detail and "SnapshotCount" not in detail


@pytest.mark.parametrize(
    ("content", "state"),
    [
        ({"duration_ms": 3 * 3600 * 1000}, "Success"),
        ({"duration_ms": 3 * 3600 * 1000 + 1}, "Failed"),
        ({"audio": [{"offset_ms": 3 * 3600 * 1000, "duration_ms": 1, "text": "late"}]}, "Failed"),
    ],
)
async def test_audio_over_three_hours_fails(
    api: Api, bucket_dir: Path, content: dict[str, Any], state: str
) -> None:
    key = put(bucket_dir, "audio/long.mp3", manifest=content)
    detail = await final(api, "audio", await submitted(api, "audio", {"Input": {"Object": key}}))
    assert detail["State"] == state
    if state == "Failed":
        assert (detail["Code"], detail["Message"]) == (
            "ResourceNotSupported",
            "The audio lasts more than 3 hours.",
        )


async def test_audio_without_manifest_is_one_segment_of_its_bytes(
    api: Api, bucket_dir: Path
) -> None:
    key = put(bucket_dir, "audio/raw.wav", b"you can buy now")
    detail = await final(api, "audio", await submitted(api, "audio", {"Input": {"Object": key}}))
    section = detail["Section"]
    assert (section["OffsetTime"], section["Duration"], section["Text"]) == (
        "0",
        "1000",
        "you can buy now",
    )
    assert (detail["Label"], detail["AdsInfo"]["Label"]) == ("Ads", "buy now")


# --- documents -----------------------------------------------------------------------------------


async def test_document_pages_suggestion_and_labels(api: Api, bucket_dir: Path) -> None:
    pages = {
        "pages": [
            {"text": "Quarterly report", "sheet": 1},
            {"text": "weapon nights", "sheet": 1},
            {"text": "nude", "sheet": 2},
        ]
    }
    key = put(bucket_dir, "docs/report.xlsx", manifest=pages)
    request = {"Input": {"Object": key}, "Conf": {"DetectType": "Porn,Terrorism"}}
    job_id = await submitted(api, "document", request)
    assert job_id.startswith("sd")
    detail = await final(api, "document", job_id)
    assert (detail["Suggestion"], detail["Label"], detail["PageCount"]) == ("1", "Porn", "3")
    assert "Result" not in detail
    assert detail["Labels"]["PornInfo"]["HitFlag"] == "1"
    assert detail["Labels"]["TerrorismInfo"]["HitFlag"] == "2"
    results = detail["PageSegment"]["Results"]
    assert [(r["PageNumber"], r["SheetNumber"], r["Suggestion"], r["Label"]) for r in results] == [
        ("1", "1", "0", "Normal"),
        ("2", "1", "2", "Terrorism"),
        ("3", "2", "1", "Porn"),
    ]
    assert results[1]["TerrorismInfo"]["OcrResults"]["Keywords"] == "weapon"


async def test_document_without_manifest_splits_pages_on_form_feeds(
    api: Api, bucket_dir: Path
) -> None:
    key = put(bucket_dir, "docs/notes.pdf", b"page one\fbuy now\fthe end")
    detail = await final(
        api, "document", await submitted(api, "document", {"Input": {"Object": key}})
    )
    results = detail["PageSegment"]["Results"]
    assert [r["Text"] for r in results] == ["page one", "buy now", "the end"]
    assert "SheetNumber" not in results[0]
    assert (detail["PageCount"], detail["Label"]) == ("3", "Ads")


@pytest.mark.parametrize(
    ("key", "doc_type", "state", "fragment"),
    [
        ("docs/contract", None, "Failed", "has no file extension: Input.Type"),
        ("docs/contract", "docx", "Success", None),
        ("docs/contract", "PDF", "Success", None),
        ("docs/tool.exe", None, "Failed", "'exe' is not supported"),
        ("docs/tool.exe", "pdf", "Success", None),
    ],
)
async def test_document_type_comes_from_the_extension_or_input_type(
    api: Api, bucket_dir: Path, key: str, doc_type: str | None, state: str, fragment: str | None
) -> None:
    put(bucket_dir, key, b"hello")
    node = {"Object": key, **({"Type": doc_type} if doc_type else {})}
    detail = await final(api, "document", await submitted(api, "document", {"Input": node}))
    assert detail["State"] == state
    if fragment is not None:
        assert detail["Code"] == "ResourceNotSupported" and fragment in detail["Message"]


async def test_unknown_document_type_is_refused(api: Api) -> None:
    reply = await api.submit("document", {"Input": {"Object": "a", "Type": "mp4"}})
    assert (reply.status, reply.error["Code"]) == (400, "InvalidArgument")


async def test_document_over_5000_pages_fails(api: Api, bucket_dir: Path) -> None:
    key = put(bucket_dir, "docs/huge.pdf", manifest={"pages": [{}] * 5001})
    detail = await final(
        api, "document", await submitted(api, "document", {"Input": {"Object": key}})
    )
    assert (detail["State"], detail["Code"]) == ("Failed", "ResourceNotSupported")


# --- virus detection -----------------------------------------------------------------------------


def zipped(members: Mapping[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def virus_request(key: str, detect_type: str | None = "Virus") -> dict[str, Any]:
    conf = {"DetectType": detect_type} if detect_type is not None else {}
    return {"Input": {"Object": key}, "Conf": conf}


async def virus_result(api: Api, key: str) -> Any:
    job_id = await submitted(api, "virus", virus_request(key))
    assert job_id.startswith("ss")
    await api.call("GET", f"/virus/detect/{job_id}")
    reply = await api.call("GET", f"/virus/detect/{job_id}")
    assert reply.status == 200, reply.body
    return reply.detail


async def test_virus_detection_finds_eicar_in_files_and_archives(
    api: Api, bucket_dir: Path
) -> None:
    put(bucket_dir, "files/eicar.com", eicar() + b"\r\n")
    put(bucket_dir, "files/clean.txt", b"nothing to see")
    inner = zipped({"deep/evil.com": eicar(), "fine.txt": b"ok"})
    put(
        bucket_dir,
        "files/bundle.zip",
        zipped({"a.txt": b"a", "b/eicar.txt": eicar(), "in.zip": inner}),
    )

    plain = await virus_result(api, "files/eicar.com")
    assert (plain["State"], plain["Suggestion"], plain["Object"]) == (
        "Success",
        "block",
        "files/eicar.com",
    )
    assert plain["DetectDetail"]["Result"] == {
        "FileName": "eicar.com",
        "VirusName": "EICAR-Test-File",
    }
    clean = await virus_result(api, "files/clean.txt")
    assert (clean["Suggestion"], clean["DetectDetail"]) == ("normal", None)
    bundle = await virus_result(api, "files/bundle.zip")
    assert bundle["Suggestion"] == "block"
    assert [r["FileName"] for r in as_list(bundle["DetectDetail"]["Result"])] == [
        "b/eicar.txt",
        "in.zip/deep/evil.com",
    ]


async def test_virus_manifest_lists_the_members(api: Api, bucket_dir: Path) -> None:
    files = {
        "files": [{"name": "setup/run.exe", "virus": "Win32.Trojan.Example"}, {"name": "readme"}]
    }
    put(bucket_dir, "files/setup.zip", b"PK\x03\x04 not really", manifest=files)
    detail = await virus_result(api, "files/setup.zip")
    assert detail["Suggestion"] == "block"
    assert detail["DetectDetail"]["Result"] == {
        "FileName": "setup/run.exe",
        "VirusName": "Win32.Trojan.Example",
    }


@pytest.mark.parametrize("detect_type", [None, "Porn", "virus"])
async def test_virus_detect_type_must_be_virus(api: Api, detect_type: str | None) -> None:
    reply = await virus_submit(api, virus_request("files/a.zip", detect_type))
    assert (reply.status, reply.error["Code"]) == (400, "InvalidArgument")
    assert "DetectType" in reply.error["Message"]


def test_archive_scans_are_capped() -> None:
    late = b"\x00" * MAX_MEMBER_BYTES + eicar()  # the test string past the per-member read cap
    assert scan_files(zipped({"late.bin": late}), "x.zip") == [scan_files(b"", "late.bin")[0]]
    nested = eicar()
    for depth in range(MAX_NESTING + 1):
        nested = zipped({f"level{depth}.zip": nested})
    # Past the nesting limit an archive is scanned as plain bytes: compressed, nothing is found.
    assert [f.virus for f in scan_files(nested, "n.zip")] == [None]
    assert scan_files(b"PK\x03\x04 broken" + eicar(), "broken.zip")[0].virus == "EICAR-Test-File"


# --- badcase reports -----------------------------------------------------------------------------


async def test_badcase_reports_are_kept(api: Api) -> None:
    text = base64.b64encode("这不是广告".encode()).decode()
    reports = [
        {
            "ContentType": "1",
            "Text": text,
            "Label": "Ads",
            "SuggestedLabel": "Normal",
            "JobId": "st" + "1" * 32,
            "ModerationTime": "2021-08-07T12:12:12+08:00",
        },
        {
            "ContentType": "2",
            "Url": "https://example.com/a.png",
            "Label": "Porn",
            "SuggestedLabel": "Normal",
        },
    ]
    for report in reports:
        body = xmltodict.unparse({"Request": report}).encode()
        reply = await api.call("POST", "/report/badcase", body=body)
        assert reply.status == 200, reply.body
        assert list(reply.tree["Response"]) == ["RequestId"]
    first, second = api.emu.badcases
    assert (first.content_type, first.text, first.label, first.suggested_label) == (
        1,
        "这不是广告",
        "Ads",
        "Normal",
    )
    assert (first.job_id, first.moderation_time, first.url) == (
        "st" + "1" * 32,
        "2021-08-07T12:12:12+08:00",
        None,
    )
    assert (second.content_type, second.url, second.text) == (2, "https://example.com/a.png", None)


@pytest.mark.parametrize(
    ("report", "fragment"),
    [
        ({"Label": "Porn", "SuggestedLabel": "Normal", "Text": "aGk="}, "ContentType is required"),
        (
            {"ContentType": "3", "Label": "Porn", "SuggestedLabel": "Normal"},
            "ContentType is illegal",
        ),
        ({"ContentType": "1", "SuggestedLabel": "Normal", "Text": "aGk="}, "Label is required"),
        ({"ContentType": "1", "Label": "Porn", "Text": "aGk="}, "SuggestedLabel is required"),
        ({"ContentType": "1", "Label": "Porn", "SuggestedLabel": "Normal"}, "Text (ContentType 1)"),
        # The image page's own sample: ContentType 1 with a Url.
        (
            {
                "ContentType": "1",
                "Url": "https://x/a.png",
                "Label": "Porn",
                "SuggestedLabel": "Normal",
            },
            "Text",
        ),
        (
            {
                "ContentType": "1",
                "Label": "Porn",
                "SuggestedLabel": "Normal",
                "Text": "not base64!",
            },
            "base64",
        ),
        (
            {"ContentType": "2", "Label": "Porn", "SuggestedLabel": "Normal", "Text": "aGk="},
            "Url (ContentType 2)",
        ),
    ],
)
async def test_bad_badcase_reports_are_refused(
    api: Api, report: dict[str, str], fragment: str
) -> None:
    reply = await api.call(
        "POST", "/report/badcase", body=xmltodict.unparse({"Request": report}).encode()
    )
    assert (reply.status, reply.error["Code"]) == (400, "InvalidArgument")
    assert fragment in reply.error["Message"]
    assert api.emu.badcases == ()


# --- manifests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"[]", "the manifest must be a JSON object"),
        (b'{"duration_ms": 1.5}', "duration_ms must be a whole number >= 0"),
        (b'{"duration_ms": true}', "duration_ms must be a whole number >= 0"),
        (b'{"frames": {}}', "frames must be a JSON array"),
        (b'{"frames": [{"time_ms": 0, "txt": "x"}]}', "frames[0] has unknown field 'txt'"),
        (b'{"audio": [{"text": 7}]}', "audio[0].text must be a string"),
        (b'{"pages": [{"sheet": 0}]}', "pages[0].sheet must be a whole number >= 1"),
        (b'{"files": [{"virus": "x"}]}', "files[0].name is required"),
        (b'{"fail": {"message": "m"}}', "fail.code is required"),
        (b"\xff\xfe", "is not JSON"),
        (b"[" * 100_000, "is not JSON"),
        (b" " * (1024 * 1024 + 1), "exceeds 1048576 bytes"),
    ],
)
def test_bad_manifests_name_the_field(raw: bytes, fragment: str) -> None:
    with pytest.raises(SourceError) as failed:
        parse_manifest(raw, "a.mp4.cosaudit.json")
    assert failed.value.code == "ResourceNotSupported"
    assert fragment in failed.value.message


def test_manifest_texts_are_made_xml_safe_and_frames_sorted() -> None:
    found = parse_manifest(
        json.dumps({"frames": [{"time_ms": 9, "text": "b\u0001"}, {"text": "a"}]}).encode(), "m"
    )
    assert [(f.time_ms, f.text) for f in found.frames] == [(0, "a"), (9, "b\ufffd")]
    assert found.length_ms == 1009  # 1 s after the last frame
    assert found.frame_at(8) == found.frames[0] and found.frame_at(9) == found.frames[1]
