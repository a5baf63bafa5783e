"""One bulk item as a plain record: the JSON line ``cosaudit batch`` writes, a row of
``to_pandas()``, an entry of the HTML report. One shape for all three, so a column means the same
everywhere.

::

    {"data_id": "item-1", "kind": "text", "input": {"object": "docs/1.txt"},
     "job_id": "st...", "status": "succeeded", "state": "Success",
     "verdict": "sensitive", "result": 1, "label": "Ads", "score": 90,
     "scenes": {"ads": {"hit_flag": 1, "score": 90, "keywords": ["buy now"]}, ...},
     "code": null, "message": null, "elapsed": 1.234,
     "possible_duplicate": false, "resumed": false}

Every key is always present (``None`` when unknown), so CSV and DataFrame columns are stable.
Inline content is never written: ``input`` holds its ``content_sha256``. A URL's query and user
info (a pre-signed URL's signature, a password) are replaced by their digest, as in item ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeAlias

from ..errors import CosAuditError
from ..models import Job, SceneInfo
from ..requests import Request
from .identity import BulkItem, _without_secrets
from .results import BulkResult, verdict_word

__all__ = ["FIELDS", "JSONValue", "Record", "input_of", "record", "verdict_word"]

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
Record: TypeAlias = "dict[str, JSONValue]"

#: A record's keys, in the order a record (and a CSV header) lists them.
FIELDS = (
    "data_id", "kind", "input", "job_id", "status", "state", "verdict", "result", "label",
    "score", "scenes", "code", "message", "elapsed", "possible_duplicate", "resumed",
)  # fmt: skip

# The fields of an item that say what it moderates (a request takes exactly one of them).
_SOURCES = ("object", "url", "content")


def record(
    result: BulkResult[Any], *, kind: str | None = None, item: BulkItem | None = None
) -> dict[str, JSONValue]:
    """``result`` as a record (the shape above).

    Args:
        kind: the run's kind (``"text"``, ``"image"``...); default ``result.kind`` (each
            item's own, in a run of several kinds).
        item: the item as it came from the input; default ``result.item`` (a job an earlier
            run journaled has none: its input is then read from the job, if it echoes it).
    """
    if kind is None:
        kind = result.kind  # None only for an item whose kind the run did not take
    job: Job | None = result.job
    given = item if item is not None else result.item
    verdict = job.verdict if job is not None else None
    return {
        "data_id": result.id,
        "kind": kind,
        "input": input_of(given, kind=kind or "") if given is not None else _echoed(job),
        "job_id": result.job_id,
        "status": result.status.value,
        "state": _text(job.state) if job is not None else None,
        "verdict": verdict_word(verdict),
        "result": int(verdict) if verdict is not None else None,
        "label": job.label if job is not None else None,
        "score": _int(getattr(job, "score", None)),
        "scenes": _scenes(job) if job is not None else {},
        "code": result.code,
        "message": _message(result),
        "elapsed": result.elapsed,
        "possible_duplicate": result.possible_duplicate,
        "resumed": result.resumed,
    }


def input_of(item: BulkItem, *, kind: str) -> dict[str, JSONValue]:
    """What an item moderates: ``{"object": key}``, ``{"url": url}`` (query replaced by its
    digest) or ``{"content_sha256": hex}``; empty when the item names none of them."""
    if isinstance(item, str):
        # As the runner reads a plain string: a URL, else an object key (a webpage or live
        # job takes URLs only).
        is_url = item.startswith(("http://", "https://")) or kind in ("webpage", "live")
        return {"url": _without_secrets(item)} if is_url else {"object": item}
    if isinstance(item, Request):
        fields: Mapping[str, Any] = {name: getattr(item, name, None) for name in _SOURCES}
    else:
        fields = item
    for name in _SOURCES:
        value = fields.get(name)
        if value is None:
            continue
        if name == "content":
            return {"content_sha256": _sha256(value)}
        if isinstance(value, str):
            return {name: _without_secrets(value) if name == "url" else value}
    return {}


def _echoed(job: Job | None) -> dict[str, JSONValue] | None:
    """The input a job echoes (jobs an earlier run submitted, whose item this run lacks)."""
    if job is None:
        return None
    for name in ("object", "url"):
        value = getattr(job, name, None)
        if isinstance(value, str):
            return {name: _without_secrets(value) if name == "url" else value}
    return None


def _sha256(content: object) -> str:
    if isinstance(content, str):
        data = content.encode("utf-8", "surrogatepass")
    elif isinstance(content, bytes | bytearray | memoryview):
        data = bytes(content)
    else:
        data = repr(content).encode()  # not content the service takes; refused by the runner
    return hashlib.sha256(data).hexdigest()


def _scenes(job: Job) -> dict[str, JSONValue]:
    scenes = job.scenes
    # The parts' scenes, read once: each ``scenes`` builds its mapping anew.
    parts = [part.scenes for name in _PARTS for part in getattr(job, name, ())] if scenes else []
    found: dict[str, JSONValue] = {}
    for name, scene in scenes.items():
        # A scene not hit has no keywords: skip the search through every part.
        keywords: list[JSONValue] = list(job.hit_keywords(name)) if scene.is_hit else []
        found[name.lower()] = {
            "hit_flag": _int(scene.hit_flag),
            "score": _score(name, scene, parts),
            "keywords": keywords,
        }
    return found


# The parts of a job that carry their own scenes (text and audio sections, video frames,
# document pages): where a scene's score is when the job-level aggregate has none.
_PARTS = ("sections", "snapshots", "audio_sections", "pages")


def _score(name: str, scene: SceneInfo, parts: list[dict[str, SceneInfo]]) -> int | None:
    """The scene's score; for an aggregate without one (text's job-level scenes carry only
    ``HitFlag`` and ``Count``), the highest score its parts give."""
    if isinstance(scene.score, int):
        return int(scene.score)
    scores = [
        int(found.score)
        for part in parts
        if (found := part.get(name)) is not None and isinstance(found.score, int)
    ]
    return max(scores) if scores else None


def _message(result: BulkResult[Any]) -> str | None:
    job: Job | None = result.job
    if job is not None and job.message:
        return job.message
    error = result.error
    if isinstance(error, CosAuditError):
        # Service and input errors carry the service's (or the check's) own sentence.
        message: object = getattr(error, "message", None)
        if isinstance(message, str) and message:
            return message
        return str(error) or None
    return None


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int) else None


def _text(value: Enum | str | None) -> str | None:
    return str(value.value) if isinstance(value, Enum) else value
