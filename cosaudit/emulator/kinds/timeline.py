"""Pictures and sound over time, shared by video, live-stream and audio jobs: which moments a
video job captures, how captures and audio segments are judged, and their XML
(pages 436/48250, 48263).

Capture times over a medium of length *L* ms (``Snapshot``, page 436/48249), at most ``Count``
of them:

* ``Interval``: every ``TimeInterval`` seconds from 0 while before *L*; without ``TimeInterval``
  "every frame", which we take as 25 frames per second (the rate is not documented);
* ``Average``: ``Count`` moments spread evenly, ``i * L / Count``; ``TimeInterval`` is ignored;
* ``Fps``: ``TimeInterval`` frames per second from 0 while before *L*; without it, 1 per second
  (our choice: the SDK's default ``TimeInterval`` is 1).

Each capture shows the latest frame at or before its moment (an empty picture before the first),
judged by its text and its manifest ``labels`` (:mod:`cosaudit.emulator.pictures`). An audio
segment whose manifest names a ``language`` answers ``LanguageResults`` (one entry spanning the
segment, ``Score`` 100); the reference places them in audio sections (Go SDK
``AudioSectionResult``) and, for audio jobs, at the top.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from attrs import define

from cosaudit.emulator.media import AudioSegment, Media, piece_url
from cosaudit.emulator.pictures import apply_labels
from cosaudit.emulator.rules import RuleSet, Verdict
from cosaudit.emulator.scenes import aggregate_counts, audio_scenes, image_scenes

__all__ = [
    "MEDIA_SCENES",
    "MODES",
    "Capture",
    "Heard",
    "capture",
    "capture_times",
    "hear",
    "language_results",
    "section_tree",
    "timeline_tree",
]

# Default scenes of video, audio and document jobs without DetectType: the image scenes, which
# are also the containers the Python SDK reads back from video, audio and document answers.
MEDIA_SCENES = ("Porn", "Terrorism", "Politics", "Ads")
MODES = ("Interval", "Average", "Fps")
ASSUMED_FPS = 25


@define(frozen=True, slots=True)
class Capture:
    """One snapshot: its moment (ms from the start), the text on it, and its verdict."""

    time_ms: int
    text: str
    verdict: Verdict


@define(frozen=True, slots=True)
class Heard:
    """One audio segment, its verdict, and the language its manifest names."""

    offset_ms: int
    duration_ms: int
    text: str
    verdict: Verdict
    language: str | None = None


def capture_times(mode: str, count: int, interval: float | None, length_ms: int) -> list[int]:
    """The moments (ms) a video job captures; see the module docstring."""
    if length_ms <= 0:
        return []
    if mode == "Average":
        return [i * length_ms // count for i in range(count)]
    if mode == "Fps":
        step = 1000 / (interval if interval is not None else 1.0)
    else:
        step = 1000 * interval if interval is not None else 1000 / ASSUMED_FPS
    taken = min(count, math.ceil(length_ms / step))
    return [t for t in (round(i * step) for i in range(taken)) if t < length_ms]


def capture(
    rules: RuleSet, media: Media, times: Iterable[int], scenes: Sequence[str]
) -> tuple[Capture, ...]:
    """Judge the frame shown at each moment (each distinct picture once)."""
    judged: dict[int, Verdict] = {}
    out = []
    for time_ms in times:
        frame = media.frame_at(time_ms)
        text = frame.text if frame is not None else ""
        key = frame.time_ms if frame is not None else -1
        if key not in judged:
            verdict = rules.moderate(text, scenes)
            judged[key] = apply_labels(verdict, frame.labels) if frame is not None else verdict
        out.append(Capture(time_ms, text, judged[key]))
    return tuple(out)


def hear(
    rules: RuleSet, segments: Iterable[AudioSegment], scenes: Sequence[str]
) -> tuple[Heard, ...]:
    """Judge each audio segment's text."""
    return tuple(
        Heard(s.offset_ms, s.duration_ms, s.text, rules.moderate(s.text, scenes), s.language)
        for s in segments
    )


def language_results(heard: Heard, *, offset_ms: int = 0) -> list[dict[str, Any]] | None:
    """``LanguageResults`` of a segment whose manifest names its language (Go SDK
    ``LanguageResult``: ``Label``, ``Score``, ``StartTime``, ``EndTime`` in ms); the emulator is
    sure of what the manifest says, so ``Score`` is 100."""
    if heard.language is None:
        return None
    start = offset_ms + heard.offset_ms
    return [
        {
            "Label": heard.language,
            "Score": 100,
            "StartTime": start,
            "EndTime": start + heard.duration_ms,
        }
    ]


def section_tree(index: int, heard: Heard, *, offset_ms: int = 0) -> dict[str, Any]:
    """An audio ``Section`` / ``AudioSection``; ``offset_ms`` shifts ``OffsetTime`` (live
    streams answer epoch milliseconds)."""
    verdict = heard.verdict
    return {
        "Url": piece_url("audio", index, "mp3"),
        "Text": heard.text or None,
        "OffsetTime": offset_ms + heard.offset_ms,
        "Duration": heard.duration_ms,
        "Label": verdict.label,
        "SubLabel": verdict.sub_label,
        "Result": verdict.result,
        **audio_scenes(verdict),
        "LanguageResults": language_results(heard, offset_ms=offset_ms),
    }


def _snapshot_tree(index: int, shot: Capture, offset_ms: int) -> dict[str, Any]:
    verdict = shot.verdict
    return {
        "Url": piece_url("snapshot", index, "jpg"),
        "SnapshotTime": offset_ms + shot.time_ms,
        "Text": shot.text or None,
        "Label": verdict.label,
        "Result": verdict.result,
        **image_scenes(verdict, shot.text, with_status=False),
    }


def timeline_tree(
    scenes: Sequence[str],
    snapshots: Sequence[Capture],
    audio: Sequence[Heard] | None,
    *,
    offset_ms: int = 0,
) -> dict[str, Any]:
    """The result fields of a video or live job: ``SnapshotCount``, ``Label``, ``Result``, the
    aggregate scene containers (``HitFlag`` and ``Count`` of snapshots and audio sections that
    hit), ``Snapshot`` and — when sound was moderated — ``AudioSection``."""
    parts = [shot.verdict for shot in snapshots] + [heard.verdict for heard in audio or ()]
    verdict = Verdict.combine(parts, scenes)
    return {
        "SnapshotCount": len(snapshots),
        "Label": verdict.label,
        # The Go SDK's AuditingJobDetail.SubLabel: sent only when a manifest label gave one.
        "SubLabel": verdict.sub_label or None,
        "Result": verdict.result,
        **aggregate_counts(parts, scenes),
        "Snapshot": [_snapshot_tree(i, shot, offset_ms) for i, shot in enumerate(snapshots)],
        "AudioSection": [
            section_tree(i, heard, offset_ms=offset_ms) for i, heard in enumerate(audio or ())
        ],
    }
