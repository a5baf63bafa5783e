"""Jobs as tables: HTML for notebooks (``_repr_html_``) and aligned plain text for terminals."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from html import escape
from typing import TYPE_CHECKING

from attrs import define

if TYPE_CHECKING:  # the models import this module; only their types are needed here
    from .common import Job

__all__ = ["JobsTable", "job_html", "jobs_table"]

_COLUMNS = ("Job ID", "State", "Label", "Verdict", "Data ID", "Hits")


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
    """Many jobs as one table: HTML in a notebook, aligned text from ``str()``."""

    jobs: tuple[Job, ...]

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{escape(name)}</th>" for name in _COLUMNS)
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(value)}</td>" for value in _row(job)) + "</tr>"
            for job in self.jobs
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"

    def __str__(self) -> str:
        rows = [_COLUMNS, *(_row(job) for job in self.jobs)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )


def jobs_table(jobs: Iterable[Job]) -> JobsTable:
    """Render ``jobs`` together; ``print(jobs_table(jobs))`` or display it in a notebook."""
    return JobsTable(tuple(jobs))
