"""Document moderation results: ``POST /document/auditing`` and
``GET /document/auditing/<jobId>``. Documents use ``Suggestion`` where other kinds use
``Result``, and keep their scenes in ``Labels``."""

from __future__ import annotations

from attrs import define

from .common import JobBase, Node, SceneInfo, Scenes
from .enums import Result

__all__ = ["DocumentJob", "DocumentLabels", "PageResult", "PageSegment"]


@define(frozen=True, slots=True, repr=False)
class DocumentLabels(Scenes):
    """Document-wide scene summary (``Labels``): each scene has ``hit_flag`` and ``score``."""


@define(frozen=True, slots=True, repr=False)
class PageResult(Scenes):
    """One page image (``PageSegment/Results``), with image-type scenes.

    ``url`` (the page image) is valid for 2 hours after the query.
    """

    url: str | None = None
    text: str | None = None  # OCR text of the page
    page_number: int | None = None  # 1-based
    sheet_number: int | None = None  # spreadsheets only
    label: str | None = None
    suggestion: Result | int | None = None


@define(frozen=True, slots=True, repr=False)
class PageSegment(Node):
    """``PageSegment``: the pages moderated."""

    results: tuple[PageResult, ...] = ()


@define(frozen=True, slots=True, repr=False)
class DocumentJob(JobBase):
    """A document job; its verdict is ``suggestion`` and its scenes live in ``labels``."""

    object: str | None = None
    url: str | None = None
    suggestion: Result | int | None = None
    page_count: int | None = None  # page images generated from the document
    labels: DocumentLabels | None = None
    page_segment: PageSegment | None = None

    @property
    def verdict(self) -> Result | int | None:
        return self.suggestion

    @property
    def pages(self) -> tuple[PageResult, ...]:
        """The page results (``page_segment.results``), empty while the job runs."""
        return self.page_segment.results if self.page_segment is not None else ()

    @property
    def scenes(self) -> dict[str, SceneInfo]:
        """The document-wide scenes of ``labels``, keyed by name: ``{"Porn": ...}``."""
        return self.labels.scenes if self.labels is not None else {}

    def hit_keywords(self, scene: str) -> tuple[str, ...]:
        """Keywords found for ``scene`` (e.g. ``"Ads"``) on any page."""
        found = list(super().hit_keywords(scene))
        for page in self.pages:
            info = page.scenes.get(scene)
            if info is not None:
                found.extend(info.all_keywords)
        return tuple(dict.fromkeys(found))
