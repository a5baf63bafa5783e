"""Jobs as tables: HTML for notebooks (``_repr_html_``) and aligned plain text for terminals.

The verdict cell is coloured in HTML (inline styles: notebooks drop ``<style>`` blocks and
classes they do not know). A job without a DataId shows what it moderated instead, in
parentheses: its object key, its URL without the query (a pre-signed URL's signature stays out
of the notebook), or a digest of inline content.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from enum import Enum
from html import escape
from typing import TYPE_CHECKING
from unicodedata import east_asian_width
from urllib.parse import urlsplit

from attrs import define

if TYPE_CHECKING:  # the models import this module; only their types are needed here
    from .common import Job

__all__ = ["JobsTable", "job_html", "jobs_table"]

_COLUMNS = ("Job ID", "State", "Label", "Verdict", "Data ID", "Hits")
# Light backgrounds with dark text: readable in light and dark notebook themes alike.
_VERDICT_STYLES = {
    "normal": "background:#e6f4ea;color:#1e4620",
    "sensitive": "background:#fce8e6;color:#8c1d18",
    "suspicious": "background:#fef3e0;color:#7a4a00",
}


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
        _word(job.data_id) or _source(job),
        _hits(job),
    )


def _source(job: Job) -> str:
    """What a job without a DataId moderated, in parentheses: ``(posts/1.txt)``."""
    found: object = getattr(job, "object", None)
    if not isinstance(found, str) or not found:
        url: object = getattr(job, "url", None)
        found = _bare_url(url) if isinstance(url, str) and url else None
    if found is None:
        content: object = getattr(job, "content", None)
        found = _content_digest(content) if isinstance(content, str) and content else None
    return f"({found})" if found else ""


def _bare_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    cut = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{parts.path}{cut}" if parts.scheme else url.split("?")[0]


def _content_digest(echo: str) -> str:
    """``sha256:`` + 16 hex digits of the content a job echoes in base64 (what records call
    ``content_sha256``, shortened)."""
    try:
        data = base64.b64decode(echo, validate=True)
    except (binascii.Error, ValueError):
        data = echo.encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]


def _cell(value: str, *, verdict: bool) -> str:
    """A ``<td>``; a verdict's in its colour."""
    style = _VERDICT_STYLES.get(value) if verdict else None
    return f'<td style="{style}">{escape(value)}</td>' if style else f"<td>{escape(value)}</td>"


def job_html(job: Job) -> str:
    """One job as a two-column HTML table."""
    rows = list(zip(_COLUMNS, _row(job), strict=True))
    if job.is_failed and job.message:
        rows.append(("Message", job.message))
    cells = "".join(
        f"<tr><th>{escape(name)}</th>{_cell(value, verdict=name == 'Verdict')}</tr>"
        for name, value in rows
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
        verdict = head.index("Verdict")
        rows = "".join(
            "<tr>"
            + "".join(_cell(value, verdict=i == verdict) for i, value in enumerate(row))
            + "</tr>"
            for row in body
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


def jobs_table(jobs: Iterable[Job] | Job, *, sources: Iterable[str] | None = None) -> JobsTable:
    """Render ``jobs`` together; ``print(jobs_table(jobs))`` or display it in a notebook.

    Args:
        jobs: the jobs, or a single job (a table of one row).
        sources: one label per job (e.g. the text or key moderated), shown as a first column.
    """
    # A job is never iterable, so this tells one job from a collection of them.
    jobs = tuple(jobs) if isinstance(jobs, Iterable) else (jobs,)
    labels = None if sources is None else tuple(sources)
    if labels is not None and len(labels) != len(jobs):
        raise ValueError(f"{len(labels)} sources for {len(jobs)} jobs")
    return JobsTable(jobs, labels)
