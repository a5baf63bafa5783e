"""Video moderation: ``POST /video/auditing`` and its job query (pages 436/48249, 48250); the same
endpoint takes live streams (``Type=live_video``, :mod:`cosaudit.emulator.kinds.live`).

What a video shows and says comes from its manifest or its bytes
(:mod:`cosaudit.emulator.media`); the moments captured follow ``Conf.Snapshot``
(:mod:`cosaudit.emulator.kinds.timeline`) and each capture is judged like an image, by the text
on it. ``DetectContent=1`` adds an ``AudioSection`` per audio segment. The job passes through
``Submitted → Snapshoting → Auditing`` before its final state.

Validation (400 ``InvalidArgument``): ``Conf.Snapshot`` and its ``Count`` are required, ``Count``
in (0, 10000], ``TimeInterval`` a number in (0, 60], ``Mode`` one of ``Interval`` (the default
when absent, as in the SDK), ``Average``, ``Fps``; ``DetectContent`` 0/1; ``CallbackType`` 1/2;
``CallbackVersion`` ``Simple``/``Detail``; a request ``Type`` other than ``live_video``.
Objects over 5 GB fail the job with ``ResourceNotSupported``. ``Callback`` calls back
(:mod:`cosaudit.emulator.callbacks`); ``Freeze`` and ``Mask`` are accepted and have no effect.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from attrs import define

from cosaudit.emulator.jobs import AUDITING, SNAPSHOTING, SUBMITTED
from cosaudit.emulator.kinds import live
from cosaudit.emulator.kinds.base import (
    Call,
    KindSpec,
    Route,
    invalid,
    job_detail,
    optional_int,
    parse_conf,
    parse_request,
    poll_job,
    submitted_detail,
    text_field,
)
from cosaudit.emulator.kinds.media_job import Reading, callback_options, parse_input, start_job
from cosaudit.emulator.kinds.timeline import (
    MEDIA_SCENES,
    MODES,
    Capture,
    Heard,
    capture,
    capture_times,
    hear,
    timeline_tree,
)
from cosaudit.emulator.media import Media, video_fallback
from cosaudit.emulator.rules import Verdict

__all__ = ["KIND", "VideoResult"]

MAX_VIDEO_BYTES = 5 * 1024**3
MAX_SNAPSHOTS = 10_000
MAX_TIME_INTERVAL = 60.0
VIDEO_STAGES = (SUBMITTED, SNAPSHOTING, AUDITING)
READING = Reading(max_bytes=MAX_VIDEO_BYTES, fallback=video_fallback)


@define(frozen=True, slots=True)
class VideoResult:
    """The captures of a video and, with ``DetectContent=1``, its audio segments."""

    scenes: tuple[str, ...]
    snapshots: tuple[Capture, ...]
    audio: tuple[Heard, ...] | None

    @property
    def verdict(self) -> Verdict:
        parts = [shot.verdict for shot in self.snapshots]
        parts.extend(heard.verdict for heard in self.audio or ())
        return Verdict.combine(parts, self.scenes)


def render(result: VideoResult) -> dict[str, Any]:
    return timeline_tree(result.scenes, result.snapshots, result.audio)


def _time_interval(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise invalid(f"Param TimeInterval is illegal: {value!r} is not a number.") from None
    if not (math.isfinite(number) and 0 < number <= MAX_TIME_INTERVAL):
        raise invalid(f"Param TimeInterval is illegal: {number} is not in (0, 60].")
    return number


def _snapshot(conf: Mapping[str, Any]) -> tuple[str, int, float | None]:
    """``Mode``, ``Count`` and ``TimeInterval`` of ``Conf.Snapshot``."""
    node = conf.get("Snapshot")
    if node is None or node == "":
        raise invalid("Conf.Snapshot is required.")
    if not isinstance(node, Mapping):
        raise invalid("Conf.Snapshot must be a container.")
    mode = text_field(node, "Mode") or "Interval"
    if mode not in MODES:
        raise invalid(f"Param Mode is illegal: {mode!r} is not one of {', '.join(MODES)}.")
    count = optional_int(text_field(node, "Count"), "Count", low=1, high=MAX_SNAPSHOTS)
    if count is None:
        raise invalid("Conf.Snapshot.Count is required.")
    return mode, count, _time_interval(text_field(node, "TimeInterval"))


async def submit(call: Call) -> web.Response:
    request = parse_request(call.body, max_bytes=call.service.config.max_body_bytes)
    job_type = text_field(request, "Type")
    if job_type is not None:
        if job_type != live.LIVE_TYPE:
            raise invalid(f"Param Type is illegal: {job_type!r} (only {live.LIVE_TYPE}).")
        return await live.submit(call, request, KIND)
    given = parse_input(request)
    conf, scenes = parse_conf(request, MEDIA_SCENES, kind="video")
    mode, count, interval = _snapshot(conf)
    with_sound = optional_int(text_field(conf, "DetectContent"), "DetectContent", low=0, high=1)
    callback_options(conf)
    rules = call.service.rules

    def judge(found: Media) -> VideoResult:
        times = capture_times(mode, count, interval, found.length_ms)
        audio = hear(rules, found.audio, scenes) if with_sound == 1 else None
        return VideoResult(scenes, capture(rules, found, times, scenes), audio)

    job = start_job(call, KIND, request, given, READING, judge, stages=VIDEO_STAGES)
    detail = submitted_detail(job, with_echo=False)
    return call.answer({"JobsDetail": detail, "RequestId": call.request_id})


async def query(call: Call) -> web.Response:
    """``GET /video/auditing/<jobId>``, for video files and live streams alike."""
    job, state = await poll_job(call, KIND)
    if live.is_live(job):
        detail = live.detail(call.service, job, state)
    else:
        detail = job_detail(job, state, render)
    return call.answer({"JobsDetail": detail, "RequestId": call.request_id})


KIND = KindSpec(
    name="video",
    job_prefix="av",
    submit=submit,
    render=render,
    query=query,
    extra_routes=(
        Route(
            "POST",
            re.compile(r"/video/cancel_auditing/(?P<job_id>[^/]+)"),
            live.cancel,
            "/video/cancel_auditing/{jobId}",
        ),
    ),
)
