"""Live stream moderation results: the video job shape, with ``Type=live_video`` and times in
epoch milliseconds (``GET /video/auditing/<jobId>`` of a job submitted as a live stream)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from attrs import define, field

from ._convert import xml
from .audio import AudioSection
from .video import Snapshot, VideoJob

__all__ = ["LiveAudioSection", "LiveJob", "LiveSnapshot"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _from_epoch_ms(value: int | None) -> datetime | None:
    if value is None:
        return None
    try:
        return _EPOCH + timedelta(milliseconds=value)
    except OverflowError:
        return None  # not an instant datetime can hold; the number is still there


@define(frozen=True, slots=True, repr=False)
class LiveSnapshot(Snapshot):
    """A frame captured from a live stream; ``snapshot_time`` is epoch milliseconds."""

    @property
    def snapshot_at(self) -> datetime | None:
        """When the frame was captured, as an aware UTC datetime."""
        return _from_epoch_ms(self.snapshot_time)


@define(frozen=True, slots=True, repr=False)
class LiveAudioSection(AudioSection):
    """A segment of a live stream's sound; ``offset_time`` is epoch milliseconds."""

    @property
    def offset_at(self) -> datetime | None:
        """When the segment started, as an aware UTC datetime."""
        return _from_epoch_ms(self.offset_time)

    @property
    def end_at(self) -> datetime | None:
        """When the segment ended (``offset_time + duration``), as an aware UTC datetime."""
        if self.offset_time is None or self.duration is None:
            return None
        return _from_epoch_ms(self.offset_time + self.duration)


@define(frozen=True, slots=True, repr=False)
class LiveJob(VideoJob):
    """A live stream job. ``snapshot_count`` counts the frames so far; a running job stays
    ``Auditing`` until the stream ends or it is cancelled (the emulator then reports
    ``Cancelled``, a state the service does not document)."""

    snapshots: tuple[LiveSnapshot, ...] = field(default=(), metadata=xml("Snapshot"))
    audio_sections: tuple[LiveAudioSection, ...] = field(default=(), metadata=xml("AudioSection"))
