"""What every kind of moderation shares: the call context, routes, request parsing and
validation, and the ``JobsDetail`` of a job.

Validation choices (CI dialect, 400 unless said): an empty body is ``MissingContent``; a body that
is not XML, or whose root is not ``<Request>``, is ``InvalidArgument`` (the CI table has no
``MalformedXML``); a missing ``Input``, an over-long ``DataId`` (> 512 bytes) or ``UserInfo``
field (> 128 bytes) is ``InvalidArgument``, and so is a ``DataId``, ``UserInfo`` field, object key
or URL holding a character XML cannot carry (:mod:`cosaudit.emulator.xmlchars`): it would be
echoed. A missing ``Conf`` counts as empty: the Python SDK sends ``<Conf></Conf>`` when no option
is set. XML attributes carry nothing in this API and are dropped on reading (``<DataId a="1">x``
is ``x``), so they can never be echoed back as elements.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web
from attrs import define

from cosaudit.emulator.accounts import parse_freeze, standing_of
from cosaudit.emulator.jobs import (
    DEFAULT_STAGES,
    FAILED,
    SUBMITTED,
    SUCCESS,
    Job,
    Outcome,
    Schedule,
    creation_time,
)
from cosaudit.emulator.responses import ApiError, Dialect, xml_response
from cosaudit.emulator.scenes import parse_detect_type
from cosaudit.emulator.service import Service
from cosaudit.emulator.xmlchars import has_illegal
from cosaudit.wire import xmlcodec

__all__ = [
    "INPUT_PRIORITY",
    "Call",
    "Handler",
    "KindSpec",
    "Route",
    "decode_base64",
    "echoable",
    "invalid",
    "job_detail",
    "optional_int",
    "parse_conf",
    "parse_request",
    "pick_input",
    "poll_job",
    "record_job",
    "submitted_detail",
    "text_field",
    "validate_data_id",
    "validate_user_info",
]

MAX_DATA_ID_BYTES = 512
MAX_USER_INFO_BYTES = 128
# Which input a request is about when it names several, as the batch-image page documents (text
# follows the same order).
INPUT_PRIORITY = ("Content", "Object", "Url")


@define(frozen=True, slots=True)
class Call:
    """One request as a handler sees it: body read, signature checked, path matched."""

    request: web.Request
    service: Service
    body: bytes
    params: Mapping[str, str]
    query: Mapping[str, str]
    request_id: str

    def answer(
        self, tree: Mapping[str, Any], root: str = "Response", dialect: Dialect = Dialect.CI
    ) -> web.Response:
        return xml_response(dialect, root, tree, self.request_id)


Handler = Callable[[Call], Awaitable[web.Response]]
Renderer = Callable[[Any], Mapping[str, Any]]


@define(frozen=True, slots=True)
class Route:
    """A method and full-path pattern (named groups become ``Call.params``).

    ``template`` names the route in :attr:`Stats.requests` (``/text/auditing/{jobId}``).
    ``ci_process``, when set, must equal the ``ci-process`` query parameter: that is how the
    single-image GET is told apart from the rest. ``front``, when set, is the one front end
    the route lives on: a ``Host`` naming the other one (``<bucket>.ci.…`` for a COS route)
    does not reach it (see :func:`cosaudit.emulator.app.front_of`).
    """

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    template: str
    dialect: Dialect = Dialect.CI
    ci_process: str | None = None
    front: Dialect | None = None


@define(frozen=True, slots=True)
class KindSpec:
    """A kind of moderation: ``POST /<name>/auditing`` submits, ``GET …/<jobId>`` queries.

    Args:
        job_prefix: job ids are this plus 32 hex digits.
        submit: handles the POST.
        render: turns a finished job's result into the ``JobsDetail`` fields after the echo.
        extra_routes: other endpoints of the kind (the single-image GET, the live cancel).
        path: the submit path when it is not ``/<name>/auditing`` (``/virus/detect``); the
            query is this plus ``/<jobId>``.
        query: handles the query GET instead of the generic one (live jobs answer partial
            results while running).
    """

    name: str
    job_prefix: str
    submit: Handler
    render: Renderer
    extra_routes: tuple[Route, ...] = ()
    path: str | None = None
    query: Handler | None = None

    @property
    def submit_path(self) -> str:
        return self.path or f"/{self.name}/auditing"


def invalid(message: str) -> ApiError:
    """A 400 ``InvalidArgument``."""
    return ApiError(400, "InvalidArgument", message)


def parse_request(body: bytes, *, max_bytes: int) -> Mapping[str, Any]:
    """The children of ``<Request>`` (with or without an XML declaration).

    ``max_bytes`` is the body limit the app already enforced (``max_body_bytes``), so the XML
    parser never refuses a body the app accepted.
    """
    if not body.strip():
        raise ApiError(400, "MissingContent", "The request body is empty.")
    try:
        tree = xmlcodec.parse(body, max_bytes=max_bytes)
    except xmlcodec.XMLError as exc:
        raise invalid(f"The request body is not acceptable XML: {exc}.") from exc
    if list(tree) != ["Request"]:
        raise invalid(f"The root element must be Request, not {', '.join(tree)}.")
    request = _without_attributes(tree["Request"])
    return request if isinstance(request, Mapping) else {}


def _without_attributes(node: Any) -> Any:
    """``node`` with xmltodict's ``@attribute`` and ``#text`` keys gone: an element that had
    attributes and text becomes its text, one that had only attributes becomes empty (None)."""
    if isinstance(node, list):
        return [_without_attributes(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    children = {
        name: _without_attributes(value)
        for name, value in node.items()
        if not name.startswith(("@", "#"))
    }
    if children:
        return children
    return node.get("#text")


def parse_conf(
    request: Mapping[str, Any], default_scenes: Sequence[str], *, kind: str | None = None
) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """The ``Conf`` container (empty when absent) and the scenes its ``DetectType`` asks for
    (only those ``kind`` takes, see :func:`cosaudit.emulator.scenes.parse_detect_type`)."""
    conf = request.get("Conf") or {}
    if not isinstance(conf, Mapping):
        raise invalid("Conf must be a container.")
    try:
        parse_freeze(conf.get("Freeze"))
    except ValueError as exc:
        raise invalid(str(exc)) from None
    return conf, parse_detect_type(text_field(conf, "DetectType"), default_scenes, kind=kind)


def pick_input(node: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(name, value)`` of the input ``node`` is about (:data:`INPUT_PRIORITY`), or None.

    An ``Object`` or ``Url`` must be :func:`echoable`; ``Content`` is checked as base64 later.
    """
    for name in INPUT_PRIORITY:
        value = text_field(node, name)
        if value is not None:
            return name, value if name == "Content" else echoable(value, name)
    return None


def echoable(value: str, name: str) -> str:
    """``value``, or 400 ``InvalidArgument`` if it holds a character XML cannot carry."""
    if has_illegal(value):
        raise invalid(f"{name} contains a character that XML cannot carry.")
    return value


def decode_base64(value: str, name: str = "Content") -> bytes:
    """The bytes of a base64 field (whitespace ignored); 400 ``InvalidArgument`` if invalid."""
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{name} is not valid base64.") from None


def text_field(node: Mapping[str, Any], name: str) -> str | None:
    """A text element of ``node``; None when absent or empty; 400 when it has children."""
    value = node.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid(f"{name} must be a single text element.")
    return value


def optional_int(value: str | None, name: str, *, low: int, high: int | None = None) -> int | None:
    """An integer option within ``[low, high]``, or None when absent; 400 otherwise."""
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise invalid(f"Param {name} is illegal: {value!r} is not an integer.") from None
    if number < low or (high is not None and number > high):
        raise invalid(f"Param {name} is illegal: {number} is out of range.")
    return number


def validate_data_id(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value.encode("utf-8")) > MAX_DATA_ID_BYTES:
        raise invalid(f"DataId exceeds {MAX_DATA_ID_BYTES} bytes.")
    return echoable(value, "DataId")


def validate_user_info(node: Any) -> Mapping[str, Any] | None:
    """The ``UserInfo`` container, each field a text of at most 128 bytes."""
    if node is None:
        return None
    if not isinstance(node, Mapping):
        raise invalid("UserInfo must be a container.")
    for name, value in node.items():
        if value is not None and not isinstance(value, str):
            raise invalid(f"UserInfo.{name} must be text.")
        if value is not None and len(value.encode("utf-8")) > MAX_USER_INFO_BYTES:
            raise invalid(f"UserInfo.{name} exceeds {MAX_USER_INFO_BYTES} bytes.")
        if value is not None:
            echoable(value, f"UserInfo.{name}")
    return dict(node)


def record_job(
    call: Call,
    kind: KindSpec,
    *,
    echo: Mapping[str, str],
    data_id: str | None,
    user_info: Mapping[str, Any] | None,
    request: Mapping[str, Any],
    outcome: Outcome | None = None,
    sync: bool = False,
    stages: tuple[str, ...] = DEFAULT_STAGES,
    schedule: Schedule | None = None,
) -> Job:
    """Create and store a job of ``kind``; a ``sync`` job is born final with ``outcome``; an
    async one calls back if ``request`` names a ``Callback`` (:mod:`cosaudit.emulator.callbacks`).

    An async job with an ``outcome`` already computed (a local object) still follows the
    lifecycle; one without gets its outcome from a task the caller starts. ``stages`` are its
    pending states; ``schedule`` replaces the one the controls give (a live stream ends when
    the stream does).
    """
    service = call.service
    # Checked before anything is stored: a refused Callback leaves no job behind.
    target = None
    if not sync:
        live = request.get("Type") == "live_video"
        target = service.callbacks.target(request, kind.name, call.request.host, live=live)
    job_id = service.ids.job_id(kind.job_prefix)
    # Virus jobs have no user and no freeze: their answers carry neither ListInfo nor ForbidState.
    standing = (
        None if kind.name == "virus" else standing_of(service.rules, user_info, request, echo)
    )
    if schedule is None:
        schedule = service.born_final() if sync else service.schedule(job_id)
    job = Job(
        job_id=job_id,
        kind=kind.name,
        request=request,
        created_at=creation_time(service.wall_time()),
        schedule=schedule,
        echo=dict(echo),
        data_id=data_id,
        user_info=user_info,
        outcome=outcome,
        finished=sync,
        stages=stages,
        standing=standing,
    )
    service.jobs.add(job)
    service.stats.submits[kind.name] += 1
    if target is not None:
        service.callbacks.watch(job, target, call.request.method, call.request.path)
    return job


def submitted_detail(job: Job, *, with_echo: bool) -> dict[str, Any]:
    """The ``JobsDetail`` a submission answers: ``Submitted``, with the input echoed if asked."""
    tree: dict[str, Any] = {
        "DataId": job.data_id,
        "JobId": job.job_id,
        "State": SUBMITTED,
        "CreationTime": job.created_at,
    }
    if with_echo:
        tree.update(job.echo)
    return tree


async def poll_job(call: Call, kind: KindSpec) -> tuple[Job, str]:
    """Look up the job the path names (404 ``AuditingJobNotFound`` if it is unknown or of
    another kind), count the query, and return the job with the state to answer."""
    job_id = call.params["job_id"]
    job = call.service.jobs.get(job_id)
    # A job of another kind is as unknown here as a made-up id.
    if job is None or job.kind != kind.name:
        raise ApiError(404, "AuditingJobNotFound", f"The job {job_id} does not exist.")
    call.service.stats.queries[kind.name] += 1
    job, state = await call.service.jobs.poll(job_id, call.service.controls.hold)
    if job.finished:  # a job final by polls calls back now, not at its next look
        call.service.callbacks.notify(job_id)
    return job, state


def job_detail(
    job: Job, state: str, render: Renderer, *, with_result: bool | None = None
) -> dict[str, Any]:
    """The ``JobsDetail`` of ``job`` answering ``state``: result fields only when ``Success``,
    unless ``with_result`` says otherwise (a live job shows what it has seen so far)."""
    if with_result is None:
        with_result = state == SUCCESS
    outcome = job.outcome
    tree: dict[str, Any] = {}
    if state == FAILED and outcome is not None:
        tree["Code"] = outcome.code
        tree["Message"] = outcome.message
    tree["DataId"] = job.data_id
    tree["JobId"] = job.job_id
    tree["State"] = state
    tree["CreationTime"] = job.created_at
    tree.update(job.echo)
    rendered = with_result and outcome is not None and not outcome.failed
    if rendered and outcome is not None:
        tree.update(render(outcome.result))
    tree["UserInfo"] = job.user_info
    if rendered and outcome is not None and job.standing is not None:
        job.standing.apply(tree, getattr(outcome.result, "verdict", None))
    return tree
