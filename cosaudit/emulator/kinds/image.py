"""Image moderation: the single-image GET (COS host), ``POST /image/auditing`` (batch) and the
job query (Tencent Cloud pages 436/48537, 48538, 48539).

The image's "OCR" text is its embedded metadata text (:mod:`cosaudit.emulator.images`) or what its
sidecar manifest says (:mod:`cosaudit.emulator.pictures`: text, scene labels, objects), judged by
the keyword rules; its bytes are matched against the account's image libraries
(:mod:`cosaudit.emulator.rules`). Scenes: those :data:`cosaudit.wire.scenes.KIND_SCENES` gives
images (no Illegal/Abuse: image answers have no container for them). Default scenes without
DetectType/detect-type: Porn, Terrorism, Politics, Ads — the scenes the SDKs read back from
image answers (``TerroristInfo`` on the single-image GET, ``TerrorismInfo`` elsewhere).

Failures: an unreadable input (see :mod:`cosaudit.emulator.sources`) or bytes that are no image
(``ResourceNotSupported``) fail the job. On the synchronous GET they are HTTP errors in the COS
dialect instead: a missing object is 404 ``NoSuchKey`` (what the COS front end answers), the rest
400 with the job code. In a batch, an invalid item (no input, bad base64, bad ``Interval``,
``MaxFrames``, ``LargeImageDetect``, ``DataId``, ``UserInfo``) is a ``Failed`` ``JobsDetail`` with
``InvalidArgument``, echoing whichever of its ``DataId``, ``Object``/``Url`` and ``UserInfo`` are
valid, while its siblings proceed; only a bad request as a whole is an HTTP 400.
``callback``/``Conf.Callback`` of an asynchronous request call back with the Detail shape
(:mod:`cosaudit.emulator.kinds.callback`); a synchronous one ignores them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web
from attrs import define

from cosaudit.emulator.images import ImageDecodeError, embedded_text
from cosaudit.emulator.jobs import FAILED, SUBMITTED, SUCCESS, Job, Outcome
from cosaudit.emulator.kinds.base import (
    Call,
    KindSpec,
    Route,
    decode_base64,
    echoable,
    invalid,
    job_detail,
    optional_int,
    parse_conf,
    parse_request,
    pick_input,
    record_job,
    submitted_detail,
    text_field,
    validate_data_id,
    validate_user_info,
)
from cosaudit.emulator.pictures import ImageManifest, apply_labels, load_image_manifest
from cosaudit.emulator.responses import ApiError, Dialect
from cosaudit.emulator.rules import RuleSet, Verdict
from cosaudit.emulator.scenes import image_scenes, parse_detect_type
from cosaudit.emulator.service import Service
from cosaudit.emulator.sources import SourceError

__all__ = ["IMAGE_SCENES", "KIND", "ImageResult", "load_image", "moderate_image"]

IMAGE_SCENES = ("Porn", "Terrorism", "Politics", "Ads")
MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_BATCH_INPUTS = 100


@define(frozen=True, slots=True)
class ImageResult:
    """The verdict of one image and the text it was judged by."""

    text: str
    verdict: Verdict


@define(frozen=True, slots=True)
class _Source:
    """Where an image comes from: inline ``content``, an object ``key``, or a ``url``."""

    content: bytes | None = None
    key: str | None = None
    url: str | None = None

    @property
    def echo(self) -> dict[str, str]:
        if self.content is not None:
            return {}
        return {"Object": self.key} if self.key is not None else {"Url": self.url or ""}


def moderate_image(
    rules: RuleSet, data: bytes, scenes: Sequence[str], manifest: ImageManifest | None = None
) -> ImageResult:
    """Judge an image: its text (the manifest's, else the text embedded in ``data``) by the
    keyword rules, its bytes by the image libraries, and the manifest's labels. SourceError if
    the manifest says the job fails, or there is none and the bytes are not an image."""
    if manifest is not None and manifest.fail is not None:
        raise SourceError(manifest.fail.code, manifest.fail.message)
    if manifest is not None and manifest.text is not None:
        text = manifest.text
    else:
        try:
            text = embedded_text(data)
        except ImageDecodeError as exc:
            if manifest is None:
                raise SourceError("ResourceNotSupported", f"Image decode failed: {exc}.") from exc
            text = ""  # the manifest says what the picture shows
    verdict = Verdict.combine(
        [rules.moderate(text, scenes), rules.match_image(data, scenes)], scenes
    )
    return ImageResult(text, apply_labels(verdict, manifest.labels if manifest else ()))


def _render(result: ImageResult, *, single_image_get: bool) -> dict[str, Any]:
    verdict = result.verdict
    return {
        "CompressionResult": 0,
        "Text": result.text or None,
        "Label": verdict.label,
        "Result": verdict.result,
        "Score": verdict.score,
        "Category": verdict.category,
        "SubLabel": verdict.sub_label,
        **image_scenes(verdict, result.text, single_image_get=single_image_get),
    }


def render(result: ImageResult) -> dict[str, Any]:
    """Result fields of a batch item or job query."""
    return _render(result, single_image_get=False)


async def load_image(
    service: Service,
    *,
    content: bytes | None = None,
    key: str | None = None,
    url: str | None = None,
) -> tuple[bytes, ImageManifest | None]:
    """An image's bytes and its manifest (:mod:`cosaudit.emulator.pictures`), if it has one."""
    if content is not None:
        return content, None
    sources = service.sources
    if key is not None:
        data = sources.read_object(key, MAX_IMAGE_BYTES)
        return data, await load_image_manifest(sources, key=key)
    data = await sources.fetch(url or "", MAX_IMAGE_BYTES)
    return data, await load_image_manifest(sources, url=url or "")


async def _judge(service: Service, source: _Source, scenes: Sequence[str]) -> ImageResult:
    data, manifest = await load_image(
        service, content=source.content, key=source.key, url=source.url
    )
    return moderate_image(service.rules, data, scenes, manifest)


async def _outcome(service: Service, source: _Source, scenes: Sequence[str]) -> Outcome:
    try:
        return Outcome(await _judge(service, source, scenes))
    except SourceError as exc:
        return Outcome.failure(exc.code, exc.message)


async def _start(
    call: Call,
    source: _Source,
    scenes: Sequence[str],
    data_id: str | None,
    user_info: Mapping[str, str] | None,
    request: Mapping[str, Any],
) -> Job:
    """Record an asynchronous image job: judged now when local, in the background if fetched."""
    service = call.service
    outcome = await _outcome(service, source, scenes) if source.url is None else None
    job = record_job(
        call,
        KIND,
        echo=source.echo,
        data_id=data_id,
        user_info=user_info,
        request=request,
        outcome=outcome,
    )
    if outcome is None:
        service.jobs.start(job, _outcome(service, source, scenes))
    return job


async def single_get(call: Call) -> web.Response:
    """``GET /<ObjectKey>?ci-process=sensitive-content-recognition``, COS dialect."""
    query = call.query
    scenes = parse_detect_type(query.get("detect-type"), IMAGE_SCENES, kind="image")
    optional_int(query.get("interval") or None, "interval", low=1)
    optional_int(query.get("max-frames") or None, "max-frames", low=1)
    optional_int(query.get("large-image-detect") or None, "large-image-detect", low=0, high=1)
    is_async = optional_int(query.get("async") or None, "async", low=0, high=1) == 1
    data_id = validate_data_id(query.get("dataid") or None)
    url = query.get("detect-url") or None
    key = call.params["key"]
    if url is None and not key:
        raise invalid("ObjectKey or detect-url is required.")
    if url is not None:
        echoable(url, "detect-url")
    echoable(key, "ObjectKey")
    # detect-url takes precedence over the object, as documented.
    source = _Source(url=url) if url is not None else _Source(key=key)
    request = {"ObjectKey": key, **query}
    service = call.service

    if is_async:
        job = await _start(call, source, scenes, data_id, None, request)
        tree = {"JobId": job.job_id, "State": SUBMITTED, "DataId": data_id, **source.echo}
        return call.answer(tree, root="RecognitionResult", dialect=Dialect.COS)

    try:
        result = await _judge(service, source, scenes)
    except SourceError as exc:
        if exc.code == "ResourceNotFound" and url is None:
            raise ApiError(404, "NoSuchKey", "The specified key does not exist.") from exc
        raise ApiError(400, exc.code, exc.message) from exc
    job = record_job(
        call,
        KIND,
        echo=source.echo,
        data_id=data_id,
        user_info=None,
        request=request,
        outcome=Outcome(result),
        sync=True,
    )
    tree = {
        "JobId": job.job_id,
        "State": SUCCESS,
        "DataId": data_id,
        **source.echo,
        **_render(result, single_image_get=True),
    }
    return call.answer(tree, root="RecognitionResult", dialect=Dialect.COS)


def _parse_item(node: Any) -> tuple[_Source, str | None, Mapping[str, Any] | None]:
    """The source, DataId and UserInfo of one batch ``Input``; ApiError if invalid."""
    if not isinstance(node, dict):
        raise invalid("Each Input must be a container.")
    data_id = validate_data_id(text_field(node, "DataId"))
    user_info = validate_user_info(node.get("UserInfo"))
    optional_int(text_field(node, "Interval"), "Interval", low=1)
    optional_int(text_field(node, "MaxFrames"), "MaxFrames", low=1)
    optional_int(text_field(node, "LargeImageDetect"), "LargeImageDetect", low=0, high=1)
    picked = pick_input(node)
    if picked is None:
        raise invalid("Input needs one of Content, Object or Url.")
    name, value = picked
    if name == "Content":
        return _Source(content=decode_base64(value)), data_id, user_info
    if name == "Object":
        return _Source(key=value), data_id, user_info
    return _Source(url=value), data_id, user_info


def _identity(node: Any) -> tuple[dict[str, str], str | None, Mapping[str, Any] | None]:
    """What an invalid item still echoes (page 436/48538 echoes DataId and Object/Url): its
    ``Object``/``Url``, ``DataId`` and ``UserInfo``, each only if it is valid itself."""
    if not isinstance(node, Mapping):
        return {}, None, None
    echo: dict[str, str] = {}
    data_id = user_info = None
    with contextlib.suppress(ApiError):
        picked = pick_input(node)
        if picked is not None and picked[0] != "Content":
            echo = {picked[0]: picked[1]}
    with contextlib.suppress(ApiError):
        data_id = validate_data_id(text_field(node, "DataId"))
    with contextlib.suppress(ApiError):
        user_info = validate_user_info(node.get("UserInfo"))
    return echo, data_id, user_info


async def _batch_item(
    call: Call, node: Any, conf: Mapping[str, Any], scenes: Sequence[str], is_async: bool
) -> dict[str, Any]:
    request = {"Input": node, "Conf": conf}
    try:
        source, data_id, user_info = _parse_item(node)
    except ApiError as exc:
        echo, data_id, user_info = _identity(node)
        job = record_job(
            call,
            KIND,
            echo=echo,
            data_id=data_id,
            user_info=user_info,
            request=request,
            outcome=Outcome.failure(exc.code, exc.message),
            sync=True,
        )
        return job_detail(job, FAILED, render)
    service = call.service
    if is_async:
        job = await _start(call, source, scenes, data_id, user_info, request)
        return submitted_detail(job, with_echo=True)
    outcome = await _outcome(service, source, scenes)
    job = record_job(
        call,
        KIND,
        echo=source.echo,
        data_id=data_id,
        user_info=user_info,
        request=request,
        outcome=outcome,
        sync=True,
    )
    return job_detail(job, FAILED if outcome.failed else SUCCESS, render)


async def submit(call: Call) -> web.Response:
    """``POST /image/auditing``: one ``JobsDetail`` per ``Input``."""
    request = parse_request(call.body, max_bytes=call.service.config.max_body_bytes)
    inputs = request.get("Input")
    if inputs is None:
        raise invalid("Input is required.")
    items = inputs if isinstance(inputs, list) else [inputs]
    if len(items) > MAX_BATCH_INPUTS:
        raise invalid(f"At most {MAX_BATCH_INPUTS} Input are allowed, got {len(items)}.")
    conf, scenes = parse_conf(request, IMAGE_SCENES, kind="image")
    is_async = optional_int(text_field(conf, "Async"), "Async", low=0, high=1) == 1
    if is_async:  # a bad Callback refuses the whole batch before any item is recorded
        call.service.callbacks.target(request, KIND.name, call.request.host)
    details = await asyncio.gather(
        *(_batch_item(call, node, conf, scenes, is_async) for node in items)
    )
    return call.answer({"JobsDetail": list(details), "RequestId": call.request_id})


KIND = KindSpec(
    name="image",
    job_prefix="si",
    submit=submit,
    render=render,
    extra_routes=(
        Route(
            "GET",
            re.compile(r"/(?P<key>.*)"),
            single_get,
            "/{ObjectKey}?ci-process=sensitive-content-recognition",
            dialect=Dialect.COS,
            ci_process="sensitive-content-recognition",
        ),
    ),
)
