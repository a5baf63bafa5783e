"""A run's results kept together, for a notebook or any run that fits in memory::

    results = await client.moderate_many(texts, kind="text", progress=True).collect()
    results                      # in Jupyter: the summary and a table of the first results
    print(results.summary)
    df = results.to_pandas()     # one row per item (pandas, if installed)
    rows = results.to_records()  # the same as plain dicts (the JSON lines cosaudit batch writes)

Why a separate object, not methods on the run: a run streams and holds nothing, which is what
lets it go through millions of items in flat memory. Keeping every result is the caller's
choice, made by calling :meth:`BulkRun.collect <cosaudit.bulk.BulkRun.collect>` (or building
one from results gathered by hand); the run itself stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from attrs import define

from ..models import Job
from ..models._render import _cell
from .records import FIELDS, Record, record
from .results import BulkResult, BulkSummary

if TYPE_CHECKING:  # pandas is optional: imported by to_pandas() only
    import pandas

__all__ = ["Collected"]

J = TypeVar("J", bound=Job)

#: Results a notebook shows as rows; the rest are counted (``to_pandas()`` has them all).
ROWS_SHOWN = 20


@define(frozen=True, slots=True, repr=False)
class Collected(Generic[J]):
    """Every result of one run, in the order they finished, with the run's summary.

    Args:
        kind: the run's kind (``"text"``..., ``"mixed"`` for a run of several), written
            into records whose result does not name its own.
        results: the results, in completion order.
        summary: the run's final counts.
    """

    kind: str
    results: tuple[BulkResult[J], ...]
    summary: BulkSummary

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[BulkResult[J]]:
        return iter(self.results)

    @overload
    def __getitem__(self, index: int) -> BulkResult[J]: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[BulkResult[J], ...]: ...
    def __getitem__(self, index: int | slice) -> BulkResult[J] | tuple[BulkResult[J], ...]:
        return self.results[index]

    def to_records(self) -> list[Record]:
        """One plain dict per result (:mod:`cosaudit.bulk.records`): JSON-ready, no content."""
        return [record(result, kind=result.kind or self.kind) for result in self.results]

    def to_pandas(self) -> pandas.DataFrame:
        """One row per result; ``input`` and ``scenes`` flattened into columns
        (``input.object``, ``scenes.ads.score``...). Needs pandas (``pip install pandas``)."""
        try:
            import pandas
        except ImportError as error:
            raise ImportError(
                "to_pandas() needs pandas, which cosaudit does not install: pip install pandas"
            ) from error
        records = self.to_records()
        frame: pandas.DataFrame
        if not records:
            frame = pandas.DataFrame(columns=list(FIELDS))
            return frame
        # json_normalize turns the nested input and scenes into dotted columns (lists, the
        # scene keywords, stay lists), in the order it meets them: put them back in the
        # record's order. convert_dtypes keeps integers integers where some rows are missing
        # (a failed item has no result: <NA>, not 1.0 and NaN).
        frame = pandas.json_normalize(records, sep=".")
        columns = [
            column
            for name in FIELDS
            for column in frame.columns
            if column == name or column.startswith(f"{name}.")
        ]
        frame = frame[columns].convert_dtypes()
        return frame

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{count:,} {name}"
            for name in ("succeeded", "failed", "ambiguous", "pending")
            if (count := getattr(self.summary, name))
        )
        detail = f": {counts}" if counts else ""
        return f"<Collected {self.kind}: {len(self.results):,} results{detail}>"

    def __str__(self) -> str:
        return str(self.summary)

    def _repr_html_(self) -> str:
        head = ("Data ID / input", "Status", "Verdict", "Label", "Job ID", "Code")
        rows = []
        for result in self.results[:ROWS_SHOWN]:
            rec = record(result, kind=result.kind or self.kind)
            cells = (
                _shown_id(result.id, rec["input"]),
                str(rec["status"]),
                _text(rec["verdict"]),
                _text(rec["label"]),
                _text(rec["job_id"]),
                _text(rec["code"]),
            )
            rows.append(
                "<tr>"
                + "".join(
                    _cell(value, verdict=name == "Verdict")
                    for name, value in zip(head, cells, strict=True)
                )
                + "</tr>"
            )
        more = len(self.results) - ROWS_SHOWN
        if more > 0:
            rows.append(
                f'<tr><td colspan="{len(head)}">… and {more:,} more (to_pandas() has them all)'
                "</td></tr>"
            )
        header = "".join(f"<th>{escape(name)}</th>" for name in head)
        table = f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        return self.summary._repr_html_() + table


def _shown_id(ident: str, given: Any) -> str:
    """The id, or for a derived one (``sha256:...``) the input it stands for."""
    if ident.startswith("sha256:") and isinstance(given, dict) and given:
        name, value = next(iter(given.items()))
        text = f"sha256:{str(value)[:16]}" if name == "content_sha256" else str(value)
        return f"({text})"
    return ident


def _text(value: object) -> str:
    return "" if value is None else str(value)
