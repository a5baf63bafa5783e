"""The request log: one :class:`RequestRecord` per request served, the latest kept in memory
(``emulator.requests``) and each sent to the ``cosaudit.emulator.requests`` logger at INFO
(what ``cosaudit emulator --log-requests`` prints).

A record holds no secret by construction: the path without its query (a query may carry
``q-signature`` and a token), never a header; the job id comes from the path or the answer.
"""

from __future__ import annotations

import logging
import re
from collections import deque

from attrs import define

__all__ = ["RequestLog", "RequestRecord"]

logger = logging.getLogger("cosaudit.emulator.requests")

# A submission's answer names its job early; only the head of the body is searched, so a 14 MB
# video answer costs nothing.
_JOB_ID = re.compile(rb"<JobId>([^<]{1,128})</JobId>")
_HEAD = 4096


@define(frozen=True, slots=True)
class RequestRecord:
    """One request served.

    Attributes:
        status: the HTTP status answered, or None when the connection was dropped (a ``reset``
            fault, a ``slow`` answer cut by shutdown).
        latency_ms: from the request's arrival to its answer being ready.
        job_id: the job the request submitted or asked about, if any (a batch: the first).
        fault: the injected fault's label (``"slowdown"``, ``"reset-after"``), if one acted.
    """

    method: str
    path: str
    status: int | None
    latency_ms: float
    request_id: str
    job_id: str | None = None
    fault: str | None = None

    def __str__(self) -> str:
        status = "dropped" if self.status is None else str(self.status)
        line = f"{self.method} {self.path} {status} {self.latency_ms:.1f}ms"
        if self.job_id:
            line += f" job={self.job_id}"
        if self.fault:
            line += f" fault={self.fault}"
        return line


def job_id_in(path_job_id: str | None, body: bytes | None) -> str | None:
    """The job id named in the path, else the first ``<JobId>`` in the head of the answer."""
    if path_job_id:
        return path_job_id
    if body:
        match = _JOB_ID.search(body, 0, _HEAD)
        if match is not None:
            return match[1].decode("utf-8", "replace")
    return None


class RequestLog:
    """The latest ``size`` records, oldest first; every record is also logged."""

    def __init__(self, size: int) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=size)

    def add(self, record: RequestRecord) -> None:
        self._records.append(record)
        logger.info("%s", record)

    def snapshot(self) -> tuple[RequestRecord, ...]:
        # tuple() of a deque is one C call: safe against the server thread appending meanwhile.
        return tuple(self._records)

    def clear(self) -> None:
        self._records.clear()
