"""Video, audio, document, live and virus jobs end to end against the emulator over loopback:
the cosaudit client submits, waits and reads typed results; live streams are started, read
while running, cancelled and reported final; the README's quickstart for these kinds runs.

Media are stand-in files described by sidecar manifests (``<key>.cosaudit.json``, see the
README) or read as text from their bytes; what the emulator "sees" in them is judged by its
keyword rules. Jobs of the file kinds turn final on their second query; live streams run on the
emulator's job clock, which the client's injected sleep moves (:class:`conftest.ManualClock`).
"""

from __future__ import annotations

import io
import json
import re
import textwrap
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import ManualClock

from cosaudit import (
    AudioJob,
    AuditClient,
    Credentials,
    DocumentJob,
    JobFailed,
    JobTimeout,
    LiveJob,
    PollPolicy,
    RetryPolicy,
    VideoJob,
    VirusJob,
)
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.media import eicar
from cosaudit.errors import InvalidInput, NotFoundError, ServiceError
from cosaudit.models import JobState, Result, VirusSuggestion
from cosaudit.requests import ImageRequest, VideoRequest, structure

BUCKET = "examplebucket-1250000000"
README = Path(__file__).resolve().parents[1] / "README.md"
FAST_POLL = PollPolicy(initial=0.01, multiplier=1.5, maximum=0.05, jitter=0.1, timeout=30)
# Live streams run for seconds of the (manual) job clock: poll them in steps of that size.
LIVE_POLL = PollPolicy(initial=0.5, multiplier=1.5, maximum=1.0, jitter=0.1, timeout=30)
WALL = 1_700_000_000.0  # the emulator's wall clock: live times start at epoch ms WALL * 1000
WALL_AT = datetime.fromtimestamp(WALL, timezone.utc)


def manifest(
    root: Path, key: str, content: dict[str, Any], data: bytes | None = b"stand-in"
) -> None:
    """Write ``key`` (unless ``data`` is None) and its sidecar manifest into the bucket folder."""
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is not None:
        path.write_bytes(data)
    Path(f"{path}.cosaudit.json").write_text(json.dumps(content), "utf-8")


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    manifest(
        tmp_path,
        "clips/party.mp4",
        {
            "duration_ms": 8000,
            "frames": [
                {"time_ms": 0, "text": "happy birthday"},
                {"time_ms": 4000, "text": "buy now, discount code"},
            ],
            "audio": [
                {"offset_ms": 0, "duration_ms": 4000, "text": "happy birthday to you"},
                {"offset_ms": 4000, "duration_ms": 4000, "text": "no underage drinking"},
            ],
        },
    )
    manifest(
        tmp_path,
        "clips/broken.mp4",
        {"fail": {"code": "ResourceNotSupported", "message": "corrupt file"}},
    )
    manifest(
        tmp_path,
        "voice/message.mp3",
        {
            "audio": [
                {"offset_ms": 0, "duration_ms": 2000, "text": "call me back"},
                {"offset_ms": 2000, "duration_ms": 3000, "text": "no underage drinking"},
            ]
        },
    )
    manifest(
        tmp_path,
        "docs/figures.xlsx",
        {
            "pages": [
                {"text": "quarterly figures", "sheet": 1},
                {"text": "buy now, discount code", "sheet": 2},
            ]
        },
    )
    (tmp_path / "docs" / "contract").write_bytes(b"terms and conditions\fsigned, you terrorist")
    manifest(
        tmp_path,
        "files/tools.zip",
        {
            "files": [
                {"name": "tools/readme.txt"},
                {"name": "tools/setup.exe", "virus": "Win32.Trojan.Example"},
            ]
        },
    )
    # No manifest: the emulator opens the archive and finds the EICAR test string.
    (tmp_path / "files" / "bundle.zip").write_bytes(
        zipped({"docs/a.txt": b"fine", "bin/eicar.com": eicar()})
    )
    (tmp_path / "files" / "clean.pdf").write_bytes(b"%PDF-1.4 nothing to see")
    manifest(
        tmp_path,
        "live/room1",
        {
            "duration_ms": 3000,
            "frames": [
                {"time_ms": 0, "text": "welcome to my stream"},
                {"time_ms": 1000, "text": "buy now, discount code"},
            ],
            "audio": [{"offset_ms": 0, "duration_ms": 1000, "text": "hello everyone"}],
        },
        data=None,  # a stream has only its manifest
    )
    manifest(
        tmp_path,
        "live/endless",
        {"frames": [{"time_ms": 0, "text": "still here"}]},
        data=None,
    )
    return tmp_path


@pytest.fixture
async def emu(bucket: Path, clock: ManualClock) -> AsyncIterator[Emulator]:
    config = EmulatorConfig(
        bucket_dir=bucket, final_after_polls=2, clock=clock, wall_clock=lambda: WALL
    )
    async with Emulator(config) as emulator:
        yield emulator


def client_for(emu: Emulator, clock: ManualClock, **kwargs: Any) -> AuditClient:
    kwargs.setdefault("poll", FAST_POLL)
    return AuditClient(
        bucket=BUCKET,
        region="ap-guangzhou",
        endpoint=emu.url,
        credentials=Credentials(emu.config.secret_id, emu.config.secret_key),
        monotonic=clock,
        sleep=clock.sleep,
        **kwargs,
    )


# --- video -------------------------------------------------------------------------------------


async def test_the_apis_0_1_switches_are_taken_as_ints(emu: Emulator, clock: ManualClock) -> None:
    """DetectContent, Async and LargeImageDetect are documented 0/1: a JSON line's 1 is True."""
    video = structure(
        '{"object": "clips/party.mp4", "snapshot_count": 2, "detect_content": 1}', VideoRequest
    )
    image = structure(
        '{"url": "http://x/a.png", "asynchronous": 0, "large_image_detect": 1}', ImageRequest
    )
    assert (video.detect_content, image.asynchronous, image.large_image_detect) == (
        True,
        False,
        True,
    )
    async with client_for(emu, clock) as client:
        await client.video.submit(object="clips/party.mp4", snapshot_count=2, detect_content=1)
        await client.video.submit_request(video)
    sent = [job.request["Conf"].get("DetectContent") for job in emu.jobs.values()]
    assert sent == ["1", "1"], sent  # the XML body as the emulator parsed it
    for bad in (2, -1, "1"):
        with pytest.raises(InvalidInput, match="must be True or False"):
            VideoRequest(object="a.mp4", snapshot_count=2, detect_content=bad)  # type: ignore[arg-type]


async def test_video_submit_get_wait(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        submitted = await client.video.submit(
            object="clips/party.mp4",
            snapshot_count=4,
            snapshot_mode="Average",
            detect_content=True,
            detect_type=["Porn", "Ads", "Teenager"],  # not a default scene; video takes it
            data_id="v-1",
            user_info={"token_id": "u1"},
        )
        assert isinstance(submitted, VideoJob) and submitted.state is JobState.SUBMITTED
        assert submitted.job_id is not None and submitted.job_id.startswith("av")
        running = await client.video.get(submitted.job_id)
        assert running.state is JobState.SUBMITTED and not running.is_final
        job = await client.video.wait(submitted.job_id)
    assert (job.state, job.data_id, job.object) == (JobState.SUCCESS, "v-1", "clips/party.mp4")
    assert job.user_info is not None and job.user_info.token_id == "u1"
    # Average: 4 moments spread over 8 s; each shows the latest frame at or before it
    assert [s.snapshot_time for s in job.snapshots] == [0, 2000, 4000, 6000]
    assert job.snapshot_count == 4
    assert [(s.label, s.result) for s in job.snapshots] == [
        ("Normal", Result.NORMAL),
        ("Normal", Result.NORMAL),
        ("Ads", Result.SENSITIVE),
        ("Ads", Result.SENSITIVE),
    ]
    assert job.ads_info is not None and (job.ads_info.hit_flag, job.ads_info.count) == (1, 2)
    # DetectContent=1: one AudioSection per segment of the manifest, counted in the aggregates
    assert [(a.offset_time, a.duration, a.text, a.label) for a in job.audio_sections] == [
        (0, 4000, "happy birthday to you", "Normal"),
        (4000, 4000, "no underage drinking", "Teenager"),
    ]
    teen = job.teenager_info
    assert teen is not None and (teen.hit_flag, teen.count) == (1, 1)
    # Ads and Teenager both block: the label is the graver scene
    assert (job.label, job.result) == ("Teenager", Result.SENSITIVE)
    assert job.hit_keywords("Ads") == ("buy now", "discount code")
    assert job.hit_keywords("Teenager") == ("underage drinking",)


async def test_video_interval_and_fps_capture_times(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        every_3s = await client.video.moderate(
            object="clips/party.mp4", snapshot_count=10, snapshot_interval=3
        )
        capped = await client.video.moderate(
            object="clips/party.mp4", snapshot_count=2, snapshot_interval=1.5
        )
        fps = await client.video.moderate(
            object="clips/party.mp4", snapshot_count=100, snapshot_mode="Fps", snapshot_interval=0.5
        )
    assert [s.snapshot_time for s in every_3s.snapshots] == [0, 3000, 6000]
    assert [s.snapshot_time for s in capped.snapshots] == [0, 1500]  # Count caps the frames
    assert [s.snapshot_time for s in fps.snapshots] == [0, 2000, 4000, 6000]  # 0.5 frame/s
    assert every_3s.audio_sections == ()  # no DetectContent: frames only
    assert (every_3s.label, capped.label) == ("Ads", "Normal")  # capped stops before the ad


async def test_video_state_passes_through_snapshoting(emu: Emulator, clock: ManualClock) -> None:
    emu.controls.final_after_polls = None
    emu.controls.job_duration = 3.0
    async with client_for(emu, clock) as client:
        job = await client.video.submit(object="clips/party.mp4", snapshot_count=2)
        assert job.job_id is not None
        seen = []
        for _ in range(8):
            await clock.sleep(0.5)
            seen.append(await client.video.get(job.job_id))
    states = [job.state for job in seen]
    # Submitted for 10 % of the 3 s (0.3 s), Snapshoting and Auditing 1.35 s each, then final
    assert states == [JobState.SNAPSHOTING] * 3 + [JobState.AUDITING] * 2 + [JobState.SUCCESS] * 3
    assert [job.is_final for job in seen] == [False] * 5 + [True] * 3


async def test_a_failed_video_raises_with_the_manifest_code(
    emu: Emulator, clock: ManualClock
) -> None:
    async with client_for(emu, clock) as client:
        with pytest.raises(JobFailed) as caught:
            await client.video.moderate(object="clips/broken.mp4", snapshot_count=1)
        job = await client.video.moderate(
            object="clips/broken.mp4", snapshot_count=1, raise_on_failure=False
        )
    assert caught.value.job.code == "ResourceNotSupported"
    assert (job.state, job.code, job.message) == (
        JobState.FAILED,
        "ResourceNotSupported",
        "corrupt file",
    )
    assert job.snapshots == ()


# --- audio -------------------------------------------------------------------------------------


async def test_audio_sections_from_the_manifest(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        job = await client.audio.moderate(
            object="voice/message.mp3", data_id="a-1", detect_type="Porn,Teenager"
        )
    assert isinstance(job, AudioJob) and (job.state, job.data_id) == (JobState.SUCCESS, "a-1")
    assert [(s.offset_time, s.duration, s.text, s.result) for s in job.sections] == [
        (0, 2000, "call me back", Result.NORMAL),
        (2000, 3000, "no underage drinking", Result.SENSITIVE),
    ]
    assert job.audio_text == "call me back no underage drinking"
    assert (job.label, job.verdict) == ("Teenager", Result.SENSITIVE)
    # the top-level audio scene's Label is the keyword that hit
    teen = job.teenager_info
    assert teen is not None and (teen.hit_flag, teen.label) == (1, "underage drinking")
    assert set(job.scenes) == {"Porn", "Teenager"}
    assert job.hit_keywords("Teenager") == ("underage drinking",)


# --- document ----------------------------------------------------------------------------------


async def test_document_pages_from_the_manifest(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        job = await client.document.moderate(object="docs/figures.xlsx")
    assert isinstance(job, DocumentJob) and job.state is JobState.SUCCESS
    assert [(p.page_number, p.sheet_number, p.text, p.suggestion) for p in job.pages] == [
        (1, 1, "quarterly figures", Result.NORMAL),
        (2, 2, "buy now, discount code", Result.SENSITIVE),
    ]
    assert job.page_count == 2
    assert (job.label, job.suggestion) == ("Ads", Result.SENSITIVE)
    assert job.labels is not None and job.labels.ads_info is not None
    assert job.labels.ads_info.hit_flag == 1
    assert set(job.scenes) == {"Porn", "Terrorism", "Politics", "Ads"}  # the default media scenes


async def test_document_without_extension_takes_its_type(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        job = await client.document.moderate(
            object="docs/contract", file_type="docx", detect_type="Terrorism"
        )
    # no manifest: the bytes are read as text, pages split on form feeds
    assert [(p.page_number, p.text, p.label) for p in job.pages] == [
        (1, "terms and conditions", "Normal"),
        (2, "signed, you terrorist", "Terrorism"),
    ]
    assert (job.label, job.suggestion) == ("Terrorism", Result.SENSITIVE)


# --- virus -------------------------------------------------------------------------------------


async def test_virus_scans_of_archives_and_a_clean_file(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        listed = await client.virus.moderate(object="files/tools.zip")
        opened = await client.virus.moderate(object="files/bundle.zip")
        clean = await client.virus.moderate(object="files/clean.pdf")
    assert isinstance(listed, VirusJob) and listed.state is JobState.SUCCESS
    assert listed.job_id is not None and listed.job_id.startswith("ss")
    assert listed.suggestion is VirusSuggestion.BLOCK and listed.is_sensitive
    assert [(v.file_name, v.virus_name) for v in listed.viruses] == [
        ("tools/setup.exe", "Win32.Trojan.Example")
    ]
    assert (opened.suggestion, opened.object) == (VirusSuggestion.BLOCK, "files/bundle.zip")
    assert [(v.file_name, v.virus_name) for v in opened.viruses] == [
        ("bin/eicar.com", "EICAR-Test-File")
    ]
    assert clean.suggestion is VirusSuggestion.NORMAL and clean.viruses == ()
    assert (clean.verdict, clean.scenes) == (Result.NORMAL, {})


# --- live --------------------------------------------------------------------------------------


async def test_live_start_query_while_running_cancel_then_final(
    emu: Emulator, clock: ManualClock
) -> None:
    async with client_for(emu, clock) as client:
        started = await client.live.submit(
            "rtmp://127.0.0.1/live/endless", biz_type="live-policy", data_id="room-1"
        )
        assert isinstance(started, LiveJob) and started.state is JobState.SUBMITTED
        assert started.job_id is not None
        job_id = started.job_id
        await clock.sleep(2.5)
        running = await client.live.get(job_id)
        assert (running.state, running.is_final) == (JobState.AUDITING, False)
        assert (running.type, running.data_id, running.snapshot_count) == (
            "live_video",
            "room-1",
            1,
        )
        (first,) = running.snapshots
        assert (first.text, first.snapshot_time) == ("still here", int(WALL * 1000))
        assert first.snapshot_at == WALL_AT  # epoch milliseconds as an aware datetime
        cancelled = await client.live.cancel(job_id)
        assert (cancelled.job_id, cancelled.data_id, cancelled.state) == (job_id, "room-1", None)
        again = await client.live.cancel(job_id)  # a second cancel is harmless
        assert again == cancelled
        final = await client.live.get(job_id)
        waited = await client.live.wait(job_id)  # final already: no polling needed
    assert (final.state, final.is_final) == (JobState.CANCELLED, True)
    assert waited.state is JobState.CANCELLED
    # what was seen before the cancel is kept
    assert [(s.text, s.snapshot_at) for s in final.snapshots] == [("still here", WALL_AT)]


async def test_a_bounded_stream_can_be_waited_for(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        started = await client.live.submit("rtmp://127.0.0.1/live/room1", biz_type="live-policy")
        assert started.job_id is not None
        job = await client.live.wait(started.job_id, policy=LIVE_POLL)
    assert (job.state, job.label, job.result, job.snapshot_count) == (
        JobState.SUCCESS,
        "Ads",
        Result.SENSITIVE,
        2,
    )
    assert [(s.text, s.snapshot_at) for s in job.snapshots] == [
        ("welcome to my stream", WALL_AT),
        ("buy now, discount code", WALL_AT + timedelta(seconds=1)),
    ]
    (heard,) = job.audio_sections
    assert (heard.text, heard.offset_at, heard.end_at) == (
        "hello everyone",
        WALL_AT,
        WALL_AT + timedelta(seconds=1),
    )


async def test_an_endless_stream_times_out_with_what_was_seen(
    emu: Emulator, clock: ManualClock
) -> None:
    async with client_for(emu, clock) as client:
        # rtmps (RTMP over TLS) is accepted by both sides
        started = await client.live.submit("rtmps://127.0.0.1/live/endless", biz_type="p")
        assert started.job_id is not None
        with pytest.raises(JobTimeout) as caught:
            await client.live.wait(started.job_id, timeout=5, policy=LIVE_POLL)
        await client.live.cancel(started.job_id)
    last = caught.value.job
    assert isinstance(last, LiveJob) and last.state is JobState.AUDITING
    assert [s.text for s in last.snapshots] == ["still here"]


async def test_the_eleventh_live_stream_is_refused(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock, retry=RetryPolicy(attempts=1)) as client:
        jobs = [
            await client.live.submit("rtmp://127.0.0.1/live/endless", biz_type="p")
            for _ in range(10)
        ]
        with pytest.raises(ServiceError) as caught:
            await client.live.submit("rtmp://127.0.0.1/live/endless", biz_type="p")
        assert jobs[0].job_id is not None
        await client.live.cancel(jobs[0].job_id)  # frees a channel
        again = await client.live.submit("rtmp://127.0.0.1/live/endless", biz_type="p")
    assert (caught.value.status, caught.value.code) == (403, "QueueSaturated")
    assert again.state is JobState.SUBMITTED
    assert emu.stats.submits["video"] == 11  # the refused one created no job


async def test_cancel_of_an_unknown_job_is_not_found(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.live.cancel("av00000000000000000000000000000000")
    assert (caught.value.status, caught.value.code) == (404, "AuditingJobNotFound")


# --- badcase -----------------------------------------------------------------------------------


async def test_report_badcase(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        text_report = await client.report_badcase(
            text="a harmless sentence", label="Porn", suggested_label="Normal"
        )
        image_report = await client.report_badcase(
            url="https://example.com/a.png",
            label="Normal",
            suggested_label="Porn",
            job_id="si1f1ae5bc5c4911ecb77552540070ab12",
            moderation_time="2021-08-07T12:12:12+08:00",
        )
    text_case, image_case = emu.badcases
    assert (text_report, image_report) == (text_case.request_id, image_case.request_id)
    assert (text_case.content_type, text_case.text, text_case.label) == (
        1,
        "a harmless sentence",
        "Porn",
    )
    assert (image_case.content_type, image_case.url, image_case.job_id) == (
        2,
        "https://example.com/a.png",
        "si1f1ae5bc5c4911ecb77552540070ab12",
    )


# --- the README ---------------------------------------------------------------------------------


def readme_media_snippet() -> str:
    """The README's quickstart block for video, audio, documents, live streams and viruses."""
    text = README.read_text("utf-8")
    found = re.search(r"virus scans are asynchronous jobs too:\n\n```python\n(.*?)```", text, re.S)
    assert found is not None, "the README shows the media kinds"
    return found.group(1)


async def test_the_readme_media_quickstart_runs(
    emu: Emulator, clock: ManualClock, bucket: Path
) -> None:
    """Every name the README uses exists and every call it shows is accepted, as written
    (only its example.com file URL is served from loopback, where the emulator may fetch)."""
    manifest(bucket, "clips/a.mp4", {"frames": [{"time_ms": 0, "text": "buy now"}]})
    (bucket / "uploads").mkdir()
    (bucket / "uploads" / "contract").write_bytes(b"page one\fpage two")
    (bucket / "uploads" / "tools.zip").write_bytes(zipped({"x/eicar.com": eicar()}))
    files = {"/voice.mp3": b"nude", "/voice.mp3.cosaudit.json": b'{"audio": [{"text": "nude"}]}'}

    async def serve(request: web.Request) -> web.Response:
        if request.path not in files:
            raise web.HTTPNotFound()
        return web.Response(body=files[request.path])

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    snippet = readme_media_snippet()
    async with TestServer(app, host="127.0.0.1") as site, client_for(emu, clock) as client:
        code = snippet.replace("https://example.com/", str(site.make_url("/")))
        namespace: dict[str, Any] = {}
        exec(f"async def main(client):\n{textwrap.indent(code, '    ')}", namespace)
        await namespace["main"](client)
    assert len(emu.badcases) == 1
    assert {job.kind for job in emu.jobs.values()} >= {"video", "audio", "document", "virus"}
