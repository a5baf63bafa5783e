"""``cosaudit batch``: moderate every request of a JSONL or CSV file (or standard input), one
JSON line of result per item, resumable after anything.

::

    cosaudit batch requests.jsonl -o results.jsonl --bucket examplebucket-1250000000 \\
        --region ap-guangzhou          # keys from TENCENTCLOUD_SECRET_ID / _SECRET_KEY
    cosaudit batch requests.jsonl -o results.jsonl --resume   # after a Ctrl-C, a kill, a crash
    cosaudit batch --prefix uploads/ --kind auto -o results.jsonl ...  # a bucket listing

Each line names its kind and its input: ``{"kind": "text", "object": "docs/1.txt",
"data_id": "item-1"}``, ``content`` or ``url`` instead of ``object``, plus the kind's options
(:mod:`cosaudit.bulk.inputfile`). The whole input is checked before anything is sent: a bad
line, or an id repeated on two lines, is a usage error naming the line. Standard input is
copied to a temporary file first, so it is checked whole as well (a producer that never ends
is not a batch). With ``--prefix`` the input is the bucket's listing instead, read as the run
goes (:mod:`cosaudit.bulk.listedinput`).

The run goes through :meth:`AuditClient.moderate_many <cosaudit.AuditClient.moderate_many>`
(one run for all kinds), with its journal beside the output (``OUT.journal``). Exactly one
line per item ends up in the output across kills and resumes: see
:mod:`cosaudit.bulk.outputfile` for how the output and the journal agree.

Submissions go at the rate the service accepts (``--rate adaptive``, the default: start at 20/s,
slow down on ``SlowDown``, :mod:`cosaudit.bulk.adaptive_rate`) or at most ``--rate N`` a
second. ``--shard I/N`` takes one slice of the input (``auto/N``: I from
``JOB_COMPLETION_INDEX``, a Kubernetes Indexed Job), so N processes split one input with no item
taken twice (:mod:`cosaudit.bulk.shards`); each needs its own output, and the account's quota
is shared, so each a rate of the quota divided by N.

Exit status: 0 when every item succeeded, 1 when some failed, are ambiguous or pending (the
summary says which to reconcile), 2 for a usage or configuration error, 130 on Ctrl-C (after
the summary so far and how to resume).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from attrs import Factory, define, evolve

from .bulk import BulkRun, BulkSummary, Rate, Shard
from .bulk.inputfile import InputFile, input_of
from .bulk.listedinput import Listed
from .bulk.outputfile import OutputFile
from .bulk.records import record
from .cli import positive_int
from .client import AuditClient
from .credentials import Credentials
from .errors import AuthError, CosAuditError, InvalidInput, MissingCredentials, ServiceError
from .report import Report, ReportUnavailable, read_records, write_report
from .requests import BULK_KINDS, Request

__all__ = ["main"]

EMULATOR_BUCKET = "examplebucket-1250000000"
EMULATOR_REGION = "ap-guangzhou"


class UsageError(Exception):
    """A bad option or input: exit status 2, with this message."""


@define(frozen=True, slots=True)
class Settings:
    """What the options say, checked."""

    input: str | None
    prefix: str | None
    max_keys: int
    output: Path
    journal: Path
    resume: bool
    concurrency: int
    on_ambiguous: str
    quiet: bool
    kind: str | None
    emulator: bool
    bucket_dir: Path
    job_duration: float
    bucket: str
    region: str
    endpoint: str | None
    credentials: Credentials | None  # None with --emulator: the emulator's own keys
    report: Path | None = None
    rate: Rate = "adaptive"
    shard: Shard | None = None
    command: tuple[str, ...] = ()  # the arguments as given, for the hint to resume


def parser() -> argparse.ArgumentParser:
    """The options of ``cosaudit batch``; add new ones here, each in its group."""
    parser = argparse.ArgumentParser(
        prog="cosaudit batch",
        description="Moderate every request of a JSONL or CSV file; one JSON line of result "
        "per item, resumable after a kill with --resume.",
    )
    parser.add_argument(
        "input", nargs="?", help="JSONL or CSV file of requests, or - for standard input"
    )
    parser.add_argument("-o", "--output", required=True, type=Path, help="results (JSONL)")
    where = parser.add_argument_group("where to send")
    where.add_argument("--endpoint", help="send to this scheme://host:port instead of COS's")
    where.add_argument("--bucket", help="the bucket, NAME-APPID")
    where.add_argument("--region", help="the bucket's region, e.g. ap-guangzhou")
    where.add_argument(
        "--emulator", action="store_true", help="run against the embedded emulator (no keys)"
    )
    where.add_argument(
        "--bucket-dir",
        type=Path,
        default=Path(),
        help="with --emulator: the folder standing for the bucket (default: .)",
    )
    where.add_argument(
        "--job-duration",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="with --emulator: how long an emulated job takes (default 1)",
    )
    run = parser.add_argument_group("how to run")
    where.add_argument(
        "--prefix",
        help="instead of INPUT: every object whose key starts with PREFIX (with --kind)",
    )
    where.add_argument(
        "--max-keys",
        type=positive_int,
        default=1000,
        help="with --prefix: keys per listing page (1-1000, default 1000)",
    )
    run.add_argument(
        "--kind",
        choices=[*sorted(BULK_KINDS), "auto"],
        help="the kind of lines that name none; with --prefix, of every object, or auto: "
        "guessed from each key's extension",
    )
    run.add_argument(
        "--concurrency", type=positive_int, default=64, help="items in flight (default 64)"
    )
    run.add_argument("--journal", type=Path, help="the journal (default: OUTPUT.journal)")
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the run the output and journal record (with --emulator: only if no "
        "job was in flight, as the embedded emulator's jobs end with it; run `cosaudit "
        "emulator` and pass --endpoint for runs to interrupt and resume)",
    )
    run.add_argument(
        "--on-ambiguous",
        choices=["report", "resubmit"],
        default="report",
        help="a submission that may have been accepted: report it (default) or send it again",
    )
    run.add_argument(
        "--rate",
        type=_rate,
        default="adaptive",
        metavar="N|adaptive",
        help="submissions per second at most, or 'adaptive' (default): start at 20/s and "
        "follow what the service accepts, slowing down on SlowDown",
    )
    run.add_argument(
        "--shard",
        metavar="I/N|auto/N",
        help="take only shard I of N (0-based) of the input, by a hash of each item's id; "
        "'auto' reads I from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job). Give each "
        "shard its own -o, and a --rate of the account's quota divided by N",
    )
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.add_argument(
        "--report",
        type=Path,
        metavar="FILE.html",
        help="at the end, write the HTML report of the whole output there "
        "(pip install 'cosaudit[report]')",
    )
    return parser


def _rate(text: str) -> float | str:
    if text.strip().lower() == "adaptive":
        return "adaptive"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give a number of submissions per second or 'adaptive', not {text!r}"
        ) from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value


def settings(args: argparse.Namespace) -> Settings:
    """The checked settings; raises :class:`UsageError`."""
    if args.input is not None and args.prefix is not None:
        raise UsageError("give INPUT or --prefix, not both")
    if args.input is None and args.prefix is None:
        raise UsageError("give INPUT (a JSONL or CSV file, - for standard input) or --prefix")
    if args.prefix is not None and args.kind in (None, "webpage"):
        raise UsageError(
            "--prefix needs --kind: the kind of every listed object, or auto (by extension); "
            "webpage takes URLs, not objects"
        )
    if args.prefix is None and args.kind == "auto":
        raise UsageError("--kind auto guesses from listed keys: use it with --prefix")
    output: Path = args.output
    journal: Path = args.journal or output.with_name(output.name + ".journal")
    if not args.resume:
        there = [str(path) for path in (output, journal) if path.exists()]
        if there:
            raise UsageError(
                f"{' and '.join(there)} already exist{'s' if len(there) == 1 else ''}: pass "
                "--resume to continue that run, or remove them to start afresh"
            )
    elif output.exists() and not journal.exists():
        raise UsageError(
            f"{output} exists but its journal {journal} does not, so its lines cannot be "
            "checked: remove it, or pass the --journal it was written with"
        )
    report: Path | None = args.report
    if report is not None:
        try:
            Report()  # the extra's absence said now, not after the run
        except ReportUnavailable as exc:
            raise UsageError(f"--report: {exc}") from None
        if report.resolve() in (output.resolve(), journal.resolve()):
            raise UsageError(f"--report {report} would replace the run's output or journal")
        if not report.parent.is_dir():
            raise UsageError(f"--report {report}: no folder {report.parent}")
    credentials: Credentials | None = None
    try:
        # "auto/N" reads JOB_COMPLETION_INDEX here, when the command runs.
        shard = Shard.parse(args.shard) if args.shard is not None else None
    except InvalidInput as error:
        raise UsageError(f"--shard: {error.message}") from None
    if not 0 <= args.job_duration < 3600:
        raise UsageError(f"--job-duration must be 0 to 3600 seconds, got {args.job_duration}")
    if args.emulator:
        if args.endpoint:
            raise UsageError("--emulator runs its own endpoint: leave out --endpoint")
        if not args.bucket_dir.is_dir():  # as ``cosaudit emulator`` says it
            what = "is not a folder" if args.bucket_dir.exists() else "does not exist"
            raise UsageError(f"--bucket-dir {args.bucket_dir} {what}")
        bucket, region = args.bucket or EMULATOR_BUCKET, args.region or EMULATOR_REGION
    else:
        if not args.bucket or not args.region:
            raise UsageError(
                "name the bucket and its region (--bucket NAME-APPID --region REGION), "
                "or pass --emulator to try the command on the embedded emulator"
            )
        bucket, region = args.bucket, args.region
        try:
            credentials = Credentials.from_env()
        except MissingCredentials:
            raise UsageError(
                "no keys: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY in the "
                "environment (TENCENTCLOUD_SESSION_TOKEN too for temporary keys), or pass "
                "--emulator"
            ) from None
    return Settings(
        input=args.input,
        prefix=args.prefix,
        max_keys=args.max_keys,
        output=output,
        journal=journal,
        resume=args.resume,
        concurrency=args.concurrency,
        on_ambiguous=args.on_ambiguous,
        quiet=args.quiet,
        kind=args.kind,
        emulator=args.emulator,
        bucket_dir=args.bucket_dir,
        job_duration=args.job_duration,
        bucket=bucket,
        region=region,
        endpoint=args.endpoint,
        credentials=credentials,
        report=report,
        rate=args.rate,
        shard=shard,
    )


@asynccontextmanager
async def _client(config: Settings) -> AsyncIterator[AuditClient]:
    """The client the settings name, with the embedded emulator running if asked for."""
    if not config.emulator:
        assert config.credentials is not None
        async with AuditClient(
            bucket=config.bucket,
            region=config.region,
            endpoint=config.endpoint,
            credentials=config.credentials,
        ) as client:
            yield client
        return
    # Imported here: the emulator is a tool for trying the command, not part of a real run.
    from .emulator import Emulator, EmulatorConfig

    emulated = EmulatorConfig(bucket_dir=config.bucket_dir, job_duration=config.job_duration)
    async with (
        Emulator(emulated) as emulator,
        AuditClient(
            bucket=config.bucket,
            region=config.region,
            endpoint=emulator.url,
            credentials=Credentials(emulated.secret_id, emulated.secret_key),
        ) as client,
    ):
        yield client


@define
class _Tally:
    """What the command knows beyond the run's summary."""

    interrupted: bool = False
    stopped: CosAuditError | None = None  # an error no item can get past
    earlier: Counter[str] = Factory(Counter)  # statuses of the lines a resume kept
    listed: Listed | None = None


def _resume_command(config: Settings) -> str:
    """The command line as given, plus --resume: every option (--emulator, --rate, --shard...)
    must be the same for the run to continue."""
    given = list(config.command)
    if "--resume" not in given:
        given.append("--resume")
    return f"cosaudit batch {shlex.join(given)}"


def _what(config: Settings) -> str:
    """The input as the command line named it."""
    if config.prefix is not None:
        return f"--prefix {config.prefix} --kind {config.kind}"
    return str(config.input)


@define(frozen=True)
class _Known(Iterable[Request]):
    """The input's requests with their number, known from the check: the progress bar's
    total (``len``)."""

    requests: Iterator[Request]
    total: int

    def __iter__(self) -> Iterator[Request]:
        return self.requests

    def __len__(self) -> int:
        return self.total


async def run_batch(config: Settings, source: InputFile | None, total: int, err: TextIO) -> int:
    """Run the batch over the ``total`` requests of ``source`` (checked), or over the listing
    of ``config.prefix``; returns the exit status."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    tally = _Tally()

    def interrupt() -> None:
        # First Ctrl-C: stop gracefully (submissions on the wire finish and are journaled);
        # a second one abandons them too (they stay ambiguous in the journal).
        tally.interrupted = True
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
        handled = True
    except NotImplementedError:  # Windows: Ctrl-C ends the run as a KeyboardInterrupt
        handled = False
    summary = BulkSummary()
    requests = source.requests() if source is not None else None
    try:
        async with _client(config) as client:
            items: _Known | Listed | Iterator[Request]
            if requests is not None and config.shard is not None:
                items = requests  # the shard's share is not known before: counted as taken
            elif requests is not None:
                items = _Known(requests, total)
            else:
                assert config.prefix is not None and config.kind is not None
                # No len(): the bar counts the listing as it goes.
                items = tally.listed = Listed(
                    client.list_objects(prefix=config.prefix, max_keys=config.max_keys),
                    config.kind,
                )
            run = client.moderate_many(
                items,
                concurrency=config.concurrency,
                journal=config.journal,
                on_ambiguous="resubmit" if config.on_ambiguous == "resubmit" else "report",
                rate=config.rate,
                shard=config.shard,
                # On stderr when it is a terminal (never into a pipe or a log file).
                progress=not config.quiet,
            )
            try:
                async with run:
                    summary = await _write(run, config, tally, err)
            except asyncio.CancelledError:
                if not tally.interrupted:
                    raise
            summary = run.summary
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGINT)
        if requests is not None:
            requests.close()
    if tally.interrupted:
        print(_summary(summary, config, tally), file=err)
        print(f"interrupted: rerun with --resume to continue ({_resume_command(config)})", file=err)
        return 130
    if tally.stopped is not None:
        print(_summary(summary, config, tally), file=err)
        stopped = tally.stopped
        print(
            f"stopped: {type(stopped).__name__}: {stopped}; no item can get past it: check your "
            f"keys / bucket, then continue with: {_resume_command(config)}",
            file=err,
        )
        return 2
    if not config.quiet:
        print(_summary(summary, config, tally), file=err)
    if config.report is not None:
        # From the output file, not this run's results: a resumed run's page shows every item.
        page = await asyncio.to_thread(
            write_report,
            read_records(config.output),
            config.report,
            summary=summary,
            title=f"cosaudit batch {_what(config)}",
        )
        if not config.quiet:
            print(f"report: {page.resolve()}", file=err)
    # The whole output counts, lines an earlier run wrote included.
    earlier_ok = tally.earlier["succeeded"] == tally.earlier.total()
    return 0 if summary.handed_over == summary.succeeded and earlier_ok else 1


async def _write(run: BulkRun[Any], config: Settings, tally: _Tally, err: TextIO) -> BulkSummary:
    journal = run.journal
    assert journal is not None
    if config.resume:
        output, tally.earlier, dropped = OutputFile.resume(config.output, journal.is_finished)
        kept = tally.earlier.total()
        if kept != journal.finished_count:
            # Lines of finished items are missing (the file was cut, replaced or lost to a
            # power cut): the run cannot make them again without submitting them again.
            output.close()
            raise UsageError(
                f"{config.output} has lines for {kept} of the {journal.finished_count} items "
                f"{config.journal} finished; it was cut or replaced. Their results are in the "
                "journal's 'done' records; remove both files to run everything again"
            )
        if not config.quiet and (kept or dropped):
            print(
                f"resuming: {kept} lines of finished items kept in {config.output}, "
                f"{dropped} of unfinished items dropped (written again as they finish)",
                file=err,
            )
    else:
        output = OutputFile.create(config.output)
    try:
        async for result in run:
            output.write(record(result))
            if _stops_the_run(result.error):
                # Every other item would fail the same way (and a run of a million items
                # would grind through them all); the journal keeps them for a --resume.
                tally.stopped = result.error
                break
    finally:
        output.close()
    return run.summary


def _stops_the_run(error: CosAuditError | None) -> bool:
    """Wrong keys, no right to the bucket, or no such bucket: no item can get past these.
    (RequestTimeTooSkewed is not among them: the session corrects the clock and resends.)"""
    if isinstance(error, AuthError):
        return error.code != "RequestTimeTooSkewed"
    return isinstance(error, ServiceError) and error.code == "NoSuchBucket"


def _summary(summary: BulkSummary, config: Settings, tally: _Tally) -> str:
    lines = [str(summary)]
    listed = tally.listed
    if listed is not None and listed.skipped:
        more = listed.skipped - len(listed.skipped_keys)
        lines.append(
            f"{listed.skipped} listed objects skipped (no kind for their extension, or a folder "
            f"marker): {', '.join(listed.skipped_keys)}{f' and {more} more' if more > 0 else ''}"
        )
    earlier_bad = tally.earlier.total() - tally.earlier["succeeded"]
    if earlier_bad:
        lines.append(f"{_items(earlier_bad)} of earlier runs did not succeed (see {config.output})")
    if summary.ambiguous:
        lines.append(
            f"{summary.ambiguous} ambiguous: their submission may or may not have been "
            f'accepted; reconcile them (lines with "status":"ambiguous" in {config.output}), '
            "then send them again with --resume --on-ambiguous resubmit"
        )
    if summary.failed or summary.pending:
        lines.append(
            f"{summary.failed} failed, {summary.pending} pending: their lines in "
            f"{config.output} say why (--resume waits for pending jobs again, and sends again "
            "submissions the service refused)"
        )
    return "\n".join(lines)


def _refuse_lost_jobs(config: Settings) -> None:
    """Refuse to resume an --emulator run that had jobs in flight: the embedded emulator ended
    with that run and its jobs with it, so waiting for their JobIds could only fail them
    (AuditingJobNotFound) for good."""
    last: dict[str, str] = {}
    with config.journal.open("rb") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn last line: the journal itself judges it
            if isinstance(record, dict) and "id" in record:
                last[str(record["id"])] = str(record.get("e"))
    lost = sum(event == "submitted" for event in last.values())
    if lost:
        raise UsageError(
            f"{_items(lost)} of {config.journal} had jobs on the embedded emulator of the "
            "interrupted run, which ended with it: they cannot be waited for. Remove "
            f"{config.output} and {config.journal} to run again (to interrupt and resume "
            "against an emulator, run `cosaudit emulator` and pass --endpoint)"
        )


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def main(argv: Sequence[str] | None = None, *, err: TextIO | None = None) -> int:
    """``cosaudit batch INPUT -o OUT.jsonl [options]``; returns the exit status."""
    err = err or sys.stderr
    given = tuple(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(given)
    try:
        config = evolve(settings(args), command=given)
        if config.emulator and config.resume and config.journal.exists():
            _refuse_lost_jobs(config)
        if config.input is None:
            return asyncio.run(run_batch(config, None, 0, err))
        with input_of(config.input, kind=config.kind) as source:
            total = source.check()
            if total == 0:
                raise UsageError(f"{source.name} holds no items: nothing to do")
            if not config.quiet:
                print(f"cosaudit batch: {total} items from {source.name}", file=err)
            return asyncio.run(run_batch(config, source, total, err))
    except (UsageError, InvalidInput) as exc:  # InvalidInput: a bad line, a journal in use
        print(f"cosaudit batch: {exc}", file=err)
        return 2
    except CosAuditError as exc:  # the listing refused (NoSuchBucket, AccessDenied...)
        print(f"cosaudit batch: {type(exc).__name__}: {exc}", file=err)
        print("rerun with --resume to continue once it is fixed", file=err)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        # Ctrl-C before the run's own handler was in place (nothing was sent), or a second
        # one while it was closing (the journal holds what was on the wire).
        print("interrupted: rerun with --resume to continue", file=err)
        return 130
