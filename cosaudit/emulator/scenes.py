"""Scene result containers as XML trees (as in the job query pages, e.g. 436/48539, 436/48189).

Choices where the docs are silent: an image-type container's ``Label`` is the scene name when it
hit and empty otherwise; ``Category``/``SubLabel`` are what a manifest's ``labels`` give (the
keyword rules have no sub-categories), else empty; an ``OcrResults`` entry appears in each scene
whose keywords were found in the image text, with a ``Location`` derived from the text length
(the images are 1×1; there is no real geometry); ``ObjectResults`` are a manifest's ``objects``.
``LibResults`` appear only when one of the account's libraries hit (as the reference says: absent
when no hit): image form (``ImageId``, ``Score``) in image-type containers, text form
(``LibType`` 2 "custom library", ``LibName``, ``Keywords``) in text- and audio-type ones. A
text-type container has ``SubLabel`` only when it is not empty (the reference calls it optional).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import MappingProxyType
from typing import Any

from cosaudit.emulator.responses import ApiError
from cosaudit.emulator.rules import PRIORITY, SceneVerdict, Verdict, worst_flag
from cosaudit.wire.scenes import KIND_SCENES

__all__ = [
    "aggregate_counts",
    "audio_scenes",
    "container",
    "image_scenes",
    "label_scores",
    "parse_detect_type",
    "text_scenes",
]

# The single-image GET's detect-type says "terrorist" for the scene the CI host calls Terrorism.
_BY_LOWER = MappingProxyType(
    {**{name.lower(): name for name in PRIORITY}, "terrorist": "Terrorism"}
)


def parse_detect_type(
    value: str | None, default: Sequence[str], *, kind: str | None = None
) -> tuple[str, ...]:
    """Scene names from a DetectType/detect-type list (any case), or ``default`` when absent.

    Unknown names are a 400 ``InvalidArgument``: a silent typo would look like "no hits". With
    ``kind``, so is a scene that kind does not take (:data:`cosaudit.wire.scenes.KIND_SCENES`):
    the service has no container to answer it in.
    """
    if value is None or not value.strip():
        return tuple(default)
    allowed = KIND_SCENES.get(kind, PRIORITY) if kind is not None else PRIORITY
    scenes: list[str] = []
    for item in value.split(","):
        name = _BY_LOWER.get(item.strip().lower())
        if name is None:
            known = ", ".join(PRIORITY)
            raise ApiError(400, "InvalidArgument", f"Unknown DetectType {item!r}; known: {known}.")
        if name not in allowed:
            raise ApiError(
                400,
                "InvalidArgument",
                f"DetectType {name} is not a scene of {kind} moderation; "
                f"it takes {', '.join(allowed)}.",
            )
        if name not in scenes:
            scenes.append(name)
    return tuple(scenes)


def container(scene: str, *, single_image_get: bool = False) -> str:
    """The element name of a scene's container (``TerroristInfo`` on the single-image GET)."""
    if single_image_get and scene == "Terrorism":
        return "TerroristInfo"
    return f"{scene}Info"


def _text_libs(scene: SceneVerdict) -> list[dict[str, Any]] | None:
    found = [lib for lib in scene.libs if lib.image_id is None]
    return [
        {"LibType": 2, "LibName": lib.name, "Keywords": list(lib.keywords)} for lib in found
    ] or None


def _image_libs(scene: SceneVerdict) -> list[dict[str, Any]] | None:
    found = [lib for lib in scene.libs if lib.image_id is not None]
    return [{"ImageId": lib.image_id, "Score": lib.score} for lib in found] or None


def _objects(scene: SceneVerdict) -> list[dict[str, Any]] | None:
    return [
        {
            "Name": hit.name,
            "SubLabel": hit.sub_label or None,
            "Location": {
                "X": hit.location.x,
                "Y": hit.location.y,
                "Width": hit.location.width,
                "Height": hit.location.height,
                "Rotate": hit.location.rotate,
            },
        }
        for hit in scene.objects
    ] or None


def text_scenes(verdict: Verdict) -> dict[str, Any]:
    """Text-type containers: ``HitFlag``, ``Score``, comma-separated ``Keywords``, and
    ``SubLabel``/``LibResults`` when there are any."""
    return {
        container(s.scene): {
            "HitFlag": s.hit_flag,
            "Score": s.score,
            "Keywords": ",".join(s.keywords),
            "SubLabel": s.sub_label or None,
            "LibResults": _text_libs(s),
        }
        for s in verdict.scenes
    }


def _ocr_results(scene: SceneVerdict, text: str) -> dict[str, Any] | None:
    if not scene.keywords or not text:
        return None
    longest = max(len(line) for line in text.splitlines() or [text])
    lines = max(1, len(text.splitlines()))
    return {
        "Text": text,
        "Keywords": list(scene.keywords),
        "Location": {"X": 0, "Y": 0, "Width": 10 * longest, "Height": 20 * lines, "Rotate": 0},
    }


def image_scenes(
    verdict: Verdict, text: str, *, single_image_get: bool = False, with_status: bool = True
) -> dict[str, Any]:
    """Image-type containers: ``Code``/``Msg``, ``HitFlag``, ``Score``, labels, ``OcrResults``.

    ``with_status=False`` leaves out ``Code``/``Msg``, which only image answers carry (not video
    snapshots or document pages).
    """
    status = {"Code": 0, "Msg": "OK"} if with_status else {}
    return {
        container(s.scene, single_image_get=single_image_get): {
            **status,
            "HitFlag": s.hit_flag,
            "Score": s.score,
            "Label": s.scene if s.hit_flag else "",
            "Category": s.category,
            "SubLabel": s.sub_label,
            "OcrResults": _ocr_results(s, text),
            "ObjectResults": _objects(s),
            "LibResults": _image_libs(s),
        }
        for s in verdict.scenes
    }


def audio_scenes(verdict: Verdict) -> dict[str, Any]:
    """Audio-type containers (audio ``Section``, video ``AudioSection``): ``HitFlag``, ``Score``,
    ``Category``/``SubLabel`` (empty: speech has no manifest labels), ``Keywords`` as repeated
    elements (one empty element when nothing hit, as the documented sample shows), and
    ``LibResults`` when a text library hit."""
    return {
        container(s.scene): {
            "HitFlag": s.hit_flag,
            "Score": s.score,
            "Category": s.category,
            "SubLabel": s.sub_label,
            "Keywords": list(s.keywords) or "",
            "LibResults": _text_libs(s),
        }
        for s in verdict.scenes
    }


def aggregate_counts(parts: Iterable[Verdict], scenes: Sequence[str]) -> dict[str, Any]:
    """Top-level text/video containers: worst ``HitFlag`` and ``Count`` of parts that hit."""
    found = list(parts)
    out: dict[str, Any] = {}
    for name in scenes:
        flags = [v.hit_flag for v in (p.scene(name) for p in found) if v is not None]
        out[container(name)] = {
            "HitFlag": worst_flag(flags),
            "Count": sum(1 for flag in flags if flag),
        }
    return out


def label_scores(verdict: Verdict) -> dict[str, Any]:
    """Document/webpage ``Labels`` containers: ``HitFlag`` and ``Score`` per scene."""
    return {container(s.scene): {"HitFlag": s.hit_flag, "Score": s.score} for s in verdict.scenes}
