"""Webpage moderation results: ``POST /webpage/auditing`` and ``GET /webpage/auditing/<jobId>``."""

from __future__ import annotations

from attrs import define

from .common import ImageScenes, JobBase, Node, SceneInfo, Scenes, TextScenes
from .enums import Result

__all__ = [
    "ImageResult",
    "ImageResults",
    "TextResult",
    "TextResults",
    "WebpageJob",
    "WebpageLabels",
]


@define(frozen=True, slots=True, repr=False)
class WebpageLabels(Scenes):
    """Page-wide scene summary (``Labels``): each scene has ``hit_flag`` and ``score``."""


@define(frozen=True, slots=True, repr=False)
class ImageResult(ImageScenes):
    """One image linked from the page, with image-type scenes."""

    url: str | None = None
    text: str | None = None
    label: str | None = None
    suggestion: Result | int | None = None
    page_number: int | None = None
    sheet_number: int | None = None


@define(frozen=True, slots=True, repr=False)
class TextResult(TextScenes):
    """One text segment of the page (up to 10,000 characters), with text-type scenes.

    ``result`` is the Go SDK's ``WebpageTextResult.Result`` (the pages document only
    ``suggestion``); the emulator answers both, equal.
    """

    text: str | None = None
    label: str | None = None
    result: Result | int | None = None
    suggestion: Result | int | None = None
    page_number: int | None = None
    sheet_number: int | None = None


@define(frozen=True, slots=True, repr=False)
class ImageResults(Node):
    """``ImageResults``: the page's images."""

    results: tuple[ImageResult, ...] = ()


@define(frozen=True, slots=True, repr=False)
class TextResults(Node):
    """``TextResults``: the page's text segments."""

    results: tuple[TextResult, ...] = ()


@define(frozen=True, slots=True, repr=False)
class WebpageJob(JobBase):
    """A webpage job; its verdict is ``suggestion`` and its scenes live in ``labels``."""

    url: str | None = None
    labels: WebpageLabels | None = None
    suggestion: Result | int | None = None
    page_count: int | None = None
    image_results: ImageResults | None = None
    text_results: TextResults | None = None
    highlight_html: str | None = None  # only when the job asked for it

    @property
    def verdict(self) -> Result | int | None:
        return self.suggestion

    @property
    def scenes(self) -> dict[str, SceneInfo]:
        """The page-wide scenes of ``labels``, keyed by name: ``{"Porn": ..., "Ads": ...}``."""
        return self.labels.scenes if self.labels is not None else {}

    def hit_keywords(self, scene: str) -> tuple[str, ...]:
        """Keywords found for ``scene`` (e.g. ``"Porn"``) in the page's images and texts."""
        found = list(super().hit_keywords(scene))
        results = (
            *(self.image_results.results if self.image_results else ()),
            *(self.text_results.results if self.text_results else ()),
        )
        for result in results:
            info = result.scenes.get(scene)
            if info is not None:
                found.extend(info.all_keywords)
        return tuple(dict.fromkeys(found))
