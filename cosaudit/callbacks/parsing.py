"""Callback bodies, both shapes, into the result models the query APIs return.

The service POSTs a finished job as JSON (pages 436/48540 image, 48190 text, 48251 video,
48264 audio, 48280 live, 48260 document, 48284 webpage), in one of two shapes:

* **Detail** ``{"EventName": "ReviewText", "JobsDetail": {...}}``: ``JobsDetail`` is the query
  API's, rendered as JSON, so it is structured by the same models as a query answer (the extra
  ``BucketId``, ``Region`` and ``CosHeaders`` stay in the model's ``raw``).
* **Simple** ``{"code": 0, "message": "...", "data": {"trace_id": ..., "result": 0, ...}}``
  carries less. It fills ``job_id`` (``trace_id``), ``state`` (``Success``, or ``Failed`` with
  ``code``/``message`` when ``code`` is not 0; left unknown for a live stream, whose Simple
  callbacks do not say whether it still runs: a waiter confirms those with a query),
  ``data_id``, ``url``, ``result`` (``suggestion`` for document and webpage), ``forbid_state``
  (``forbidden_status``) and the scene containers (``porn_info`` ... with ``hit_flag``,
  ``label`` and ``count`` or ``score``). It has no ``label``, ``creation_time``, sections,
  snapshots, pages, ``user_info`` or ``list_info``: ask for Detail
  (``CallbackVersion=Detail``) or query the job for those.

The shape is read from the body; the ``X-Ci-Content-Version`` header is not needed (document and
webpage callbacks document none). Nothing here does I/O.

>>> cb = parse_callback(b'{"EventName": "ReviewText", "JobsDetail": {"JobId": "st1", '
...                     b'"State": "Success", "Result": 1, "Label": "Porn"}}')
>>> cb.job_id, cb.kind, cb.version
('st1', 'text', 'Detail')
>>> cb.job().label
'Porn'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from attrs import define, field

from ..errors import CallbackError
from ..models import (
    AudioJob,
    DocumentJob,
    ImageJob,
    Job,
    LiveJob,
    ModelError,
    TextJob,
    VideoJob,
    WebpageJob,
    structure,
)

__all__ = ["CALLBACK_KINDS", "EVENTS", "Callback", "Version", "parse_callback"]

Version = Literal["Simple", "Detail"]

# The kinds that call back, and the model each one's results are structured into.
CALLBACK_KINDS: Mapping[str, type[Any]] = {
    "image": ImageJob,
    "text": TextJob,
    "video": VideoJob,
    "audio": AudioJob,
    "document": DocumentJob,
    "webpage": WebpageJob,
    "live": LiveJob,
}

# ``EventName`` (Detail) / ``event`` (Simple) of each kind; live streams say ReviewVideo too and
# are told apart by ``Type: live_video`` (Detail only).
EVENTS: Mapping[str, str] = {
    "ReviewImage": "image",
    "ReviewText": "text",
    "ReviewVideo": "video",
    "ReviewAudio": "audio",
    "ReviewDocument": "document",
    "ReviewHtml": "webpage",
}

# Kinds whose verdict is ``Suggestion``, not ``Result`` (pages 436/48259, 48283).
_SUGGESTING = frozenset({"document", "webpage"})
# A JSON body nested deeper than this is refused before it is walked (json's own recursion
# limit would otherwise be the only bound).
_MAX_DEPTH = 64


@define(frozen=True, slots=True)
class Callback:
    """One parsed callback.

    Attributes:
        job_id: the job it reports (``trace_id`` / ``JobsDetail.JobId``); None for the
            service's test request ("Test request when setting callback url").
        kind: ``image``, ``text``, ... or ``live``, as the body names it; None when it does
            not (a Simple audio callback has no ``event``).
        version: ``Simple`` or ``Detail``, read from the shape.
        event: ``EventName`` or ``event`` as sent.
        body: the decoded JSON body.
    """

    job_id: str | None
    kind: str | None
    version: Version
    event: str | None = None
    body: Mapping[str, Any] = field(factory=dict, repr=False, eq=False)

    def job(self, kind: str | None = None) -> Job:
        """The result as the model of ``kind`` (default: the kind the body names).

        Raises :class:`~cosaudit.errors.CallbackError` when the kind is unknown, when the body
        names another kind than ``kind`` (a live stream's ``ReviewVideo`` suits ``live``), or
        when a field has the wrong type.
        """
        kind = self._kind(kind)
        model = CALLBACK_KINDS[kind]
        if self.version == "Detail":
            tree = _as_xml(self.body["JobsDetail"])
        else:
            tree = _simple_tree(self.body, kind)
        try:
            job: Job = structure(model, tree)
        except ModelError as error:
            raise CallbackError(f"unexpected {model.__name__} shape: {error}") from None
        return job

    def _kind(self, wanted: str | None) -> str:
        if wanted is not None and wanted not in CALLBACK_KINDS:
            raise CallbackError(f"{wanted!r} jobs do not call back")
        named = self.kind
        if wanted is None:
            if named is None:
                raise CallbackError("the body does not say which kind of job it reports")
            return named
        if named is not None and named != wanted and {named, wanted} != {"video", "live"}:
            raise CallbackError(f"a {named} callback for a job expected to be {wanted}")
        return wanted


def parse_callback(body: bytes | str | Mapping[str, Any]) -> Callback:
    """Read a callback body (JSON text or already decoded) into a :class:`Callback`.

    Raises :class:`~cosaudit.errors.CallbackError` for anything but a Simple or Detail body:
    not JSON, too deeply nested, no job id, an unknown ``EventName``, parts of the wrong type.
    """
    data = _decode(body) if isinstance(body, bytes | str) else body
    if not isinstance(data, Mapping):
        raise CallbackError(f"expected a JSON object, got {type(data).__name__}")
    if "JobsDetail" in data or "EventName" in data:
        return _detail(data)
    if "code" in data or "data" in data:
        return _simple(data)
    raise CallbackError("neither a Detail (EventName, JobsDetail) nor a Simple (code, data) body")


def _decode(body: bytes | str) -> Any:
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, bad UTF-8, nesting
        raise CallbackError(f"not JSON: {str(error)[:120]}") from None
    if _depth(data) > _MAX_DEPTH:
        raise CallbackError(f"nested deeper than {_MAX_DEPTH} levels")
    return data


def _no_constant(name: str) -> None:
    # NaN and Infinity are not JSON; json.loads takes them unless told otherwise.
    raise ValueError(f"{name} is not a JSON value")


def _depth(value: Any) -> int:
    """The nesting depth of decoded JSON, walked without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > _MAX_DEPTH:
            break
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _text(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    raise CallbackError(f"{where} must be a string, got {type(value).__name__}")


def _detail(data: Mapping[str, Any]) -> Callback:
    detail = data.get("JobsDetail")
    if not isinstance(detail, Mapping):
        raise CallbackError("Detail body without a JobsDetail object")
    event = _text(data.get("EventName"), "EventName")
    kind = EVENTS.get(event) if event is not None else None
    if event is not None and kind is None:
        raise CallbackError(f"unknown EventName {event[:40]!r}")
    if kind == "video" and detail.get("Type") == "live_video":
        kind = "live"
    job_id = _text(detail.get("JobId"), "JobsDetail.JobId")
    if job_id is None:
        raise CallbackError("Detail body without JobsDetail.JobId")
    return Callback(job_id, kind, "Detail", event, data)


def _simple(data: Mapping[str, Any]) -> Callback:
    code = data.get("code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int | str)):
        raise CallbackError(f"Simple code must be a number, got {type(code).__name__}")
    inner = data.get("data")
    if inner is None or inner == {}:
        # The service's test request when a callback address is set: nothing to deliver.
        return Callback(None, None, "Simple", None, data)
    if not isinstance(inner, Mapping):
        raise CallbackError(f"Simple data must be an object, got {type(inner).__name__}")
    event = _text(inner.get("event"), "data.event")
    kind = EVENTS.get(event) if event is not None else None
    if event is not None and kind is None:
        raise CallbackError(f"unknown event {event[:40]!r}")
    job_id = _text(inner.get("trace_id"), "data.trace_id")
    if job_id is None:
        raise CallbackError("Simple body without data.trace_id")
    return Callback(job_id, kind, "Simple", event, data)


def _as_xml(value: Any) -> Any:
    """JSON's ``""`` as xmltodict's ``None`` for an empty element, so a Detail body gives the
    very model its query answer gives (text fields keep ``""`` apart from absent)."""
    if isinstance(value, Mapping):
        return {key: _as_xml(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_as_xml(child) for child in value]
    return None if value == "" else value


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _simple_tree(body: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The JobsDetail-like tree a Simple body amounts to (see the module docstring)."""
    inner: Mapping[str, Any] = body["data"]
    code = body.get("code")
    failed = code not in (None, 0, "0")
    tree: dict[str, Any] = {"JobId": inner.get("trace_id")}
    if kind != "live":
        # A callback of any other kind is sent once, when the job is done.
        tree["State"] = "Failed" if failed else "Success"
    if failed:
        tree["Code"] = str(code)
        tree["Message"] = body.get("message")
    verdict = "Suggestion" if kind in _SUGGESTING else "Result"
    renamed = {
        "data_id": "DataId",
        "url": "Url",
        "result": verdict,
        "forbidden_status": "ForbidState",
    }
    for name, element in renamed.items():
        if name in inner:
            tree[element] = inner[name]
    scenes: dict[str, Any] = {}
    for name, value in inner.items():
        if name.endswith("_info") and isinstance(value, Mapping):
            scenes[_pascal(name)] = {_pascal(key): child for key, child in value.items()}
        elif name.endswith("_info"):
            raise CallbackError(f"data.{name} must be an object, got {type(value).__name__}")
    if kind in _SUGGESTING:
        tree["Labels"] = scenes  # document and webpage keep their scenes under Labels
    else:
        tree.update(scenes)
    return tree
