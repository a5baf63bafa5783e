"""Video moderation results: ``POST /video/auditing`` and ``GET /video/auditing/<jobId>``."""

from __future__ import annotations

from attrs import define, field

from ._convert import xml
from .audio import AudioSection
from .common import Node, SceneJobBase, Scenes
from .enums import Result

__all__ = ["MaskInfo", "MaskLiveInfo", "MaskOutput", "MaskRecordInfo", "Snapshot", "VideoJob"]


@define(frozen=True, slots=True, repr=False)
class Snapshot(Scenes):
    """One captured frame, with image-type scenes (``ocr_results``, ``object_results``, ...).

    ``url`` (the frame) is valid for 2 hours after the query.
    """

    url: str | None = None
    snapshot_time: int | None = None  # ms from the start; epoch ms for a live stream
    text: str | None = None  # OCR text of the frame
    label: str | None = None
    result: Result | int | None = None


@define(frozen=True, slots=True, repr=False)
class MaskOutput(Node):
    """Where a mosaic copy was written (Go SDK only)."""

    region: str | None = None
    bucket: str | None = None
    object: str | None = None


@define(frozen=True, slots=True, repr=False)
class MaskRecordInfo(Node):
    """The mosaic copy of a video file (Go SDK only)."""

    code: str | None = None
    message: str | None = None
    output: MaskOutput | None = None


@define(frozen=True, slots=True, repr=False)
class MaskLiveInfo(Node):
    """The mosaic copy of a live stream (Go SDK only; times as the SDK types them, strings)."""

    start_time: str | None = None
    end_time: str | None = None
    output: str | None = None


@define(frozen=True, slots=True, repr=False)
class MaskInfo(Node):
    """Mosaic output of a job submitted with ``Conf.Mask`` (Go SDK only)."""

    record_info: MaskRecordInfo | None = None
    live_info: MaskLiveInfo | None = None


@define(frozen=True, slots=True, repr=False)
class VideoJob(SceneJobBase):
    """A video job: top-level scenes are aggregates (``hit_flag``, ``count`` = frames hit);
    ``snapshots`` and ``audio_sections`` (only with ``DetectContent=1``) detail them.

    ``snapshot_count`` is typed String by the service; it is an integer here.
    """

    object: str | None = None
    url: str | None = None
    snapshot_count: int | None = None
    result: Result | int | None = None
    sub_label: str | None = None
    type: str | None = None  # "live_video" for a live stream
    snapshots: tuple[Snapshot, ...] = field(default=(), metadata=xml("Snapshot"))
    audio_sections: tuple[AudioSection, ...] = field(default=(), metadata=xml("AudioSection"))
    mask_info: MaskInfo | None = None

    @property
    def verdict(self) -> Result | int | None:
        return self.result

    def hit_keywords(self, scene: str) -> tuple[str, ...]:
        """Keywords found for ``scene`` (e.g. ``"Ads"``) in the job, its frames and its sound."""
        found = list(super().hit_keywords(scene))
        for part in (*self.snapshots, *self.audio_sections):
            info = part.scenes.get(scene)
            if info is not None:
                found.extend(info.all_keywords)
        return tuple(dict.fromkeys(found))
