"""Clock skew: read the service's ``Date`` and decide whether it explains a rejection.

Pure functions; the auth flow (:mod:`cosaudit.auth`) keeps the offset (per session, never
global), re-signs and resends once, and signs every later request with its clock plus the
offset, as botocore does.
"""

from __future__ import annotations

import math
from datetime import timezone
from email.utils import parsedate_to_datetime

__all__ = ["correction", "server_time"]

# Answers that name an expired request rather than a bad key: the COS host lists the message
# "Request has expired" as a code, and answers AccessDenied with that message; the CI host
# has SignatureExpired.
_EXPIRED_CODES = frozenset({"SignatureExpired", "Request has expired"})


def server_time(date: str | None) -> float | None:
    """Unix seconds of an HTTP ``Date`` value (RFC 1123, GMT), or None if absent or bad."""
    if not date:
        return None
    try:
        parsed = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        # "-0000" (RFC 5322): the time is UTC, the sender's own zone unknown.
        parsed = parsed.replace(tzinfo=timezone.utc)
    value = parsed.timestamp()
    return value if math.isfinite(value) else None


def correction(
    code: str,
    message: str,
    date: str | None,
    *,
    window: tuple[int, int],
    now: float,
) -> float | None:
    """The offset to add to our clock, or None when skew does not explain the rejection.

    Args:
        code, message: the error the service answered.
        date: its ``Date`` header.
        window: the ``q-key-time`` the rejected request was signed with.
        now: our uncorrected clock when the answer came: the offset is absolute, never added
            to a previous one, so a wrong earlier estimate cannot compound.

    ``RequestTimeTooSkewed`` is corrected whenever a ``Date`` is readable. An expired-request
    answer (``AccessDenied`` "Request has expired", ``SignatureExpired``) is corrected only when
    the service's time falls outside the window we signed, the one case where skew, not a
    stale request, explains it.
    """
    served = server_time(date)
    if served is None:
        return None
    if code == "RequestTimeTooSkewed":
        return served - now
    expired = code in _EXPIRED_CODES or (code == "AccessDenied" and "expired" in message.lower())
    start, end = window
    if expired and not start <= served <= end:
        return served - now
    return None
