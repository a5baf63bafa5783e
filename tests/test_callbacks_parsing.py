"""Callback bodies of every kind, both shapes, into the query APIs' models (pure: no I/O).

Detail bodies are the documented query samples (tests/fixtures) rendered as JSON, the way a
Detail callback renders ``JobsDetail`` (lists as arrays, numbers as numbers), plus the
callback-only ``BucketId``/``Region``/``CosHeaders``; Simple bodies follow the sample of pages
436/48190 and 48264. A Detail body must give the very model the query answer gives.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosaudit.callbacks import CALLBACK_KINDS, parse_callback
from cosaudit.errors import CallbackError, CosAuditError
from cosaudit.models import (
    AudioJob,
    DocumentJob,
    ImageJob,
    JobState,
    LiveJob,
    Result,
    TextJob,
    VideoJob,
    WebpageJob,
    structure,
)
from cosaudit.wire.xmlcodec import parse

FIXTURES = Path(__file__).parent / "fixtures"

# kind -> (EventName, query sample, model)
SAMPLES: dict[str, tuple[str, str, type[Any]]] = {
    "image": ("ReviewImage", "image_query_000.xml", ImageJob),
    "text": ("ReviewText", "text_query_001.xml", TextJob),
    "video": ("ReviewVideo", "video_query.xml", VideoJob),
    "audio": ("ReviewAudio", "audio_query_48263.xml", AudioJob),
    "document": ("ReviewDocument", "document_query_52122.xml", DocumentJob),
    "webpage": ("ReviewHtml", "webpage_query.xml", WebpageJob),
    "live": ("ReviewVideo", "live_query_48279.xml", LiveJob),
}

_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,15})")


def as_json(value: Any) -> Any:
    """An xmltodict tree as the service's JSON has it: integers as numbers, empty as ""."""
    if isinstance(value, dict):
        return {key: as_json(child) for key, child in value.items()}
    if isinstance(value, list):
        return [as_json(child) for child in value]
    if value is None:
        return ""
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return value


def query_detail(name: str) -> Any:
    return parse((FIXTURES / name).read_bytes())["Response"]["JobsDetail"]


def detail_body(kind: str) -> bytes:
    event, sample, _ = SAMPLES[kind]
    jobs_detail = as_json(query_detail(sample))
    jobs_detail.update(
        BucketId="examplebucket-1250000000",
        Region="ap-guangzhou",
        CosHeaders={"x-cos-meta-a": "1"},
    )
    return json.dumps({"EventName": event, "JobsDetail": jobs_detail}).encode()


def simple_body(kind: str, *, code: int = 0, event: bool = True) -> bytes:
    name = SAMPLES[kind][0]
    data: dict[str, Any] = {
        "trace_id": f"{kind}-job-1",
        "url": "https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/a",
        "result": 1,
        "forbidden_status": 0,
        "data_id": "d-1",
        "cos_headers": {"x-cos-meta-xx": "xx"},
        "porn_info": {"hit_flag": 1, "label": "SexBehavior", "count": 2},
        "ads_info": {"hit_flag": 0, "label": "", "score": 0},
    }
    if event:
        data["event"] = name
    return json.dumps({"code": code, "message": "ok", "data": data}).encode()


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_detail_gives_the_model_the_query_gives(kind: str) -> None:
    _, sample, model = SAMPLES[kind]
    callback = parse_callback(detail_body(kind))
    assert (callback.kind, callback.version) == (kind, "Detail")
    job = callback.job()
    assert type(job) is model
    # Field for field (raw aside) what GET /<kind>/auditing/<jobId> answers.
    assert job == structure(model, query_detail(sample))
    assert job.job_id == callback.job_id and job.job_id
    assert job.raw["BucketId"] == "examplebucket-1250000000"


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_simple_fills_what_it_carries(kind: str) -> None:
    callback = parse_callback(simple_body(kind))
    assert (callback.job_id, callback.version) == (f"{kind}-job-1", "Simple")
    # Simple cannot tell a live stream from a video: the caller's kind decides.
    assert callback.kind == ("video" if kind == "live" else kind)
    job = callback.job(kind)
    assert type(job) is CALLBACK_KINDS[kind]
    assert (job.job_id, job.data_id, job.forbid_state) == (f"{kind}-job-1", "d-1", 0)
    assert job.verdict is Result.SENSITIVE and job.is_sensitive
    if kind == "live":
        assert job.state is None and not job.is_final  # Simple does not say if it still runs
    else:
        assert job.state is JobState.SUCCESS and job.is_final
    porn = job.scenes["Porn"]
    assert (porn.hit_flag, porn.label, porn.count) == (1, "SexBehavior", 2)
    assert job.scenes["Ads"].score == 0
    assert job.label is None  # not in Simple


def test_simple_audio_sample_without_event_needs_the_kind() -> None:
    callback = parse_callback(simple_body("audio", event=False))
    assert callback.kind is None
    with pytest.raises(CallbackError, match="does not say which kind"):
        callback.job()
    assert callback.job("audio").verdict is Result.SENSITIVE


def test_simple_failure() -> None:
    job = parse_callback(simple_body("text", code=4001)).job()
    assert job.state is JobState.FAILED and job.is_failed
    assert (job.code, job.message) == ("4001", "ok")


def test_service_test_request_reports_no_job() -> None:
    body = {"code": 0, "message": "Test request when setting callback url", "data": {}}
    callback = parse_callback(json.dumps(body))
    assert callback.job_id is None and callback.version == "Simple"


def test_a_live_detail_callback_is_live() -> None:
    callback = parse_callback(detail_body("live"))
    assert callback.kind == "live" and callback.event == "ReviewVideo"
    assert isinstance(callback.job(), LiveJob)
    assert isinstance(callback.job("video"), VideoJob)  # a live stream's callback suits video


def test_a_callback_of_another_kind_is_refused() -> None:
    with pytest.raises(CallbackError, match="image callback for a job expected to be text"):
        parse_callback(detail_body("image")).job("text")
    with pytest.raises(CallbackError, match="do not call back"):
        parse_callback(detail_body("image")).job("virus")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not JSON"),
        (b"<Response/>", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'{"code": NaN, "data": {}}', "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'"text"', "expected a JSON object"),
        (b"{}", "neither a Detail"),
        (b'{"EventName": "ReviewText"}', "without a JobsDetail"),
        (b'{"EventName": "ReviewText", "JobsDetail": []}', "without a JobsDetail"),
        (b'{"EventName": "ReviewText", "JobsDetail": {}}', "without JobsDetail.JobId"),
        (b'{"EventName": "ReviewFoo", "JobsDetail": {"JobId": "x"}}', "unknown EventName"),
        (b'{"EventName": 5, "JobsDetail": {"JobId": "x"}}', "EventName must be a string"),
        (b'{"JobsDetail": {"JobId": ["x"]}}', "JobId must be a string"),
        (b'{"code": 0, "data": []}', "data must be an object"),
        (b'{"code": 0, "data": {"result": 1}}', "without data.trace_id"),
        (b'{"code": true, "data": {"trace_id": "x"}}', "code must be a number"),
        (b'{"code": 0, "data": {"trace_id": "x", "event": "Nope"}}', "unknown event"),
        (b"[" * 100 + b"]" * 100, "nested deeper"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    ],
)
def test_malformed_bodies_are_typed_errors(body: bytes, reason: str) -> None:
    with pytest.raises(CallbackError, match=reason):
        parse_callback(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"EventName": "ReviewText", "JobsDetail": {"JobId": "x", "Result": "high"}}, "Result"),
        ({"EventName": "ReviewText", "JobsDetail": {"JobId": "x", "PornInfo": 3}}, "PornInfo"),
        ({"code": 0, "data": {"trace_id": "x", "event": "ReviewText", "porn_info": 1}}, "porn"),
        (
            {"code": 0, "data": {"trace_id": "x", "event": "ReviewText", "result": [1]}},
            "Result",
        ),
    ],
)
def test_wrong_types_are_typed_errors_when_read(body: dict[str, Any], reason: str) -> None:
    callback = parse_callback(body)
    with pytest.raises(CallbackError, match=reason):
        callback.job()


KEYS = ["code", "data", "trace_id", "event", "result", "porn_info", "hit_flag", "EventName"]
KEYS += ["JobsDetail", "JobId", "State", "Section", "Snapshot", "Labels", "x"]
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
JSON = st.recursive(
    SCALARS | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=30,
)


@given(JSON, st.sampled_from([None, *CALLBACK_KINDS]))
def test_any_json_is_a_callback_or_a_callback_error(value: Any, kind: str | None) -> None:
    try:
        callback = parse_callback(json.dumps(value))
        if callback.job_id is not None:
            callback.job(kind)
    except CallbackError:
        pass
    except CosAuditError as error:  # pragma: no cover - the failure this test looks for
        pytest.fail(f"another error: {error!r}")
