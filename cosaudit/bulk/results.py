"""What a bulk run hands over: one :class:`BulkResult` an item, and the run's counts."""

from __future__ import annotations

import enum
from typing import Generic, TypeVar

from attrs import define, field

from ..errors import CosAuditError, ServiceError, SubmissionUnknown
from ..models import Job

__all__ = ["BulkResult", "BulkSummary", "ItemStatus"]

J = TypeVar("J", bound=Job)


class ItemStatus(str, enum.Enum):
    """How an item ended in this run."""

    SUCCEEDED = "succeeded"
    """The job ended ``Success``; ``job`` holds the verdict (sensitive content included)."""
    FAILED = "failed"
    """The job ended ``Failed`` or is gone (``job``/``code`` say why), or the submission was
    refused (``job`` is None; nothing was accepted, so a resume submits it again)."""
    AMBIGUOUS = "ambiguous"
    """The submission may or may not have been accepted; not sent again (reconcile by ``id``)."""
    PENDING = "pending"
    """A job exists but was not final by ``timeout`` or could not be queried; a resume waits
    for it again by its JobId."""


@define(frozen=True, slots=True)
class BulkResult(Generic[J]):
    """One item's outcome.

    Args:
        id: the item's id, sent as its DataId.
        job: the final job (or, when ``PENDING``, the last state seen, if any).
        code: why it failed, is ambiguous or pending: the job's or the error's code
            (``SlowDown``, ``RequestTimeout``, ``InvalidInput``, ``JobTimeout``...).
        error: the exception behind ``code``, if one was raised.
        possible_duplicate: an earlier submission of this item may have been accepted too.
        resumed: waited for by the JobId an earlier run journaled, not submitted by this run.
    """

    id: str
    status: ItemStatus
    job: J | None = None
    job_id: str | None = None
    code: str | None = None
    error: CosAuditError | None = field(default=None, eq=False)
    possible_duplicate: bool = False
    resumed: bool = False

    @property
    def ok(self) -> bool:
        """Whether the job ended ``Success`` (its verdict may still be sensitive)."""
        return self.status is ItemStatus.SUCCEEDED


@define(frozen=True, slots=True)
class BulkSummary:
    """Counts of one run; ``items == skipped + succeeded + failed + ambiguous + pending``
    once the run is over.

    Args:
        items: items taken from the input, plus journaled jobs the input did not bring.
        skipped: finished in an earlier run (per the journal); not handed over again.
        succeeded, failed, ambiguous, pending: results handed over, by
            :class:`ItemStatus`.
        possible_duplicates: results whose item may have been accepted more than once
            (resubmitted after an ambiguous submission).
        resumed: results of jobs an earlier run had submitted, waited for by JobId.
        retries: item-level retries (a refused submission sent again after a pause, a poll
            that failed started again, an ambiguous item resubmitted); each request's own
            retries go to the client's ``on_retry`` hook.
        elapsed: seconds since the run started (until it ended, once it has).
    """

    items: int = 0
    skipped: int = 0
    succeeded: int = 0
    failed: int = 0
    ambiguous: int = 0
    pending: int = 0
    possible_duplicates: int = 0
    resumed: int = 0
    retries: int = 0
    elapsed: float = 0.0

    @property
    def handed_over(self) -> int:
        """Results handed to the caller so far."""
        return self.succeeded + self.failed + self.ambiguous + self.pending


def _code(error: CosAuditError) -> str:
    """The ``code`` a result gives for an error: the service's (an unknown submission's cause's),
    else the error's type."""
    if isinstance(error, SubmissionUnknown):
        return _code(error.cause)
    if isinstance(error, ServiceError):
        return error.code
    return type(error).__name__
