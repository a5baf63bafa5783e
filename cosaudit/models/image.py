"""Image moderation results: single-image GET, batch ``POST /image/auditing`` and query."""

from __future__ import annotations

from attrs import define

from .common import SceneInfo, SceneJobBase
from .enums import Result

__all__ = ["ImageJob"]


@define(frozen=True, slots=True, repr=False)
class ImageJob(SceneJobBase):
    """An image job: a query's ``JobsDetail``, one batch ``JobsDetail``, or a ``RecognitionResult``.

    Scenes are image-type: ``code``/``msg``, ``score``, ``ocr_results``, ``object_results``.
    """

    object: str | None = None
    url: str | None = None
    compression_result: int | None = None  # 1 when a large image was compressed first
    text: str | None = None  # OCR text, when enabled
    result: Result | int | None = None
    category: str | None = None
    sub_label: str | None = None
    score: int | None = None
    # Repeats ImageScenes (see SceneJobBase); the single-image GET's name for terrorism.
    terrorist_info: SceneInfo | None = None

    @property
    def verdict(self) -> Result | int | None:
        return self.result
