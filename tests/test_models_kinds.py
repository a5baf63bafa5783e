"""Typed results of video, audio, document, live and virus jobs, from the documented samples.

Every node of these fixtures is also walked by ``test_models.test_every_node_is_a_typed_attribute``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cosaudit.models import (
    AudioJob,
    DocumentJob,
    HitFlag,
    JobState,
    LiveJob,
    Result,
    VideoJob,
    VirusJob,
    VirusSuggestion,
    jobs_table,
    structure,
)
from cosaudit.wire.xmlcodec import parse

FIXTURES = Path(__file__).parent / "fixtures"
CST = timezone(timedelta(hours=8))
UTC = timezone.utc


def detail(name: str) -> Any:
    return parse((FIXTURES / name).read_bytes())["Response"]["JobsDetail"]


# --- video -------------------------------------------------------------------------------------


def test_video_submit_sample() -> None:
    job = structure(VideoJob, detail("video_submit_48249.xml"))
    assert (job.data_id, job.job_id) == ("123-fdrsg-123", "vab1ca9fc8a3ed11ea834c525400863904")
    assert job.state is JobState.SUBMITTED and not job.is_final
    assert job.creation_time == datetime(2021, 8, 7, 12, 12, 12, tzinfo=CST)
    assert job.snapshots == () and job.audio_sections == () and job.verdict is None


def test_video_query_every_node() -> None:
    job = structure(VideoJob, detail("video_query.xml"))
    assert (job.code, job.message, job.data_id) == ("Success", "Success", "video-7")
    assert job.object == "clips/party.mp4" and job.url is None
    assert job.snapshot_count == 2  # typed String by the service
    assert (job.label, job.sub_label) == ("Ads", "QRCode")
    assert job.result is Result.SENSITIVE and job.is_sensitive
    assert job.ads_info is not None and (job.ads_info.hit_flag, job.ads_info.count) == (1, 2)
    assert job.teenager_info is not None and job.teenager_info.hit_flag is HitFlag.SUSPECTED
    assert set(job.scenes) == {"Porn", "Ads", "Terrorism", "Politics", "Teenager"}

    first, second = job.snapshots
    assert first.url is not None and first.url.endswith("/snap/0.jpg")
    assert (first.snapshot_time, second.snapshot_time) == (0, 5000)
    assert (first.text, first.label, first.result) == ("scan to win", "Ads", Result.SENSITIVE)
    ads = first.ads_info
    assert ads is not None
    assert (ads.score, ads.label, ads.category, ads.sub_label) == (
        98,
        "QRCode",
        "Promotion",
        "QRCode",
    )
    (ocr,) = ads.ocr_results
    assert ocr.keywords == ("scan", "win") and ocr.sub_label == "Slogan"
    assert ocr.location is not None and (ocr.location.x, ocr.location.height) == (10.5, 40.25)
    (obj,) = ads.object_results
    assert obj.name == "QRCode" and obj.location is not None and obj.location.rotate == 90.0
    assert [(lib.image_id, lib.score) for lib in ads.lib_results] == [("lib-qr-1", 99)]
    assert second.text is None and second.result is Result.NORMAL
    assert second.teenager_info is not None and second.teenager_info.sub_label == "Smoking"

    speech, quiet = job.audio_sections
    assert (speech.offset_time, speech.duration, speech.sub_label) == (0, 5000, "Contact")
    assert speech.text == "add me on wechat for cheap pills"
    sound = speech.ads_info
    assert sound is not None
    assert sound.keywords == ("wechat", "cheap pills")  # repeated <Keywords>, not comma-split
    assert (sound.category, sound.sub_label, sound.score) == ("Contact", "WeChat", 92)
    (lib,) = sound.lib_results
    assert (lib.lib_type, lib.lib_name, lib.keywords) == (2, "my-words", ("wechat",))
    (speaker,) = sound.speaker_results
    assert (speaker.label, speaker.score, speaker.start_time, speaker.end_time) == (
        "male",
        88,
        0,
        5000,
    )
    assert sound.recognition_results[0].label == "speech"
    assert [(r.label, r.score) for r in speech.language_results] == [("en", 99)]
    assert quiet.porn_info is not None and quiet.porn_info.keywords == ()

    assert job.hit_keywords("Ads") == ("scan", "win", "wechat", "cheap pills")
    assert job.user_info is not None and job.user_info.room == "room-9"
    assert job.list_info is not None and job.list_info.list_results[0].entity == "user-1"
    assert job.forbid_state == 1
    assert job.mask_info is not None
    record, live = job.mask_info.record_info, job.mask_info.live_info
    assert record is not None and record.output is not None
    assert (record.code, record.output.object) == ("Success", "masked/party.mp4")
    assert live is not None and live.output == "rtmp://example.com/masked/1"


# --- audio -------------------------------------------------------------------------------------


def test_audio_query_sample() -> None:
    job = structure(AudioJob, detail("audio_query_48263.xml"))
    assert job.job_id == "aab1ca9fc8a3ed11ea834c525400863904"
    assert job.state is JobState.SUCCESS and job.is_final
    assert job.creation_time == datetime(2019, 7, 7, 12, 12, 12, tzinfo=CST)
    assert (job.object, job.audio_text) == ("a.mp3", "wc xx")
    assert job.result is Result.SENSITIVE and job.verdict is Result.SENSITIVE
    porn = job.porn_info
    assert porn is not None
    assert (porn.hit_flag, porn.score, porn.label) == (HitFlag.HIT, 91, "xx")  # label: the keyword
    assert job.ads_info is not None and job.ads_info.label is None
    (section,) = job.sections  # a single <Section> is still a tuple
    assert (section.offset_time, section.duration, section.text) == (0, 30000, "wc xx")
    assert section.url == "https://auditing-1250000000.cos.ap-guangzhou.myqcloud.com/q9MhdztF/0.mp3"
    assert section.porn_info is not None
    assert section.porn_info.keywords == ("xx", "wc")
    assert job.hit_keywords("Porn") == ("xx", "wc")


def test_audio_query_skeleton() -> None:
    job = structure(AudioJob, detail("audio_query_skeleton_48263.xml"))
    assert (job.code, job.message, job.job_id, job.state) == ("Success", "Success", None, None)
    assert not job.is_final and job.result is Result.SENSITIVE
    (section,) = job.sections
    assert (section.offset_time, section.duration, section.text) == (0, 3000, "Haha")
    assert section.porn_info is not None and section.porn_info.keywords == ()


def test_audio_every_node() -> None:
    job = structure(AudioJob, detail("audio_query_full.xml"))
    assert job.url == "https://example.com/voice/3.m4a" and job.object is None
    assert (job.label, job.sub_label, job.result) == ("Politics", "Slogan", Result.SUSPICIOUS)
    assert job.is_suspicious
    assert job.politics_info is not None
    assert (job.politics_info.hit_flag, job.politics_info.score) == (HitFlag.SUSPECTED, 75)
    assert [(r.label, r.score) for r in job.language_results] == [("en", 95), ("zh", 4)]
    normal, politics = job.sections
    assert normal.result is Result.NORMAL and normal.scenes == {}
    assert politics.politics_info is not None
    assert politics.politics_info.category == "Election"
    assert politics.politics_info.lib_results[0].keywords == ("vote", "nobody")
    assert politics.language_results[0].end_time == 4500
    assert job.hit_keywords("Politics") == ("vote", "nobody")
    assert job.user_info is not None and job.user_info.device_id == "phone-2"
    assert job.forbid_state == 0


# --- document ----------------------------------------------------------------------------------


def test_document_submit_sample_and_fixed_skeleton() -> None:
    job = structure(DocumentJob, detail("document_submit_48258.xml"))
    assert job.job_id == "vab1ca9fc8a3ed11ea834c52540086****"  # masked on the page
    assert job.state is JobState.SUBMITTED and job.data_id == "123-fdrsg-123"
    skeleton = structure(DocumentJob, detail("document_submit_skeleton_48258.xml"))
    assert skeleton == DocumentJob()


def test_document_query_sample() -> None:
    job = structure(DocumentJob, detail("document_query_52122.xml"))
    assert job.job_id == "aab1ca9fc8a3ed11ea834c525400863904"
    assert job.state is JobState.SUCCESS
    assert job.suggestion is Result.SENSITIVE and job.verdict is Result.SENSITIVE
    assert job.url == "http://www.test.com/123" and job.page_count == 3
    assert job.labels is not None and job.labels.porn_info is not None
    assert (job.labels.porn_info.hit_flag, job.labels.porn_info.score) == (HitFlag.HIT, 96)
    assert set(job.scenes) == {"Porn"}
    (page,) = job.pages
    assert (page.page_number, page.sheet_number, page.url, page.text) == (1, 1, None, None)
    assert page.porn_info is not None and page.porn_info.hit_flag is None
    (ocr,) = page.porn_info.ocr_results
    assert ocr.text is None and ocr.keywords == ()


def test_document_every_node() -> None:
    job = structure(DocumentJob, detail("document_query_full.xml"))
    assert (job.object, job.label, job.page_count) == ("reports/q1.xlsx", "Ads", 3)
    assert job.suggestion is Result.SUSPICIOUS and job.is_suspicious
    assert set(job.scenes) == {"Porn", "Ads", "Terrorism", "Politics"}
    first, ads, last = job.pages
    assert [p.page_number for p in job.pages] == [1, 2, 3]
    assert [p.sheet_number for p in job.pages] == [1, 1, 2]
    assert first.suggestion is Result.NORMAL and ads.suggestion is Result.SUSPICIOUS
    scene = ads.ads_info
    assert scene is not None
    assert (scene.label, scene.category, scene.sub_label) == ("Link", "Promotion", "Website")
    assert scene.ocr_results[0].location is not None
    assert scene.ocr_results[0].location.width == 70.5
    assert scene.object_results[0].name == "Logo"
    assert scene.lib_results[0].image_id == "lib-logo-7"
    assert job.hit_keywords("Ads") == ("cheap-deals",)
    assert last.text == "notes"
    assert job.user_info is not None and job.user_info.app_id == "office"


# --- live --------------------------------------------------------------------------------------


def test_live_query_sample() -> None:
    job = structure(LiveJob, detail("live_query_48279.xml"))
    assert job.type == "live_video"
    assert job.state is JobState.SUCCESS and job.snapshot_count == 1
    assert (job.label, job.result) == ("Normal", Result.NORMAL)
    (snapshot,) = job.snapshots
    assert snapshot.snapshot_time == 1649387157000
    # 1649387157000 ms after the epoch: 2022-04-08 03:05:57 UTC
    assert snapshot.snapshot_at == datetime(2022, 4, 8, 3, 5, 57, tzinfo=UTC)
    assert snapshot.text == "哈哈"
    assert snapshot.porn_info is not None and snapshot.porn_info.label is None
    (section,) = job.audio_sections
    assert section.offset_at == datetime(2022, 4, 8, 3, 5, 57, tzinfo=UTC)
    assert section.end_at == datetime(2022, 4, 8, 3, 6, 27, tzinfo=UTC)  # + 30,000 ms
    assert section.text == "wc xx" and section.result is Result.NORMAL
    # the same element read as a video job keeps the raw numbers
    video = structure(VideoJob, detail("live_query_48279.xml"))
    assert video.snapshots[0].snapshot_time == 1649387157000


def test_live_skeleton_and_cancel_sample() -> None:
    skeleton = structure(LiveJob, detail("live_query_skeleton_48279.xml"))
    assert skeleton.type == "live_video" and skeleton.snapshot_count is None
    assert skeleton.snapshots[0].snapshot_at is None
    assert skeleton.audio_sections[0].text == "哈哈哈"
    assert skeleton.audio_sections[0].offset_at == datetime(1970, 1, 1, tzinfo=UTC)
    cancelled = structure(LiveJob, detail("live_cancel_48278.xml"))
    assert cancelled.job_id == "vab1ca9fc8a3ed11ea834c525400863904"
    assert cancelled.data_id == "123-fdrsg-123"
    assert cancelled.state is None and not cancelled.is_final  # the answer carries no State


def test_live_times_out_of_range_are_none() -> None:
    job = structure(LiveJob, {"Snapshot": {"SnapshotTime": str(10**18)}})
    assert job.snapshots[0].snapshot_time == 10**18
    assert job.snapshots[0].snapshot_at is None


@pytest.mark.parametrize("state", ["Cancelled", "Success", "Failed"])
def test_a_live_job_ends_final(state: str) -> None:
    assert structure(LiveJob, {"State": state, "Type": "live_video"}).is_final


# --- virus -------------------------------------------------------------------------------------


def test_virus_query_blocked() -> None:
    job = structure(VirusJob, detail("virus_query_full.xml"))
    assert job.job_id == "ss5a8c6e43c9e111eba532525400946f76"
    assert job.url == "https://example.com/downloads/tools.zip"
    assert job.suggestion is VirusSuggestion.BLOCK
    assert job.verdict is Result.SENSITIVE and job.is_sensitive
    assert [(v.file_name, v.virus_name) for v in job.viruses] == [
        ("tools/setup.exe", "Win32.Trojan.Example"),
        ("tools/readme.com", "EICAR-Test-File"),
    ]
    assert job.hit_keywords("Virus") == ("Win32.Trojan.Example", "EICAR-Test-File")
    assert "Virus (Win32.Trojan.Example, EICAR-Test-File)" in str(jobs_table([job]))


def test_virus_query_clean_and_skeletons() -> None:
    clean = structure(VirusJob, detail("virus_query_clean.xml"))
    assert clean.suggestion is VirusSuggestion.NORMAL and clean.verdict is Result.NORMAL
    assert clean.viruses == () and clean.scenes == {} and not clean.is_sensitive
    skeleton = structure(VirusJob, detail("virus_query_skeleton_50133.xml"))
    assert len(skeleton.viruses) == 2 and skeleton.verdict is None
    assert all(v.file_name is None and v.virus_name is None for v in skeleton.viruses)
    submitted = structure(VirusJob, detail("virus_submit_50132.xml"))
    assert submitted == VirusJob()


def test_virus_detect_detail_repeated() -> None:
    """The mainland query page types ``DetectDetail`` Container Array and the Python SDK reads
    it as a list: two siblings are two details, and ``viruses`` lists the files of both."""
    body = (
        b"<Response><JobsDetail><JobId>ss1</JobId><State>Success</State>"
        b"<Suggestion>block</Suggestion>"
        b"<DetectDetail><Result><FileName>a.exe</FileName><VirusName>V1</VirusName></Result>"
        b"</DetectDetail>"
        b"<DetectDetail><Result><FileName>b.exe</FileName><VirusName>V2</VirusName></Result>"
        b"<Result><FileName>c.exe</FileName><VirusName>V1</VirusName></Result></DetectDetail>"
        b"</JobsDetail></Response>"
    )
    job = structure(VirusJob, parse(body)["Response"]["JobsDetail"])
    assert [len(d.results) for d in job.detect_detail] == [1, 2]
    assert [(v.file_name, v.virus_name) for v in job.viruses] == [
        ("a.exe", "V1"),
        ("b.exe", "V2"),
        ("c.exe", "V1"),
    ]
    assert job.hit_keywords("Virus") == ("V1", "V2")
    one = structure(VirusJob, detail("virus_query_full.xml"))
    assert len(one.detect_detail) == 1  # the single container of the English page: a tuple too


@pytest.mark.parametrize(
    ("text", "expected", "verdict"),
    [
        ("normal", VirusSuggestion.NORMAL, Result.NORMAL),
        ("nomal", VirusSuggestion.NORMAL, Result.NORMAL),  # the mainland page's spelling
        ("Block", VirusSuggestion.BLOCK, Result.SENSITIVE),
        ("quarantine", "quarantine", None),  # a value this version does not know: kept
    ],
)
def test_virus_suggestion_strings(text: str, expected: object, verdict: object) -> None:
    job = structure(VirusJob, {"Suggestion": text})
    assert job.suggestion == expected and job.verdict == verdict


# --- every kind in one table -------------------------------------------------------------------


def test_jobs_table_renders_every_kind() -> None:
    jobs = [
        structure(VideoJob, detail("video_query.xml")),
        structure(AudioJob, detail("audio_query_48263.xml")),
        structure(DocumentJob, detail("document_query_full.xml")),
        structure(LiveJob, detail("live_query_48279.xml")),
        structure(VirusJob, detail("virus_query_full.xml")),
    ]
    table = jobs_table(jobs, sources=["video", "audio", "document", "live", "virus"])
    lines = str(table).splitlines()
    assert len(lines) == 6
    assert "Ads (scan, win, wechat, cheap pills); Teenager" in lines[1]
    assert "Porn (91; xx, wc)" in lines[2]
    assert "suspicious" in lines[3] and "Ads (80; cheap-deals)" in lines[3]
    assert "Normal" in lines[4] and lines[4].rstrip().endswith("normal")
    assert "Virus (" in lines[5]
    assert table._repr_html_().count("<tr>") == 6
    for job in jobs:
        assert job._repr_html_().startswith("<table>")
