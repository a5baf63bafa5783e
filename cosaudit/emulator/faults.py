"""Injected faults: what goes wrong (:class:`Fault`), for which requests and how often
(:class:`Rule`), and the set of rules one emulator applies (:class:`Faults`).

Three kinds of fault:

* **request faults** act on one authenticated request, either *before* it is processed (nothing
  is recorded: no job, no count in ``Stats.submits``) or *after* it (the job exists, and the
  answer is replaced or never arrives);
* **job faults** (``stuck``, ``job-failed``) act on one asynchronous job as it is created; an
  answer given synchronously already carries its verdict and is left alone.

========================  ====================================================  ===============
kind                      what the client sees                                  phase
========================  ====================================================  ===============
``internal-error``        500 ``InternalError``                                 before | after
``unavailable``           503 ``ServiceUnavailable``                            before | after
``slowdown``              429 ``SlowDown`` on the CI host, 503 ``SlowDown`` on  before | after
                          the COS host (error codes: pages 1045/43611, 436/7730)
``error``                 any ``status`` and ``code`` (what ``fail_next`` adds)  before | after
``reset``                 the connection reset (TCP RST), no answer             before | after
``slow``                  the answer ``delay`` seconds late                     after | before
``truncated``             200, the real XML answer cut in half                  after
``malformed``             200, the real XML answer with a mismatched end tag    after
``wrong-type``            200 ``text/html``: a proxy's HTML page                after
``stuck``                 the job answers ``Auditing`` forever                  (job)
``job-failed``            the job ends ``Failed`` with ``code``, HTTP 200       (job)
``callback-dropped``      the callback is never sent                            (callback)
``callback-delayed``      the callback is sent ``delay`` seconds late (5)       (callback)
``callback-duplicated``   the callback is sent twice                            (callback)
``callback-reordered``    the callback is held back until the next callback      (callback)
                          has been sent, ``delay`` seconds at most (1)
``callback-early``        the job is final at once and its callback is sent     (callback)
                          before the submission is answered (not live streams)
========================  ====================================================  ===============

The first phase listed is the default; ``reset`` has none (the two are different faults: a
submit that was or was not accepted). Every fault acts after the signature check, so an
unsigned or badly signed request never uses one up; clock skew is part of that check.
``truncated``, ``malformed`` and ``wrong-type`` keep the ``Server`` and request-id headers of
the real answer. A ``slow`` answer cut short by the emulator shutting down becomes a reset.
Clock skew is not a rule but :attr:`Faults.clock_offset`.

Rules are tried in the order they were added; the first that fires wins, and the rules after it
do not see that request. A rule fires on a request (or job) it matches when its ``every``-th
count comes up (every one if unset) and its ``probability`` draw succeeds (always if unset); it
retires after firing ``count`` times (never if unset). Draws come from a ``random.Random`` seeded
from ``EmulatorConfig.seed``, so the same requests in the same order meet the same faults.
"""

from __future__ import annotations

import contextvars
import enum
import math
import random
import re

from attrs import define, field

__all__ = [
    "JOB_FAILURE_CODES",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "Faults",
    "Phase",
    "Rule",
    "current_request",
]


class FaultKind(enum.Enum):
    """What an injected fault does (see the module table)."""

    INTERNAL_ERROR = "internal-error"
    UNAVAILABLE = "unavailable"
    SLOW_DOWN = "slowdown"
    ERROR = "error"
    RESET = "reset"
    SLOW = "slow"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"
    WRONG_TYPE = "wrong-type"
    STUCK = "stuck"
    JOB_FAILED = "job-failed"
    CALLBACK_DROPPED = "callback-dropped"
    CALLBACK_DELAYED = "callback-delayed"
    CALLBACK_DUPLICATED = "callback-duplicated"
    CALLBACK_REORDERED = "callback-reordered"
    CALLBACK_EARLY = "callback-early"

    @property
    def acts_on_jobs(self) -> bool:
        return self in (FaultKind.STUCK, FaultKind.JOB_FAILED)

    @property
    def acts_on_callbacks(self) -> bool:
        return self.value.startswith("callback-")

    @property
    def is_error(self) -> bool:
        """Answered with an ``<Error>`` body."""
        return self in _ERRORS


class Phase(enum.Enum):
    """When a request fault acts: before the request is processed, or after."""

    BEFORE = "before"
    AFTER = "after"


_ERRORS = frozenset(
    {FaultKind.INTERNAL_ERROR, FaultKind.UNAVAILABLE, FaultKind.SLOW_DOWN, FaultKind.ERROR}
)
# The phases each request kind allows, the default first (``reset``: none, the caller says).
_PHASES: dict[FaultKind, tuple[Phase, ...]] = {
    **{kind: (Phase.BEFORE, Phase.AFTER) for kind in _ERRORS},
    FaultKind.RESET: (),
    FaultKind.SLOW: (Phase.AFTER, Phase.BEFORE),
    FaultKind.TRUNCATED: (Phase.AFTER,),
    FaultKind.MALFORMED: (Phase.AFTER,),
    FaultKind.WRONG_TYPE: (Phase.AFTER,),
}
_FIXED_ERRORS = {
    FaultKind.INTERNAL_ERROR: (500, "InternalError", "We encountered an internal error."),
    FaultKind.UNAVAILABLE: (503, "ServiceUnavailable", "Service is temporarily unavailable."),
    # The status depends on the host (429 CI, 503 COS): Fault.error_status picks it.
    FaultKind.SLOW_DOWN: (429, "SlowDown", "Please reduce your request rate."),
}
# The per-job failure codes the service documents (page 1045/43611: the 400 resource rows of the CI
# table, and a batch item's InvalidArgument), with the messages the emulator answers.
JOB_FAILURE_CODES: dict[str, str] = {
    "ResourceNotFound": "The input resource does not exist.",
    "ResourceAccessDenied": "No permission to access the input resource.",
    "ResourceDownloadFailed": "The input resource could not be downloaded.",
    "ResourceNotSupported": "The input resource is corrupt or its format is not supported.",
    "CIRoleNotExist": "The role CI_QCSRole does not exist.",
    "InvalidArgument": "A request parameter is not acceptable.",
    "InternalError": "The moderation job hit an internal error.",
}
DEFAULT_SLOW_DELAY = 60.0
# The kinds that take a delay, and its default: an answer's lateness (slow), a callback's
# (callback-delayed), and how long a held-back callback waits at most for the next one.
_DELAYS = {
    FaultKind.SLOW: DEFAULT_SLOW_DELAY,
    FaultKind.CALLBACK_DELAYED: 5.0,
    FaultKind.CALLBACK_REORDERED: 1.0,
}
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,63}")
_METHOD = re.compile(r"[A-Z]{1,16}")

# The method and path of the request being handled, for job faults: jobs are created deep in a
# kind's handler, which knows nothing of faults. aiohttp runs each request in its own task, so
# this is per request, never shared between two requests or two emulators.
current_request: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "cosaudit_emulator_request", default=None
)


def _kind(value: FaultKind | str) -> FaultKind:
    try:
        return FaultKind(value)
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        raise ValueError(f"unknown fault kind {value!r} (known: {known})") from None


def _phase(value: Phase | str | None) -> Phase | None:
    if value is None or isinstance(value, Phase):
        return value
    try:
        return Phase(value)
    except ValueError:
        raise ValueError(f"phase must be 'before' or 'after', got {value!r}") from None


@define(frozen=True, slots=True)
class Fault:
    """One fault, as :meth:`Fault.make` validated it.

    ``phase`` is None for job faults; ``status``/``code``/``message`` are set for errors and
    ``job-failed``; ``delay`` for ``slow``.
    """

    kind: FaultKind
    phase: Phase | None = None
    status: int | None = None
    code: str | None = None
    message: str | None = None
    delay: float | None = None

    @classmethod
    def make(
        cls,
        kind: FaultKind | str,
        *,
        phase: Phase | str | None = None,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        delay: float | None = None,
    ) -> Fault:
        """A fault of ``kind``; ValueError naming the option when a combination is invalid."""
        kind = _kind(kind)
        phase = _phase(phase)
        if kind.acts_on_jobs or kind.acts_on_callbacks:
            if phase is not None:
                target = "a job" if kind.acts_on_jobs else "a callback"
                raise ValueError(f"{kind.value} acts on {target}: it takes no phase")
        else:
            allowed = _PHASES[kind]
            if phase is None:
                if not allowed:
                    raise ValueError(f"{kind.value} needs phase 'before' or 'after'")
                phase = allowed[0]
            elif allowed and phase not in allowed:
                raise ValueError(f"{kind.value} only acts {allowed[0].value} processing")
        if delay is not None and kind not in _DELAYS:
            raise ValueError(
                f"delay applies to slow faults only (and callback-delayed, callback-reordered), "
                f"not {kind.value}"
            )
        if kind in _DELAYS:
            delay = _DELAYS[kind] if delay is None else float(delay)
            if not (math.isfinite(delay) and delay >= 0):
                raise ValueError(f"delay must be a finite number of seconds >= 0, got {delay!r}")
        if status is not None and kind is not FaultKind.ERROR:
            raise ValueError(f"status applies to error faults only, not {kind.value}")
        if kind is FaultKind.ERROR:
            if status is None or code is None:
                raise ValueError("an error fault needs a status and a code")
            if not 400 <= status <= 599:
                raise ValueError(f"status must be 400-599, got {status}")
            message = message or f"injected fault: {code}"
        elif kind in _FIXED_ERRORS:
            if code is not None:
                raise ValueError(f"{kind.value} has a fixed code; use kind 'error' for another")
            status, code, default = _FIXED_ERRORS[kind]
            message = message or default
        elif kind is FaultKind.JOB_FAILED:
            code = code or "InternalError"
            message = message or JOB_FAILURE_CODES.get(code, f"The job failed: {code}.")
        elif code is not None or message is not None:
            raise ValueError(f"code and message do not apply to {kind.value}")
        if code is not None and not _CODE.fullmatch(code):
            raise ValueError(f"code must be a word like ResourceNotFound, got {code!r}")
        return cls(kind, phase, status, code, message, delay)

    @property
    def label(self) -> str:
        """The name :attr:`Stats.faults` counts it under: the kind, with the phase when it is
        not the kind's default (``reset-before``, ``reset-after``, ``internal-error-after``)."""
        allowed = _PHASES.get(self.kind, ())
        if self.phase is None or (allowed and self.phase is allowed[0]):
            return self.kind.value
        return f"{self.kind.value}-{self.phase.value}"

    def error_status(self, cos_host: bool) -> int:
        """The HTTP status of an error fault: ``slowdown`` is 503 on the COS host (error code
        pages 1045/43611, 436/7730)."""
        if self.status is None:
            raise ValueError(f"{self.kind.value} is not an error")
        if self.kind is FaultKind.SLOW_DOWN and cos_host:
            return 503
        return self.status


def _probability(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and 0 < value <= 1):
        raise ValueError(f"probability must be in (0, 1], got {value!r}")
    return None if value is None else float(value)


def _at_least_one(name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return None if value is None else int(value)


def _count(value: int | None) -> int | None:
    return _at_least_one("count", value)


def _every(value: int | None) -> int | None:
    return _at_least_one("every", value)


def _method(value: str | None) -> str | None:
    if value is None:
        return None
    method = value.upper()
    if not _METHOD.fullmatch(method):
        raise ValueError(f"method must be an HTTP method like POST, got {value!r}")
    return method


def _path_prefix(value: str | None) -> str | None:
    if value is not None and not value.startswith("/"):
        raise ValueError(f"path_prefix must start with '/', got {value!r}")
    return value


@define(frozen=True, slots=True)
class Rule:
    """A fault and when it fires.

    Args:
        probability: fire on a matching request with this probability (0 < p <= 1).
        count: retire after firing this many times ("the next N"); None never retires.
        every: fire only on every k-th matching request (the k-th, 2k-th, ...).
        path_prefix: match only request paths starting with this (``/text``, ``/images/``).
        method: match only this HTTP method (``POST`` for submissions).
    """

    fault: Fault
    probability: float | None = field(default=None, converter=_probability)
    count: int | None = field(default=None, converter=_count)
    every: int | None = field(default=None, converter=_every)
    path_prefix: str | None = field(default=None, converter=_path_prefix)
    method: str | None = field(default=None, converter=_method)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_prefix is None or path.startswith(self.path_prefix)
        )


@define(frozen=True, slots=True)
class FaultPlan:
    """What ``--faults`` asks for: rules, and a clock offset in seconds."""

    rules: tuple[Rule, ...] = ()
    clock_offset: float = 0.0


# What a rule acts on (_Armed.target).
_REQUEST, _JOB, _CALLBACK = "request", "job", "callback"


class _Armed:
    """A rule with its counters."""

    __slots__ = ("fired", "rule", "seen", "target")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        # Looked up once: every request walks the rules.
        kind = rule.fault.kind
        self.target = (
            _JOB if kind.acts_on_jobs else _CALLBACK if kind.acts_on_callbacks else _REQUEST
        )
        self.seen = 0
        self.fired = 0


class Faults:
    """The rules one emulator applies, and its clock offset.

    >>> emu.faults.add("slowdown", probability=0.1, path_prefix="/text")  # doctest: +SKIP
    >>> emu.faults.add("reset", phase="after", count=1, method="POST")  # doctest: +SKIP
    >>> emu.faults.fail_next(2, status=503, code="ServiceUnavailable")  # doctest: +SKIP
    >>> emu.faults.clock_offset = 3600   # the emulator's clock runs an hour ahead  # doctest: +SKIP
    """

    def __init__(self, seed: int | None = None) -> None:
        self._armed: list[_Armed] = []
        # Its own generator, so faults never shift the ids the seed makes reproducible.
        self._random = random.Random(None if seed is None else f"cosaudit-faults-{seed}")
        self._clock_offset = 0.0

    @property
    def clock_offset(self) -> float:
        """Seconds added to the real time to make the emulator's "now": the ``Date`` header,
        and the time signatures are checked against (``RequestTimeTooSkewed`` beyond 15 min)."""
        return self._clock_offset

    @clock_offset.setter
    def clock_offset(self, value: float) -> None:
        if not math.isfinite(value):
            raise ValueError(f"clock_offset must be a finite number of seconds, got {value!r}")
        self._clock_offset = float(value)

    def add(
        self,
        kind: FaultKind | str,
        *,
        probability: float | None = None,
        count: int | None = None,
        every: int | None = None,
        path_prefix: str | None = None,
        method: str | None = None,
        phase: Phase | str | None = None,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        delay: float | None = None,
    ) -> Rule:
        """Add a rule (see :class:`Rule` and :meth:`Fault.make`) after the existing ones; return
        it, for :meth:`remove`. ValueError names the option when one is invalid."""
        fault = Fault.make(
            kind, phase=phase, status=status, code=code, message=message, delay=delay
        )
        return self.add_rule(Rule(fault, probability, count, every, path_prefix, method))

    def add_rule(self, rule: Rule) -> Rule:
        self._armed.append(_Armed(rule))
        return rule

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        code: str = "ServiceUnavailable",
        message: str | None = None,
        path_prefix: str | None = None,
    ) -> Rule:
        """Answer the next ``count`` requests (under ``path_prefix`` if given) with an error,
        in the dialect of the path hit (CI or COS), like a real front end would."""
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        return self.add(
            FaultKind.ERROR,
            count=count,
            status=status,
            code=code,
            message=message,
            path_prefix=path_prefix,
        )

    def load(self, plan: FaultPlan) -> None:
        """Add the rules of ``plan`` and take its clock offset."""
        for rule in plan.rules:
            self.add_rule(rule)
        self.clock_offset = plan.clock_offset

    def remove(self, rule: Rule) -> None:
        """Drop ``rule`` (the object :meth:`add` returned); no error if it already retired."""
        self._armed = [armed for armed in self._armed if armed.rule is not rule]

    def clear(self) -> None:
        """Drop every rule (the clock offset stays)."""
        self._armed.clear()

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The active rules, in the order they are tried."""
        return tuple(armed.rule for armed in self._armed)

    @property
    def pending(self) -> int:
        """How many more times the rules with a ``count`` will fire (unlimited ones aside)."""
        return sum(a.rule.count - a.fired for a in self._armed if a.rule.count is not None)

    def pick(self, method: str, path: str) -> Fault | None:
        """The request fault for an authenticated request, if a rule fires; counts it."""
        return self._pick(method, path, _REQUEST)

    def pick_job(self, method: str | None = None, path: str | None = None) -> Fault | None:
        """The job fault for an asynchronous job being created by the request ``method``
        ``path`` (by default :data:`current_request`), if a rule fires; counts it."""
        if method is None or path is None:
            method, path = current_request.get() or ("", "")
        return self._pick(method, path, _JOB)

    def pick_callback(self, method: str, path: str, *, early: bool = True) -> Fault | None:
        """The callback fault for a callback of a job submitted by ``method`` ``path``, if a
        rule fires; counts it. Without ``early`` (a callback sent after the submission was
        answered) ``callback-early`` rules neither see nor fire on it."""
        skip = None if early else FaultKind.CALLBACK_EARLY
        return self._pick(method, path, _CALLBACK, skip)

    def _pick(
        self, method: str, path: str, target: str, skip: FaultKind | None = None
    ) -> Fault | None:
        for index, armed in enumerate(self._armed):
            rule = armed.rule
            if armed.target != target or not rule.matches(method, path):
                continue
            if rule.fault.kind is skip:
                continue
            armed.seen += 1
            if rule.every is not None and armed.seen % rule.every:
                continue
            if rule.probability is not None and self._random.random() >= rule.probability:
                continue
            armed.fired += 1
            if rule.count is not None and armed.fired >= rule.count:
                del self._armed[index]
            return rule.fault
        return None

    def __len__(self) -> int:
        return len(self._armed)

    def __repr__(self) -> str:
        return f"Faults(rules={len(self._armed)}, clock_offset={self._clock_offset!r})"
