"""The ``--faults`` option: a compact spec string, or a JSON or TOML file, read into a
:class:`FaultPlan`. :data:`SYNTAX` is the help text; the README shows it too."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cosaudit.emulator.faults import Fault, FaultPlan, Rule

__all__ = ["SYNTAX", "parse_faults", "plan_from_mapping", "read_faults", "read_faults_file"]

SYNTAX = """\
--faults takes rules separated by ';', each KIND or KIND:OPTION,OPTION,...
and optionally skew=SECONDS (the emulator's clock offset, + ahead, - behind).

kinds:   internal-error (500)  unavailable (503)  slowdown (429 CI, 503 COS)
         error (needs status= and code=)  reset-before  reset-after
         slow (delay=SECONDS, default 60)  truncated  malformed  wrong-type
         stuck (job stays Auditing)  job-failed (code=ResourceNotFound, ...)
         callback-dropped  callback-delayed (delay=SECONDS, default 5)
         callback-duplicated  callback-reordered (held until the next one is
         sent, delay=SECONDS at most, default 1)  callback-early (sent before
         the submission is answered)
options: p=PROBABILITY  next=N (fire N times, then retire)  every=K (every
         K-th match)  path=/PREFIX  method=POST  phase=before|after
         status=CODE  code=NAME  message=TEXT  delay=SECONDS
phases:  before = instead of processing (nothing recorded), after = once
         processed (the job exists). Errors default to before, slow to after;
         truncated, malformed and wrong-type are after only.
example: slowdown:p=0.05;reset-after:every=20,method=POST;slow:delay=40,next=1;
         job-failed:code=ResourceNotFound,p=0.02;stuck:every=50;skew=3600

A value ending in .json or .toml names a file instead:
  {"clock_offset": 3600, "rules": [{"kind": "slowdown", "probability": 0.05}]}
with the same keys, long (probability, count, every, path_prefix, method,
phase, status, code, message, delay) or short (p, next, path)."""

_KIND_ALIASES = {"reset-before": ("reset", "before"), "reset-after": ("reset", "after")}
_KEY_ALIASES = {"p": "probability", "next": "count", "path": "path_prefix"}
_SKEW_KEYS = ("skew", "clock_offset")


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not a string: {value!r}")
    return value


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "probability": _float,
    "count": _int,
    "every": _int,
    "path_prefix": _str,
    "method": _str,
    "phase": _str,
    "status": _int,
    "code": _str,
    "message": _str,
    "delay": _float,
}
_TRIGGER_KEYS = ("probability", "count", "every", "path_prefix", "method")


def _rule(kind: str, options: Mapping[str, Any]) -> Rule:
    kind_name, phase = _KIND_ALIASES.get(kind, (kind, None))
    values: dict[str, Any] = {}
    for raw_key, raw_value in options.items():
        key = _KEY_ALIASES.get(raw_key, raw_key)
        if key not in _CONVERT:
            known = ", ".join([*_CONVERT, *_KEY_ALIASES])
            raise ValueError(f"unknown option {raw_key!r} (known: {known})")
        if key in values:
            raise ValueError(f"option {key!r} given twice")
        try:
            values[key] = _CONVERT[key](raw_value)
        except ValueError as exc:
            raise ValueError(f"{raw_key}: {exc}") from None
    if phase is not None:
        if values.get("phase", phase) != phase:
            raise ValueError(f"{kind} already says phase={phase}")
        values["phase"] = phase
    trigger = {k: values.pop(k) for k in _TRIGGER_KEYS if k in values}
    return Rule(Fault.make(kind_name, **values), **trigger)


def parse_faults(text: str) -> FaultPlan:
    """A spec string (see :data:`SYNTAX`); ValueError names the item at fault."""
    rules: list[Rule] = []
    clock_offset = 0.0
    for number, item in enumerate((part.strip() for part in text.split(";")), start=1):
        if not item:
            continue
        try:
            name, sep, rest = item.partition("=")
            if sep and name.strip() in _SKEW_KEYS:
                clock_offset = _float(rest.strip())
                continue
            kind, _, opts = item.partition(":")
            options: dict[str, str] = {}
            for opt in filter(None, (o.strip() for o in opts.split(","))):
                key, eq, value = opt.partition("=")
                if not eq:
                    raise ValueError(f"option {opt!r} is not KEY=VALUE")
                if key.strip() in options:
                    raise ValueError(f"option {key.strip()!r} given twice")
                options[key.strip()] = value.strip()
            rules.append(_rule(kind.strip(), options))
        except ValueError as exc:
            raise ValueError(f"--faults item {number} {item!r}: {exc}") from None
    return FaultPlan(tuple(rules), clock_offset)


def plan_from_mapping(data: Mapping[str, Any]) -> FaultPlan:
    """A plan from a parsed JSON/TOML document: ``clock_offset`` (or ``skew``) and ``rules``,
    a list of tables with a ``kind`` and the options of :data:`SYNTAX`."""
    if not isinstance(data, Mapping):
        raise ValueError("the faults file must hold an object/table")
    unknown = set(data) - {"rules", *_SKEW_KEYS}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} (known: rules, clock_offset, skew)")
    offset = next((data[key] for key in _SKEW_KEYS if key in data), 0.0)
    entries = data.get("rules", [])
    if not isinstance(entries, list):
        raise ValueError("rules must be a list")
    rules: list[Rule] = []
    for number, entry in enumerate(entries, start=1):
        try:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("kind"), str):
                raise ValueError("each rule needs a kind")
            options = {k: v for k, v in entry.items() if k != "kind"}
            rules.append(_rule(entry["kind"], options))
        except ValueError as exc:
            raise ValueError(f"rule {number}: {exc}") from None
    return FaultPlan(tuple(rules), _float(offset))


def _toml(path: Path, text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not TOML: {exc}") from None
    raise ValueError("TOML fault files need Python 3.11 or later; use JSON")


def read_faults_file(path: str | Path) -> FaultPlan:
    """A plan from a ``.json`` or ``.toml`` file (TOML needs Python 3.11+)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        data: Any = _toml(path, text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON: {exc}") from None
    try:
        return plan_from_mapping(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def read_faults(value: str) -> FaultPlan:
    """What ``--faults`` names: a file when ``value`` ends in ``.json``/``.toml``, else a spec."""
    if value.lower().endswith((".json", ".toml")):
        return read_faults_file(value)
    return parse_faults(value)
