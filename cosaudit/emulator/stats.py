"""Counters of what the emulator served, for tests and benchmarks to assert on."""

from __future__ import annotations

from collections import Counter

__all__ = ["Stats"]


class Stats:
    """Request counters; all start at zero and only grow (:meth:`reset` clears them).

    Attributes:
        requests: by method and route template: ``"GET /text/auditing/{jobId}"``,
            ``"GET /{ObjectKey}?ci-process=sensitive-content-recognition"``,
            ``"GET (no route)"`` — a handful of keys however many jobs are queried.
        submits: accepted submissions by kind (``"text"``, ``"image"``, ...); a batch of N
            images counts N.
        queries: job queries by kind.
        faults: injected faults by label (``"slowdown"``, ``"reset-after"``, ``"stuck"``, see
            :attr:`Fault.label`): one per request, or per job for job faults.
        faults_injected: their total.
        throttled: requests answered ``SlowDown`` for being over an API's rate limit, by API
            name (``EmulatorConfig.qps``); not counted in ``faults``.
        auth_failures: requests refused by the signature check.
    """

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.submits: Counter[str] = Counter()
        self.queries: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.auth_failures = 0

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())

    def reset(self) -> None:
        self.requests.clear()
        self.submits.clear()
        self.queries.clear()
        self.faults.clear()
        self.throttled.clear()
        self.auth_failures = 0

    def __repr__(self) -> str:
        return (
            f"Stats(requests={self.total_requests}, submits={dict(self.submits)}, "
            f"queries={dict(self.queries)}, faults={dict(self.faults)}, "
            f"throttled={dict(self.throttled)}, "
            f"auth_failures={self.auth_failures})"
        )
