"""The ``cosaudit`` command: ``cosaudit batch``, ``demo``, ``emulator`` and ``report``."""

from __future__ import annotations

import argparse
import re
import sys

__all__ = ["main", "plain_help", "positive_int"]

_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


def positive_int(text: str) -> int:
    """An argparse ``type=`` for counts: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def plain_help(doc: str | None) -> str:
    """A docstring's first paragraph as ``--help`` shows it: reStructuredText markup (roles,
    double back-quotes) removed, lines joined."""
    first = (doc or "").strip().split("\n\n")[0]
    text = _ROLE.sub(r"\1", first).replace("``", "")
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    """Run ``cosaudit <command> [options]``; returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="cosaudit", description="Content moderation on Tencent Cloud COS / CI."
    )
    parser.add_argument(
        "command", choices=["batch", "demo", "emulator", "report"], help="what to run"
    )
    if not args or args[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "emulator":
        from .emulator.cli import main as emulator_main

        return int(emulator_main(rest))
    if command == "batch":
        from .batch import main as batch_main

        return int(batch_main(rest))
    if command == "report":
        from .report import main as report_main

        return int(report_main(rest))
    if command == "demo":
        from .demo import main as demo_main

        return int(demo_main(rest))
    parser.parse_args(args)  # prints the usage error for an unknown command
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
