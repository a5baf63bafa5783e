"""Scene result containers as XML trees (as in the job query pages, e.g. 436/48539, 436/48189).

Choices where the docs are silent: an image-type container's ``Label`` is the scene name when it
hit and empty otherwise, ``Category``/``SubLabel`` are always empty (the keyword rules have no
sub-categories), and an ``OcrResults`` entry appears in each scene whose keywords were found in the
image text, with a ``Location`` derived from the text length (the images are 1×1; there is no
real geometry).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import MappingProxyType
from typing import Any

from cosaudit.emulator.responses import ApiError
from cosaudit.emulator.rules import PRIORITY, SceneVerdict, Verdict, worst_flag

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


def parse_detect_type(value: str | None, default: Sequence[str]) -> tuple[str, ...]:
    """Scene names from a DetectType/detect-type list (any case), or ``default`` when absent.

    Unknown names are a 400 ``InvalidArgument``: a silent typo would look like "no hits".
    """
    if value is None or not value.strip():
        return tuple(default)
    scenes: list[str] = []
    for item in value.split(","):
        name = _BY_LOWER.get(item.strip().lower())
        if name is None:
            known = ", ".join(PRIORITY)
            raise ApiError(400, "InvalidArgument", f"Unknown DetectType {item!r}; known: {known}.")
        if name not in scenes:
            scenes.append(name)
    return tuple(scenes)


def container(scene: str, *, single_image_get: bool = False) -> str:
    """The element name of a scene's container (``TerroristInfo`` on the single-image GET)."""
    if single_image_get and scene == "Terrorism":
        return "TerroristInfo"
    return f"{scene}Info"


def text_scenes(verdict: Verdict) -> dict[str, Any]:
    """Text-type containers: ``HitFlag``, ``Score``, comma-separated ``Keywords``."""
    return {
        container(s.scene): {
            "HitFlag": s.hit_flag,
            "Score": s.score,
            "Keywords": ",".join(s.keywords),
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
            "Category": "",
            "SubLabel": "",
            "OcrResults": _ocr_results(s, text),
        }
        for s in verdict.scenes
    }


def audio_scenes(verdict: Verdict) -> dict[str, Any]:
    """Audio-type containers (audio ``Section``, video ``AudioSection``): ``HitFlag``, ``Score``,
    ``Category``/``SubLabel`` (always empty), ``Keywords`` as repeated elements (one empty
    element when nothing hit, as the documented sample shows)."""
    return {
        container(s.scene): {
            "HitFlag": s.hit_flag,
            "Score": s.score,
            "Category": "",
            "SubLabel": "",
            "Keywords": list(s.keywords) or "",
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
