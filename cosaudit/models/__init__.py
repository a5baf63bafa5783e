"""Typed results of the moderation API, built from parsed XML (or Detail-callback JSON).

Example::

    tree = xmlcodec.parse(body)
    job = structure(ImageJob, tree["Response"]["JobsDetail"])
    if job.is_final and job.is_sensitive: ...

Fields are the snake_case of the element names; repeated elements are always tuples; numbers,
times, states and verdicts are typed; ``raw`` on every model keeps the source element. Nothing
here does I/O.
"""

from __future__ import annotations

from ._convert import ModelError, structure, structure_all
from ._render import JobsTable, jobs_table
from .audio import AudioJob, AudioSection
from .common import (
    HitInfo,
    Job,
    JobBase,
    LanguageResult,
    LibResult,
    ListInfo,
    ListResult,
    Location,
    ObjectResult,
    OcrResult,
    Position,
    SceneInfo,
    UserInfo,
)
from .document import DocumentJob, DocumentLabels, PageResult, PageSegment
from .enums import FINAL_STATES, HitFlag, JobState, Result, VirusSuggestion
from .image import ImageJob
from .live import LiveAudioSection, LiveJob, LiveSnapshot
from .text import TextJob, TextSection
from .video import MaskInfo, MaskLiveInfo, MaskOutput, MaskRecordInfo, Snapshot, VideoJob
from .virus import DetectDetail, VirusJob, VirusResult
from .webpage import ImageResult, ImageResults, TextResult, TextResults, WebpageJob, WebpageLabels

__all__ = [
    "FINAL_STATES",
    "AudioJob",
    "AudioSection",
    "DetectDetail",
    "DocumentJob",
    "DocumentLabels",
    "HitFlag",
    "HitInfo",
    "ImageJob",
    "ImageResult",
    "ImageResults",
    "Job",
    "JobBase",
    "JobState",
    "JobsTable",
    "LanguageResult",
    "LibResult",
    "ListInfo",
    "ListResult",
    "LiveAudioSection",
    "LiveJob",
    "LiveSnapshot",
    "Location",
    "MaskInfo",
    "MaskLiveInfo",
    "MaskOutput",
    "MaskRecordInfo",
    "ModelError",
    "ObjectResult",
    "OcrResult",
    "PageResult",
    "PageSegment",
    "Position",
    "Result",
    "SceneInfo",
    "Snapshot",
    "TextJob",
    "TextResult",
    "TextResults",
    "TextSection",
    "UserInfo",
    "VideoJob",
    "VirusJob",
    "VirusResult",
    "VirusSuggestion",
    "WebpageJob",
    "WebpageLabels",
    "jobs_table",
    "structure",
    "structure_all",
]
