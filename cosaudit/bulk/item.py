"""One item's life in a bulk run: made into the kind's request, submitted (each step journaled
first, never resent blindly, let finish when the run is stopped), its job followed by id,
retried after a pause, and turned into its result. Why it works so: :mod:`cosaudit.bulk`."""

from __future__ import annotations

import asyncio
import enum
import functools
import random
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Literal, Protocol, TypeVar

import attrs
from attrs import define, field

from ..config import PollPolicy, RetryPolicy
from ..errors import ClientStateError, CosAuditError, InvalidInput, JobTimeout, NotFoundError
from ..journal import Journal, Open, Phase
from ..models import Job, JobState
from ..requests import Request, structure
from ..retrying import (
    backoff,
    first_poll_wait,
    is_turned_away,
    needs_reconciling,
    observing_retries,
)
from .identity import BulkItem
from .rate import RateLimiter
from .results import BulkResult, ItemStatus, _code

__all__ = ["DEFAULT_ITEM_RETRY", "AmbiguousPolicy", "Delivery", "ItemLife", "Moderation"]

J = TypeVar("J", bound=Job)
J_co = TypeVar("J_co", bound=Job, covariant=True)

AmbiguousPolicy = Literal["report", "resubmit"]

# Item-level retries, on top of the session's per-request ones: longer waits, for outages that
# outlast a request's retries (throttling storms, a restarting service).
DEFAULT_ITEM_RETRY = RetryPolicy(attempts=3, initial=1.0, maximum=30.0, deadline=300.0)


class Moderation(Protocol[J_co]):
    """What a bulk run needs of a kind (``client.text``, ``client.image``...)."""

    poll: PollPolicy

    @property
    def request_type(self) -> type[Request]: ...

    @property
    def submit_request(self) -> Callable[[Any], Awaitable[J_co]]: ...

    def wait(
        self, job_id: str, *, timeout: float | None = ..., raise_on_failure: bool = ...
    ) -> Awaitable[J_co]: ...


def _text(value: enum.Enum | str | None) -> str | None:
    return value.value if isinstance(value, enum.Enum) else value


@define(frozen=True, slots=True)
class Delivery(Generic[J]):
    """An item's result on its way to the caller; with ``finish`` (a final job, or one gone for
    good) the item is journaled as finished once the caller is past it, else a resume takes it
    up again."""

    result: BulkResult[J]
    finish: bool


@define(frozen=True, slots=True, eq=False)
class ItemLife(Generic[J]):
    """Takes each item of one run to its result, with what the run's items share: the kind,
    the policies, the clock and the journal.

    Args:
        name: the kind, for error messages and results.
        journal: the run's open journal, if it keeps one.
        on_retry: called before each item-level retry (the run counts them).
        mixed: the run takes items of several kinds: a mapping item's ``kind`` key (which
            chose this life) is no request field, and journal records name the kind.
        limiter: paces submissions and hears of every answer to one (the session's own
            retries included), if the run has a rate.
    """

    name: str
    _kind: Moderation[J]
    _on_ambiguous: AmbiguousPolicy
    _timeout: float | None
    _retry: RetryPolicy
    _sleep: Callable[[float], Awaitable[None]]
    _monotonic: Callable[[], float]
    _rng: random.Random
    _on_retry: Callable[[], None]
    _journal: Journal | None = None
    _mixed: bool = False
    _limiter: RateLimiter | None = None
    _request_type: type[Request] = field(
        init=False, default=attrs.Factory(lambda self: self._kind.request_type, takes_self=True)
    )
    _takes_object: bool = field(
        init=False,
        default=attrs.Factory(
            lambda self: "object" in attrs.fields_dict(self._request_type), takes_self=True
        ),
    )
    # Virus detection has no DataId: there the id lives in the journal only.
    _takes_data_id: bool = field(
        init=False,
        default=attrs.Factory(
            lambda self: "data_id" in attrs.fields_dict(self._request_type), takes_self=True
        ),
    )

    @property
    def limiter(self) -> RateLimiter | None:
        """The run's rate limiter, if it has a rate."""
        return self._limiter

    async def run(self, ident: str, item: BulkItem | None, entry: Open | None) -> Delivery[J]:
        """One item to its result; with no ``item``, a job its journal ``entry`` says is owed."""
        started = self._monotonic()
        outcome = await self._item(ident, item, entry)
        delivery = outcome if isinstance(outcome, Delivery) else Delivery(outcome, False)
        # The item, its kind and its latency ride on the result, for records and reports.
        result = attrs.evolve(
            delivery.result, kind=self.name, item=item, elapsed=self._monotonic() - started
        )
        return Delivery(result, delivery.finish)

    @property
    def _tag(self) -> str | None:
        """The kind to name in journal records (a run of several kinds only)."""
        return self.name if self._mixed else None

    def done(self, result: BulkResult[J]) -> None:
        """Journal the item as finished: a resume skips it."""
        if self._journal is None:
            return
        job = result.job
        verdict = job.verdict if job is not None else None
        self._journal.done(
            result.id,
            result.job_id,
            state=_text(job.state) if job is not None else None,
            label=job.label if job is not None else None,
            verdict=int(verdict) if verdict is not None else None,
            code=result.code,
        )

    def _request(self, ident: str, item: BulkItem) -> Request:
        """The item as the kind's request, sent with its id as DataId; refused if it is not one."""
        if isinstance(item, Request):
            if not isinstance(item, self._request_type):
                raise InvalidInput(
                    "items",
                    f"{self.name} takes a {self._request_type.__name__}, "
                    f"not a {type(item).__name__}",
                )
            if self._takes_data_id and getattr(item, "data_id", None) != ident:
                renamed: dict[str, Any] = {"data_id": ident}  # a field of this kind's request
                return attrs.evolve(item, **renamed)
            return item
        if isinstance(item, str):
            is_url = item.startswith(("http://", "https://"))
            data: dict[str, Any] = {"url" if is_url or not self._takes_object else "object": item}
        else:
            data = dict(item)
            if self._mixed:
                data.pop("kind", None)
        if self._takes_data_id:
            data["data_id"] = ident
        return structure(data, self._request_type)

    async def _item(
        self, ident: str, item: BulkItem | None, entry: Open | None
    ) -> BulkResult[J] | Delivery[J]:
        duplicate = False
        if entry is not None:
            if entry.phase is Phase.SUBMITTED and entry.job_id is not None:
                return await self._follow(
                    ident, entry.job_id, duplicate=entry.earlier, resumed=True
                )
            code = entry.code or "Interrupted"  # 'trying' never answered: the process died
            if self._on_ambiguous == "report" or item is None:
                return BulkResult(
                    ident, ItemStatus.AMBIGUOUS, code=code, possible_duplicate=entry.earlier
                )
            duplicate = True
        assert item is not None
        try:
            request = self._request(ident, item)
        except InvalidInput as error:
            if self._journal is not None:
                self._journal.refused(ident, _code(error))
            return self._refused(ident, error, duplicate)
        started = self._monotonic()
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._send(ident, request, duplicate)
            if not isinstance(outcome, CosAuditError):
                break
            ambiguous = needs_reconciling(outcome)
            retry = is_turned_away(outcome) or (ambiguous and self._on_ambiguous == "resubmit")
            if not retry or not await self._pause(attempt, started):
                if ambiguous or duplicate:
                    # Refused now, but this or an earlier attempt may have been accepted.
                    return BulkResult(
                        ident, ItemStatus.AMBIGUOUS, code=_code(outcome), error=outcome,
                        possible_duplicate=duplicate,
                    )  # fmt: skip
                return self._refused(ident, outcome, duplicate)
            duplicate = duplicate or ambiguous
        job = outcome
        if job.is_final:
            return self._final(ident, job, job.job_id, duplicate, resumed=False)
        if not job.job_id:
            return BulkResult(ident, ItemStatus.AMBIGUOUS, job=job, code="NoJobId")
        # The job was just created: the first poll waits an interval (as client.*.moderate).
        policy = self._kind.poll
        await self._sleep(first_poll_wait(policy, self._rng))
        return await self._follow(ident, job.job_id, duplicate=duplicate, resumed=False)

    async def _send(self, ident: str, request: Request, duplicate: bool) -> J | CosAuditError:
        """One submission; the journal learns its outcome even if the run is stopped meanwhile."""
        # Before 'trying': waiting here sends nothing.
        sent = await self._limiter.acquire() if self._limiter is not None else None
        journal = self._journal
        if journal is not None:
            journal.trying(ident, kind=self._tag)
            try:
                await journal.commit()  # on disk before the request can be
            except asyncio.CancelledError:
                journal.refused(ident, "Cancelled")  # nothing was sent
                raise
        task = asyncio.ensure_future(self._call_submit(request, sent))
        try:
            outcome = await asyncio.shield(task)
        except asyncio.CancelledError:
            # Stopping: this request may be on the wire. Let it finish so its JobId (or
            # refusal) is journaled; a second cancellation gives up on it, and the 'trying'
            # record makes it ambiguous on resume.
            try:
                await asyncio.wait({task})
            finally:
                if not task.done():
                    task.cancel()
            self._journal_submission(ident, task.result(), duplicate)
            raise
        self._journal_submission(ident, outcome, duplicate)
        return outcome

    async def _call_submit(self, request: Request, sent: float | None) -> J | CosAuditError:
        limiter = self._limiter
        if limiter is None:
            return await self._submit(request)
        # The session's own retries of this submission (a SlowDown it resent) reach the
        # limiter too: the adaptive rate must hear of every throttled answer. An adaptive rate
        # is the submissions' answer to SlowDown: the session's pause stays out of its way.
        with observing_retries(
            functools.partial(limiter.resent, sent=sent), paced=limiter.adaptive is not None
        ):
            outcome = await self._submit(request)
        limiter.answered(outcome if isinstance(outcome, CosAuditError) else None, sent)
        return outcome

    async def _submit(self, request: Request) -> J | CosAuditError:
        try:
            return await self._kind.submit_request(request)
        except ClientStateError:
            raise  # a closed client fails every item alike: stop the run instead
        except CosAuditError as error:
            return error

    def _journal_submission(self, ident: str, outcome: J | CosAuditError, duplicate: bool) -> None:
        journal = self._journal
        if journal is None:
            return
        if isinstance(outcome, CosAuditError):
            if needs_reconciling(outcome):
                journal.ambiguous(ident, _code(outcome), kind=self._tag)
            else:
                journal.refused(ident, _code(outcome))
        elif outcome.job_id:
            # Final answers too (a synchronous API): should the run stop before handing it
            # over, a resume fetches it by JobId instead of calling it ambiguous.
            journal.submitted(ident, outcome.job_id, duplicate=duplicate, kind=self._tag)

    async def _follow(
        self, ident: str, job_id: str, *, duplicate: bool, resumed: bool
    ) -> BulkResult[J] | Delivery[J]:
        """Wait for a job by id; always safe to retry."""
        started = self._monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                job = await self._kind.wait(job_id, timeout=self._timeout, raise_on_failure=False)
            except JobTimeout as error:
                return BulkResult(
                    ident, ItemStatus.PENDING, job=error.job, job_id=job_id, code="JobTimeout",
                    error=error, possible_duplicate=duplicate, resumed=resumed,
                )  # fmt: skip
            except (NotFoundError, InvalidInput) as error:
                # Expired, or never existed: waiting again cannot help, and resubmitting
                # would bill a second job. Final.
                result: BulkResult[J] = BulkResult(
                    ident, ItemStatus.FAILED, job_id=job_id, code=_code(error), error=error,
                    possible_duplicate=duplicate, resumed=resumed,
                )  # fmt: skip
                return Delivery(result, True)
            except ClientStateError:
                raise
            except CosAuditError as error:
                if await self._pause(attempt, started):
                    continue
                return BulkResult(
                    ident, ItemStatus.PENDING, job_id=job_id, code=_code(error), error=error,
                    possible_duplicate=duplicate, resumed=resumed,
                )  # fmt: skip
            return self._final(ident, job, job_id, duplicate, resumed=resumed)

    def _final(
        self, ident: str, job: J, job_id: str | None, duplicate: bool, *, resumed: bool
    ) -> Delivery[J]:
        succeeded = job.state == JobState.SUCCESS
        result = BulkResult(
            ident,
            ItemStatus.SUCCEEDED if succeeded else ItemStatus.FAILED,
            job=job,
            job_id=job.job_id or job_id,
            code=None if succeeded else (job.code or _text(job.state)),
            possible_duplicate=duplicate,
            resumed=resumed,
        )
        return Delivery(result, True)

    def _refused(self, ident: str, error: CosAuditError, duplicate: bool) -> BulkResult[J]:
        return BulkResult(
            ident, ItemStatus.FAILED, code=_code(error), error=error, possible_duplicate=duplicate
        )

    async def _pause(self, attempt: int, started: float) -> bool:
        """Sleep before item attempt ``attempt + 1``; False when the policy says stop."""
        policy = self._retry
        if attempt >= policy.attempts:
            return False
        wait = backoff(policy, attempt, self._rng)
        if self._monotonic() - started + wait >= policy.deadline:
            return False
        self._on_retry()
        await self._sleep(wait)
        return True
