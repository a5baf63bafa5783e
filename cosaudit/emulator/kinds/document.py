"""Document moderation: ``POST /document/auditing`` and its job query (pages 436/48258, 48259).

Pages come from the manifest's ``pages`` or the bytes split on form feeds
(:mod:`cosaudit.emulator.media`); each page is judged like an image by its text and answered
in ``PageSegment/Results`` (``PageNumber`` from 1, ``SheetNumber`` when the manifest gives one).
Documents answer ``Suggestion`` (0/1/2), never ``Result``; ``Labels`` holds ``HitFlag`` and
``Score`` per scene.

The file type is ``Input.Type`` when given, else the extension of the object key or URL path.
Choices: an unknown ``Type`` is 400 ``InvalidArgument`` (it is a request parameter); no
extension and no ``Type``, an unsupported extension, more than 5,000 pages, or an object over
200 MB end the job ``Failed`` with ``ResourceNotSupported`` ("otherwise the job fails", says the
doc, without a code). Supported types: the documented office and PDF formats, plus ``txt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from aiohttp import web
from attrs import define

from cosaudit.emulator.kinds.base import (
    Call,
    KindSpec,
    invalid,
    optional_int,
    parse_conf,
    parse_request,
    submitted_detail,
    text_field,
)
from cosaudit.emulator.kinds.media_job import MediaInput, Reading, parse_input, start_job
from cosaudit.emulator.kinds.timeline import MEDIA_SCENES
from cosaudit.emulator.media import Media, document_fallback, piece_url, url_name
from cosaudit.emulator.pictures import apply_labels
from cosaudit.emulator.rules import RuleSet, Verdict
from cosaudit.emulator.scenes import image_scenes, label_scores
from cosaudit.emulator.sources import SourceError

__all__ = ["DOCUMENT_TYPES", "KIND", "DocumentPage", "DocumentResult"]

MAX_DOCUMENT_BYTES = 200 * 1024 * 1024
MAX_PAGES = 5_000
READING = Reading(max_bytes=MAX_DOCUMENT_BYTES, fallback=document_fallback)
# The submit page's list (presentations, text documents, spreadsheets, PDF), and txt.
_PRESENTATIONS = "pptx ppt pot potx pps ppsx dps dpt pptm potm ppsm"
_TEXTS = "doc dot wps wpt docx dotx docm dotm"
_SPREADSHEETS = "xls xlt et ett xlsx xltx csv xlsb xlsm xltm ets"
DOCUMENT_TYPES = frozenset(f"{_PRESENTATIONS} {_TEXTS} {_SPREADSHEETS} pdf txt".split())


@define(frozen=True, slots=True)
class DocumentPage:
    """One page: its number (from 1), its sheet, its text and verdict."""

    number: int
    sheet: int | None
    text: str
    verdict: Verdict


@define(frozen=True, slots=True)
class DocumentResult:
    """The judged pages of a document."""

    scenes: tuple[str, ...]
    pages: tuple[DocumentPage, ...]

    @property
    def verdict(self) -> Verdict:
        return Verdict.combine((p.verdict for p in self.pages), self.scenes)


def render(result: DocumentResult) -> dict[str, Any]:
    verdict = result.verdict
    return {
        "Suggestion": verdict.result,
        "Label": verdict.label,
        "PageCount": len(result.pages),
        "Labels": label_scores(verdict),
        "PageSegment": {
            "Results": [
                {
                    "Url": piece_url("page", page.number, "jpg"),
                    "Text": page.text or None,
                    "PageNumber": page.number,
                    "SheetNumber": page.sheet,
                    "Label": page.verdict.label,
                    "Suggestion": page.verdict.result,
                    **image_scenes(page.verdict, page.text, with_status=False),
                }
                for page in result.pages
            ]
        },
    }


def _check_type(given: MediaInput, declared: str | None) -> None:
    """SourceError (the job fails) when the document's type cannot be told or is not
    supported."""
    if declared is not None:
        return
    name = PurePosixPath(given.value).name if given.source == "Object" else url_name(given.value)
    extension = PurePosixPath(name).suffix[1:].lower()
    if not extension:
        raise SourceError(
            "ResourceNotSupported",
            f"{name!r} has no file extension: Input.Type must name the document type.",
        )
    if extension not in DOCUMENT_TYPES:
        raise SourceError("ResourceNotSupported", f"Document type {extension!r} is not supported.")


def _judge(rules: RuleSet, found: Media, scenes: Sequence[str]) -> DocumentResult:
    if len(found.pages) > MAX_PAGES:
        raise SourceError(
            "ResourceNotSupported",
            f"The document has {len(found.pages)} pages; at most {MAX_PAGES}.",
        )
    return DocumentResult(
        tuple(scenes),
        tuple(
            DocumentPage(
                number,
                page.sheet,
                page.text,
                apply_labels(rules.moderate(page.text, scenes), page.labels),
            )
            for number, page in enumerate(found.pages, start=1)
        ),
    )


async def submit(call: Call) -> web.Response:
    request = parse_request(call.body, max_bytes=call.service.config.max_body_bytes)
    given = parse_input(request)
    declared = text_field(given.node, "Type")
    if declared is not None and declared.lower() not in DOCUMENT_TYPES:
        raise invalid(f"Param Type is illegal: {declared!r} is not a supported document type.")
    conf, scenes = parse_conf(request, MEDIA_SCENES, kind="document")
    optional_int(text_field(conf, "CallbackType"), "CallbackType", low=1, high=2)
    rules = call.service.rules

    def judge(found: Media) -> DocumentResult:
        _check_type(given, declared)
        return _judge(rules, found, scenes)

    job = start_job(call, KIND, request, given, READING, judge)
    detail = submitted_detail(job, with_echo=False)
    return call.answer({"JobsDetail": detail, "RequestId": call.request_id})


KIND = KindSpec(name="document", job_prefix="sd", submit=submit, render=render)
