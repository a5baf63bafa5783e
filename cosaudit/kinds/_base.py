"""What every kind shares: send a request model (and wait for its job), query a job by id,
wait for it, read ``JobsDetail``; an ambiguous submission becomes ``SubmissionUnknown``, and a
not-found job id that looks like another kind's says so."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import attrs

from .. import inputs
from ..config import PollPolicy
from ..errors import (
    CosAuditError,
    InvalidInput,
    JobTimeout,
    MalformedResponse,
    NotFoundError,
    SubmissionUnknown,
)
from ..models import Job, ModelError, structure
from ..requests import Request
from ..retrying import is_ambiguous
from ..session import Response, Session
from ..waiting import settle, wait_for_job
from ..wire import xmlcodec

if TYPE_CHECKING:
    from ..callbacks.receiver import CallbackReceiver

J = TypeVar("J", bound=Job)
R = TypeVar("R", bound=Request)
Q = TypeVar("Q", bound=Request)

# JobId prefixes seen for each kind, for the hint a not-found answer gets. They appear only in
# the pages' samples (436/48539, 48189, ...) and are never documented, so an id is never refused
# for its prefix: the hint only rewords the service's own not-found answer. Left out: vab, aab
# and iab, which the samples use for several kinds each (vab: video, live, text, document).
# sa (audio) and sd (document) are the emulator's; live shares video's endpoint and av.
_JOB_PREFIXES = (
    ("si", "image"),
    ("st", "text"),
    ("sh", "webpage"),
    ("ss", "virus"),
    ("av", "video"),
    ("sa", "audio"),
    ("sd", "document"),
)


def other_kind(job_id: str, path: str) -> tuple[str, str] | None:
    """The prefix and kind of ``job_id`` when it looks like another kind's than ``path``'s."""
    own = path.strip("/").split("/")[0]
    for prefix, kind in _JOB_PREFIXES:
        if job_id.startswith(prefix):
            return None if kind == own else (prefix, kind)
    return None


class JobKind(Generic[J, R]):
    """The calls every asynchronous kind offers; each kind names its ``model`` and ``path``.

    ``submit_request`` and ``moderate_request`` take a request model (:mod:`cosaudit.requests`);
    each kind's keyword ``submit`` and ``moderate`` build one and call them.
    """

    model: type[J]
    request_type: type[R]
    path: str
    # The kind's name in callbacks (cosaudit.callbacks.parsing.CALLBACK_KINDS), or None for a
    # kind that does not call back.
    calls_back: ClassVar[str | None] = None

    def __init__(
        self,
        session: Session,
        poll: PollPolicy,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        callbacks: CallbackReceiver | None = None,
    ) -> None:
        self._session = session
        self.poll = poll
        self._clock = clock
        self._sleep = sleep
        self._callbacks = callbacks if self.calls_back is not None else None

    async def get(self, job_id: str) -> J:
        """Query a job once (``GET /<kind>/auditing/<jobId>``)."""
        with self._kind_hint(job_id):
            response = await self._session.request("GET", f"{self.path}/{inputs.job_id(job_id)}")
        return self._job(response)

    async def submit_request(self, request: R) -> J:
        """Send a request model; returns the job as the service answered (``Submitted``, or
        final for a synchronous request)."""
        self._own(request, self.request_type)
        request, receiver = self._with_callback(request)
        if receiver is None:
            return self._job(await self._post(request.to_body()))
        with receiver.submitting():
            job = self._job(await self._post(request.to_body()))
            self._expect(receiver, (job,))
        return job

    def _with_callback(self, request: Q) -> tuple[Q, CallbackReceiver | None]:
        """The request carrying the receiver's URL (and ``CallbackVersion=Detail`` where the
        kind takes it), and the receiver; unchanged, with None, when there is no receiver, the
        request is answered at once, or it names a callback of its own."""
        receiver = self._callbacks
        if receiver is None or request.synchronous or getattr(request, "callback", 0) is not None:
            return request, None
        changes: dict[str, Any] = {"callback": receiver.url}
        if getattr(request, "callback_version", 0) is None:
            changes["callback_version"] = "Detail"  # the whole result, not Simple's summary
        return attrs.evolve(request, **changes), receiver

    def _expect(self, receiver: CallbackReceiver, jobs: tuple[J, ...]) -> None:
        for job in jobs:
            if job.job_id and not job.is_final:
                receiver.expect(job.job_id, self.calls_back or "")

    def _own(self, request: object, expected: type[Any]) -> None:
        """Refuse a request model of another kind before it is sent: the service would take
        an ImageRequest's body at the text endpoint and bill a text job that cannot succeed."""
        if isinstance(request, expected):
            return
        given = type(request).__name__
        detail = f"this kind takes {expected.__name__}, not {given}"
        if isinstance(request, Request):
            # ImageBatchRequest -> image, LiveRequest -> live: the client attribute to use.
            kind = given.removesuffix("Request").removesuffix("Batch").lower()
            detail += f": send it with client.{kind}"
        raise InvalidInput("request", detail)

    async def moderate_request(
        self, request: R, *, timeout: float | None = None, raise_on_failure: bool = True
    ) -> J:
        """Send a request model and return the final job: a synchronous answer as it came,
        else the job waited for (``timeout`` seconds at most, default ``poll.timeout``)."""
        job = await self.submit_request(request)
        if request.synchronous:
            # A synchronous answer is the result, whatever its State says.
            return settle(job, raise_on_failure)
        return await self._follow(job, timeout, raise_on_failure)

    @contextmanager
    def _kind_hint(self, job_id: str) -> Iterator[None]:
        """Say so when a job is not found and its id looks like another kind's."""
        try:
            yield
        except NotFoundError as error:
            other = other_kind(job_id, self.path)
            if other is None:
                raise
            prefix, kind = other
            article = "an" if kind[0] in "aeiou" else "a"
            hint = f"'{prefix}…' looks like {article} {kind} job id: use client.{kind}.get"
            raise type(error)(
                error.status,
                error.code,
                f"{error.message} ({hint})",
                request_id=error.request_id,
                trace_id=error.trace_id,
                method=error.method,
                url=error.url,
            ) from None

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        raise_on_failure: bool = True,
        policy: PollPolicy | None = None,
    ) -> J:
        """Poll until the job is final and return it.

        Raises :class:`~cosaudit.errors.JobTimeout` at the deadline (default
        ``poll.timeout``), and :class:`~cosaudit.errors.JobFailed` for a failed job unless
        ``raise_on_failure=False``.
        """
        inputs.job_id(job_id)
        return await self._wait(job_id, None, timeout, raise_on_failure, policy)

    async def _wait(
        self,
        job_id: str,
        first: J | None,
        timeout: float | None,
        raise_on_failure: bool,
        policy: PollPolicy | None,
    ) -> J:
        receiver = self._callbacks
        if receiver is not None and receiver.expects(job_id):
            return await self._wait_pushed(
                receiver, job_id, first, timeout, raise_on_failure, policy or self.poll
            )
        return await wait_for_job(
            lambda: self.get(job_id),
            job_id=job_id,
            first=first,
            policy=policy or self.poll,
            timeout=timeout,
            raise_on_failure=raise_on_failure,
            clock=self._clock,
            sleep=self._sleep,
        )

    async def _wait_pushed(
        self,
        receiver: CallbackReceiver,
        job_id: str,
        first: J | None,
        timeout: float | None,
        raise_on_failure: bool,
        policy: PollPolicy,
    ) -> J:
        """Wait for a job submitted with the receiver's URL: its push, polling after the
        receiver's grace period (:mod:`cosaudit.callbacks.waiting`)."""
        from ..callbacks.waiting import wait_for_push

        limit = policy.timeout if timeout is None else timeout
        if not isinstance(limit, int | float) or not 0 <= limit < math.inf:
            raise InvalidInput("timeout", f"must be a finite number of seconds >= 0, got {limit!r}")

        async def poll(remaining: float) -> J:
            try:
                # With the submit answer as ``first``, the fallback's schedule is the plain
                # wait's, shifted by the grace period: no extra short poll.
                return await wait_for_job(
                    lambda: self.get(job_id),
                    job_id=job_id,
                    first=first,
                    policy=policy,
                    timeout=remaining,
                    raise_on_failure=raise_on_failure,
                    clock=self._clock,
                    sleep=self._sleep,
                )
            except JobTimeout as error:  # the caller's timeout, not what was left of it
                raise JobTimeout(job_id, limit, error.job) from None

        return await wait_for_push(
            receiver,
            job_id,
            self.calls_back or "",
            fetch=lambda: self.get(job_id),
            poll=poll,
            timeout=limit,
            raise_on_failure=raise_on_failure,
            clock=self._clock,
            sleep=self._sleep,
        )

    async def _follow(self, job: J, timeout: float | None, raise_on_failure: bool) -> J:
        """Wait for a job the service just answered with, unless it is final already."""
        if job.is_final:
            return settle(job, raise_on_failure)
        if not job.job_id:
            raise MalformedResponse("the submit answer has no JobId")
        return await self._wait(job.job_id, job, timeout, raise_on_failure, None)

    async def _post(self, body: Mapping[str, Any]) -> Response:
        payload = xmlcodec.build("Request", body)
        # A plain try, no helper frame or context manager: every submission comes here, and
        # the DataIds are read only when it failed.
        try:
            return await self._session.request("POST", self.path, body=payload)
        except CosAuditError as error:
            if not is_ambiguous(error):
                raise
            raise self._unknown(error, data_ids(body)) from error

    def _unknown(self, error: CosAuditError, ids: tuple[str | None, ...]) -> SubmissionUnknown:
        """The error of a submission whose fate is open.

        The session already resent it if the policy is ``AmbiguousSubmit.RETRY``; what is
        left is ambiguous either way, and the caller reconciles by ``DataId``.
        """
        kind = self.path.strip("/").split("/")[0]
        single = ids[0] if len(ids) == 1 else None
        return SubmissionUnknown(kind, single, error, data_ids=ids)

    def _job(self, response: Response) -> J:
        return self._jobs(response)[0]

    def _jobs(self, response: Response) -> tuple[J, ...]:
        detail = response.body.get("JobsDetail")
        items: list[Any] = detail if isinstance(detail, list) else [detail]
        if not items or not all(isinstance(item, dict) for item in items):
            raise MalformedResponse(
                "answer has no JobsDetail", status=response.status, request_id=response.request_id
            )
        return tuple(self._structure(item, response) for item in items)

    def _structure(self, item: Mapping[str, Any], response: Response) -> J:
        try:
            job = structure(self.model, item)
        except ModelError as exc:
            raise MalformedResponse(
                f"unexpected {self.model.__name__} shape: {exc}",
                status=response.status,
                request_id=response.request_id,
            ) from None
        # Every documented job answer names its job; only an item that failed (an invalid
        # batch entry) may come without one. Without it there is nothing to poll or report.
        if not job.job_id and not job.is_failed:
            raise MalformedResponse(
                f"{self.model.__name__} answer has no JobId",
                status=response.status,
                request_id=response.request_id,
            )
        return job


def data_ids(request: Mapping[str, Any]) -> tuple[str | None, ...]:
    """The ``DataId`` of each input of a request body, in order (None where not given)."""
    items = request.get("Input")
    entries = items if isinstance(items, list | tuple) else [items]
    return tuple(entry.get("DataId") if isinstance(entry, Mapping) else None for entry in entries)
