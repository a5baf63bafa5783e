"""What a picture shows, as a sidecar manifest says: an image's ``<key>.cosaudit.json``, and the
``labels`` a video frame or document page may carry in its medium's manifest.

An image (``Object`` ``a/b.jpg`` → ``a/b.jpg.cosaudit.json`` in the bucket folder; ``Url`` →
``<url>.cosaudit.json`` fetched from loopback) may have a manifest; all fields optional::

    {"text": "what OCR reads (instead of the text embedded in the file)",
     "labels": {
        "Porn": {"hit_flag": 1, "score": 97, "category": "Sexy", "sub_label": "SexBehavior"},
        "Terrorism": {"hit_flag": 2, "objects": [
            {"name": "knife", "sub_label": "Knife",
             "location": {"x": 10, "y": 20, "width": 64, "height": 32, "rotate": 0}}]}},
     "fail": {"code": "ResourceNotSupported", "message": "corrupt image"}}

``labels`` maps a scene to its outcome: ``hit_flag`` 0/1/2 (default 1), ``score`` 0–100
(default 95 for 1, 75 for 2, 0 for 0), ``category`` and ``sub_label`` (answered as the scene's
``Category``/``SubLabel``, and the job's when that scene is its ``Label``), and ``objects``
(``ObjectResults``: ``Name``, ``SubLabel``, ``Location``). A label adds to what the keyword rules
find in the text: the worse ``HitFlag`` and the higher score win. Scenes the request did not ask
for are ignored. With a manifest, the image's bytes need not be an image the emulator can read
(a HEIC photo works); without one they must be (:mod:`cosaudit.emulator.images`).

Choices: unknown fields and wrong types fail the job ``ResourceNotSupported`` naming the field,
as media manifests do; an ``Input.Content`` image has no manifest (it has no name).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import define

from cosaudit.emulator.media import MANIFEST_SUFFIX, MAX_MANIFEST_BYTES, Failure, manifest_url
from cosaudit.emulator.rules import (
    PRIORITY,
    SCENES,
    Box,
    ObjectHit,
    SceneVerdict,
    Verdict,
    merge_scene,
)
from cosaudit.emulator.sources import SourceError, Sources
from cosaudit.emulator.xmlchars import replace_illegal

__all__ = [
    "ImageManifest",
    "LabelError",
    "apply_labels",
    "load_image_manifest",
    "parse_image_manifest",
    "parse_labels",
]

_DEFAULT_SCORE = {0: 0, 1: 95, 2: 75}
_LABEL_FIELDS = ("hit_flag", "score", "category", "sub_label", "objects")
_BOX_FIELDS = ("x", "y", "width", "height", "rotate")


class LabelError(ValueError):
    """A manifest field that is wrong; the message names it."""


@define(frozen=True, slots=True)
class ImageManifest:
    """What an image's manifest says: its text (None: read the file's), labels, a failure."""

    text: str | None = None
    labels: tuple[SceneVerdict, ...] = ()
    fail: Failure | None = None


def _fields(value: Any, where: str, known: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise LabelError(f"{where} must be a JSON object")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise LabelError(f"{where} has unknown field {unknown[0]!r} (known: {', '.join(known)})")
    return value


def _text(node: Mapping[str, Any], name: str, where: str) -> str:
    value = node.get(name, "")
    if not isinstance(value, str):
        raise LabelError(f"{where}.{name} must be a string")
    return replace_illegal(value)


def _number(node: Mapping[str, Any], name: str, where: str) -> float:
    value = node.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LabelError(f"{where}.{name} must be a number")
    return value


def _object(value: Any, where: str) -> ObjectHit:
    node = _fields(value, where, ("name", "sub_label", "location"))
    name = _text(node, "name", where)
    if not name:
        raise LabelError(f"{where}.name is required")
    box = _fields(node.get("location", {}), f"{where}.location", _BOX_FIELDS)
    location = Box(*(_number(box, key, f"{where}.location") for key in _BOX_FIELDS))
    return ObjectHit(name, location, _text(node, "sub_label", where))


def parse_labels(value: Any, where: str) -> tuple[SceneVerdict, ...]:
    """The ``labels`` object of a manifest as scene outcomes; LabelError naming a bad field."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise LabelError(f"{where} must be a JSON object of scenes")
    out = []
    for scene, item in value.items():
        here = f"{where}.{scene}"
        if scene not in SCENES:
            known = ", ".join(PRIORITY)
            raise LabelError(f"{where} names unknown scene {scene!r} (known: {known})")
        node = _fields(item, here, _LABEL_FIELDS)
        flag = node.get("hit_flag", 1)
        if flag not in (0, 1, 2) or isinstance(flag, bool):
            raise LabelError(f"{here}.hit_flag must be 0, 1 or 2")
        score = node.get("score", _DEFAULT_SCORE[flag])
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
            raise LabelError(f"{here}.score must be a whole number from 0 to 100")
        objects = node.get("objects", [])
        if not isinstance(objects, list):
            raise LabelError(f"{here}.objects must be a JSON array")
        out.append(
            SceneVerdict(
                scene,
                flag,
                score,
                (),
                category=_text(node, "category", here),
                sub_label=_text(node, "sub_label", here),
                objects=tuple(_object(o, f"{here}.objects[{i}]") for i, o in enumerate(objects)),
            )
        )
    return tuple(out)


def apply_labels(verdict: Verdict, labels: Sequence[SceneVerdict]) -> Verdict:
    """``verdict`` with each asked-for scene merged with its label (the worse outcome wins)."""
    if not labels:
        return verdict
    by_scene = {label.scene: label for label in labels}
    return Verdict(
        tuple(
            merge_scene(s.scene, [s, by_scene[s.scene]]) if s.scene in by_scene else s
            for s in verdict.scenes
        )
    )


def parse_image_manifest(data: bytes, where: str) -> ImageManifest:
    """An image manifest; SourceError ``ResourceNotSupported`` naming a bad field."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise SourceError("ResourceNotSupported", f"{where} exceeds {MAX_MANIFEST_BYTES} bytes.")
    try:
        root = _fields(json.loads(data), "the manifest", ("text", "labels", "fail"))
        text = _text(root, "text", "the manifest") if "text" in root else None
        fail = None
        if root.get("fail") is not None:
            node = _fields(root["fail"], "fail", ("code", "message"))
            code = _text(node, "code", "fail")
            if not code:
                raise LabelError("fail.code is required")
            fail = Failure(code, _text(node, "message", "fail"))
        return ImageManifest(text, parse_labels(root.get("labels"), "labels"), fail)
    except LabelError as exc:
        raise SourceError("ResourceNotSupported", f"{where}: {exc}.") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise SourceError("ResourceNotSupported", f"{where} is not JSON: {exc}.") from None


async def load_image_manifest(
    sources: Sources, *, key: str | None = None, url: str | None = None
) -> ImageManifest | None:
    """The manifest beside object ``key`` or at ``<url>.cosaudit.json``, if there is one."""
    if key is not None:
        name = key + MANIFEST_SUFFIX
        try:
            sources.object_path(name)
        except SourceError:
            return None
        return parse_image_manifest(sources.read_object(name, MAX_MANIFEST_BYTES), name)
    if url is None:
        return None
    name = manifest_url(url)
    try:
        raw = await sources.fetch(name, MAX_MANIFEST_BYTES)
    except SourceError as exc:
        if exc.code != "ResourceNotFound":
            raise
        return None
    return parse_image_manifest(raw, name)
