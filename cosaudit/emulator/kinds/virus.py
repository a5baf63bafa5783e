"""Virus detection: ``POST /virus/detect`` and ``GET /virus/detect/<jobId>`` (436/50132, 50133).

Which files carry a virus comes from the manifest's ``files``, else from scanning the bytes for
the EICAR test string, in the file and in the members of a zip archive
(:mod:`cosaudit.emulator.media`). ``Suggestion`` is ``block`` when any file carries one, else
``normal``; ``DetectDetail`` lists a ``Result`` (``FileName``, ``VirusName``) per infected file —
the member's path for an archive, the file's own name otherwise.

Choices: ``Conf.DetectType`` must be exactly ``Virus`` (400 ``InvalidArgument`` otherwise,
absent included: the doc marks it required); ``DataId`` and ``UserInfo`` are not part of this
API and are ignored; the submit answer carries a ``RequestId`` like every other answer, though the
doc's sample has none; a clean file answers an empty ``<DetectDetail/>``. Files over 1 GB fail
the job with ``ResourceNotSupported``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from attrs import define

from cosaudit.emulator.kinds.base import (
    Call,
    KindSpec,
    invalid,
    parse_request,
    submitted_detail,
    text_field,
)
from cosaudit.emulator.kinds.media_job import Reading, parse_input, start_job
from cosaudit.emulator.media import MAX_FILE_SCAN_BYTES, InnerFile, Media, virus_fallback

__all__ = ["KIND", "VirusResult"]

MAX_VIRUS_FILE_BYTES = 1024**3
READING = Reading(
    max_bytes=MAX_VIRUS_FILE_BYTES, fallback=virus_fallback, scan_bytes=MAX_FILE_SCAN_BYTES
)


@define(frozen=True, slots=True)
class VirusResult:
    """The files scanned (an archive's members, or the file itself)."""

    files: tuple[InnerFile, ...]

    @property
    def infected(self) -> tuple[InnerFile, ...]:
        return tuple(f for f in self.files if f.virus)


def render(result: VirusResult) -> dict[str, Any]:
    infected = result.infected
    return {
        "Suggestion": "block" if infected else "normal",
        "DetectDetail": {
            "Result": [{"FileName": f.name, "VirusName": f.virus} for f in infected],
        },
    }


def _conf(request: Mapping[str, Any]) -> None:
    conf = request.get("Conf") or {}
    if not isinstance(conf, Mapping):
        raise invalid("Conf must be a container.")
    detect_type = text_field(conf, "DetectType")
    if detect_type != "Virus":
        raise invalid(f"Param DetectType is illegal: {detect_type!r}; it must be Virus.")


async def submit(call: Call) -> web.Response:
    request = parse_request(call.body, max_bytes=call.service.config.max_body_bytes)
    given = parse_input(request, with_identity=False)
    _conf(request)

    def judge(found: Media) -> VirusResult:
        return VirusResult(found.files)

    job = start_job(call, KIND, request, given, READING, judge)
    detail = submitted_detail(job, with_echo=False)
    return call.answer({"JobsDetail": detail, "RequestId": call.request_id})


KIND = KindSpec(name="virus", job_prefix="ss", submit=submit, render=render, path="/virus/detect")
