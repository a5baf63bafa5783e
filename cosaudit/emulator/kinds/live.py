"""Live-stream moderation: ``POST /video/auditing`` with ``<Type>live_video</Type>``, its query
on the video path, and ``POST /video/cancel_auditing/<jobId>`` (pages 436/48277, 48279, 48278).

A stream is never fetched: what it shows comes from the manifest named by its URL's path in the
bucket folder (:func:`cosaudit.emulator.media.load_stream`). Frames and audio appear as the job
clock runs from the submission: a frame once its ``time_ms`` has passed, an audio segment once it
has ended. A query while the stream runs answers ``Auditing`` with what was seen so far
(``SnapshotCount`` counts it); ``SnapshotTime`` and ``OffsetTime`` are epoch milliseconds
(submission time + offset in the stream). With ``duration_ms`` the stream ends by itself
(``Success``); without, it runs until cancelled, or :data:`MAX_STREAM_SECONDS` (5 h) have
passed. Live jobs ignore ``job_duration`` and
``final_after_polls``; ``hold`` only keeps an ended stream from turning final.

Choices where the spec is silent or unsure:

* The documented limit of a live stream is 5 h: a job watches at most that much of its stream
  (a ``duration_ms`` beyond it is cut there), then ends ``Success`` like a stream that ended,
  and frees its channel.

* More than :data:`LIVE_CHANNELS` (10) running streams: the next submission is refused with 403
  ``QueueSaturated`` ("queue full", the closest documented code; the spec only says "error
  beyond"). Cancelled, ended and failed streams free their channel.
* A cancelled job answers ``<State>Cancelled</State>``: the service documents no state after a
  cancel; cosaudit's client already counts ``Cancelled`` as final. It keeps what was seen until
  the cancel.
* Cancelling a job that is not a live stream, or one that has already ended (``Success``,
  ``Failed``), is 400 ``InvalidArgument``; an unknown id is 404 ``AuditingJobNotFound``.
  Cancelling a cancelled job again answers as the first cancel did (nothing changes), so a
  client may retry a cancel whose answer it lost. A body sent with the cancel is ignored (the
  API takes none).
* The stream URL must be rtmp, rtmps, http or https (the documented protocols), else 400
  ``InvalidArgument``. ``StorageConf`` is validated and has no effect (nothing is dumped).
* Live jobs share the ``av`` job-id prefix of video jobs (one endpoint) and echo
  ``<Type>live_video</Type>`` after the ``Url`` in every query answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from attrs import define, evolve

from cosaudit.emulator.jobs import AUDITING, CANCELLED, SUCCESS, Job, Outcome, Schedule
from cosaudit.emulator.kinds.base import (
    Call,
    KindSpec,
    echoable,
    invalid,
    job_detail,
    optional_int,
    parse_conf,
    record_job,
    submitted_detail,
    text_field,
    validate_data_id,
    validate_user_info,
)
from cosaudit.emulator.kinds.timeline import (
    MEDIA_SCENES,
    Capture,
    Heard,
    hear,
    timeline_tree,
)
from cosaudit.emulator.media import Failure, Media, load_stream
from cosaudit.emulator.responses import ApiError
from cosaudit.emulator.service import Service
from cosaudit.emulator.sources import SourceError

__all__ = [
    "LIVE_CHANNELS",
    "LIVE_TYPE",
    "MAX_STREAM_SECONDS",
    "LiveStream",
    "cancel",
    "channels_in_use",
    "detail",
    "is_live",
    "submit",
]

LIVE_TYPE = "live_video"
LIVE_CHANNELS = 10
MAX_STREAM_SECONDS = 5 * 3600
LIVE_SCHEMES = ("rtmp", "rtmps", "http", "https")
# The name of the kind live jobs belong to (they are submitted and queried as video jobs).
VIDEO = "video"


@define(frozen=True, slots=True)
class LiveStream:
    """A stream being watched: every frame and segment judged up front, shown as time passes.

    Args:
        start_ms: epoch milliseconds of the submission, added to offsets in the stream.
        stopped_ms: where in the stream a cancel stopped it.
    """

    url: str
    scenes: tuple[str, ...]
    media: Media
    start_ms: int
    shots: tuple[Capture, ...]
    heard: tuple[Heard, ...]
    stopped_ms: int | None = None

    def tree(self, seen_ms: float) -> dict[str, Any]:
        """The result fields with what the first ``seen_ms`` of the stream showed."""
        shots = [shot for shot in self.shots if shot.time_ms <= seen_ms]
        heard = [part for part in self.heard if part.offset_ms + part.duration_ms <= seen_ms]
        return timeline_tree(self.scenes, shots, heard, offset_ms=self.start_ms)


def is_live(job: Job) -> bool:
    """Whether ``job`` is a live-stream job."""
    return job.request.get("Type") == LIVE_TYPE


def _seen_ms(job: Job, stream: LiveStream, now: float) -> float:
    """How much of the stream the job has watched by ``now``."""
    if stream.stopped_ms is not None:
        return stream.stopped_ms
    return min((now - job.schedule.started) * 1000, _length_ms(stream.media))


def _length_ms(media: Media) -> int:
    """How long a stream is watched: its ``duration_ms``, at most 5 h."""
    limit = MAX_STREAM_SECONDS * 1000
    return limit if media.duration_ms is None else min(media.duration_ms, limit)


def channels_in_use(service: Service) -> int:
    """How many live jobs hold a channel now (forgetting those that ended or were dropped)."""
    now = service.jobs.now()
    hold = service.controls.hold
    for job_id in list(service.live_jobs):
        job = service.jobs.get(job_id)
        if job is None or job.is_due(now, hold):
            service.live_jobs.discard(job_id)
    return len(service.live_jobs)


def _stream_url(node: Mapping[str, Any]) -> str:
    url = text_field(node, "Url")
    if url is None:
        raise invalid("Input.Url is required for live_video jobs.")
    echoable(url, "Url")
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in LIVE_SCHEMES:
        raise invalid(f"Input.Url must be a stream URL ({', '.join(LIVE_SCHEMES)}), not {url!r}.")
    return url


def _storage_conf(request: Mapping[str, Any]) -> None:
    node = request.get("StorageConf")
    if node is None or node == "":
        return
    if not isinstance(node, Mapping):
        raise invalid("StorageConf must be a container.")
    text_field(node, "Path")


async def submit(call: Call, request: Mapping[str, Any], kind: KindSpec) -> web.Response:
    """A ``Type=live_video`` submission (``request`` is already parsed)."""
    node = request.get("Input")
    if not isinstance(node, dict):
        raise invalid("Input is required and must be a single container.")
    url = _stream_url(node)
    data_id = validate_data_id(text_field(node, "DataId"))
    user_info = validate_user_info(node.get("UserInfo"))
    conf, scenes = parse_conf(request, MEDIA_SCENES, kind="live")
    if text_field(conf, "BizType") is None:
        raise invalid("Conf.BizType is required for live_video jobs.")
    optional_int(text_field(conf, "CallbackType"), "CallbackType", low=1, high=2)
    _storage_conf(request)
    service = call.service
    if channels_in_use(service) >= LIVE_CHANNELS:
        raise ApiError(
            403,
            "QueueSaturated",
            f"At most {LIVE_CHANNELS} live streams may be moderated at once; cancel one first.",
        )

    try:
        found = load_stream(service.sources, url)
    except SourceError as exc:  # a bad manifest fails the job, naming the bad field
        found = Media(fail=Failure(exc.code, exc.message))
    now = service.jobs.now()
    if found.fail is not None:
        outcome = Outcome.failure(found.fail.code, found.fail.message)
        schedule = Schedule(started=now, duration=0.0)
    else:
        rules = service.rules
        stream = LiveStream(
            url=url,
            scenes=scenes,
            media=found,
            start_ms=int(service.wall_time() * 1000),
            shots=tuple(
                Capture(f.time_ms, f.text, rules.moderate(f.text, scenes)) for f in found.frames
            ),
            heard=hear(rules, found.audio, scenes),
        )
        outcome = Outcome(stream)
        schedule = Schedule(started=now, duration=_length_ms(found) / 1000)
    job = record_job(
        call,
        kind,
        echo={"Url": url, "Type": LIVE_TYPE},
        data_id=data_id,
        user_info=user_info,
        request=request,
        outcome=outcome,
        stages=(AUDITING,),
        schedule=schedule,
    )
    stored = service.jobs.get(job.job_id)
    if stored is not None and stored.outcome is not None and stored.outcome.failed:
        # A failure injected as the job was stored (cosaudit.emulator.faults) would show only at
        # the stream's end, which may never come: the stream fails at once instead.
        service.jobs.finish(job.job_id, stored.outcome)
    elif not outcome.failed:
        service.live_jobs.add(job.job_id)
    detail = submitted_detail(job, with_echo=False)
    return call.answer({"JobsDetail": detail, "RequestId": call.request_id})


def detail(service: Service, job: Job, state: str) -> dict[str, Any]:
    """The ``JobsDetail`` of a live job: what it has seen so far while it runs, all of it once
    ended, what it saw until the cancel once cancelled."""
    outcome = job.outcome
    if outcome is None or not isinstance(outcome.result, LiveStream):
        return job_detail(job, state, lambda _: {})
    stream = outcome.result
    seen = _seen_ms(job, stream, service.jobs.now())
    return job_detail(
        job, state, lambda _: stream.tree(seen), with_result=state in (AUDITING, SUCCESS, CANCELLED)
    )


async def cancel(call: Call) -> web.Response:
    """``POST /video/cancel_auditing/<jobId>``: stop a running live stream job."""
    service = call.service
    job_id = call.params["job_id"]
    job = service.jobs.get(job_id)
    if job is None or job.kind != VIDEO:
        raise ApiError(404, "AuditingJobNotFound", f"The job {job_id} does not exist.")
    if not is_live(job):
        raise invalid(
            f"The job {job_id} is not a live_video job; only live streams can be cancelled."
        )
    now = service.jobs.now()
    hold = service.controls.hold
    outcome = job.outcome
    already = outcome is not None and outcome.cancelled
    if not already:
        if job.is_due(now, hold) or outcome is None or not isinstance(outcome.result, LiveStream):
            state = job.state(now, hold)
            raise invalid(f"The live stream job {job_id} has already ended ({state}).")
        stream = outcome.result
        stopped = evolve(stream, stopped_ms=int(_seen_ms(job, stream, now)))
        service.jobs.finish(job_id, Outcome(stopped, cancelled=True))
        service.live_jobs.discard(job_id)
        service.callbacks.notify(job_id)  # its final callback goes now
    tree = {"DataId": job.data_id, "JobId": job_id, "CreationTime": job.created_at}
    return call.answer({"JobsDetail": tree, "RequestId": call.request_id})
