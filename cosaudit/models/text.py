"""Text moderation results: ``POST /text/auditing`` (sync) and ``GET /text/auditing/<jobId>``."""

from __future__ import annotations

from attrs import define, field

from ..inputs import sized
from ._convert import xml
from .common import SceneInfo, SceneJobBase, TextScenes
from .enums import Result

__all__ = ["TextJob", "TextSection"]


@define(frozen=True, slots=True, repr=False)
class TextSection(TextScenes):
    """One segment of the text (``Section``), with text-type scenes (``keywords`` filled)."""

    start_byte: int | None = None  # despite the name, a 0-based character offset
    label: str | None = None
    result: Result | int | None = None
    sub_label: str | None = None


@define(frozen=True, slots=True, repr=False)
class TextJob(SceneJobBase):
    """A text job: top-level scenes are aggregates (``hit_flag``, ``count``); sections detail."""

    object: str | None = None
    url: str | None = None
    content: str | None = field(default=None, repr=sized)  # base64 echo of the request
    section_count: int | None = None
    result: Result | int | None = None
    score: int | None = None
    sub_label: str | None = None
    context_text: str | None = None
    sections: tuple[TextSection, ...] = field(default=(), metadata=xml("Section"))
    # Repeats TextScenes: see SceneJobBase for why.
    value_info: SceneInfo | None = None
    spam_info: SceneInfo | None = None
    meaningless_info: SceneInfo | None = None

    @property
    def verdict(self) -> Result | int | None:
        return self.result

    def hit_keywords(self, scene: str) -> tuple[str, ...]:
        """Keywords found for ``scene`` (e.g. ``"Porn"``) in the job and all its sections."""
        found = list(super().hit_keywords(scene))
        for section in self.sections:
            info = section.scenes.get(scene)
            if info is not None:
                found.extend(info.all_keywords)
        return tuple(dict.fromkeys(found))
