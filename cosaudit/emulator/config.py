"""What an emulator is started with (:class:`EmulatorConfig`) and what tests turn at run time
(:class:`Controls`)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from attrs import define, field

from cosaudit.emulator.ratelimits import parse_qps
from cosaudit.emulator.rules import DEFAULT_RULES, RuleSet

__all__ = [
    "DEFAULT_SECRET_ID",
    "DEFAULT_SECRET_KEY",
    "CallbackPolicy",
    "Controls",
    "Duration",
    "EmulatorConfig",
    "parse_duration",
]

DEFAULT_SECRET_ID = "AKIDcosauditEMULATOR"
DEFAULT_SECRET_KEY = "cosaudit-emulator-secret"

# Seconds from submit to final: fixed, or a (min, max) range a job's id picks from.
Duration = float | tuple[float, float]


def parse_duration(value: Duration | str) -> Duration:
    """A job duration: seconds, a ``(min, max)`` range, or the text ``"1.0"`` / ``"0.5-2"``.

    Raises ValueError for anything else, negative values and ``min > max``.
    """
    if isinstance(value, str):
        low_text, sep, high_text = value.strip().partition("-")
        try:
            value = (float(low_text), float(high_text)) if sep else float(value)
        except ValueError:
            raise ValueError(f"not a duration or MIN-MAX range: {value!r}") from None
    if isinstance(value, tuple):
        low, high = (float(v) for v in value)
        if not 0 <= low <= high:
            raise ValueError(f"job_duration range must satisfy 0 <= min <= max, got {value!r}")
        return (low, high)
    if value < 0:
        raise ValueError(f"job_duration must be >= 0, got {value!r}")
    return float(value)


def _polls(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise ValueError(f"final_after_polls must be >= 1, got {value!r}")
    return value


def _positive(value: int) -> int:
    if value < 1:
        raise ValueError(f"max_jobs must be >= 1, got {value!r}")
    return value


def _rules(value: RuleSet | Mapping[str, Any] | str | Path | None) -> RuleSet:
    if value is None:
        return DEFAULT_RULES
    if isinstance(value, RuleSet):
        return value
    if isinstance(value, str | Path):
        return RuleSet.from_json_file(value)
    return RuleSet.from_mapping(value)


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


_BUCKET_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?")


def _check_bucket(config: EmulatorConfig, _: object, value: str | None) -> None:
    if value is None:
        return
    if value.endswith(f"-{config.appid}"):
        raise ValueError(
            f"bucket {value!r}: give the name without '-{config.appid}' (that part is the APPID)"
        )
    if not _BUCKET_NAME.fullmatch(value):
        raise ValueError(f"bucket {value!r} is not lower-case letters, digits and hyphens")


def _non_negative(_: Any, attribute: Any, value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _at_least_one(_: Any, attribute: Any, value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be >= 1, got {value!r}")


@define(frozen=True, slots=True)
class CallbackPolicy:
    """How the emulator delivers a callback: the service documents no retries, timeout or
    expected answer, so these are the emulator's choice (see :mod:`cosaudit.emulator.callbacks`).

    Args:
        attempts: tries in all; a 2xx answer ends them, anything else is a failed try.
        backoff: seconds before the second try; each later wait doubles (1 s, 2 s, ...).
        timeout: seconds one try may take, connection included.
    """

    attempts: int = field(default=3, validator=_at_least_one)
    backoff: float = field(default=1.0, validator=_non_negative)
    timeout: float = field(default=5.0, validator=_non_negative)


@define(frozen=True, slots=True)
class EmulatorConfig:
    """Settings of one emulator instance.

    Args:
        token: when set, requests signed with the default key must carry it in
            ``x-ci-security-token`` or ``x-cos-security-token`` (temporary-key emulation).
        bucket_dir: a folder standing for the bucket: object key ``a/b.png`` is
            ``bucket_dir/a/b.png``. Without it every ``Object`` input is missing.
        job_duration: seconds from submit to final, or ``(min, max)`` from which each job picks
            a value deterministically from its id.
        final_after_polls: when set, a job turns final on its N-th query instead of by time.
        rules: keyword lists per scene, the account's libraries and allow/block lists of
            users: a :class:`RuleSet`, its JSON mapping, or a JSON file path (format in
            :mod:`cosaudit.emulator.rules`).
        allow_remote_fetch: fetch ``Url`` inputs from any host, not only loopback.
        appid: the account's APPID: a ``Host`` naming a bucket of another APPID
            (``<bucket>-<APPID>.ci.<region>.myqcloud.com``) gets 403 ``AccessDenied``.
        bucket: the bucket's name without ``-<APPID>``: a ``Host`` naming another bucket of
            the account gets 404 ``NoSuchBucket``; None accepts any name. Clients use
            :attr:`full_bucket` (``examplebucket-1250000000``).
        clock: the job clock (seconds, monotonic).
        wall_clock: Unix time for ``CreationTime``. Signatures are checked against
            ``time.time`` regardless, since clients sign with their own wall-clock time. Both
            are shifted by ``emulator.faults.clock_offset`` (clock skew).
        seed: when set, job, request and trace ids come from a ``random.Random`` seeded with
            it, so the same requests in the same order get the same ids (and, through the
            ids, the same picks from a ``job_duration`` range).
        max_body_bytes: larger request bodies get 413 ``InvalidContent``.
        max_jobs: jobs kept; beyond it the oldest settled jobs are dropped and their ids
            answer 404 ``AuditingJobNotFound``, like expired jobs.
        request_log_size: requests kept in ``Emulator.requests`` (the latest).
        qps: request-rate limits by API (``{"text": 100}`` or ``"text=100,image=20"``), over
            the documented defaults (live-stream cancel, 20/s); beyond one, the API answers
            ``SlowDown``. API names and defaults: :mod:`cosaudit.emulator.ratelimits`.
        callbacks: POST each finished job to its ``Callback`` URL (off: still validated,
            never sent — the client's fallback to polling is all that is left).
        allow_remote_callbacks: accept ``Callback`` URLs of any host; without it a submission
            whose ``Callback`` is not loopback is 400 ``InvalidArgument``.
        callback_policy: tries, backoff and timeout of each callback.
    """

    secret_id: str = DEFAULT_SECRET_ID
    secret_key: str = field(default=DEFAULT_SECRET_KEY, repr=False)
    token: str | None = field(default=None, repr=False)
    appid: str = "1250000000"
    host: str = "127.0.0.1"
    port: int = 0
    bucket_dir: Path | None = field(default=None, converter=_path)
    job_duration: Duration = field(default=1.0, converter=parse_duration)
    final_after_polls: int | None = field(default=None, converter=_polls)
    rules: RuleSet = field(default=None, converter=_rules)
    allow_remote_fetch: bool = False
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    wall_clock: Callable[[], float] = field(default=time.time, repr=False)
    seed: int | None = None
    max_body_bytes: int = 64 * 1024 * 1024
    max_jobs: int = field(default=100_000, converter=_positive)
    bucket: str | None = field(default="examplebucket", validator=_check_bucket)
    request_log_size: int = 1000
    qps: Mapping[str, float] = field(default=None, converter=parse_qps)
    callbacks: bool = True
    allow_remote_callbacks: bool = False
    callback_policy: CallbackPolicy = field(factory=CallbackPolicy)

    @property
    def full_bucket(self) -> str:
        """The bucket as clients name it: ``<bucket>-<APPID>`` (``examplebucket`` if any)."""
        return f"{self.bucket or 'examplebucket'}-{self.appid}"


class Controls:
    """Knobs a test turns while the emulator runs; read when a job is submitted or queried.

    Attributes:
        job_duration: as in :class:`EmulatorConfig`; a job keeps the value it was submitted with.
        final_after_polls: as in :class:`EmulatorConfig`; a job keeps the value it was
            submitted with.
        hold: while true, no job turns final: unfinished jobs answer ``Auditing``.
    """

    def __init__(self, job_duration: Duration, final_after_polls: int | None) -> None:
        self._job_duration = parse_duration(job_duration)
        self._final_after_polls = _polls(final_after_polls)
        self.hold = False

    @property
    def job_duration(self) -> Duration:
        return self._job_duration

    @job_duration.setter
    def job_duration(self, value: Duration) -> None:
        self._job_duration = parse_duration(value)

    @property
    def final_after_polls(self) -> int | None:
        return self._final_after_polls

    @final_after_polls.setter
    def final_after_polls(self, value: int | None) -> None:
        self._final_after_polls = _polls(value)

    def __repr__(self) -> str:
        return (
            f"Controls(job_duration={self._job_duration!r}, "
            f"final_after_polls={self._final_after_polls!r}, hold={self.hold!r})"
        )
