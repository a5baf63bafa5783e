"""CPU cost of the client's per-request work, without any network.

Measures, per call, the pieces every request goes through: signing, building a request body,
parsing a response body, and structuring it into a model. The response is what the emulator
answers a synchronous text moderation (42 elements, one section, four scenes). The ratio line
compares our whole path with xmltodict parsing alone.

    python -m benchmarks.hot_path [--repeat 7] [--number 2000]
    python -m benchmarks.hot_path --against ../old-checkout [--rounds 5] [--instructions]

``--against`` runs this same script in child processes, alternately on the other checkout's
``cosaudit`` and on this one, and prints both side by side (before/after an optimisation,
measured in one run on the same machine). With ``--instructions`` it counts instructions per
call under ``valgrind --tool=callgrind`` instead of timing: slow, but the same count every run,
whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path

import xmltodict

from cosaudit.cli import plain_help
from cosaudit.models import TextJob, structure
from cosaudit.wire import xmlcodec
from cosaudit.wire.signing import Signer

CONTENT = b"UG9zdCAxOiBidXkgbm93IGFuZCBnZXQgYSBkaXNjb3VudCBjb2RlIGZvciB0aGUgbmV4dCBvcmRlciE="
RESPONSE = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b"<Response><JobsDetail><JobId>ste28a7af3fdbd013fbaac251c2f41b0bd</JobId>"
    b"<State>Success</State><CreationTime>2026-11-21T14:20:21+08:00</CreationTime>"
    b"<Content>" + CONTENT + b"</Content>"
    b"<SectionCount>1</SectionCount><Label>Ads</Label><Result>1</Result>"
    b"<PornInfo><HitFlag>0</HitFlag><Count>0</Count></PornInfo>"
    b"<AdsInfo><HitFlag>1</HitFlag><Count>1</Count></AdsInfo>"
    b"<IllegalInfo><HitFlag>0</HitFlag><Count>0</Count></IllegalInfo>"
    b"<AbuseInfo><HitFlag>0</HitFlag><Count>0</Count></AbuseInfo>"
    b"<Section><StartByte>0</StartByte><Label>Ads</Label><Result>1</Result>"
    b"<PornInfo><HitFlag>0</HitFlag><Score>0</Score><Keywords></Keywords></PornInfo>"
    b"<AdsInfo><HitFlag>1</HitFlag><Score>90</Score><Keywords>buy now,discount code</Keywords>"
    b"</AdsInfo><IllegalInfo><HitFlag>0</HitFlag><Score>0</Score><Keywords></Keywords>"
    b"</IllegalInfo><AbuseInfo><HitFlag>0</HitFlag><Score>0</Score><Keywords></Keywords>"
    b"</AbuseInfo></Section></JobsDetail><RequestId>3HAqoB54vk8ILbXhAgbUQxGHRCI3U7Vn</RequestId>"
    b"</Response>"
)
HEADERS = {
    "Host": "examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com",
    "Content-Type": "application/xml",
    "Content-Length": "195",
}
REQUEST = {
    "Input": {"Content": CONTENT.decode()},
    "Conf": {},
}
DETAIL = xmlcodec.parse(RESPONSE)["Response"]["JobsDetail"]


# One signer for every call, as a session keeps one: it remembers work from call to call.
SIGNER = Signer()


def _sign() -> None:
    SIGNER.sign("AKID", "key", "POST", "/text/auditing", {}, HEADERS, 1_700_000_000)


def _build() -> None:
    xmlcodec.build("Request", REQUEST)


def _parse() -> None:
    xmlcodec.parse(RESPONSE)


def _structure() -> None:
    structure(TextJob, DETAIL)


def _model() -> None:
    structure(TextJob, xmlcodec.parse(RESPONSE)["Response"]["JobsDetail"])


def _floor() -> None:
    xmltodict.parse(RESPONSE)


def _all() -> None:
    _sign()
    _build()
    _model()


CASES: dict[str, Callable[[], None]] = {
    "sign": _sign,
    "build body": _build,
    "parse (guarded)": _parse,
    "structure model": _structure,
    "parse + model": _model,
    "whole path": _all,
    "xmltodict floor": _floor,
}


def measure(repeat: int, number: int) -> dict[str, list[float]]:
    """µs per call of every case, one figure per repeat."""
    out = {}
    for name, fn in CASES.items():
        fn()  # first use generates the cattrs hooks: not part of the steady state
        runs = timeit.repeat(fn, repeat=repeat, number=number)
        out[name] = [run / number * 1e6 for run in runs]
    return out


def _child(tree: Path, repeat: int, number: int) -> dict[str, float]:
    """Best µs per call of every case, measured in a child process importing ``tree``'s code."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    args = [sys.executable, __file__, "--json", "--repeat", str(repeat), "--number", str(number)]
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    measured: dict[str, list[float]] = json.loads(result.stdout)
    return {name: min(runs) for name, runs in measured.items()}


def _instructions(tree: Path, case: str, number: int) -> int:
    """Instructions callgrind counts for ``number`` calls of ``case`` plus one warm-up call."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    args = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--run",
        case,
        "--number",
        str(number),
    ]
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    match = re.search(r"Collected : (\d+)", result.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count from callgrind: {result.stderr[-500:]}")
    return int(match.group(1))


def _check_layout(tree: Path) -> None:
    """Refuse a checkout that lacks a module this script imports.

    The child imports ``cosaudit`` from ``tree`` through PYTHONPATH, but a module missing there
    (an older layout: ``cosaudit/signing.py`` before ``cosaudit/wire/``) is found by the
    editable install instead, and "before" would silently measure "after"'s code.
    """
    for module in ("wire/signing.py", "wire/xmlcodec.py", "models/_convert.py"):
        if not (tree / "cosaudit" / module).exists():
            raise SystemExit(f"{tree} has no cosaudit/{module}: too old a layout to compare")


def compare_instructions(other: Path, number: int) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind")
    here = Path(__file__).resolve().parents[1]
    print(f"hot path, thousands of instructions per call (callgrind, {number} calls)")
    print(f"before: {other}\nafter:  {here}\n")
    print(f"{'step':<18} {'before':>9} {'after':>9} {'after/before':>13}")
    counts: dict[str, tuple[float, float]] = {}
    for name in CASES:
        per_call = []
        for tree in (other, here):
            total = _instructions(tree, name, number) - _instructions(tree, name, 0)
            per_call.append(total / number / 1000)
        counts[name] = (per_call[0], per_call[1])
        b, a = counts[name]
        print(f"{name:<18} {b:>9.1f} {a:>9.1f} {a / b:>12.2f}x", flush=True)
    b_all, a_all = counts["whole path"]
    print(f"\nratios: whole path after/before = {a_all / b_all:.2f}x (instructions)")


def compare(other: Path, rounds: int, repeat: int, number: int) -> None:
    here = Path(__file__).resolve().parents[1]
    before: dict[str, list[float]] = {name: [] for name in CASES}
    after: dict[str, list[float]] = {name: [] for name in CASES}
    for round_ in range(rounds):  # alternate, so both see the same load on a shared machine
        order = ((before, other), (after, here))
        for target, tree in order if round_ % 2 == 0 else order[::-1]:
            for name, value in _child(tree, repeat, number).items():
                target[name].append(value)
    print(f"hot path, µs per call (median over {rounds} rounds of best-of-{repeat})")
    print(f"before: {other}\nafter:  {here}\n")
    print(f"{'step':<18} {'before':>9} {'after':>9} {'after/before':>13}")
    for name in CASES:
        b, a = statistics.median(before[name]), statistics.median(after[name])
        print(f"{name:<18} {b:>9.1f} {a:>9.1f} {a / b:>12.2f}x")
    b_all, a_all = statistics.median(before["whole path"]), statistics.median(after["whole path"])
    print(f"\nratios: whole path after/before = {a_all / b_all:.2f}x")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=plain_help(__doc__))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--rounds", type=int, default=5, help="alternations with --against")
    parser.add_argument(
        "--instructions", action="store_true", help="with --against: count instructions"
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run", choices=list(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run is not None:  # a child under callgrind: warm up, then the calls to count
        fn = CASES[args.run]
        fn()
        gc.disable()  # as timeit does: a collection would land on whichever call came last
        for _ in range(args.number):
            fn()
        return
    if args.against is not None:
        _check_layout(args.against.resolve())
    if args.against is not None and args.instructions:
        compare_instructions(args.against.resolve(), min(args.number, 500))
        return
    if args.against is not None:
        compare(args.against.resolve(), args.rounds, args.repeat, args.number)
        return
    measured = measure(args.repeat, args.number)
    if args.json:
        print(json.dumps(measured))
        return
    medians = {name: statistics.median(runs) for name, runs in measured.items()}
    print(f"{'step':<18} {'median µs/call':>15} {'min µs/call':>12}")
    for name, runs in measured.items():
        print(f"{name:<18} {medians[name]:>15.1f} {min(runs):>12.1f}")
    ratio = medians["whole path"] / medians["xmltodict floor"]
    print(f"\nratios: whole client path / xmltodict parse alone = {ratio:.2f}x")


if __name__ == "__main__":
    main()
