"""What the media kinds (video, audio, document, virus) share: an ``Input`` naming an
``Object`` or a ``Url``, reading what it contains (:mod:`cosaudit.emulator.media`), and starting
the job that judges it.

An ``Object`` is read and judged when submitted (the job still follows its lifecycle); a ``Url``
is fetched in a background task, as text and webpage jobs do. When both are given, ``Object``
wins (the priority batch images document). Unreadable inputs and a manifest's ``fail`` end the
job ``Failed`` with their code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from attrs import define

from cosaudit.emulator import media
from cosaudit.emulator.jobs import DEFAULT_STAGES, Job, Outcome
from cosaudit.emulator.kinds.base import (
    Call,
    KindSpec,
    echoable,
    invalid,
    optional_int,
    record_job,
    text_field,
    validate_data_id,
    validate_user_info,
)
from cosaudit.emulator.service import Service
from cosaudit.emulator.sources import SourceError

__all__ = ["MediaInput", "Reading", "callback_options", "parse_input", "start_job"]

# Turns what a medium contains into a kind's result; may raise SourceError to fail the job.
Judge = Callable[[media.Media], Any]


@define(frozen=True, slots=True)
class Reading:
    """How a kind reads its input: the object size it accepts, how many leading bytes a scan
    without manifest reads, and how it reads them."""

    max_bytes: int
    fallback: media.Fallback
    scan_bytes: int = media.MAX_SCAN_BYTES


@define(frozen=True, slots=True)
class MediaInput:
    """The validated ``Input`` of a media job."""

    source: str  # "Object" or "Url"
    value: str
    data_id: str | None
    user_info: Mapping[str, Any] | None
    node: Mapping[str, Any]

    @property
    def echo(self) -> dict[str, str]:
        return {self.source: self.value}


def parse_input(request: Mapping[str, Any], *, with_identity: bool = True) -> MediaInput:
    """The ``Input`` container: ``Object`` or ``Url`` (400 ``InvalidArgument`` when neither),
    ``DataId`` and ``UserInfo`` (ignored when not ``with_identity``: virus jobs have neither)."""
    node = request.get("Input")
    if not isinstance(node, dict):
        raise invalid("Input is required and must be a single container.")
    data_id = validate_data_id(text_field(node, "DataId")) if with_identity else None
    user_info = validate_user_info(node.get("UserInfo")) if with_identity else None
    for source in ("Object", "Url"):
        value = text_field(node, source)
        if value is not None:
            return MediaInput(source, echoable(value, source), data_id, user_info, node)
    raise invalid("Input needs one of Object or Url.")


def callback_options(conf: Mapping[str, Any]) -> None:
    """Validate ``CallbackType`` (1/2) and ``CallbackVersion`` (Simple/Detail), with or without
    a ``Callback`` (:mod:`cosaudit.emulator.callbacks` reads them when there is one)."""
    optional_int(text_field(conf, "CallbackType"), "CallbackType", low=1, high=2)
    version = text_field(conf, "CallbackVersion")
    if version is not None and version not in ("Simple", "Detail"):
        raise invalid(f"Param CallbackVersion is illegal: {version!r}.")


def _judged(found: media.Media, judge: Judge) -> Outcome:
    if found.fail is not None:
        return Outcome.failure(found.fail.code, found.fail.message)
    try:
        return Outcome(judge(found))
    except SourceError as exc:
        return Outcome.failure(exc.code, exc.message)


async def _from_url(service: Service, url: str, reading: Reading, judge: Judge) -> Outcome:
    try:
        found = await media.load_url(
            service.sources, url, fallback=reading.fallback, scan_bytes=reading.scan_bytes
        )
    except SourceError as exc:
        return Outcome.failure(exc.code, exc.message)
    return _judged(found, judge)


def start_job(
    call: Call,
    kind: KindSpec,
    request: Mapping[str, Any],
    given: MediaInput,
    reading: Reading,
    judge: Judge,
    *,
    stages: tuple[str, ...] = DEFAULT_STAGES,
) -> Job:
    """Record the job of ``given`` and judge what it contains (now for an object, in the
    background for a URL)."""
    service = call.service
    outcome = None
    if given.source == "Object":
        try:
            found = media.load_object(
                service.sources,
                given.value,
                max_bytes=reading.max_bytes,
                fallback=reading.fallback,
                scan_bytes=reading.scan_bytes,
            )
        except SourceError as exc:
            outcome = Outcome.failure(exc.code, exc.message)
        else:
            outcome = _judged(found, judge)
    job = record_job(
        call,
        kind,
        echo=given.echo,
        data_id=given.data_id,
        user_info=given.user_info,
        request=request,
        outcome=outcome,
        stages=stages,
    )
    if outcome is None:
        service.jobs.start(job, _from_url(service, given.value, reading, judge))
    return job
