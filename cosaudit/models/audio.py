"""Audio moderation results: ``POST /audio/auditing`` and ``GET /audio/auditing/<jobId>``.

:class:`AudioSection` is also the shape of a video's (and a live stream's) ``AudioSection``.
"""

from __future__ import annotations

from attrs import define, field

from ._convert import xml
from .common import LanguageResult, SceneJobBase, Scenes
from .enums import Result

__all__ = ["AudioJob", "AudioSection"]


@define(frozen=True, slots=True, repr=False)
class AudioSection(Scenes):
    """One segment of the sound (audio ``Section``, video ``AudioSection``).

    Scenes are audio-type: ``hit_flag``, ``score``, ``category``, ``sub_label``, ``keywords``
    (a repeated element), ``lib_results``. ``url`` is valid for 2 hours after the query.
    """

    url: str | None = None
    text: str | None = None  # what speech recognition heard
    offset_time: int | None = None  # ms from the start; epoch ms for a live stream
    duration: int | None = None  # ms
    label: str | None = None
    sub_label: str | None = None
    result: Result | int | None = None
    language_results: tuple[LanguageResult, ...] = ()  # Go SDK only


@define(frozen=True, slots=True, repr=False)
class AudioJob(SceneJobBase):
    """An audio job: top-level scenes carry ``hit_flag``, ``score`` and ``label`` (the hit
    keyword); ``sections`` detail each segment."""

    object: str | None = None
    url: str | None = None
    result: Result | int | None = None
    sub_label: str | None = None
    audio_text: str | None = None  # the whole recognised text
    language_results: tuple[LanguageResult, ...] = ()  # Go SDK only
    sections: tuple[AudioSection, ...] = field(default=(), metadata=xml("Section"))

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
