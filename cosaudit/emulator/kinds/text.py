"""Text moderation: ``POST /text/auditing`` and its job query (pages 436/48188, 48189).

``Input.Content`` (base64 of at most 10,000 UTF-8 characters) is answered synchronously;
``Object``/``Url`` (a text file of at most 1 MB, UTF-8 or else GBK) make an async job. When
several inputs are given, Content wins over Object over Url (the order batch images document).
Default scenes without ``DetectType``: Porn, Ads, Illegal, Abuse.

A text file that is neither UTF-8 nor GBK ends the job ``Failed`` with ``ResourceNotSupported``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web
from attrs import define

from cosaudit.emulator.jobs import SUCCESS, Outcome
from cosaudit.emulator.kinds.base import (
    Call,
    KindSpec,
    decode_base64,
    invalid,
    job_detail,
    parse_conf,
    parse_request,
    pick_input,
    record_job,
    submitted_detail,
    text_field,
    validate_data_id,
    validate_user_info,
)
from cosaudit.emulator.rules import RuleSet, Verdict
from cosaudit.emulator.scenes import aggregate_counts, text_scenes
from cosaudit.emulator.service import Service
from cosaudit.emulator.sources import SourceError

__all__ = ["KIND", "TEXT_SCENES", "TextResult", "TextSection", "moderate_text", "sections_of"]

TEXT_SCENES = ("Porn", "Ads", "Illegal", "Abuse")
MAX_CONTENT_CHARS = 10_000
SECTION_CHARS = 10_000
MAX_TEXT_FILE_BYTES = 1024 * 1024


@define(frozen=True, slots=True)
class TextSection:
    """One 10,000-character segment: ``start`` is its character offset (``StartByte``)."""

    start: int
    text: str
    verdict: Verdict


@define(frozen=True, slots=True)
class TextResult:
    """The verdict of a whole text, per section."""

    scenes: tuple[str, ...]
    sections: tuple[TextSection, ...]

    @property
    def verdict(self) -> Verdict:
        return Verdict.combine((s.verdict for s in self.sections), self.scenes)


def sections_of(text: str) -> list[tuple[int, str]]:
    """``(offset, segment)`` pairs of at most 10,000 characters; one empty segment if empty."""
    return [(i, text[i : i + SECTION_CHARS]) for i in range(0, len(text), SECTION_CHARS)] or [
        (0, "")
    ]


def moderate_text(rules: RuleSet, text: str, scenes: Sequence[str]) -> TextResult:
    """Apply ``rules`` to each section of ``text``."""
    return TextResult(
        tuple(scenes),
        tuple(
            TextSection(start, part, rules.moderate(part, scenes))
            for start, part in sections_of(text)
        ),
    )


def render(result: TextResult) -> dict[str, Any]:
    verdict = result.verdict
    return {
        "SectionCount": len(result.sections),
        "Label": verdict.label,
        "Result": verdict.result,
        **aggregate_counts((s.verdict for s in result.sections), result.scenes),
        "Section": [
            {
                "StartByte": s.start,
                "Label": s.verdict.label,
                "Result": s.verdict.result,
                **text_scenes(s.verdict),
            }
            for s in result.sections
        ],
    }


def decode_text_file(data: bytes) -> str:
    """A text file's content: UTF-8, else GBK (the two encodings the service accepts)."""
    if len(data) > MAX_TEXT_FILE_BYTES:
        raise SourceError(
            "ResourceNotSupported", f"The text file exceeds {MAX_TEXT_FILE_BYTES} bytes."
        )
    for encoding in ("utf-8", "gbk"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceError("ResourceNotSupported", "The text file is neither UTF-8 nor GBK.")


def _decode_content(content: str) -> str:
    try:
        text = decode_base64(content).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("Content must be base64 of UTF-8 text.") from None
    if len(text) > MAX_CONTENT_CHARS:
        raise invalid(f"Content exceeds {MAX_CONTENT_CHARS} characters ({len(text)}).")
    return text


async def _moderate_url(service: Service, url: str, scenes: Sequence[str]) -> Outcome:
    try:
        text = decode_text_file(await service.sources.fetch(url, MAX_TEXT_FILE_BYTES))
    except SourceError as exc:
        return Outcome.failure(exc.code, exc.message)
    return Outcome(moderate_text(service.rules, text, scenes))


async def submit(call: Call) -> web.Response:
    request = parse_request(call.body, max_bytes=call.service.config.max_body_bytes)
    node = request.get("Input")
    if not isinstance(node, dict):
        raise invalid("Input is required and must be a single container.")
    _, scenes = parse_conf(request, TEXT_SCENES, kind="text")
    data_id = validate_data_id(text_field(node, "DataId"))
    user_info = validate_user_info(node.get("UserInfo"))
    picked = pick_input(node)
    if picked is None:
        raise invalid("Input needs one of Content, Object or Url.")
    source, value = picked
    rules = call.service.rules

    if source == "Content":
        text = _decode_content(value)
        job = record_job(
            call,
            KIND,
            echo={"Content": value},
            data_id=data_id,
            user_info=user_info,
            request=request,
            outcome=Outcome(moderate_text(rules, text, scenes)),
            sync=True,
        )
        detail = job_detail(job, SUCCESS, render)
        return call.answer({"JobsDetail": detail, "RequestId": call.request_id})

    if source == "Object":
        try:
            data = call.service.sources.read_object(value, MAX_TEXT_FILE_BYTES)
            outcome = Outcome(moderate_text(rules, decode_text_file(data), scenes))
        except SourceError as exc:
            outcome = Outcome.failure(exc.code, exc.message)
        job = record_job(
            call,
            KIND,
            echo={"Object": value},
            data_id=data_id,
            user_info=user_info,
            request=request,
            outcome=outcome,
        )
    else:
        job = record_job(
            call, KIND, echo={"Url": value}, data_id=data_id, user_info=user_info, request=request
        )
        call.service.jobs.start(job, _moderate_url(call.service, value, scenes))
    detail = submitted_detail(job, with_echo=False)
    return call.answer({"JobsDetail": detail, "RequestId": call.request_id})


KIND = KindSpec(name="text", job_prefix="st", submit=submit, render=render)
