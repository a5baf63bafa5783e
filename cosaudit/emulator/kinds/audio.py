"""Audio moderation: ``POST /audio/auditing`` and its job query (pages 436/48262, 48263).

What a file says comes from its manifest's ``audio`` segments or its bytes
(:mod:`cosaudit.emulator.media`); each segment is judged by its text and answered as a
``Section`` (audio-type scene containers, ``Keywords`` repeated). ``AudioText`` is the segments'
texts joined by spaces. The top-level scene containers carry ``HitFlag``, ``Score`` and
``Label`` — the first keyword that hit the scene, empty when none did (the doc says "hit
keyword" without saying which when several hit).

Validation as video's (400 ``InvalidArgument``): ``Input`` needs ``Object`` or ``Url``;
``CallbackType`` 1/2; ``CallbackVersion`` ``Simple``/``Detail``. Objects over 600 MB, and audio
lasting more than 3 hours (its manifest's ``duration_ms``, else the end of its last segment),
fail the job with ``ResourceNotSupported``: the page's limits are "< 600 MB, < 3 h"; like the
size, exactly the limit is accepted.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from attrs import define

from cosaudit.emulator.kinds.base import (
    Call,
    KindSpec,
    parse_conf,
    parse_request,
    submitted_detail,
)
from cosaudit.emulator.kinds.media_job import Reading, callback_options, parse_input, start_job
from cosaudit.emulator.kinds.timeline import (
    MEDIA_SCENES,
    Heard,
    hear,
    language_results,
    section_tree,
)
from cosaudit.emulator.media import Media, audio_fallback
from cosaudit.emulator.rules import Verdict
from cosaudit.emulator.scenes import container
from cosaudit.emulator.sources import SourceError

__all__ = ["KIND", "AudioResult"]

MAX_AUDIO_BYTES = 600 * 1024 * 1024
MAX_AUDIO_MS = 3 * 3600 * 1000
READING = Reading(max_bytes=MAX_AUDIO_BYTES, fallback=audio_fallback)


@define(frozen=True, slots=True)
class AudioResult:
    """The judged segments of an audio file."""

    scenes: tuple[str, ...]
    sections: tuple[Heard, ...]

    @property
    def verdict(self) -> Verdict:
        return Verdict.combine((s.verdict for s in self.sections), self.scenes)


def render(result: AudioResult) -> dict[str, Any]:
    verdict = result.verdict
    return {
        "Label": verdict.label,
        "SubLabel": verdict.sub_label,
        "Result": verdict.result,
        "AudioText": " ".join(s.text for s in result.sections if s.text) or None,
        **{
            container(s.scene): {
                "HitFlag": s.hit_flag,
                "Score": s.score,
                "Label": s.keywords[0] if s.keywords else "",
            }
            for s in verdict.scenes
        },
        "LanguageResults": [
            found for heard in result.sections for found in language_results(heard) or ()
        ]
        or None,
        "Section": [section_tree(i, heard) for i, heard in enumerate(result.sections)],
    }


async def submit(call: Call) -> web.Response:
    request = parse_request(call.body, max_bytes=call.service.config.max_body_bytes)
    given = parse_input(request)
    conf, scenes = parse_conf(request, MEDIA_SCENES, kind="audio")
    callback_options(conf)
    rules = call.service.rules

    def judge(found: Media) -> AudioResult:
        if found.length_ms > MAX_AUDIO_MS:
            raise SourceError("ResourceNotSupported", "The audio lasts more than 3 hours.")
        return AudioResult(scenes, hear(rules, found.audio, scenes))

    job = start_job(call, KIND, request, given, READING, judge)
    detail = submitted_detail(job, with_echo=False)
    return call.answer({"JobsDetail": detail, "RequestId": call.request_id})


KIND = KindSpec(name="audio", job_prefix="sa", submit=submit, render=render)
