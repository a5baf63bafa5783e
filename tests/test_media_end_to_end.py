"""Both sides meet at the spec: the cosaudit client moderates every media kind on the emulator
over loopback — submit, wait, typed result — and starts, reads, cancels a live stream."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import ManualClock

from cosaudit import AuditClient, Credentials, PollPolicy
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.media import eicar
from cosaudit.models import JobState, Result, VirusSuggestion

WALL = 1_700_000_000.0
CLIP = {
    "duration_ms": 10_000,
    "frames": [{"time_ms": 0, "text": "hello"}, {"time_ms": 4000, "text": "buy now"}],
    "audio": [{"offset_ms": 1000, "duration_ms": 2000, "text": "so sexy"}],
}


def put(bucket: Path, key: str, data: bytes, manifest: object = None) -> str:
    (bucket / key).parent.mkdir(parents=True, exist_ok=True)
    (bucket / key).write_bytes(data)
    if manifest is not None:
        (bucket / f"{key}.cosaudit.json").write_text(json.dumps(manifest), encoding="utf-8")
    return key


@pytest.fixture
async def client(bucket_dir: Path) -> AsyncIterator[AuditClient]:
    config = EmulatorConfig(bucket_dir=bucket_dir, job_duration=0.01, wall_clock=lambda: WALL)
    async with (
        Emulator(config) as emu,
        AuditClient(
            bucket="examplebucket-1250000000",
            region="ap-guangzhou",
            endpoint=emu.url,
            credentials=Credentials(emu.config.secret_id, emu.config.secret_key),
            poll=PollPolicy(initial=0.01, jitter=0),  # the jobs take 10 ms
        ) as audit,
    ):
        yield audit


async def test_video_audio_document_virus_and_badcase(
    client: AuditClient, bucket_dir: Path
) -> None:
    put(bucket_dir, "media/clip.mp4", b"\x00", CLIP)
    video = await client.video.moderate(
        object="media/clip.mp4", snapshot_count=5, snapshot_interval=2, detect_content=True
    )
    assert (video.state, video.label, video.result) == (JobState.SUCCESS, "Ads", Result.SENSITIVE)
    assert [s.snapshot_time for s in video.snapshots] == [0, 2000, 4000, 6000, 8000]
    assert video.audio_sections[0].text == "so sexy"

    put(bucket_dir, "media/call.mp3", b"\x00", CLIP)
    audio = await client.audio.moderate(object="media/call.mp3")
    assert (audio.label, audio.audio_text) == ("Porn", "so sexy")

    put(bucket_dir, "media/notes.pdf", b"hello\fnude beach")
    document = await client.document.moderate(object="media/notes.pdf")
    assert (document.suggestion, document.label, document.page_count) == (
        Result.SENSITIVE,
        "Porn",
        2,
    )
    assert document.page_segment is not None
    assert [p.page_number for p in document.page_segment.results] == [1, 2]

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("bin/eicar.com", eicar())
    put(bucket_dir, "media/bundle.zip", archive.getvalue())
    virus = await client.virus.moderate(object="media/bundle.zip")
    assert virus.suggestion is VirusSuggestion.BLOCK
    assert virus.detect_detail is not None
    assert [(r.file_name, r.virus_name) for r in virus.detect_detail.results] == [
        ("bin/eicar.com", "EICAR-Test-File")
    ]

    request_id = await client.report_badcase(label="Ads", suggested_label="Normal", text="hi")
    assert request_id


async def test_live_stream_started_read_cancelled_and_final(
    client: AuditClient, bucket_dir: Path
) -> None:
    put(bucket_dir, "live/room1.cosaudit.json", json.dumps(CLIP).encode())
    started = await client.live.submit(
        "rtmp://127.0.0.1/live/room1", biz_type="b81d45f94b91a683255e9a9506f45a11", data_id="r1"
    )
    running = await client.live.get(started.job_id)
    assert (running.state, running.snapshot_count) == (JobState.AUDITING, 1)
    assert running.snapshots[0].snapshot_time == int(WALL * 1000)  # epoch milliseconds
    assert running.snapshots[0].snapshot_at == datetime.fromtimestamp(WALL, timezone.utc)
    cancelled = await client.live.cancel(started.job_id)
    assert (cancelled.job_id, cancelled.data_id) == (started.job_id, "r1")
    await client.live.cancel(started.job_id)  # a second cancel is harmless
    final = await client.live.wait(started.job_id, timeout=5)
    assert final.state is JobState.CANCELLED
    assert final.snapshot_count == 1


async def test_a_snapshoting_video_is_pending_for_the_client(
    bucket_dir: Path, clock: ManualClock
) -> None:
    """A job held by the emulator stays pending for the client (Snapshoting is not final)."""
    put(bucket_dir, "media/clip.mp4", b"\x00", CLIP)
    config = EmulatorConfig(bucket_dir=bucket_dir, job_duration=1.0, clock=clock)
    async with (
        Emulator(config) as emu,
        AuditClient(
            bucket="examplebucket-1250000000",
            region="ap-guangzhou",
            endpoint=emu.url,
            credentials=Credentials(emu.config.secret_id, emu.config.secret_key),
        ) as audit,
    ):
        job = await audit.video.submit(object="media/clip.mp4", snapshot_count=2)
        clock.advance(0.2)
        seen = await audit.video.get(job.job_id)
        assert seen.state is JobState.SNAPSHOTING and not seen.is_final
