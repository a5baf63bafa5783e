"""``cosaudit emulator``: serve the emulator from the command line until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
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
        "--secret-key", default=DEFAULT_SECRET_KEY, help="accepted SecretKey (never printed)"
    )
    parser.add_argument("--token", default=None, help="security token the key must present")
    parser.add_argument("--appid", default="1250000000", help="APPID (default: %(default)s)")
    parser.add_argument(
        "--bucket-dir", type=Path, default=None, help="folder standing for the bucket"
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
    parser.add_argument("--rules", type=Path, default=None, help="JSON file of keyword rules")
    parser.add_argument(
        "--allow-remote-fetch",
        action="store_true",
        help="fetch Url inputs from any host, not only loopback",
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


async def _serve(config: EmulatorConfig, faults: FaultPlan) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Also when SIGINT is ignored (a background job of a script); Windows has no
        # add_signal_handler and keeps the KeyboardInterrupt path of main().
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    async with Emulator(config) as emu:
        emu.faults.load(faults)
        print(f"cosaudit emulator listening on {emu.url}", flush=True)
        print(f"SecretId: {config.secret_id}  APPID: {config.appid}", flush=True)
        if config.bucket_dir is not None:
            print(f"bucket folder: {config.bucket_dir}", flush=True)
        if faults.rules or faults.clock_offset:
            print(
                f"faults: {len(faults.rules)} rules, clock offset {faults.clock_offset:+g} s",
                flush=True,
            )
        print("Press Ctrl-C to stop.", flush=True)
        await stop.wait()
    if faults.rules:
        # One JSON line, for a soak or benchmark driving the emulator as a child process.
        print(f"faults injected: {json.dumps(dict(emu.stats.faults), sort_keys=True)}")
    print("stopped", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until Ctrl-C; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
            rules=RuleSet.from_json_file(args.rules) if args.rules else None,
            allow_remote_fetch=args.allow_remote_fetch,
            seed=args.seed,
        )
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(_serve(config, args.faults))
        except OSError as exc:
            print(f"cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
    return 0
