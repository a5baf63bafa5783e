"""Webpage moderation: ``POST /webpage/auditing`` and its job query (pages 436/48282, 48283).

The page at ``Input.Url`` is fetched (loopback only unless remote fetching is allowed), its
visible text judged in 10,000-character segments (``TextResults``) and each ``<img src>`` judged
as an image (``ImageResults``); ``PageCount`` counts both. ``Labels``, ``Suggestion`` and
``Label`` merge every part. Scenes (:mod:`cosaudit.wire.scenes`): the text is judged by those
asked for (without ``DetectType``: Porn, Ads, Illegal, Abuse), the images by the image scenes
among them (without ``DetectType``: Porn, Terrorism, Politics, Ads, as image jobs): image results
have no ``IllegalInfo``/``AbuseInfo``. ``Labels`` has every scene either part was judged by.

Numbering (the Go SDK has ``PageNumber``/``SheetNumber`` in both result lists; no page says what
they hold): the parts are numbered 1 to ``PageCount``, text segments first, then images, so a
``PageNumber`` names one part of the job; ``SheetNumber`` is 1 (a page is one sheet). Each text
result carries ``Result`` equal to its ``Suggestion`` (the Go SDK reads both).

Choices: an image that cannot be fetched or decoded is left out of ``ImageResults`` (the page
itself still succeeds); a page that cannot be fetched fails the job with the source's code
(``ResourceNotFound`` / ``ResourceDownloadFailed``); at most 100 images per page are judged;
bytes that are not UTF-8 are read as Latin-1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from attrs import define

from cosaudit.emulator.jobs import Outcome
from cosaudit.emulator.kinds.base import (
    Call,
    KindSpec,
    echoable,
    invalid,
    parse_conf,
    parse_request,
    record_job,
    submitted_detail,
    text_field,
    validate_data_id,
    validate_user_info,
)
from cosaudit.emulator.kinds.image import ImageResult, load_image, moderate_image
from cosaudit.emulator.kinds.text import TextResult, moderate_text
from cosaudit.emulator.pages import highlight, parse_page
from cosaudit.emulator.rules import Verdict
from cosaudit.emulator.scenes import image_scenes, label_scores, text_scenes
from cosaudit.emulator.service import Service
from cosaudit.emulator.sources import SourceError
from cosaudit.emulator.xmlchars import replace_illegal
from cosaudit.wire.scenes import DEFAULT_SCENES, IMAGE_SCENES

__all__ = ["KIND", "WEBPAGE_SCENES", "WebpageImage", "WebpageResult"]

WEBPAGE_SCENES = ("Porn", "Ads", "Illegal", "Abuse")
MAX_PAGE_BYTES = 16 * 1024 * 1024
MAX_PAGE_IMAGES = 100


@define(frozen=True, slots=True)
class WebpageImage:
    """An image of the page and its verdict."""

    url: str
    result: ImageResult


@define(frozen=True, slots=True)
class WebpageResult:
    """The verdict of a page: its text segments, its images, and the highlighted page."""

    scenes: tuple[str, ...]
    text: TextResult
    images: tuple[WebpageImage, ...]
    highlight_html: str | None

    @property
    def verdict(self) -> Verdict:
        parts = [s.verdict for s in self.text.sections] + [i.result.verdict for i in self.images]
        return Verdict.combine(parts, self.scenes)


def render(result: WebpageResult) -> dict[str, Any]:
    verdict = result.verdict
    texts = len(result.text.sections)
    tree: dict[str, Any] = {
        "Labels": label_scores(verdict),
        "Suggestion": verdict.result,
        "Label": verdict.label,
        "PageCount": len(result.images) + texts,
    }
    if result.images:
        tree["ImageResults"] = {
            "Results": [
                {
                    "Url": image.url,
                    "Text": image.result.text,
                    "Label": image.result.verdict.label,
                    "PageNumber": texts + number,
                    "SheetNumber": 1,
                    "Suggestion": image.result.verdict.result,
                    **image_scenes(image.result.verdict, image.result.text),
                }
                for number, image in enumerate(result.images, start=1)
            ]
        }
    tree["TextResults"] = {
        "Results": [
            {
                "Text": section.text,
                "Label": section.verdict.label,
                "Result": section.verdict.result,
                "PageNumber": number,
                "SheetNumber": 1,
                "Suggestion": section.verdict.result,
                **text_scenes(section.verdict),
            }
            for number, section in enumerate(result.text.sections, start=1)
        ]
    }
    tree["HighlightHtml"] = result.highlight_html
    return tree


async def _image(service: Service, url: str, scenes: Sequence[str]) -> WebpageImage | None:
    try:
        data, manifest = await load_image(service, url=url)
        return WebpageImage(url, moderate_image(service.rules, data, scenes, manifest))
    except SourceError:
        return None


def image_scenes_of(scenes: Sequence[str], asked: bool) -> tuple[str, ...]:
    """The scenes a webpage's images are judged by: the image scenes among those asked for,
    or the image job's defaults when ``DetectType`` was not given."""
    if not asked:
        return DEFAULT_SCENES["image"]
    return tuple(scene for scene in scenes if scene in IMAGE_SCENES)


async def _moderate_page(
    service: Service, url: str, scenes: Sequence[str], asked: bool, with_highlight: bool
) -> Outcome:
    try:
        raw = await service.sources.fetch(url, MAX_PAGE_BYTES)
    except SourceError as exc:
        return Outcome.failure(exc.code, exc.message)
    try:
        html = raw.decode("utf-8")
    except UnicodeDecodeError:
        html = raw.decode("latin-1")
    html = replace_illegal(html)  # HighlightHtml echoes it
    page = parse_page(html, url)
    text = moderate_text(service.rules, page.text, scenes)
    pictured = image_scenes_of(scenes, asked)
    found = await asyncio.gather(
        *(_image(service, image, pictured) for image in page.images[:MAX_PAGE_IMAGES])
    )
    images = tuple(image for image in found if image is not None)
    highlighted = highlight(html, text.verdict.keywords) if with_highlight else None
    everything = tuple(dict.fromkeys((*scenes, *(pictured if images else ()))))
    return Outcome(WebpageResult(everything, text, images, highlighted))


def _flag(value: str | None) -> bool:
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise invalid(f"ReturnHighlightHtml must be true or false, not {value!r}.")
    return value.lower() == "true"


async def submit(call: Call) -> web.Response:
    request = parse_request(call.body, max_bytes=call.service.config.max_body_bytes)
    node = request.get("Input")
    if not isinstance(node, dict):
        raise invalid("Input is required and must be a single container.")
    url = text_field(node, "Url")
    if url is None:
        raise invalid("Input.Url is required.")
    echoable(url, "Url")
    conf, scenes = parse_conf(request, WEBPAGE_SCENES, kind="webpage")
    asked = text_field(conf, "DetectType") is not None
    with_highlight = _flag(text_field(conf, "ReturnHighlightHtml"))
    job = record_job(
        call,
        KIND,
        echo={"Url": url},
        data_id=validate_data_id(text_field(node, "DataId")),
        user_info=validate_user_info(node.get("UserInfo")),
        request=request,
    )
    call.service.jobs.start(job, _moderate_page(call.service, url, scenes, asked, with_highlight))
    detail = submitted_detail(job, with_echo=True)
    return call.answer({"JobsDetail": detail, "RequestId": call.request_id})


KIND = KindSpec(name="webpage", job_prefix="sh", submit=submit, render=render)
