"""Badcase reports the emulator received (``POST /report/badcase``), kept for tests to see."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from attrs import define

__all__ = ["BadCase", "BadCases"]


@define(frozen=True, slots=True)
class BadCase:
    """One report: ``content_type`` 1 (text, ``text`` decoded) or 2 (image, ``url``)."""

    content_type: int
    label: str
    suggested_label: str
    text: str | None
    url: str | None
    job_id: str | None
    moderation_time: str | None
    request_id: str


class BadCases:
    """The latest reports, oldest first (at most ``limit``: they only grow otherwise)."""

    def __init__(self, limit: int = 10_000) -> None:
        self._reports: deque[BadCase] = deque(maxlen=limit)

    def add(self, report: BadCase) -> None:
        self._reports.append(report)

    def __iter__(self) -> Iterator[BadCase]:
        return iter(tuple(self._reports))

    def __len__(self) -> int:
        return len(self._reports)
