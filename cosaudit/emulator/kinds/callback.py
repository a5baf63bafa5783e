"""What a callback says: the JSON bodies of reference §5, per kind and version (pages 436/48540
image, 48190 text, 48251 video, 48264 audio, 48260 document, 48284 webpage, 48280 live).
:mod:`cosaudit.emulator.callbacks` sends them.

* **Detail** (``X-Ci-Content-Version: Detail``): ``{"EventName", "JobsDetail"}`` where
  ``JobsDetail`` is what the job query answers, as JSON (repeated elements are arrays even when
  one or none, numbers are numbers, absent elements are absent), plus ``BucketId``, ``Region``,
  ``ForbidState`` (0: the emulator freezes nothing) and ``CosHeaders`` (``{}``: objects carry no
  custom headers). Image callbacks are always Detail.
* **Simple** (``X-Ci-Content-Version: Simple``, the default of text, video, audio and live):
  ``{"code", "message", "data"}``, ``data`` holding ``trace_id`` (the JobId), ``url``,
  ``event`` (left out for audio, as the page's sample does), ``result``, ``forbidden_status``,
  ``data_id`` (when set) and one ``<scene>_info`` per scene: ``hit_flag``, ``label`` and
  ``count`` (text, video, live: segments or frames that hit) or ``score`` (audio).
* **Document and webpage**: the Detail shape, without a version header (none is documented).

Choices where the pages are silent:

* a ``Failed`` job's Simple body has ``code`` from the numeric table of page 1045/33700
  (``ResourceNotFound`` -61011, ``ResourceDownloadFailed`` and ``ResourceAccessDenied`` -65010,
  ``ResourceNotSupported`` -65013, ``CIRoleNotExist`` -65014, ``InvalidArgument`` 1015, anything
  else 1007 ``InternalError``), its message as ``message``, and only ``trace_id``, ``url``,
  ``event``, ``data_id`` in ``data``; a successful one has ``code`` 0 and ``message``
  ``"success"``;
* Simple ``label``: the scene container's own ``Label`` when it has one (audio: the hit
  keyword), else the scene's name when it hit, else empty; ``url`` is the object's URL on the
  bucket's COS host, or the submitted ``Url``;
* ``CallbackType=2`` keeps the ``Section``, ``Snapshot``, ``AudioSection`` and
  ``PageSegment/Results`` items whose ``Result``/``Suggestion`` is not 0 (suspicious ones
  count as violating); the job's totals stay as the query answers them. Webpage callbacks
  ignore it (only the Go SDK has the option);
* a live stream calls back, while ``Auditing``, each time the job clock passes new frames or
  audio segments, with only those (``SnapshotCount`` counts the snapshots in that callback, as
  the page says); with ``CallbackType=2`` a callback none of whose new items violates is not
  sent. Its final callback (``Success``, ``Cancelled``, ``Failed``) carries everything seen,
  as the query answers it, so one callback tells the whole outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from cosaudit.emulator.callbacks import Payload, Progress, Target
from cosaudit.emulator.jobs import AUDITING, CANCELLED, FAILED, SUCCESS, Job
from cosaudit.emulator.kinds import KINDS, live
from cosaudit.emulator.kinds.base import job_detail
from cosaudit.emulator.kinds.timeline import timeline_tree
from cosaudit.emulator.service import Service

__all__ = ["EVENTS", "FAILURE_CODES", "detail_body", "progress", "simple_body"]

FINAL = frozenset({SUCCESS, FAILED, CANCELLED})
EVENTS = {
    "image": "ReviewImage",
    "text": "ReviewText",
    "video": "ReviewVideo",
    "live": "ReviewVideo",
    "audio": "ReviewAudio",
    "document": "ReviewDocument",
    "webpage": "ReviewHtml",
}
# A failed job's Simple ``code`` (page 1045/33700); anything else is 1007 InternalError.
FAILURE_CODES = {
    "ResourceNotFound": -61011,
    "ResourceDownloadFailed": -65010,
    "ResourceAccessDenied": -65010,
    "ResourceNotSupported": -65013,
    "CIRoleNotExist": -65014,
    "InvalidArgument": 1015,
}
_INTERNAL_ERROR = 1007
# Item lists CallbackType=2 trims, and the field that says an item violates.
_ITEM_LISTS = (("Section", "Result"), ("Snapshot", "Result"), ("AudioSection", "Result"))
_RENDER = {kind.name: kind.render for kind in KINDS}
# Top-level containers that are not scenes.
_NOT_SCENES = frozenset({"UserInfo", "ListInfo"})


def progress(service: Service, job: Job, state: str, target: Target, cursor: float) -> Progress:
    """What ``job``, answering ``state`` now, has to call back (see the module docstring)."""
    if target.repeats:
        return _live(service, job, state, target, cursor)
    if state not in FINAL:
        return Progress()
    tree = job_detail(job, state, _RENDER[job.kind])
    return Progress((Payload(state, _body(job, tree, target)),), done=True)


def _live(service: Service, job: Job, state: str, target: Target, cursor: float) -> Progress:
    if state in FINAL:
        tree = live.detail(service, job, state)
        if target.only_violations:
            tree = _violations(tree)
        if "SnapshotCount" in tree:
            tree["SnapshotCount"] = len(tree.get("Snapshot") or ())
        return Progress((Payload(state, _body(job, tree, target)),), done=True)
    outcome = job.outcome
    if state != AUDITING or outcome is None or not isinstance(outcome.result, live.LiveStream):
        return Progress(cursor=cursor)
    stream = outcome.result
    started, length_ms = job.schedule.started, job.schedule.duration * 1000
    seen = min((service.jobs.now() - started) * 1000, length_ms)
    shots = [s for s in stream.shots if cursor < s.time_ms <= seen]
    heard = [h for h in stream.heard if cursor < h.offset_ms + h.duration_ms <= seen]
    ends = [h.offset_ms + h.duration_ms for h in stream.heard]
    upcoming = [t for t in (*(s.time_ms for s in stream.shots), *ends) if t > seen]
    next_ms = min([*upcoming, length_ms]) if seen < length_ms else None
    next_at = None if next_ms is None else started + next_ms / 1000
    fields = timeline_tree(stream.scenes, shots, heard, offset_ms=stream.start_ms)
    if target.only_violations:
        fields = _violations(fields)
        fields["SnapshotCount"] = len(fields["Snapshot"])
    if not fields["Snapshot"] and not fields["AudioSection"]:
        return Progress(cursor=seen, next_at=next_at)
    tree = job_detail(job, AUDITING, lambda _: fields, with_result=True)
    return Progress((Payload(AUDITING, _body(job, tree, target)),), cursor=seen, next_at=next_at)


def _violations(tree: Mapping[str, Any]) -> dict[str, Any]:
    """``tree`` with its item lists cut to violating items (``CallbackType=2``)."""
    out = dict(tree)
    for name, flag in _ITEM_LISTS:
        items = out.get(name)
        if isinstance(items, list):
            out[name] = [item for item in items if item.get(flag)]
    pages = out.get("PageSegment")
    if isinstance(pages, Mapping) and isinstance(pages.get("Results"), list):
        out["PageSegment"] = {
            **pages,
            "Results": [page for page in pages["Results"] if page.get("Suggestion")],
        }
    return out


def _body(job: Job, tree: Mapping[str, Any], target: Target) -> dict[str, Any]:
    if not target.repeats and target.only_violations:
        tree = _violations(tree)
    if target.version == "Simple":
        return simple_body(job, tree, target)
    return detail_body(tree, target)


def detail_body(tree: Mapping[str, Any], target: Target) -> dict[str, Any]:
    """The Detail shape of a ``JobsDetail`` tree."""
    detail = {
        **tree,
        "BucketId": target.bucket,
        "Region": target.region,
        "ForbidState": 0,
        "CosHeaders": {},
    }
    return {"EventName": EVENTS[target.kind], "JobsDetail": _json(detail)}


def simple_body(job: Job, tree: Mapping[str, Any], target: Target) -> dict[str, Any]:
    """The Simple shape of a ``JobsDetail`` tree."""
    data: dict[str, Any] = {"trace_id": job.job_id, "url": _object_url(job, target)}
    if target.kind != "audio":
        data["event"] = EVENTS[target.kind]
    outcome = job.outcome
    if tree.get("State") == FAILED and outcome is not None and outcome.code is not None:
        if job.data_id is not None:
            data["data_id"] = job.data_id
        code = FAILURE_CODES.get(outcome.code, _INTERNAL_ERROR)
        return {"code": code, "message": outcome.message or outcome.code, "data": data}
    data["result"] = tree.get("Result", tree.get("Suggestion", 0))
    data["forbidden_status"] = 0
    if job.data_id is not None:
        data["data_id"] = job.data_id
    for name, value in tree.items():
        if name.endswith("Info") and name not in _NOT_SCENES and isinstance(value, Mapping):
            data[_snake(name)] = _scene_info(name, value)
    return {"code": 0, "message": "success", "data": data}


def _scene_info(name: str, container: Mapping[str, Any]) -> dict[str, Any]:
    hit_flag = container.get("HitFlag", 0)
    label = container.get("Label")
    if label is None:
        label = name.removesuffix("Info") if hit_flag else ""
    info: dict[str, Any] = {"hit_flag": hit_flag, "label": label}
    if "Count" in container:
        info["count"] = container["Count"]
    else:
        info["score"] = container.get("Score", 0)
    return info


def _object_url(job: Job, target: Target) -> str:
    if "Url" in job.echo:
        return job.echo["Url"]
    key = job.echo.get("Object") or str(job.request.get("ObjectKey") or "")
    if not key:
        return ""
    if not target.bucket:
        return key
    return f"https://{target.bucket}.cos.{target.region}.myqcloud.com/{quote(key.lstrip('/'))}"


def _snake(name: str) -> str:
    """``PornInfo`` → ``porn_info``."""
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _json(value: Any) -> Any:
    """An XML tree as JSON: ``None`` (an absent element) left out, tuples as arrays."""
    if isinstance(value, Mapping):
        return {name: _json(child) for name, child in value.items() if child is not None}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value if item is not None]
    return value
