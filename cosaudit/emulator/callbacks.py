"""Callbacks: the emulator POSTs each finished job to the ``Callback`` URL it was submitted with
(pages 436/48540 image, 48190 text, 48251 video, 48264 audio, 48260 document, 48284 webpage,
48280 live). What a callback says is :mod:`cosaudit.emulator.kinds.callback`'s; this module
decides where, when and how it is sent.

When: a job calls back once, when it turns final — on the job clock at the end of its duration,
on the query that finds it final (``final_after_polls``), when a ``hold`` is lifted, on a live
cancel. A live stream also calls back while it is watched, each time the job clock passes new
frames or audio segments. A stuck or held job never calls back (it never turns final). Sending
the callback makes the job final: a ``hold`` set later does not take it back.

Which jobs: asynchronous ones with a non-empty ``Callback`` (``callback=`` on the single-image
GET); synchronous answers never call back (the text page: ``Callback`` is ignored with
``Content``). Virus jobs accept ``Callback`` and never call back: their callback format is not
documented.

Choices where the service documents nothing (retries, timeout, expected answer, signing):

* a 2xx answer is a delivery; any other status, a redirect (never followed), a connection error
  or no answer within :attr:`CallbackPolicy.timeout` (5 s) is a failed try. 3 tries in all,
  1 s then 2 s apart (:class:`CallbackPolicy`); then the callback is given up
  (:attr:`Callbacks.given_up`). Callbacks are not signed, as on the service.
* the URL is checked at submission: not http(s) → 400 ``InvalidArgument``; not ``localhost`` or
  a literal loopback address (:func:`cosaudit.emulator.sources.is_loopback_url`) → 400
  ``InvalidArgument`` unless ``EmulatorConfig.allow_remote_callbacks``: the emulator must not
  be made to POST to other machines by a test that forgot to change a URL.
* sending never holds up a request or the job lifecycle: callbacks are queued and sent by
  :data:`WORKERS` background tasks (so at most that many are in flight), waits between tries
  are timers, and everything stops when the emulator shuts down (unsent callbacks are lost, as
  they would be on a server going away). The one exception is a ``callback-early`` fault, whose
  point is that the submission's answer waits for the callback.
* ``EmulatorConfig.callbacks = False`` (``--no-callbacks``): ``Callback`` is still validated,
  nothing is sent; :attr:`Callbacks.enabled` switches it at run time for jobs submitted after.

Callback faults (:mod:`cosaudit.emulator.faults`) are picked per callback, matching the method
and path of the job's submission: for a job's only callback as the job is submitted, for each
callback of a live stream as it is produced.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from attrs import define

from cosaudit.emulator.config import EmulatorConfig
from cosaudit.emulator.faults import Fault, FaultKind, Faults
from cosaudit.emulator.jobs import Job, JobStore
from cosaudit.emulator.responses import ApiError
from cosaudit.emulator.sources import is_loopback_url
from cosaudit.emulator.stats import Stats

__all__ = [
    "CONTENT_VERSION_HEADER",
    "WORKERS",
    "Callbacks",
    "Delivery",
    "Payload",
    "Producer",
    "Progress",
    "Target",
]

CONTENT_VERSION_HEADER = "X-Ci-Content-Version"
# Callbacks in flight at most (one background task each, one pooled connection each).
WORKERS = 32
# How many Delivery records Callbacks.log keeps (the newest).
LOG_SIZE = 10_000
# A job not final when looked at (held, stuck, final by polls, download running) is looked at
# again after this, doubling up to the cap: a hold lifted is seen within a second.
_RECHECK_FIRST = 0.01
_RECHECK_CAP = 1.0
# Kinds that pick the shape with CallbackVersion (default Simple), and those that take
# CallbackType (2: only violating items); page 436/48188 and the others, reference §3.6.
_VERSIONED = frozenset({"text", "video", "audio", "live"})
_TYPED = frozenset({"text", "video", "audio", "live", "document"})
# Document and webpage callbacks have one shape and no version header documented.
_UNVERSIONED = frozenset({"document", "webpage"})
_SERVICE_HOST = re.compile(
    r"(?P<bucket>[^.]+-\d+)\.(?:ci|cos)\.(?P<region>[^.]+)\.myqcloud\.com(?::\d+)?", re.IGNORECASE
)
# The early callbacks started while handling the current request (see Callbacks.open_request).
_EARLY: contextvars.ContextVar[list[asyncio.Task[None]] | None] = contextvars.ContextVar(
    "cosaudit_emulator_early_callbacks", default=None
)


def _invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidArgument", message)


@define(frozen=True, slots=True)
class Target:
    """Where and how a job calls back.

    Args:
        kind: the job's kind, ``live`` for a live stream.
        version: ``Simple`` or ``Detail``; None for the kinds with one shape and no header.
        only_violations: ``CallbackType=2``: item lists keep only violating items.
        bucket, region: from the submission's ``Host`` (``<bucket>.ci.<region>.myqcloud.com``);
            when it names none (an IP address), the emulator's bucket and an empty region.
    """

    url: str
    kind: str
    version: str | None
    only_violations: bool
    bucket: str = ""
    region: str = ""

    @property
    def repeats(self) -> bool:
        """Whether the job calls back more than once (a live stream)."""
        return self.kind == "live"


@define(frozen=True, slots=True)
class Payload:
    """One callback's JSON document and the job state it reports."""

    state: str
    body: Mapping[str, Any]


@define(frozen=True, slots=True)
class Progress:
    """What a job has to say when looked at.

    Args:
        payloads: callbacks to send now.
        done: the job is final; nothing more will be sent.
        cursor: how far the job has reported (a live stream: milliseconds watched).
        next_at: job-clock time to look again; None: soon (the job is not final yet).
    """

    payloads: tuple[Payload, ...] = ()
    done: bool = False
    cursor: float = -1.0
    next_at: float | None = None


# (job, state answered now, target, cursor) -> Progress; set by create_app.
Producer = Callable[[Job, str, Target, float], Progress]


@define(frozen=True, slots=True)
class Delivery:
    """One try at sending a callback, for tests to assert on: the answer's ``status``, or the
    ``error`` that stopped it (``status`` None)."""

    job_id: str
    url: str
    state: str
    attempt: int
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _Send:
    """A callback on its way: its tries so far, and held-back callbacks to release after it."""

    __slots__ = ("attempt", "body", "headers", "job_id", "released", "state", "then", "url")

    def __init__(
        self, job_id: str, url: str, state: str, body: bytes, headers: Mapping[str, str]
    ) -> None:
        self.job_id = job_id
        self.url = url
        self.state = state
        self.body = body
        self.headers = headers
        self.attempt = 0
        self.then: list[_Send] = []
        self.released = False


class _Watch:
    """A job that will call back."""

    __slots__ = ("cursor", "fault", "job_id", "method", "path", "recheck", "target", "timer")

    def __init__(self, job_id: str, target: Target, method: str, path: str) -> None:
        self.job_id = job_id
        self.target = target
        self.method = method
        self.path = path
        self.cursor = -1.0
        self.recheck = _RECHECK_FIRST
        self.fault: Fault | None = None
        self.timer: asyncio.Handle | None = None


class Callbacks:
    """The callbacks of one emulator: ``emulator.callbacks``.

    Attributes:
        enabled: send callbacks of jobs submitted from now on (``EmulatorConfig.callbacks``).
        delivered: callbacks answered 2xx (a duplicate counts twice).
        failed_attempts: tries that failed (each retried one counts).
        given_up: callbacks whose every try failed.
        dropped: callbacks a ``callback-dropped`` fault kept from being sent.
        log: the newest :data:`LOG_SIZE` tries, oldest first (:class:`Delivery`).
    """

    def __init__(
        self,
        config: EmulatorConfig,
        jobs: JobStore,
        faults: Faults,
        stats: Stats,
        hold: Callable[[], bool],
    ) -> None:
        self.enabled = config.callbacks
        self.producer: Producer | None = None
        self._policy = config.callback_policy
        self._allow_remote = config.allow_remote_callbacks
        self._bucket = config.full_bucket
        self._jobs = jobs
        self._faults = faults
        self._stats = stats
        self._hold = hold
        self._watched: dict[str, _Watch] = {}
        self._queue: asyncio.Queue[_Send] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._held: list[_Send] = []
        self._early: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self.delivered = 0
        self.failed_attempts = 0
        self.given_up = 0
        self.dropped = 0
        self.log: deque[Delivery] = deque(maxlen=LOG_SIZE)

    @property
    def pending(self) -> int:
        """Jobs that will still call back, and callbacks queued, waiting or held back."""
        return len(self._watched) + self._queue.qsize() + len(self._timers) + len(self._held)

    # --- at submission -------------------------------------------------------------------------

    def target(
        self, request: Mapping[str, Any], kind: str, host: str, *, live: bool = False
    ) -> Target | None:
        """Where a job submitted with ``request`` calls back, or None; 400 ``InvalidArgument``
        for a ``Callback`` that is not http(s), not loopback (unless allowed), or a bad
        ``CallbackVersion``/``CallbackType``."""
        if kind == "virus":
            return None  # its callback format is not documented: accepted, never called
        name = "live" if live else kind
        conf = request.get("Conf")
        if isinstance(conf, Mapping):
            url, version, kind_type = (
                conf.get("Callback"),
                conf.get("CallbackVersion"),
                conf.get("CallbackType"),
            )
        else:  # the single-image GET's query
            url, version, kind_type = request.get("callback"), None, None
        if url is None or url == "":
            return None
        if not isinstance(url, str) or not _is_http(url):
            raise _invalid("Param Callback is illegal: it must be an http(s) URL.")
        if not (self._allow_remote or is_loopback_url(url)):
            raise _invalid(
                f"Param Callback is illegal: the emulator calls back loopback URLs only, not "
                f"{url!r} (EmulatorConfig.allow_remote_callbacks, --allow-remote-callbacks)."
            )
        shape: str | None = None
        if name == "image":
            shape = "Detail"  # image callbacks are always Detail (page 436/48540)
        elif name in _VERSIONED:
            shape = version or "Simple"
            if shape not in ("Simple", "Detail"):
                raise _invalid(f"Param CallbackVersion is illegal: {version!r}.")
        only_violations = False
        if name in _TYPED and kind_type not in (None, ""):
            if kind_type not in ("1", "2"):
                raise _invalid(f"Param CallbackType is illegal: {kind_type!r}.")
            only_violations = kind_type == "2"
        found = _SERVICE_HOST.fullmatch(host)
        bucket, region = (found["bucket"], found["region"]) if found else (self._bucket, "")
        return Target(url, name, shape, only_violations, bucket, region)

    def watch(self, job: Job, target: Target, method: str, path: str) -> None:
        """Call back when ``job`` (just stored) turns final, per ``target``; ``method`` and
        ``path`` are the submission's, which callback faults match."""
        if not self.enabled or self.producer is None or self._closed:
            return
        watch = _Watch(job.job_id, target, method, path)
        if not target.repeats:
            watch.fault = self._pick(watch, early=True)
            if watch.fault is not None and watch.fault.kind is FaultKind.CALLBACK_EARLY:
                self._start_early(watch)  # not watched: nothing else may send it meanwhile
                return
        self._watched[job.job_id] = watch
        # A live stream is looked at right away (frames at 0 ms), a job when it is due.
        due = job.schedule.started + (0.0 if target.repeats else job.schedule.duration)
        self._schedule(watch, due)

    def open_request(self) -> None:
        """Start collecting the early callbacks of the request being handled (call at its
        start: tasks handling parts of it, like batch items, share the collection)."""
        _EARLY.set([])

    async def before_answer(self) -> None:
        """Wait for the early callbacks started by the request being handled."""
        tasks = _EARLY.get()
        if tasks:
            await asyncio.wait(tasks)

    def notify(self, job_id: str) -> None:
        """Look at a watched job now (a query found it final, a live stream was cancelled)."""
        watch = self._watched.get(job_id)
        if watch is None or self._closed:
            return
        if watch.timer is not None:
            watch.timer.cancel()
        watch.timer = asyncio.get_running_loop().call_soon(self._look, job_id)

    # --- looking at jobs -------------------------------------------------------------------------

    def _schedule(self, watch: _Watch, at: float | None) -> None:
        if at is None:
            delay = watch.recheck
            watch.recheck = min(watch.recheck * 2, _RECHECK_CAP)
        else:
            delay = max(0.0, at - self._jobs.now())
            watch.recheck = _RECHECK_FIRST
        watch.timer = asyncio.get_running_loop().call_later(delay, self._look, watch.job_id)

    def _look(self, job_id: str) -> None:
        watch = self._watched.get(job_id)
        if watch is None or self._closed or self.producer is None:
            return
        watch.timer = None
        job = self._jobs.get(job_id)
        if job is None:  # dropped from the store (max_jobs): nothing left to report
            del self._watched[job_id]
            return
        state = self._jobs.record(job, self._hold()).state
        progress = self.producer(job, state, watch.target, watch.cursor)
        if progress.done and not job.finished and job.outcome is not None:
            self._jobs.finish(job_id, job.outcome)
        for payload in progress.payloads:
            self._emit(watch, payload)
        if progress.done:
            del self._watched[job_id]
            return
        watch.cursor = progress.cursor
        self._schedule(watch, progress.next_at)

    def _pick(self, watch: _Watch, *, early: bool) -> Fault | None:
        fault = self._faults.pick_callback(watch.method, watch.path, early=early)
        if fault is not None:
            self._stats.faults[fault.label] += 1
        return fault

    # --- sending ---------------------------------------------------------------------------------

    def _message(self, watch: _Watch, payload: Payload) -> _Send:
        headers = {"Content-Type": "application/json", "User-Agent": "cosaudit-emulator"}
        if watch.target.version is not None:
            headers[CONTENT_VERSION_HEADER] = watch.target.version
        body = json.dumps(payload.body, ensure_ascii=False, separators=(",", ":")).encode()
        return _Send(watch.job_id, watch.target.url, payload.state, body, headers)

    def _emit(self, watch: _Watch, payload: Payload) -> None:
        send = self._message(watch, payload)
        if watch.target.repeats:
            fault = self._pick(watch, early=False)
        else:
            fault, watch.fault = watch.fault, None
        kind = fault.kind if fault is not None else None
        if kind is FaultKind.CALLBACK_DROPPED:
            self.dropped += 1
        elif kind is FaultKind.CALLBACK_DELAYED:
            self._later(_delay(fault), send)
        elif kind is FaultKind.CALLBACK_REORDERED:
            self._held.append(send)
            self._hold_until(_delay(fault), send)
        else:
            if kind is FaultKind.CALLBACK_DUPLICATED:
                self._enqueue(_Send(send.job_id, send.url, send.state, send.body, send.headers))
            # Held-back callbacks go out once this one has been tried: after it, not beside it.
            send.then, self._held = self._held, []
            self._enqueue(send)

    def _later(self, delay: float, send: _Send) -> None:
        """Queue ``send`` in ``delay`` seconds (a delayed callback, a retry)."""
        self._timer(delay, lambda: self._enqueue(send))

    def _hold_until(self, delay: float, send: _Send) -> None:
        """Release a held-back ``send`` in ``delay`` seconds at the latest."""
        self._timer(delay, lambda: self._release(send))

    def _timer(self, delay: float, action: Callable[[], None]) -> None:
        def fire() -> None:
            self._timers.discard(handle)
            action()

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)

    def _release(self, send: _Send) -> None:
        """Send a held-back callback now (its hold ran out, or the next one was tried); only
        the first of the two releases it."""
        if send.released:
            return
        send.released = True
        if send in self._held:
            self._held.remove(send)
        self._enqueue(send)

    def _enqueue(self, send: _Send) -> None:
        if self._closed:
            return
        if not self._workers:
            loop = asyncio.get_running_loop()
            self._workers = [loop.create_task(self._work()) for _ in range(WORKERS)]
        self._queue.put_nowait(send)

    async def _work(self) -> None:
        while True:
            await self._try(await self._queue.get())

    async def _try(self, send: _Send, *, retry_later: bool = True) -> bool:
        """One try; True when delivered. On a failure with tries left, the next is queued after
        its backoff (``retry_later``) or left to the caller."""
        send.attempt += 1
        status, error = await self._post(send)
        record = Delivery(send.job_id, send.url, send.state, send.attempt, status, error)
        self.log.append(record)
        for held in send.then:
            self._release(held)
        send.then = []
        if record.ok:
            self.delivered += 1
            return True
        self.failed_attempts += 1
        if send.attempt >= self._policy.attempts:
            self.given_up += 1
        elif retry_later:
            self._later(self._backoff(send.attempt), send)
        return False

    def _backoff(self, tries: int) -> float:
        """The wait after the ``tries``-th failed try: backoff, doubling."""
        return float(self._policy.backoff * 2 ** (tries - 1))

    async def _post(self, send: _Send) -> tuple[int | None, str | None]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._policy.timeout),
                connector=aiohttp.TCPConnector(limit=WORKERS),
            )
        try:
            async with self._session.post(
                send.url, data=send.body, headers=send.headers, allow_redirects=False
            ) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            return None, type(exc).__name__

    # --- callback-early ---------------------------------------------------------------------------

    def _start_early(self, watch: _Watch) -> None:
        task = asyncio.get_running_loop().create_task(self._send_early(watch))
        self._early.add(task)
        task.add_done_callback(self._early.discard)
        collected = _EARLY.get()
        if collected is not None:
            collected.append(task)

    async def _send_early(self, watch: _Watch) -> None:
        """End the job now and send its callback, every try, before the submission answers."""
        job_id = watch.job_id
        await self._jobs.settle(job_id)
        self._watched.pop(job_id, None)
        job = self._jobs.get(job_id)
        outcome = job.outcome if job is not None else None
        if outcome is None or self.producer is None:
            return
        job = self._jobs.finish(job_id, outcome)
        progress = self.producer(job, outcome.state, watch.target, -1.0)
        for payload in progress.payloads:
            send = self._message(watch, payload)
            while not await self._try(send, retry_later=False):
                if send.attempt >= self._policy.attempts:
                    break
                await asyncio.sleep(self._backoff(send.attempt))

    # --- shutdown ---------------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop: no more callbacks; those unsent are lost. Safe to call twice."""
        self._closed = True
        for watch in self._watched.values():
            if watch.timer is not None:
                watch.timer.cancel()
        self._watched.clear()
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        self._held.clear()
        tasks = [*self._workers, *self._early]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers = []
        if self._session is not None:
            await self._session.close()
            self._session = None

    def __repr__(self) -> str:
        return (
            f"Callbacks(enabled={self.enabled!r}, delivered={self.delivered}, "
            f"given_up={self.given_up}, dropped={self.dropped}, pending={self.pending})"
        )


def _delay(fault: Fault | None) -> float:
    return fault.delay if fault is not None and fault.delay is not None else 0.0


def _is_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
