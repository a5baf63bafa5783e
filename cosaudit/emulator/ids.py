"""Ids the emulator hands out: job ids, request ids, trace ids.

Random by default. With a seed they come from one :class:`random.Random`, so a run that sends the
same requests in the same order gets the same ids — and, since a job's duration range is resolved
from its id (:func:`cosaudit.emulator.jobs.pick_duration`), the same durations.

>>> Ids(seed=7).job_id("st") == Ids(seed=7).job_id("st")
True
"""

from __future__ import annotations

import base64
import random
import secrets

__all__ = ["Ids"]


class Ids:
    """The id source of one emulator."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def _bytes(self, count: int) -> bytes:
        if self._random is None:
            return secrets.token_bytes(count)
        return self._random.randbytes(count)

    def job_id(self, prefix: str) -> str:
        """The kind's prefix and 32 hex digits (``st4f…``)."""
        return prefix + self._bytes(16).hex()

    def request_id(self) -> str:
        """A base64-looking request id, as the service returns."""
        return base64.b64encode(self._bytes(24)).decode("ascii")

    def trace_id(self) -> str:
        """A base64-looking trace id, sent with errors."""
        return base64.b64encode(self._bytes(48)).decode("ascii")
