"""Video, audio, document, live and virus jobs end to end against the emulator over loopback.

Media are stand-in files described by sidecar manifests (``<key>.cosaudit.json``,
``/work/helpers/MANIFEST.md``); what the emulator "sees" in them is judged by its keyword rules.
Jobs of the file kinds turn final on their second query; live streams run on the emulator's
job clock, which these tests move by hand.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

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
from cosaudit.errors import NotFoundError, ServiceError
from cosaudit.models import JobState, Result, VirusSuggestion

BUCKET = "examplebucket-1250000000"
FAST_POLL = PollPolicy(initial=0.01, multiplier=1.5, maximum=0.05, jitter=0.1, timeout=30)
# Live streams run for seconds of the (manual) job clock: poll them in steps of that size.
LIVE_POLL = PollPolicy(initial=0.5, multiplier=1.5, maximum=1.0, jitter=0.1, timeout=30)


class ManualClock:
    """The emulator's job clock and the client's poll clock: moves only when slept on."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)  # let the emulator's background work run; no time passes


def manifest(
    root: Path, key: str, content: dict[str, Any], data: bytes | None = b"stand-in"
) -> None:
    """Write ``key`` (unless ``data`` is None) and its sidecar manifest into the bucket folder."""
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is not None:
        path.write_bytes(data)
    Path(f"{path}.cosaudit.json").write_text(json.dumps(content), "utf-8")


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
                {"offset_ms": 4000, "duration_ms": 4000, "text": "you are an idiot"},
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
                {"offset_ms": 2000, "duration_ms": 3000, "text": "you are an idiot"},
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
    (tmp_path / "docs" / "contract").write_bytes(b"terms and conditions\fsigned, you idiot")
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
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emu(bucket: Path, clock: ManualClock) -> AsyncIterator[Emulator]:
    config = EmulatorConfig(bucket_dir=bucket, final_after_polls=2, clock=clock)
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


async def test_video_submit_get_wait(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        submitted = await client.video.submit(
            object="clips/party.mp4",
            snapshot_count=4,
            snapshot_mode="Average",
            detect_content=True,
            detect_type=["Porn", "Ads", "Abuse"],  # Abuse is not among the default media scenes
            data_id="v-1",
            user_info={"token_id": "u1"},
        )
        assert isinstance(submitted, VideoJob) and submitted.state is JobState.SUBMITTED
        assert submitted.job_id is not None
        running = await client.video.get(submitted.job_id)
        assert not running.is_final
        job = await client.video.wait(submitted.job_id)
    assert job.state is JobState.SUCCESS and job.data_id == "v-1"
    assert job.object == "clips/party.mp4"
    assert job.user_info is not None and job.user_info.token_id == "u1"
    # Average: 4 moments spread over 8 s; each shows the latest frame at or before it
    assert [s.snapshot_time for s in job.snapshots] == [0, 2000, 4000, 6000]
    assert job.snapshot_count == 4
    assert [s.label for s in job.snapshots] == ["Normal", "Normal", "Ads", "Ads"]
    assert job.snapshots[2].result is not Result.NORMAL
    assert job.ads_info is not None and job.ads_info.is_hit and job.ads_info.count == 2
    # DetectContent=1: one AudioSection per segment of the manifest
    assert [(a.offset_time, a.duration) for a in job.audio_sections] == [(0, 4000), (4000, 4000)]
    assert job.audio_sections[1].text == "you are an idiot"
    assert job.audio_sections[1].label == "Abuse"
    assert job.result is Result.SENSITIVE or job.result is Result.SUSPICIOUS
    assert "buy now" in job.hit_keywords("Ads")


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


async def test_video_state_passes_through_snapshoting(emu: Emulator, clock: ManualClock) -> None:
    emu.controls.final_after_polls = None
    emu.controls.job_duration = 3.0
    async with client_for(emu, clock) as client:
        job = await client.video.submit(object="clips/party.mp4", snapshot_count=2)
        assert job.job_id is not None
        states = []
        for _ in range(8):
            await clock.sleep(0.5)
            states.append((await client.video.get(job.job_id)).state)
    assert JobState.SNAPSHOTING in states
    assert states[-1] is JobState.SUCCESS
    assert states.index(JobState.SNAPSHOTING) < states.index(JobState.SUCCESS)


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
    assert job.state is JobState.FAILED and job.message == "corrupt file"


# --- audio -------------------------------------------------------------------------------------


async def test_audio_sections_from_the_manifest(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        job = await client.audio.moderate(
            object="voice/message.mp3", data_id="a-1", detect_type="Porn,Abuse"
        )
    assert isinstance(job, AudioJob) and job.state is JobState.SUCCESS
    assert [(s.offset_time, s.duration, s.text) for s in job.sections] == [
        (0, 2000, "call me back"),
        (2000, 3000, "you are an idiot"),
    ]
    assert job.audio_text is not None
    assert "call me back" in job.audio_text and "you are an idiot" in job.audio_text
    assert job.label == "Abuse" and job.verdict is not Result.NORMAL
    assert job.sections[0].result is Result.NORMAL
    assert job.hit_keywords("Abuse")


# --- document ----------------------------------------------------------------------------------


async def test_document_pages_from_the_manifest(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        job = await client.document.moderate(object="docs/figures.xlsx")
    assert isinstance(job, DocumentJob) and job.state is JobState.SUCCESS
    assert [(p.page_number, p.sheet_number, p.text) for p in job.pages] == [
        (1, 1, "quarterly figures"),
        (2, 2, "buy now, discount code"),
    ]
    assert job.page_count == 2
    assert job.label == "Ads" and job.suggestion is not Result.NORMAL
    assert job.pages[0].suggestion is Result.NORMAL
    assert job.labels is not None and job.labels.ads_info is not None
    assert job.labels.ads_info.is_hit


async def test_document_without_extension_takes_its_type(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        job = await client.document.moderate(
            object="docs/contract", file_type="docx", detect_type="Abuse"
        )
    # no manifest: the bytes are read as text, pages split on form feeds
    assert [p.text for p in job.pages] == ["terms and conditions", "signed, you idiot"]
    assert job.label == "Abuse"


# --- virus -------------------------------------------------------------------------------------


async def test_virus_scan_of_an_archive_and_a_clean_file(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        infected = await client.virus.moderate(object="files/tools.zip")
        clean = await client.virus.moderate(object="files/clean.pdf")
    assert isinstance(infected, VirusJob) and infected.state is JobState.SUCCESS
    assert infected.suggestion is VirusSuggestion.BLOCK and infected.is_sensitive
    assert [(v.file_name, v.virus_name) for v in infected.viruses] == [
        ("tools/setup.exe", "Win32.Trojan.Example")
    ]
    assert clean.suggestion is VirusSuggestion.NORMAL and clean.viruses == ()
    assert clean.verdict is Result.NORMAL


# --- live --------------------------------------------------------------------------------------


async def test_live_start_query_while_running_cancel_then_final(
    emu: Emulator, clock: ManualClock
) -> None:
    async with client_for(emu, clock) as client:
        started = await client.live.submit(
            "rtmp://127.0.0.1/live/endless", biz_type="live-policy", data_id="room-1"
        )
        assert isinstance(started, LiveJob) and started.job_id is not None
        job_id = started.job_id
        await clock.sleep(2.5)
        running = await client.live.get(job_id)
        assert running.state is JobState.AUDITING and not running.is_final
        assert running.type == "live_video" and running.data_id == "room-1"
        assert running.snapshot_count and running.snapshot_count >= 1
        first = running.snapshots[0]
        assert first.text == "still here"
        assert first.snapshot_at is not None and first.snapshot_at.tzinfo is not None
        cancelled = await client.live.cancel(job_id)
        assert cancelled.job_id == job_id
        final = await client.live.get(job_id)
        waited = await client.live.wait(job_id)  # final already: no polling needed
    assert final.state is JobState.CANCELLED and final.is_final
    assert waited.state is JobState.CANCELLED
    assert final.snapshots  # what was seen before the cancel is kept


async def test_a_bounded_stream_can_be_waited_for(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        started = await client.live.submit("rtmp://127.0.0.1/live/room1", biz_type="live-policy")
        assert started.job_id is not None
        job = await client.live.wait(started.job_id, policy=LIVE_POLL)
    assert job.state is JobState.SUCCESS
    assert [s.text for s in job.snapshots][-1] == "buy now, discount code"
    assert job.label == "Ads"
    times = [s.snapshot_at for s in job.snapshots]
    assert all(t is not None for t in times) and times == sorted(times)  # type: ignore[type-var]


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
    assert last.snapshots


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


async def test_cancel_of_an_unknown_job_is_not_found(emu: Emulator, clock: ManualClock) -> None:
    async with client_for(emu, clock) as client:
        with pytest.raises(NotFoundError):
            await client.live.cancel("av00000000000000000000000000000000")


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
    assert text_report and image_report and text_report != image_report
