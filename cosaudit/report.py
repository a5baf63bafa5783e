"""The HTML report of a bulk run: one self-contained page (no network assets) with the run's
summary, charts of verdicts, labels, latency and errors, and a filterable table of flagged items.

::

    from cosaudit.report import read_records, write_report

    write_report(read_records("out.jsonl"), "report.html")   # from a finished run's output

    report = Report(title="uploads/ on 2026-12-06")          # or fed as results arrive
    async with client.moderate_many(keys, kind="image") as run:
        async for result in run:
            report.add(record(result, ...))
    report.write("report.html", summary=run.summary)

Records are the dicts of ``cosaudit batch``'s output lines (one per item; keys: ``data_id``,
``kind``, ``input``, ``status``, ``verdict``, ``label``, ``scenes``, ``code``, ``elapsed``...).
They are taken one at a time and only what the page shows is kept: counts, a fixed set of
latency bins, and at most ``max_flagged`` rows of flagged items, so a run of millions makes a
page of the same size as a run of thousands.

The page needs the ``report`` extra (``pip install 'cosaudit[report]'``: jinja2 for the page,
pygal for the charts, drawn as inline SVG that shows without scripts); importing this module
does not.
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import importlib.util
import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .bulk.results import BulkSummary

__all__ = ["Report", "ReportUnavailable", "main", "read_records", "write_report"]

FLAGGED = ("sensitive", "suspicious")
VERDICTS = ("normal", *FLAGGED)
STATUSES = ("succeeded", "failed", "ambiguous", "pending")
NO_VERDICT = "no verdict"
OTHER = "(other)"

# Latency bins, log-spaced on a 1-1.5-2-3-5-7 ladder from 10 ms to 20 hours: a fixed set, so a
# histogram of millions of items is taken in one pass without knowing the range beforehand.
_LADDER = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
LATENCY_EDGES: tuple[float, ...] = tuple(
    round(step * 10.0**exponent, 6) for exponent in range(-2, 5) for step in _LADDER
)

# Distinct labels and codes kept before the rest count as OTHER: the service has a few dozen,
# but a code is whatever an error says, and the page must not grow with a run's oddities.
_MAX_KEYS = 200
# Bars a chart shows before the rest are summed as OTHER.
_MAX_BARS = 15
_MAX_KEYWORDS = 8
_MAX_MESSAGE = 200

_COLOURS = {
    "normal": "#2e7d32",
    "sensitive": "#c62828",
    "suspicious": "#ef6c00",
    NO_VERDICT: "#9e9e9e",
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "ambiguous": "#6a1b9a",
    "pending": "#1565c0",
}
_BAR = "#455a64"

_INSTALL = "pip install 'cosaudit[report]'"


class ReportUnavailable(ImportError):
    """The ``report`` extra is not installed."""

    def __init__(self, missing: str) -> None:
        super().__init__(
            f"the HTML report needs {missing}, which is not installed: {_INSTALL}", name=missing
        )


def _require() -> None:
    """Raise :class:`ReportUnavailable` unless jinja2 and pygal can be imported; imports
    neither (pygal, once imported, adds an import hook to the process: only when drawing)."""
    for name in ("jinja2", "pygal"):
        if importlib.util.find_spec(name) is None:
            raise ReportUnavailable(name)


def _libraries() -> tuple[Any, Any]:
    """jinja2 and pygal, or :class:`ReportUnavailable` naming the extra to install."""
    _require()
    import jinja2
    import pygal

    return jinja2, pygal


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The records of a run's output file (JSON lines), one at a time; blank lines skipped.

    Raises:
        ValueError: a line is not a JSON object (its number is in the message).
    """
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{os.fspath(path)}:{number}: not JSON: {exc.msg}") from None
            if not isinstance(record, dict):
                raise ValueError(f"{os.fspath(path)}:{number}: not a JSON object")
            yield record


def _bump(counter: Counter[str], key: str) -> None:
    if key not in counter and len(counter) >= _MAX_KEYS:
        key = OTHER
    counter[key] += 1


def _input_text(value: object) -> str:
    """What an item named: its object key, its URL, or the digest of its inline content."""
    if isinstance(value, Mapping):
        for key in ("object", "url"):
            if value.get(key):
                return str(value[key])
        digest = value.get("content_sha256")
        if digest:
            return f"content sha256:{str(digest)[:8]}…"
    return "" if value is None else str(value)


def _keywords(scenes: object) -> str:
    """The keywords the hit scenes matched, a few of them."""
    if not isinstance(scenes, Mapping):
        return ""
    words: list[str] = []
    for scene in scenes.values():
        if isinstance(scene, Mapping):
            for word in scene.get("keywords") or ():
                if word not in words:
                    words.append(str(word))
    more = len(words) - _MAX_KEYWORDS
    return ", ".join(words[:_MAX_KEYWORDS]) + (f" (+{more})" if more > 0 else "")


def _bin_label(index: int) -> str:
    edges = LATENCY_EDGES
    if index == 0:
        return f"< {edges[0]:g}"
    if index == len(edges):
        return f"≥ {edges[-1]:g}"
    return f"{edges[index - 1]:g}–{edges[index]:g}"


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.2f} s"
    return str(datetime.timedelta(seconds=round(value)))


class Report:
    """A run's report, fed one record at a time; keeps only what the page shows.

    Args:
        title: the page's title and heading.
        max_flagged: rows of flagged (sensitive or suspicious) items the table keeps: the
            first ones seen; the page says how many more there were.

    Raises:
        ReportUnavailable: the ``report`` extra is not installed (at once, before any record).
    """

    __slots__ = (
        "_codes",
        "_errors",
        "_flagged",
        "_flagged_total",
        "_kinds",
        "_labels",
        "_latency",
        "_latency_max",
        "_latency_min",
        "_latency_sum",
        "_possible_duplicates",
        "_resumed",
        "_statuses",
        "_verdicts",
        "max_flagged",
        "records",
        "title",
    )

    def __init__(self, *, title: str = "cosaudit run", max_flagged: int = 1000) -> None:
        _require()
        if isinstance(max_flagged, bool) or not isinstance(max_flagged, int) or max_flagged < 0:
            raise ValueError(f"max_flagged must be an integer >= 0, got {max_flagged!r}")
        self.title = title
        self.max_flagged = max_flagged
        self.records = 0
        self._statuses: Counter[str] = Counter()
        self._verdicts: Counter[str] = Counter()
        self._labels: Counter[str] = Counter()
        self._codes: Counter[str] = Counter()
        self._errors: dict[str, tuple[str, str]] = {}  # code: (first message, its data_id)
        self._kinds: dict[str, Counter[str]] = {}
        self._latency = [0] * (len(LATENCY_EDGES) + 1)
        self._latency_sum = 0.0
        self._latency_min = float("inf")
        self._latency_max = 0.0
        self._flagged: list[dict[str, str]] = []
        self._flagged_total = 0
        self._possible_duplicates = 0
        self._resumed = 0

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {self.records} records>"

    def add(self, record: Mapping[str, Any]) -> None:
        """Count one record (one item's line of a run's output)."""
        self.records += 1
        status = str(record.get("status") or "unknown")
        verdict = str(record.get("verdict") or NO_VERDICT)
        self._statuses[status] += 1
        self._verdicts[verdict] += 1
        kind = str(record.get("kind") or "?")
        per_kind = self._kinds.get(kind)
        if per_kind is None:
            if len(self._kinds) >= _MAX_KEYS:
                per_kind = self._kinds.setdefault(OTHER, Counter())
            else:
                per_kind = self._kinds[kind] = Counter()
        per_kind["items"] += 1
        per_kind[status] += 1
        per_kind[verdict] += 1
        self._possible_duplicates += bool(record.get("possible_duplicate"))
        self._resumed += bool(record.get("resumed"))
        code = record.get("code")
        if code:
            code = str(code)
            _bump(self._codes, code)
            if code not in self._errors and len(self._errors) < _MAX_KEYS:
                message = str(record.get("message") or "")
                self._errors[code] = (message[:_MAX_MESSAGE], str(record.get("data_id") or ""))
        elapsed = record.get("elapsed")
        if isinstance(elapsed, int | float) and not isinstance(elapsed, bool) and elapsed >= 0:
            self._latency[bisect.bisect_right(LATENCY_EDGES, elapsed)] += 1
            self._latency_sum += elapsed
            self._latency_min = min(self._latency_min, elapsed)
            self._latency_max = max(self._latency_max, elapsed)
        if verdict in FLAGGED:
            if record.get("label"):
                _bump(self._labels, str(record["label"]))
            self._flagged_total += 1
            if len(self._flagged) < self.max_flagged:
                self._flagged.append(self._row(record, verdict))

    def extend(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Count every record of ``records``, one at a time."""
        for record in records:
            self.add(record)

    @staticmethod
    def _row(record: Mapping[str, Any], verdict: str) -> dict[str, str]:
        score = record.get("score")
        return {
            "data_id": str(record.get("data_id") or ""),
            "kind": str(record.get("kind") or ""),
            "input": _input_text(record.get("input")),
            "verdict": verdict,
            "label": str(record.get("label") or ""),
            "score": "" if score is None else str(score),
            "keywords": _keywords(record.get("scenes")),
            "job_id": str(record.get("job_id") or ""),
        }

    # -- the page ------------------------------------------------------------------------

    def render(self, *, summary: BulkSummary | None = None) -> str:
        """The page as a string. ``summary``: the run's :class:`~cosaudit.BulkSummary`, for
        what the records do not tell (items skipped as done in an earlier run, retries, the
        run's elapsed time and rate)."""
        jinja2, pygal = _libraries()
        environment = jinja2.Environment(
            loader=jinja2.PackageLoader("cosaudit", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        template = environment.get_template("report.html.jinja")
        from markupsafe import Markup  # jinja2's own dependency: marks the SVG as safe

        charts = {name: Markup(svg) for name, svg in self._charts(pygal).items() if svg is not None}
        return str(
            template.render(
                title=self.title,
                generated=datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M UTC"
                ),
                cards=self._cards(summary),
                charts=charts,
                latency=self._latency_text(),
                kinds=self._kind_rows(),
                errors=[
                    (code, count, *self._errors.get(code, ("", "")))
                    for code, count in self._codes.most_common()
                ],
                flagged=self._flagged,
                flagged_total=self._flagged_total,
                max_flagged=self.max_flagged,
                flagged_labels=sorted({row["label"] for row in self._flagged if row["label"]}),
            )
        )

    def write(self, path: str | os.PathLike[str], *, summary: BulkSummary | None = None) -> Path:
        """Write the page to ``path`` (replaced whole: a reader never sees half a page)."""
        target = Path(path)
        page = self.render(summary=summary)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(page, encoding="utf-8")
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return target

    def _cards(self, summary: BulkSummary | None) -> list[tuple[str, str, str]]:
        """The summary's figures: (name, value, colour or ''). Counts come from the records,
        as the charts do (a resumed batch's output holds earlier runs' items too); the run's
        summary adds what records do not tell."""
        cards = [
            ("items", f"{self.records:,}", ""),
            *((name, f"{self._statuses[name]:,}", _COLOURS[name]) for name in STATUSES),
            *((name, f"{self._verdicts[name]:,}", _COLOURS[name]) for name in FLAGGED),
        ]
        if self._resumed:
            cards.append(("resumed", f"{self._resumed:,}", ""))
        if self._possible_duplicates:
            cards.append(("possible duplicates", f"{self._possible_duplicates:,}", ""))
        if summary is None:
            return cards
        if summary.skipped:
            cards.append(("done in earlier runs", f"{summary.skipped:,}", ""))
        cards.append(("retries", f"{summary.retries:,}", ""))
        cards.append(("elapsed", _seconds(summary.elapsed), ""))
        if summary.elapsed > 0:
            cards.append(("items/s", f"{summary.handed_over / summary.elapsed:,.1f}", ""))
        return cards

    def _latency_text(self) -> str:
        timed = sum(self._latency)
        if not timed:
            return ""
        mean = self._latency_sum / timed
        return (
            f"{timed:,} items timed: min {_seconds(self._latency_min)}, "
            f"mean {_seconds(mean)}, max {_seconds(self._latency_max)}"
        )

    def _kind_rows(self) -> list[list[str]]:
        columns = ("items", *STATUSES, *FLAGGED)
        return [
            [kind, *(f"{counts[column]:,}" for column in columns)]
            for kind, counts in sorted(self._kinds.items())
        ]

    def _charts(self, pygal: Any) -> dict[str, str | None]:
        verdicts = [
            (name, self._verdicts[name], _COLOURS[name])
            for name in (*VERDICTS, NO_VERDICT)
            if name in VERDICTS or self._verdicts[name]
        ]
        statuses = [(name, self._statuses[name], _COLOURS[name]) for name in STATUSES]
        first = next((i for i, count in enumerate(self._latency) if count), None)
        latency: list[tuple[str, int, str]] = []
        if first is not None:
            last = max(i for i, count in enumerate(self._latency) if count)
            latency = [(_bin_label(i), self._latency[i], _BAR) for i in range(first, last + 1)]
        return {
            "verdicts": _bars(pygal, verdicts, horizontal=True),
            "statuses": _bars(pygal, statuses, horizontal=True),
            "labels": _bars(pygal, _top(self._labels), horizontal=True),
            "latency": _bars(pygal, latency, horizontal=False, x_title="seconds"),
            "errors": _bars(pygal, _top(self._codes), horizontal=True),
        }


def _top(counter: Counter[str]) -> list[tuple[str, int, str]]:
    """The biggest bars, the rest summed as one."""
    ranked = counter.most_common()
    bars = [(name, count, _BAR) for name, count in ranked[:_MAX_BARS]]
    rest = sum(count for _, count in ranked[_MAX_BARS:])
    if rest:
        bars.append((f"{len(ranked) - _MAX_BARS} more", rest, _BAR))
    return bars


def _ticks(highest: int) -> list[int]:
    """Whole-number graduations from 0 past ``highest``, about 5 to 10 of them (pygal's own
    would split a count of 1 into tenths)."""
    step = 1
    while highest / step > 8:
        step = next(step * k for k in (2, 5, 10) if highest / (step * k) <= 8 or k == 10)
    return list(range(0, highest + step, step))


def _bars(
    pygal: Any, bars: list[tuple[str, int, str]], *, horizontal: bool, x_title: str | None = None
) -> str | None:
    """One bar chart as inline SVG, each bar's count printed on it; None when all are 0."""
    if not any(count for _, count, _ in bars):
        return None
    style = pygal.style.Style(
        background="white",
        plot_background="white",
        font_family="system-ui, sans-serif",
        value_font_size=13,
        label_font_size=12,
        major_label_font_size=12,
        title_font_size=14,
        colors=(_BAR,),
    )
    chart_type = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = chart_type(
        style=style,
        js=(),  # pygal's tooltips load a script from the web; the page must work offline
        show_legend=False,
        print_values=True,
        print_zeroes=False,
        width=640,
        height=max(120, 60 + 32 * len(bars)) if horizontal else 300,
        margin=12,
        x_title=x_title,
        x_label_rotation=0 if horizontal else 30,
        truncate_label=-1,
        value_formatter=lambda value: f"{value:,.0f}",
        y_labels=_ticks(max(count for _, count, _ in bars)),
    )
    if horizontal:
        bars = bars[::-1]  # pygal stacks them from the bottom: the first one goes on top
    chart.x_labels = [name for name, _, _ in bars]
    chart.add("items", [{"value": count, "color": colour} for _, count, colour in bars])
    return str(chart.render(is_unicode=True, disable_xml_declaration=True))


def write_report(
    records: Iterable[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    summary: BulkSummary | None = None,
    title: str = "cosaudit run",
    max_flagged: int = 1000,
) -> Path:
    """Write the HTML report of ``records`` to ``path``, taking them one at a time.

    ::

        write_report(read_records("out.jsonl"), "report.html")

    Arguments as :class:`Report`'s and :meth:`Report.render`'s.

    Raises:
        ReportUnavailable: the ``report`` extra is not installed (before any record is read).
    """
    report = Report(title=title, max_flagged=max_flagged)
    report.extend(records)
    return report.write(path, summary=summary)


def _batch_records(path: Path) -> Iterator[dict[str, Any]]:
    """:func:`read_records`, refusing a file that is not a batch output (say, its input): its
    page would be empty, and look like a run of nothing."""
    count = 0
    for count, record in enumerate(read_records(path), 1):
        if "status" not in record:
            raise ValueError(f"{path}:{count}: not a cosaudit batch output (no status)")
        yield record
    if count == 0:
        raise ValueError(f"{path}: not a cosaudit batch output (no records)")


def main(argv: Sequence[str] | None = None) -> int:
    """``cosaudit report OUT.jsonl [-o PAGE.html] [--title T] [--max-flagged N]``: the report of
    a finished run's output file. Exit status 0, or 2 when the extra is missing or the file
    cannot be read as records."""
    parser = argparse.ArgumentParser(
        prog="cosaudit report",
        description="Write the HTML report of a run's output file (cosaudit batch -o ...).",
    )
    parser.add_argument("output", metavar="OUT.jsonl", help="the run's output: JSON lines")
    parser.add_argument(
        "-o", "--page", metavar="PAGE.html", help="where to write it (default: OUT.html)"
    )
    parser.add_argument("--title", help="the page's title (default: the output file's name)")
    parser.add_argument(
        "--max-flagged", type=int, default=1000, metavar="N", help="flagged rows kept (1000)"
    )
    args = parser.parse_args(argv)
    source = Path(args.output)
    page = Path(args.page) if args.page else source.with_suffix(".html")
    if page.resolve() == source.resolve():
        parser.error(f"the page would replace the output file {source}")
    if not page.parent.is_dir():  # said before writing: the error would name a temp file
        print(f"cosaudit report: cannot write {page}: no folder {page.parent}", file=sys.stderr)
        return 2
    try:
        written = write_report(
            _batch_records(source),
            page,
            title=args.title or f"cosaudit run: {source.name}",
            max_flagged=args.max_flagged,
        )
    except (ReportUnavailable, OSError, ValueError) as exc:
        print(f"cosaudit report: {exc}", file=sys.stderr)
        return 2
    print(f"report: {written.resolve()}")
    return 0
