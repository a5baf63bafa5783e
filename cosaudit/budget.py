"""The live state of a :class:`~cosaudit.config.RetryBudget`: one bucket per session.

Pure bookkeeping (no I/O, no clock): the retry loop
(:class:`~cosaudit.request_retrying.RequestRetrying`) asks :meth:`RetryBudgetState.acquire`
before each retry and calls :meth:`RetryBudgetState.succeeded` when a request succeeds. The
shape follows botocore's "standard" retry quota and gRPC's retry throttling: while the service
keeps failing, tokens drain and retries stop, so every request fails after one attempt (fast)
instead of retrying up to its attempts; successes fill the bucket again.
"""

from __future__ import annotations

from .config import RetryBudget

__all__ = ["RetryBudgetState"]


class RetryBudgetState:
    """The tokens left in a session's :class:`~cosaudit.config.RetryBudget`."""

    __slots__ = ("available", "budget")

    def __init__(self, budget: RetryBudget) -> None:
        self.budget = budget
        self.available = budget.capacity

    def __repr__(self) -> str:
        return f"<RetryBudgetState {self.available:g}/{self.budget.capacity:g}>"

    def cost(self, *, timeout: bool) -> float:
        """What one retry takes: a timeout costs more, as it held a connection longer."""
        return self.budget.timeout_cost if timeout else self.budget.retry_cost

    def acquire(self, cost: float) -> bool:
        """Take ``cost`` tokens for a retry; False (taking nothing) when too few are left."""
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def release(self, amount: float) -> None:
        """Put tokens back after a success, never above the capacity."""
        self.available = min(self.budget.capacity, self.available + amount)

    def succeeded(self, held: float) -> None:
        """A request succeeded: its retries' ``held`` tokens come back, or the refund if none."""
        self.release(held if held > 0 else self.budget.refund)
