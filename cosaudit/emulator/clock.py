""":class:`ManualClock`: a job clock that moves only when told, so tests never wait."""

from __future__ import annotations

import asyncio

__all__ = ["ManualClock"]


class ManualClock:
    """Seconds that pass only on :meth:`advance` (or :meth:`sleep`).

    Give it as ``EmulatorConfig(clock=...)`` so jobs turn final when the test says; give its
    :meth:`sleep` and itself to a client as ``sleep`` and ``monotonic`` so each poll's wait moves
    the emulator's jobs forward at once.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back, got {seconds!r}")
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)  # let other tasks run meanwhile, as a real sleep would

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now!r})"
