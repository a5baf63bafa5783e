"""What a bulk run hands over: one :class:`BulkResult` an item, and the run's counts
(:class:`BulkSummary`, readable with ``print`` and as a table in a notebook)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from html import escape
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from attrs import define, field

from ..errors import CosAuditError, ServiceError, SubmissionUnknown
from ..models import Job, Result
from ..models._render import _width
from .identity import BulkItem

__all__ = ["BulkResult", "BulkSummary", "ItemStatus", "verdict_word"]

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


@define(frozen=True, slots=True, repr=False)
class BulkResult(Generic[J]):
    """One item's outcome; prints as one line (verdict as a word, no job dump).

    Args:
        id: the item's id, sent as its DataId.
        job: the final job (or, when ``PENDING``, the last state seen, if any).
        code: why it failed, is ambiguous or pending: the job's or the error's code
            (``SlowDown``, ``RequestTimeout``, ``InvalidInput``, ``JobTimeout``...).
        error: the exception behind ``code``, if one was raised.
        possible_duplicate: an earlier submission of this item may have been accepted too.
        resumed: waited for by the JobId an earlier run journaled, not submitted by this run.
        item: the item as the input gave it (None for a job an earlier run journaled whose
            item this run's input did not bring); what :func:`~cosaudit.bulk.records.record`
            reads the input from.
        elapsed: seconds the item took in this run, from its start to its result (what a
            latency histogram plots); None for a result made by hand.
        kind: the item's kind (``"text"``, ``"image"``...), which tells them apart in a run of
            several kinds; None for an item whose kind is not one the run takes.
    """

    id: str
    status: ItemStatus
    job: J | None = None
    job_id: str | None = None
    code: str | None = None
    error: CosAuditError | None = field(default=None, eq=False)
    possible_duplicate: bool = False
    resumed: bool = False
    item: BulkItem | None = field(default=None, eq=False)
    elapsed: float | None = field(default=None, eq=False)
    kind: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the job ended ``Success`` (its verdict may still be sensitive)."""
        return self.status is ItemStatus.SUCCEEDED

    @property
    def verdict(self) -> str | None:
        """The job's verdict as a word (``normal``, ``sensitive``, ``suspicious``), if any."""
        return verdict_word(self.job.verdict) if self.job is not None else None

    def _shown(self) -> list[tuple[str, str]]:
        """The fields worth showing, as (name, text): what is set, nothing of the content."""
        job = self.job
        shown = [("id", self.id), ("status", self.status.value)]
        if self.verdict is not None:
            shown.append(("verdict", self.verdict))
        if job is not None and job.label is not None:
            shown.append(("label", job.label))
        for name in ("job_id", "code"):
            value = getattr(self, name)
            if value is not None:
                shown.append((name, value))
        if job is not None and job.message:
            shown.append(("message", job.message))
        shown.extend(
            (name, "yes") for name in ("possible_duplicate", "resumed") if getattr(self, name)
        )
        return shown

    def __repr__(self) -> str:
        # The item may be megabytes of content and the job dozens of nodes: a result shows
        # what a reader scans for. ``result.job`` and ``result.item`` hold the rest.
        quoted = ("id", "label", "job_id", "code", "message")
        parts = (f"{n}={v!r}" if n in quoted else f"{n}={v}" for n, v in self._shown())
        return f"BulkResult({', '.join(parts)})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{escape(name)}</th><td>{escape(text)}</td></tr>"
            for name, text in self._shown()
        )
        return f"<table>{rows}</table>"


#: How many ambiguous ids a summary names (the rest are counted; the journal has them all).
RECONCILE_SHOWN = 10

_NONE: Mapping[str, int] = MappingProxyType({})


def _counts(value: Mapping[str, int]) -> str:
    return repr(dict(value))


@define(frozen=True, slots=True)
class BulkSummary:
    """Counts of one run; ``items == skipped + succeeded + failed + ambiguous + pending``
    once the run is over. ``print(summary)`` shows a table; a notebook shows it as HTML.

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
        verdicts: succeeded results by verdict word (``{"normal": 90, "sensitive": 10}``).
        labels: succeeded results by label (``{"Normal": 90, "Ads": 10}``).
        errors: failed, ambiguous and pending results by code (``{"SlowDown": 2}``).
        to_reconcile: the first :data:`RECONCILE_SHOWN` ambiguous ids (``ambiguous`` counts
            them all; the journal lists every one).
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
    # Not hashed: mappings are not hashable, and nothing keys by a summary.
    verdicts: Mapping[str, int] = field(default=_NONE, hash=False, repr=_counts)
    labels: Mapping[str, int] = field(default=_NONE, hash=False, repr=_counts)
    errors: Mapping[str, int] = field(default=_NONE, hash=False, repr=_counts)
    to_reconcile: tuple[str, ...] = ()

    @property
    def handed_over(self) -> int:
        """Results handed to the caller so far."""
        return self.succeeded + self.failed + self.ambiguous + self.pending

    @property
    def in_flight(self) -> int:
        """Items taken from the input and neither skipped nor handed over yet: at most
        ``concurrency`` + 1 (the item taken next waits for a slot)."""
        return self.items - self.skipped - self.handed_over

    @property
    def items_per_second(self) -> float:
        """Results handed over per second of the run (skipped items not counted)."""
        return self.handed_over / self.elapsed if self.elapsed > 0 else 0.0

    def _sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The table's sections: a title and (name, value) rows."""
        counts = [
            ("items", self.items),
            ("skipped", self.skipped),
            ("succeeded", self.succeeded),
            ("failed", self.failed),
            ("ambiguous", self.ambiguous),
            ("pending", self.pending),
            ("in flight", self.in_flight),
            ("possible duplicates", self.possible_duplicates),
            ("resumed", self.resumed),
            ("retries", self.retries),
        ]
        # The rarer counts only when they say something.
        always = {"items", "succeeded", "failed", "ambiguous", "pending"}
        run = [(name, f"{count:,}") for name, count in counts if count or name in always]
        run.append(("elapsed", f"{self.elapsed:.1f} s"))
        run.append(("items/s", f"{self.items_per_second:,.1f}"))
        sections = [("Run", run)]
        for title, tally in (
            ("By verdict", self.verdicts),
            ("By label", self.labels),
            ("Errors by code", self.errors),
        ):
            if tally:
                ordered = sorted(tally.items(), key=lambda pair: (-pair[1], pair[0]))
                sections.append((title, [(name, f"{count:,}") for name, count in ordered]))
        if self.ambiguous:
            shown = [(ident, "") for ident in self.to_reconcile]
            more = self.ambiguous - len(self.to_reconcile)
            if more > 0:
                shown.append((f"... and {more:,} more (see the journal)", ""))
            sections.append(("To reconcile (ambiguous)", shown))
        return sections

    def __str__(self) -> str:
        sections = self._sections()
        rows = [row for _, section in sections for row in section if row[1]]
        name_width = max([_width(title) for title, _ in sections] + [_width(n) for n, _ in rows])
        value_width = max(len(value) for _, value in rows)
        lines: list[str] = []
        for title, section in sections:
            if lines:
                lines.append("")
            lines.append(title)
            for name, value in section:
                pad = " " * (name_width - _width(name))
                lines.append(f"  {name}{pad}  {value:>{value_width}}".rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = []
        for title, section in self._sections():
            body.append(f'<tr><th colspan="2" style="text-align:left">{escape(title)}</th></tr>')
            body.extend(
                f'<tr><td>{escape(name)}</td><td style="text-align:right">{escape(value)}</td></tr>'
                for name, value in section
            )
        return f"<table>{''.join(body)}</table>"


class Tally:
    """The runner's running breakdown of results by verdict, label and code; it hands
    :class:`BulkSummary` copies, so a summary stays what it was when taken."""

    __slots__ = ("errors", "labels", "to_reconcile", "verdicts")

    def __init__(self) -> None:
        self.verdicts: dict[str, int] = {}
        self.labels: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.to_reconcile: list[str] = []

    def add(self, result: BulkResult[Any]) -> None:
        job = result.job
        if result.status is ItemStatus.SUCCEEDED and job is not None:
            word = verdict_word(job.verdict)
            if word is not None:
                self.verdicts[word] = self.verdicts.get(word, 0) + 1
            if job.label is not None:
                self.labels[job.label] = self.labels.get(job.label, 0) + 1
        elif result.code is not None:
            self.errors[result.code] = self.errors.get(result.code, 0) + 1
        if result.status is ItemStatus.AMBIGUOUS and len(self.to_reconcile) < RECONCILE_SHOWN:
            self.to_reconcile.append(result.id)

    def summary(self, counts: Mapping[str, Any], *, elapsed: float) -> BulkSummary:
        """A summary of ``counts`` (the runner's plain counts) and this breakdown, copied:
        a few small dicts (a progress bar may take a summary many times a second)."""
        return BulkSummary(
            **counts,
            elapsed=elapsed,
            verdicts=MappingProxyType(dict(self.verdicts)),
            labels=MappingProxyType(dict(self.labels)),
            errors=MappingProxyType(dict(self.errors)),
            to_reconcile=tuple(self.to_reconcile),
        )


def verdict_word(verdict: Result | int | None) -> str | None:
    """``normal``, ``sensitive`` or ``suspicious``; a value this version does not know as its
    number (``"3"``), so it is neither lost nor taken for a known one."""
    if verdict is None:
        return None
    try:
        return Result(verdict).name.lower()
    except ValueError:
        return str(int(verdict))


def _code(error: CosAuditError) -> str:
    """The ``code`` a result gives for an error: the service's (an unknown submission's cause's),
    else the error's type."""
    if isinstance(error, SubmissionUnknown):
        return _code(error.cause)
    if isinstance(error, ServiceError):
        return error.code
    return type(error).__name__
