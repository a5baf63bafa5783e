"""Structures shared by every kind of job: scene containers, user and list info, job fields.

Every model is a frozen attrs class whose fields are the snake_case of the element names
(``JobId`` → ``job_id``) and whose ``raw`` is the source element, unmodelled nodes included.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import attrs
from attrs import define, field

from ..userinfo import UserInfoFields
from . import _render
from .enums import FINAL_STATES, HitFlag, JobState, Result

__all__ = [
    "HitInfo",
    "ImageScenes",
    "Job",
    "JobBase",
    "LanguageResult",
    "LibResult",
    "ListInfo",
    "ListResult",
    "Location",
    "Node",
    "ObjectResult",
    "OcrResult",
    "Position",
    "SceneInfo",
    "SceneJobBase",
    "Scenes",
    "TextScenes",
    "UserInfo",
]


_NOTHING: Mapping[str, Any] = MappingProxyType({})


@define(frozen=True, slots=True, repr=False)
class Node:
    """Base of every model: ``raw`` is the xmltodict dict the model was built from."""

    # Given by the converter with the other fields; never compared, never printed. The default
    # is one shared read-only mapping, for models built by hand.
    raw: Mapping[str, Any] = field(default=_NOTHING, repr=False, eq=False, kw_only=True)

    def __repr__(self) -> str:
        # Results have dozens of optional nodes and most are absent: show what is there.
        shown = (
            f"{a.name}={a.repr(value) if callable(a.repr) else repr(value)}"
            for a in attrs.fields(type(self))
            if a.repr and (value := getattr(self, a.name)) is not None and value != ()
        )
        return f"{type(self).__name__}({', '.join(shown)})"


@define(frozen=True, slots=True, repr=False)
class Location(Node):
    """Where an OCR text or object was found: top-left corner, size, counter-clockwise rotation."""

    x: float | None = None
    y: float | None = None
    width: float | None = None
    height: float | None = None
    rotate: float | None = None


@define(frozen=True, slots=True, repr=False)
class OcrResult(Node):
    """One text found in an image (``OcrResults``)."""

    text: str | None = None
    keywords: tuple[str, ...] = ()
    location: Location | None = None
    sub_label: str | None = None


@define(frozen=True, slots=True, repr=False)
class ObjectResult(Node):
    """One object found in an image (``ObjectResults``)."""

    name: str | None = None
    location: Location | None = None
    sub_label: str | None = None


@define(frozen=True, slots=True, repr=False)
class LibResult(Node):
    """A hit in a risk library: image form (``image_id``, ``score``) or text form (the rest)."""

    image_id: str | None = None
    score: int | None = None
    lib_type: int | None = None  # 1 preset list, 2 custom library
    lib_name: str | None = None
    keywords: tuple[str, ...] = ()


@define(frozen=True, slots=True, repr=False)
class Position(Node):
    """Character span of a keyword hit."""

    start: int | None = None
    end: int | None = None


@define(frozen=True, slots=True, repr=False)
class HitInfo(Node):
    """Detail of a text hit (``HitInfos``; documented by the Go SDK only)."""

    type: str | None = None
    keywords: tuple[str, ...] = ()
    lib_name: str | None = None
    positions: tuple[Position, ...] = ()


@define(frozen=True, slots=True, repr=False)
class LanguageResult(Node):
    """A speaker, sound or language recognised in audio (Go SDK ``LanguageResult``).

    ``start_time``/``end_time`` are milliseconds into the audio (the Go SDK types them int64).
    """

    label: str | None = None
    score: int | None = None
    start_time: int | None = None
    end_time: int | None = None


@define(frozen=True, slots=True, repr=False)
class SceneInfo(Node):
    """The result of one moderation scene (``PornInfo``, ``AdsInfo``, ...), every node optional.

    Image-type scenes carry ``code``/``msg``/``score``/``ocr_results``; text-type scenes carry
    ``score``/``keywords``; audio-type scenes carry ``score``/``keywords`` (repeated elements)
    and, per the Go SDK, ``speaker_results``/``recognition_results``; job-level aggregates carry
    ``hit_flag`` and ``count`` (text, video, live) or ``score`` (audio, document, webpage).
    """

    code: int | None = None
    msg: str | None = None
    hit_flag: HitFlag | int | None = None
    score: int | None = None
    label: str | None = None
    category: str | None = None
    sub_label: str | None = None
    count: int | None = None
    keywords: tuple[str, ...] = ()
    ocr_results: tuple[OcrResult, ...] = ()
    object_results: tuple[ObjectResult, ...] = ()
    lib_results: tuple[LibResult, ...] = ()
    hit_infos: tuple[HitInfo, ...] = ()
    speaker_results: tuple[LanguageResult, ...] = ()
    recognition_results: tuple[LanguageResult, ...] = ()

    @property
    def is_hit(self) -> bool:
        """HitFlag 1 (hit) or 2 (suspected), or any other non-zero value."""
        return bool(self.hit_flag)

    @property
    def all_keywords(self) -> tuple[str, ...]:
        """Keywords of the scene and of its OCR, library and hit details, first seen first."""
        found = [*self.keywords]
        found.extend(word for ocr in self.ocr_results for word in ocr.keywords)
        found.extend(word for lib in self.lib_results for word in lib.keywords)
        found.extend(word for hit in self.hit_infos for word in hit.keywords)
        return tuple(dict.fromkeys(found))


@define(frozen=True, slots=True, repr=False)
class UserInfo(UserInfoFields):
    """Business user information: sent with a request, echoed in results (each ≤ 128 bytes).

    Its fields are defined once in :mod:`cosaudit.userinfo`, which requests import (they never
    import response models); this adds ``raw``, as every model has.
    """

    # Not a Node: two slotted bases cannot both hold fields, so raw and the repr are Node's, copied.
    raw: Mapping[str, Any] = field(default=_NOTHING, repr=False, eq=False, kw_only=True)

    __repr__ = Node.__repr__


@define(frozen=True, slots=True, repr=False)
class ListResult(Node):
    """One hit in an account allow/block list."""

    list_type: int | None = None  # 0 allowlist, 1 blocklist
    list_name: str | None = None
    entity: str | None = None


@define(frozen=True, slots=True, repr=False)
class ListInfo(Node):
    """Account list hits (``ListInfo/ListResults``)."""

    list_results: tuple[ListResult, ...] = ()


# Every scene container name, as fields; ``scenes`` mappings key them as ``Label`` names them.
_SCENE_FIELDS = (
    "porn_info",
    "ads_info",
    "illegal_info",
    "abuse_info",
    "terrorism_info",
    "politics_info",
    "teenager_info",
    "terrorist_info",
    "value_info",
    "spam_info",
    "meaningless_info",
)


def _scenes(obj: object) -> dict[str, SceneInfo]:
    found: dict[str, SceneInfo] = {}
    for name in _SCENE_FIELDS:
        scene = getattr(obj, name, None)
        if scene is not None:
            # The single-image GET's TerroristInfo is the scene Label calls "Terrorism".
            key = "Terrorism" if name == "terrorist_info" else name[: -len("_info")].capitalize()
            found[key] = scene
    return found


@define(frozen=True, slots=True, repr=False)
class Scenes(Node):
    """Scene containers shared by every scene-bearing element."""

    porn_info: SceneInfo | None = None
    ads_info: SceneInfo | None = None
    illegal_info: SceneInfo | None = None
    abuse_info: SceneInfo | None = None
    terrorism_info: SceneInfo | None = None
    politics_info: SceneInfo | None = None
    teenager_info: SceneInfo | None = None

    @property
    def scenes(self) -> dict[str, SceneInfo]:
        """The scenes present, keyed by name as in ``Label``: ``{"Porn": ..., "Ads": ...}``."""
        return _scenes(self)


@define(frozen=True, slots=True, repr=False)
class ImageScenes(Scenes):
    """Image-type scenes; the single-image GET names its terrorism scene ``TerroristInfo``."""

    terrorist_info: SceneInfo | None = None


@define(frozen=True, slots=True, repr=False)
class TextScenes(Scenes):
    """Text-type scenes, with the text-only ones."""

    value_info: SceneInfo | None = None
    spam_info: SceneInfo | None = None
    meaningless_info: SceneInfo | None = None


@runtime_checkable
class Job(Protocol):
    """What every job model offers; the type for code that handles jobs of any kind."""

    @property
    def job_id(self) -> str | None: ...
    @property
    def state(self) -> JobState | str | None: ...
    @property
    def code(self) -> str | None: ...
    @property
    def message(self) -> str | None: ...
    @property
    def data_id(self) -> str | None: ...
    @property
    def label(self) -> str | None: ...
    @property
    def is_final(self) -> bool: ...
    @property
    def is_failed(self) -> bool: ...
    @property
    def verdict(self) -> Result | int | None: ...
    @property
    def scenes(self) -> dict[str, SceneInfo]: ...
    def hit_keywords(self, scene: str) -> tuple[str, ...]: ...


@define(frozen=True, slots=True, repr=False)
class JobBase(Node):
    """Fields and verdict helpers common to every job (the content of ``JobsDetail``)."""

    code: str | None = None  # with message: why the job failed
    message: str | None = None
    data_id: str | None = None
    job_id: str | None = None
    state: JobState | str | None = None
    creation_time: datetime | None = None
    user_info: UserInfo | None = None
    list_info: ListInfo | None = None
    forbid_state: int | None = None  # 0 not frozen, 1 frozen, 2 moved
    label: str | None = None  # the highest-priority hit: Normal, Porn, Ads, ...

    @property
    def is_final(self) -> bool:
        """Whether the job is done (Success, Failed, Cancelled); unknown states are pending."""
        return self.state in FINAL_STATES

    @property
    def is_failed(self) -> bool:
        return self.state == JobState.FAILED

    @property
    def verdict(self) -> Result | int | None:
        """The job's verdict: ``Result``, or ``Suggestion`` for kinds that use it."""
        return None

    @property
    def is_sensitive(self) -> bool:
        return self.verdict == Result.SENSITIVE

    @property
    def is_suspicious(self) -> bool:
        return self.verdict == Result.SUSPICIOUS

    @property
    def scenes(self) -> dict[str, SceneInfo]:
        """The job-level scenes present, keyed by name: ``{"Porn": ..., "Ads": ...}``."""
        return _scenes(self)

    def hit_keywords(self, scene: str) -> tuple[str, ...]:
        """Keywords found for ``scene`` (e.g. ``"Porn"``) anywhere in the job."""
        info = self.scenes.get(scene)
        return info.all_keywords if info is not None else ()

    def _repr_html_(self) -> str:
        return _render.job_html(self)


@define(frozen=True, slots=True, repr=False)
class SceneJobBase(JobBase):
    """A job with scene containers at its top level (image, text).

    These repeat the fields of :class:`Scenes`: CPython allows one slotted base per class, so
    a job cannot inherit both :class:`JobBase` and :class:`Scenes`.
    """

    porn_info: SceneInfo | None = None
    ads_info: SceneInfo | None = None
    illegal_info: SceneInfo | None = None
    abuse_info: SceneInfo | None = None
    terrorism_info: SceneInfo | None = None
    politics_info: SceneInfo | None = None
    teenager_info: SceneInfo | None = None
