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
from .common import (
    HitInfo,
    Job,
    JobBase,
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
from .enums import FINAL_STATES, HitFlag, JobState, Result
from .image import ImageJob
from .text import TextJob, TextSection
from .webpage import ImageResult, ImageResults, TextResult, TextResults, WebpageJob, WebpageLabels

__all__ = [
    "FINAL_STATES",
    "HitFlag",
    "HitInfo",
    "ImageJob",
    "ImageResult",
    "ImageResults",
    "Job",
    "JobBase",
    "JobState",
    "JobsTable",
    "LibResult",
    "ListInfo",
    "ListResult",
    "Location",
    "ModelError",
    "ObjectResult",
    "OcrResult",
    "Position",
    "Result",
    "SceneInfo",
    "TextJob",
    "TextResult",
    "TextResults",
    "TextSection",
    "UserInfo",
    "WebpageJob",
    "WebpageLabels",
    "jobs_table",
    "structure",
    "structure_all",
]
