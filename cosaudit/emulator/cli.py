"""``cosaudit emulator``: serve the emulator from the command line until interrupted.

It prints what a client needs (URL, SecretId, SecretKey, APPID, bucket); ``--print-env`` prints
the same as shell ``export`` lines (everything else as ``#`` comments), so the output can be
sourced. The default key is a public test value and is printed; a ``--secret-key`` of the user's
own never is. Start-up problems (a missing ``--bucket-dir``, a port in use) are one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from cosaudit.emulator.config import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    Duration,
    EmulatorConfig,
    parse_duration,
)
from cosaudit.emulator.faults import FaultPlan
from cosaudit.emulator.faultspec import SYNTAX, read_faults
from cosaudit.emulator.ratelimits import API_NAMES, DEFAULT_QPS, parse_qps
from cosaudit.emulator.rules import RuleSet
from cosaudit.emulator.server import Emulator

__all__ = ["build_parser", "main"]


def _duration(value: str) -> Duration:
    """``1.0`` or a range ``0.5-2`` (argparse shows the ValueError's message)."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _faults(value: str) -> FaultPlan:
    """A ``--faults`` spec or file (argparse shows the error's message)."""
    try:
        return read_faults(value)
    except (ValueError, OSError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _qps(value: str) -> dict[str, float]:
    """A ``--qps`` spec (argparse shows the error's message and exits with status 2)."""
    try:
        return parse_qps(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser(prog: str = "cosaudit emulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local emulator of the COS/CI content-moderation API.",
        epilog=SYNTAX,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port, 0 for any (default: %(default)s)"
    )
    parser.add_argument("--secret-id", default=DEFAULT_SECRET_ID, help="accepted SecretId")
    parser.add_argument(
        "--secret-key",
        default=DEFAULT_SECRET_KEY,
        help="accepted SecretKey (the default, a public test key, is printed; yours never is)",
    )
    parser.add_argument("--token", default=None, help="security token the key must present")
    parser.add_argument("--appid", default="1250000000", help="APPID (default: %(default)s)")
    parser.add_argument(
        "--bucket-dir", type=Path, default=None, help="folder standing for the bucket"
    )
    parser.add_argument(
        "--bucket",
        default="examplebucket",
        help="bucket name without -APPID; hosts naming another get 404 NoSuchBucket "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--print-env",
        action="store_true",
        help=f"print shell exports ({ENDPOINT_ENV}, TENCENTCLOUD_SECRET_ID/_KEY); "
        "other lines become # comments",
    )
    parser.add_argument(
        "--log-requests",
        action="store_true",
        help="log each request on stderr: method, path, status, latency, job id, fault",
    )
    parser.add_argument(
        "--job-duration",
        type=_duration,
        default=1.0,
        help="seconds from submit to final, or MIN-MAX (default: %(default)s)",
    )
    parser.add_argument(
        "--final-after-polls", type=int, default=None, help="final on the N-th query instead"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="make job and request ids reproducible"
    )
    parser.add_argument(
        "--rules",
        type=Path,
        default=None,
        help="JSON rules file: keyword lists per scene, libraries, allow/block lists of users",
    )
    parser.add_argument(
        "--allow-remote-fetch",
        action="store_true",
        help="fetch Url inputs from any host, not only loopback",
    )
    defaults = ",".join(f"{name}={rate:g}" for name, rate in DEFAULT_QPS.items())
    parser.add_argument(
        "--qps",
        type=_qps,
        default=None,
        metavar="API=RATE,...",
        help=f"requests/s each API accepts before answering SlowDown, e.g. 'text=100,image=20' "
        f"(NAME=inf lifts a limit; default {defaults}; APIs: {', '.join(sorted(API_NAMES))})",
    )
    parser.add_argument(
        "--no-callbacks",
        action="store_true",
        help="never POST results to Callback URLs (clients fall back to polling)",
    )
    parser.add_argument(
        "--allow-remote-callbacks",
        action="store_true",
        help="accept Callback URLs of any host, not only loopback",
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        default=FaultPlan(),
        metavar="SPEC|FILE",
        help="inject faults: rules like 'slowdown:p=0.1;reset-after:every=5' or a .json/.toml "
        "file (syntax below)",
    )
    return parser


# The variable AuditClient reads when given no endpoint (cosaudit.endpoints.ENDPOINT_ENV; the
# emulator imports nothing of the client, tests/test_emulator_tool.py checks they agree).
ENDPOINT_ENV = "COSAUDIT_ENDPOINT_URL"


def settings_lines(url: str, config: EmulatorConfig, *, as_env: bool) -> list[str]:
    """What a client needs, as text or as shell exports; a key not the default stays hidden."""
    own_key = config.secret_key != DEFAULT_SECRET_KEY
    if as_env:
        lines = [
            f"export {ENDPOINT_ENV}={shlex.quote(url)}",
            f"export TENCENTCLOUD_SECRET_ID={shlex.quote(config.secret_id)}",
        ]
        if own_key:
            lines.append("# TENCENTCLOUD_SECRET_KEY: the --secret-key you gave (not printed)")
        else:
            lines.append(f"export TENCENTCLOUD_SECRET_KEY={shlex.quote(config.secret_key)}")
        lines.append(f"# bucket {config.full_bucket} (APPID {config.appid}), any region")
        return lines
    key = "(the --secret-key you gave; not printed)" if own_key else config.secret_key
    return [
        f"cosaudit emulator listening on {url}",
        f"SecretId:  {config.secret_id}",
        f"SecretKey: {key}",
        f"APPID:     {config.appid}",
        f"bucket:    {config.full_bucket} (any region)",
    ]


async def _serve(config: EmulatorConfig, faults: FaultPlan, as_env: bool = False) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Also when SIGINT is ignored (a background job of a script); Windows has no
        # add_signal_handler and keeps the KeyboardInterrupt path of main().
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    note = "# " if as_env else ""  # --print-env: every other line is a shell comment

    async with Emulator(config) as emu:
        emu.faults.load(faults)
        if as_env:
            for line in settings_lines(emu.url, config, as_env=True):
                print(line, flush=True)
        for line in settings_lines(emu.url, config, as_env=False):
            print(note + line, flush=True)
        if config.bucket_dir is not None:
            print(f"{note}bucket folder: {config.bucket_dir}", flush=True)
        limits = {name: rate for name, rate in config.qps.items() if rate != float("inf")}
        if limits:
            shown = ", ".join(f"{name} {rate:g}/s" for name, rate in sorted(limits.items()))
            print(f"{note}rate limits: {shown}", flush=True)
        if faults.rules or faults.clock_offset:
            print(
                f"{note}faults: {len(faults.rules)} rules, clock offset {faults.clock_offset:+g} s",
                flush=True,
            )
        print(f"{note}Press Ctrl-C to stop.", flush=True)
        await stop.wait()
    if faults.rules:
        # One JSON line, for a soak or benchmark driving the emulator as a child process.
        print(f"{note}faults injected: {json.dumps(dict(emu.stats.faults), sort_keys=True)}")
    print(f"{note}stopped", flush=True)


def _fail(message: str) -> int:
    """A start-up problem: one line on stderr, exit status 2 (as argparse's usage errors)."""
    print(f"cosaudit emulator: error: {message}", file=sys.stderr)
    return 2


def _log_requests() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    requests = logging.getLogger("cosaudit.emulator.requests")
    requests.addHandler(handler)
    requests.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until Ctrl-C; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.bucket_dir is not None and not args.bucket_dir.is_dir():
        what = "is not a folder" if args.bucket_dir.exists() else "does not exist"
        return _fail(f"--bucket-dir {args.bucket_dir} {what}")
    try:
        rules = RuleSet.from_json_file(args.rules) if args.rules else None
    except (ValueError, OSError) as exc:
        parser.error(f"--rules: {exc}")
    try:
        config = EmulatorConfig(
            secret_id=args.secret_id,
            secret_key=args.secret_key,
            token=args.token,
            appid=args.appid,
            host=args.host,
            port=args.port,
            bucket_dir=args.bucket_dir,
            job_duration=args.job_duration,
            final_after_polls=args.final_after_polls,
            rules=rules,
            allow_remote_fetch=args.allow_remote_fetch,
            seed=args.seed,
            bucket=args.bucket,
            qps=args.qps,
            callbacks=not args.no_callbacks,
            allow_remote_callbacks=args.allow_remote_callbacks,
        )
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    if args.log_requests:
        _log_requests()
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(_serve(config, args.faults, args.print_env))
        except OSError as exc:
            # Port in use, address not local: one line, not a traceback.
            reason = exc.strerror or str(exc)
            return _fail(f"cannot serve on {args.host}:{args.port}: {reason}")
    return 0
