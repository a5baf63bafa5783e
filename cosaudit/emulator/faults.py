"""Injected failures: "answer the next N requests with this error"."""

from __future__ import annotations

from attrs import define

__all__ = ["Fault", "Faults"]


@define(frozen=True, slots=True)
class Fault:
    """One queued failure; ``path_prefix`` limits it to matching request paths."""

    status: int
    code: str
    message: str
    path_prefix: str | None = None

    def applies_to(self, path: str) -> bool:
        return self.path_prefix is None or path.startswith(self.path_prefix)


class Faults:
    """The queue of failures to inject, consumed in order by the requests they apply to."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        code: str = "ServiceUnavailable",
        message: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Answer the next ``count`` requests (under ``path_prefix`` if given) with an error.

        The error uses the dialect of the path hit (CI or COS), like a real front end would.
        """
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        fault = Fault(status, code, message or f"injected fault: {code}", path_prefix)
        self._queue.extend([fault] * count)

    def take(self, path: str) -> Fault | None:
        """Remove and return the first queued fault that applies to ``path``."""
        for index, fault in enumerate(self._queue):
            if fault.applies_to(path):
                return self._queue.pop(index)
        return None

    def clear(self) -> None:
        """Drop every queued fault."""
        self._queue.clear()

    @property
    def pending(self) -> int:
        """How many faults are still queued."""
        return len(self._queue)
