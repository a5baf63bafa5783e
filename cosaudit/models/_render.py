"""Jobs as tables: HTML for notebooks (``_repr_html_``) and aligned plain text for terminals."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from html import escape
from typing import TYPE_CHECKING
from unicodedata import east_asian_width

from attrs import define

if TYPE_CHECKING:  # the models import this module; only their types are needed here
    from .common import Job

__all__ = ["JobsTable", "job_html", "jobs_table"]

_COLUMNS = ("Job ID", "State", "Label", "Verdict", "Data ID", "Hits")


def _width(text: str) -> int:
    """Terminal columns: CJK and other wide characters take two."""
    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def _word(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        # JobState is a str: show its value; Result/HitFlag are ints: show the name.
        return str(value.value) if isinstance(value, str) else value.name.lower()
    return str(value)


def _hits(job: Job) -> str:
    parts = []
    for name, scene in job.scenes.items():
        if not scene.is_hit:
            continue
        detail = [] if scene.score is None else [str(scene.score)]
        keywords = job.hit_keywords(name)
        if keywords:
            detail.append(", ".join(keywords))
        parts.append(f"{name} ({'; '.join(detail)})" if detail else name)
    return "; ".join(parts)


def _row(job: Job) -> tuple[str, ...]:
    state = _word(job.state)
    if job.is_failed and job.code:
        state = f"{state} ({job.code})"  # the message is too long for a column; see job_html
    return (
        _word(job.job_id),
        state,
        _word(job.label),
        _word(job.verdict),
        _word(job.data_id),
        _hits(job),
    )


def job_html(job: Job) -> str:
    """One job as a two-column HTML table."""
    rows = list(zip(_COLUMNS, _row(job), strict=True))
    if job.is_failed and job.message:
        rows.append(("Message", job.message))
    cells = "".join(
        f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>" for name, value in rows
    )
    return f"<table>{cells}</table>"


@define(frozen=True, slots=True)
class JobsTable:
    """Many jobs as one table: HTML in a notebook, aligned text from ``str()``.

    ``sources``, when given, is a first column naming what each job moderated.
    """

    jobs: tuple[Job, ...]
    sources: tuple[str, ...] | None = None

    def _rows(self) -> list[tuple[str, ...]]:
        if self.sources is None:
            return [_COLUMNS, *(_row(job) for job in self.jobs)]
        return [
            ("Input", *_COLUMNS),
            *((source, *_row(job)) for source, job in zip(self.sources, self.jobs, strict=True)),
        ]

    def _repr_html_(self) -> str:
        head, *body = self._rows()
        header = "".join(f"<th>{escape(name)}</th>" for name in head)
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(value)}</td>" for value in row) + "</tr>" for row in body
        )
        return f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"

    def __str__(self) -> str:
        rows = self._rows()
        widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join(
            "  ".join(
                cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
            for row in rows
        )


def jobs_table(jobs: Iterable[Job], *, sources: Iterable[str] | None = None) -> JobsTable:
    """Render ``jobs`` together; ``print(jobs_table(jobs))`` or display it in a notebook.

    Args:
        sources: one label per job (e.g. the text or key moderated), shown as a first column.
    """
    jobs = tuple(jobs)
    labels = None if sources is None else tuple(sources)
    if labels is not None and len(labels) != len(jobs):
        raise ValueError(f"{len(labels)} sources for {len(jobs)} jobs")
    return JobsTable(jobs, labels)
