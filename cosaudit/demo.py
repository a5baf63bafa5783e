"""``cosaudit demo``: the bundled sample set, moderated concurrently on the embedded emulator.

Starts the emulator and a tiny website on 127.0.0.1, moderates texts, text objects, images
(objects, raw bytes, a batch), webpages, a video, a voice message, a document, two live streams
(one waited for, one cancelled) and two virus scans at once through
:class:`~cosaudit.AuditClient` (each kind's items through the bulk runner,
``client.moderate_many``, with its progress bar), reports one badcase, prints one table, and
writes the HTML report of it all (:mod:`cosaudit.report`). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web
from attrs import define

from .bulk import BulkItem, BulkResult, ItemStatus
from .bulk.progress import ProgressOption
from .bulk.records import record
from .cli import plain_help, positive_int
from .client import AuditClient
from .config import PollPolicy
from .credentials import Credentials
from .emulator import Emulator, EmulatorConfig
from .emulator.config import parse_duration
from .emulator.images import png_with_text
from .errors import CosAuditError
from .models import Job, JobState, jobs_table
from .report import Report, ReportUnavailable

__all__ = ["DEFAULT_REPORT", "main", "run_demo"]

DEFAULT_REPORT = "cosaudit-demo-report.html"

BUCKET = "examplebucket-1250000000"
REGION = "ap-guangzhou"


@define(frozen=True, slots=True)
class _Item:
    """One sample: its kind, what it names (key, text, URL), and image bytes if any."""

    kind: str
    source: str
    content: bytes | None = None
    batch: tuple[str, ...] = ()


@define(frozen=True, slots=True)
class _Outcome:
    item: _Item
    jobs: tuple[Job, ...]
    error: str | None
    seconds: float


def _short(text: str, width: int = 38) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# Live streams are looked up by their URL's path; the host is never contacted.
_STREAM_HOST = "rtmp://127.0.0.1"
_LIVE_POLICY = "demo-live-policy"  # live jobs need a BizType; the emulator accepts any


def _items(samples: dict[str, Any], site: str) -> list[_Item]:
    batch = tuple(samples["image_batch"])
    return [
        *(_Item("text", text) for text in samples["texts"]),
        *(_Item("text object", key) for key in samples["text_objects"]),
        *(_Item("image object", key) for key in samples["image_objects"]),
        *(
            _Item("image bytes", f"<png: {text}>", content=png_with_text(text))
            for text in samples["image_bytes"]
        ),
        _Item("image batch", ", ".join(batch), batch=batch),
        *(_Item("webpage", f"{site}/{page}") for page in samples["pages"]),
        *(_Item("video", key) for key in samples["videos"]),
        *(_Item("audio", key) for key in samples["audios"]),
        *(_Item("document", key) for key in samples["documents"]),
        *(
            _Item(f"live ({how})", f"{_STREAM_HOST}/{path}")
            for path, how in samples["streams"].items()
        ),
        *(_Item("virus scan", key) for key in samples["virus_scans"]),
    ]


# The bulk runner's kind for each sample kind; the others (an image batch, live streams) are
# single calls, which moderate_many does not make.
_BULK_KINDS = {
    "text": "text",
    "text object": "text",
    "image object": "image",
    "image bytes": "image",
    "webpage": "webpage",
    "video": "video",
    "audio": "audio",
    "document": "document",
    "virus scan": "virus",
}


def _bulk_item(item: _Item, ident: str) -> BulkItem:
    """The sample as an item of its kind's bulk run, sent with DataId ``ident``."""
    if item.kind == "text":
        return {"content": item.source, "data_id": ident}
    if item.kind == "image bytes":
        return {"content": item.content, "data_id": ident}
    if item.kind == "webpage":
        return {"url": item.source, "return_highlight_html": True, "data_id": ident}
    if item.kind == "video":
        return {
            "object": item.source,
            "snapshot_count": 4,
            "snapshot_mode": "Average",
            "detect_content": True,
            "data_id": ident,
        }
    return item.source  # an object key: its own DataId (virus scans take none)


def _ident(item: _Item, index: int) -> str:
    """A sample's DataId: its object key or URL, else (inline content) its kind and number."""
    if item.kind in ("text", "image bytes"):
        return f"{item.kind.replace(' ', '-')}-{index}"
    return item.source


async def _call(item: _Item, client: AuditClient) -> tuple[Job, ...]:
    """A sample the bulk runner does not take: an image batch or a live stream."""
    if item.kind == "image batch":
        return await client.image.moderate_batch(item.batch)
    return (await _live(item, client),)


async def _live(item: _Item, client: AuditClient) -> Job:
    """A bounded stream is waited for; an endless one is looked at once, then cancelled."""
    job = await client.live.submit(item.source, biz_type=_LIVE_POLICY)
    if not job.job_id:
        raise CosAuditError("the live submit answer has no JobId")
    if item.kind == "live (wait)":
        return await client.live.wait(job.job_id)
    await client.live.get(job.job_id)  # Auditing: what was seen so far
    await client.live.cancel(job.job_id)
    return await client.live.get(job.job_id)  # final: Cancelled


async def _run(
    index: int, item: _Item, client: AuditClient, limit: asyncio.Semaphore, report: Report | None
) -> dict[int, _Outcome]:
    """A single call's sample; its outcome by sample index."""
    async with limit:
        started = time.monotonic()
        try:
            jobs = await _call(item, client)
        except CosAuditError as exc:
            error = f"{type(exc).__name__}: {exc}"
            return {index: _Outcome(item, (), error, time.monotonic() - started)}
        seconds = time.monotonic() - started
    if report is not None:
        kind = "live" if item.kind.startswith("live") else "image"
        names = item.batch or (item.source,)
        for name, job in zip(names, jobs, strict=True):
            report.add(record(_as_result(name, job, seconds), kind=kind, item=name))
    return {index: _Outcome(item, jobs, None, seconds)}


def _as_result(ident: str, job: Job, seconds: float) -> BulkResult[Job]:
    """A single call's job as the bulk runner would have handed it over."""
    if job.state == JobState.SUCCESS:
        return BulkResult(ident, ItemStatus.SUCCEEDED, job=job, job_id=job.job_id, elapsed=seconds)
    code = job.code or (job.state.value if isinstance(job.state, JobState) else str(job.state))
    return BulkResult(
        ident, ItemStatus.FAILED, job=job, job_id=job.job_id, code=code, elapsed=seconds
    )


async def _run_bulk(
    kind: str,
    samples: Sequence[tuple[int, _Item]],
    client: AuditClient,
    *,
    concurrency: int,
    progress: ProgressOption,
    report: Report | None,
) -> dict[int, _Outcome]:
    """One kind's samples through ``client.moderate_many``; outcomes by sample index."""
    by_id = {_ident(item, index): (index, item) for index, item in samples}
    items = [_bulk_item(item, ident) for ident, (_, item) in by_id.items()]
    outcomes: dict[int, _Outcome] = {}
    async with client.moderate_many(
        items, kind=kind, concurrency=concurrency, progress=progress
    ) as run:
        async for result in run:
            index, item = by_id[result.id]
            error = None if result.ok else f"{result.status.value}: {result.code}"
            jobs = (result.job,) if result.job is not None else ()
            outcomes[index] = _Outcome(item, jobs, error, result.elapsed or 0.0)
            if report is not None:
                report.add(record(result, kind=kind))
    return outcomes


@asynccontextmanager
async def _website(root: Path) -> AsyncIterator[str]:
    """Serve ``root`` on 127.0.0.1 for the emulator to fetch webpages from."""
    app = web.Application()
    app.router.add_static("/", root)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def _prepare(workdir: Path) -> tuple[dict[str, Any], Path, Path]:
    data = resources.files("cosaudit") / "demo_data"
    samples: dict[str, Any] = json.loads((data / "samples.json").read_text("utf-8"))
    bucket, site = workdir / "bucket", workdir / "site"
    with resources.as_file(data / "bucket") as src:
        shutil.copytree(src, bucket)
    with resources.as_file(data / "site") as src:
        shutil.copytree(src, site)
    for key, text in samples["images"].items():
        target = (workdir / key) if key.startswith("site/") else (bucket / key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png_with_text(text))
    return samples, bucket, site


async def run_demo(
    out: TextIO = sys.stdout,
    *,
    concurrency: int = 32,
    job_duration: tuple[float, float] = (0.3, 1.5),
    progress: ProgressOption = False,
    report: str | os.PathLike[str] | None = None,
) -> int:
    """Run the demo, print its table to ``out``; returns 0 when every sample got a result.

    Args:
        concurrency: items in flight at once, for each kind.
        progress: each kind's progress bar, as ``moderate_many(progress=...)`` takes it.
        report: where to write the HTML report (needs ``cosaudit[report]``), if anywhere.
    """
    page = Report(title="cosaudit demo") if report is not None else None
    with tempfile.TemporaryDirectory(prefix="cosaudit-demo-") as tmp:
        samples, bucket, site_root = _prepare(Path(tmp))
        config = EmulatorConfig(bucket_dir=bucket, job_duration=job_duration)
        async with _website(site_root) as site, Emulator(config) as emulator:
            credentials = Credentials(config.secret_id, config.secret_key)
            poll = PollPolicy(initial=0.2, multiplier=1.5, maximum=2.0, timeout=60)
            client = AuditClient(
                bucket=BUCKET,
                region=REGION,
                endpoint=emulator.url,
                credentials=credentials,
                poll=poll,
            )
            items = _items(samples, site)
            print(
                f"cosaudit demo: {len(items)} samples on the emulator at {emulator.url} "
                f"(jobs take {job_duration[0]:g}-{job_duration[1]:g} s), {concurrency} at once "
                "for each kind\n",
                file=out,
                flush=True,
            )
            bulk: dict[str, list[tuple[int, _Item]]] = {}
            single: list[tuple[int, _Item]] = []
            for index, item in enumerate(items):
                kind = _BULK_KINDS.get(item.kind)
                (bulk.setdefault(kind, []) if kind else single).append((index, item))
            started = time.monotonic()
            async with client:
                limit = asyncio.Semaphore(concurrency)
                runs = [
                    _run_bulk(
                        kind,
                        members,
                        client,
                        concurrency=concurrency,
                        progress=progress,
                        report=page,
                    )
                    for kind, members in bulk.items()
                ]
                calls = [_run(index, item, client, limit, page) for index, item in single]
                found: dict[int, _Outcome] = {}
                for part in await asyncio.gather(*runs, *calls):
                    found.update(part)
                badcase = await _report_badcase(samples["badcase"], client)
            elapsed = time.monotonic() - started
    outcomes = [found[index] for index in range(len(items))]
    _report(outcomes, elapsed, out)
    print(badcase, file=out)
    if page is not None and report is not None:
        path = page.write(report)
        print(f"\nreport: {path.resolve()} (open it in a browser)", file=out)
    return 0 if all(o.error is None for o in outcomes) and "error" not in badcase else 1


async def _report_badcase(sample: dict[str, str], client: AuditClient) -> str:
    try:
        request_id = await client.report_badcase(
            text=sample["text"], label=sample["label"], suggested_label=sample["suggested_label"]
        )
    except CosAuditError as exc:
        return f"badcase report error: {type(exc).__name__}: {exc}"
    return (
        f"badcase reported: {_short(sample['text'])!r} is {sample['suggested_label']}, "
        f"not {sample['label']} (request id {request_id})"
    )


def _report(outcomes: Sequence[_Outcome], elapsed: float, out: TextIO) -> None:
    jobs: list[Job] = []
    sources: list[str] = []
    for outcome in outcomes:
        for index, job in enumerate(outcome.jobs):
            jobs.append(job)
            name = outcome.item.batch[index] if outcome.item.batch else outcome.item.source
            sources.append(f"{outcome.item.kind}: {_short(name)}")
    print(jobs_table(jobs, sources=sources), file=out)
    verdicts = [job.verdict for job in jobs]
    errors = [o for o in outcomes if o.error is not None]
    for outcome in errors:
        print(f"\nerror in {outcome.item.kind} {outcome.item.source}: {outcome.error}", file=out)
    slowest = max((o.seconds for o in outcomes), default=0.0)
    print(
        f"\n{len(jobs)} results from {len(outcomes)} calls in {elapsed:.2f} s "
        f"(slowest call {slowest:.2f} s): "
        f"{verdicts.count(0)} normal, {verdicts.count(1)} sensitive, "
        f"{verdicts.count(2)} suspicious, "
        f"{len(errors)} errors",
        file=out,
    )


def main(argv: list[str] | None = None) -> int:
    """``cosaudit demo [--concurrency N] [--job-duration MIN MAX] [--report PATH | --no-report]``;
    exit status 0 when every call succeeded, 1 when some failed, 2 for bad arguments, 130 on
    Ctrl-C."""
    parser = argparse.ArgumentParser(prog="cosaudit demo", description=plain_help(__doc__))
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=32,
        help="items in flight at once, per kind (>= 1)",
    )
    parser.add_argument(
        "--job-duration",
        type=float,
        nargs=2,
        default=(0.3, 1.5),
        metavar=("MIN", "MAX"),
        help="seconds an emulated job takes (default 0.3 1.5)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--report",
        metavar="PATH",
        help=f"write the HTML report there (default ./{DEFAULT_REPORT}; needs cosaudit[report])",
    )
    where.add_argument("--no-report", action="store_true", help="write no HTML report")
    args = parser.parse_args(argv)
    try:
        job_duration = parse_duration(tuple(args.job_duration))
    except ValueError as exc:  # the emulator's own check: negative, or MIN above MAX
        parser.error(f"--job-duration: {exc}")
    assert isinstance(job_duration, tuple)  # a range in, a range out
    report = None if args.no_report else (args.report or DEFAULT_REPORT)
    missing = None
    if report is not None:
        try:
            Report()
        except ReportUnavailable as exc:
            if args.report:  # asked for by name: say so before the run, not after
                parser.error(f"--report: {exc}")
            missing, report = exc, None  # the default: the demo runs all the same
    try:
        status = asyncio.run(
            run_demo(
                sys.stdout,
                concurrency=args.concurrency,
                job_duration=job_duration,
                progress=True,  # on stderr when it is a terminal
                report=report,
            )
        )
    except KeyboardInterrupt:
        # The demo keeps nothing between runs: there is nothing to resume, only to rerun.
        print("\ninterrupted; nothing was kept, run `cosaudit demo` again", file=sys.stderr)
        return 130
    if missing is not None:
        print(f"\nno HTML report: {missing}")
    return status
