"""Value checks for what you submit, against the documented limits.

Each check raises :class:`~cosaudit.errors.InvalidInput` (a ``ValueError``) or
:class:`~cosaudit.errors.LimitExceeded` naming the request node (``field_name``) and the limit,
and returns the value it was given, or where its docstring says so, its spelling on the wire
(:func:`snapshot_mode`, :func:`snapshot_interval`, :func:`moderation_time`). The request
models (:mod:`cosaudit.requests`) run them at construction and build the request bodies.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .errors import InvalidInput, LimitExceeded

__all__ = [
    "MAX_BATCH",
    "MAX_DATA_ID_BYTES",
    "MAX_JOB_ID_CHARS",
    "MAX_SNAPSHOT_COUNT",
    "MAX_SNAPSHOT_INTERVAL",
    "MAX_TEXT_CHARS",
    "MAX_USER_INFO_BYTES",
    "SNAPSHOT_MODES",
    "biz_type",
    "callback_type",
    "callback_url",
    "callback_version",
    "data_id",
    "file_type",
    "flag",
    "job_id",
    "label",
    "live_url",
    "moderation_time",
    "object_key",
    "one_source",
    "positive",
    "require_str",
    "sized",
    "snapshot_count",
    "snapshot_interval",
    "snapshot_mode",
    "text_content",
    "url",
    "user_info_children",
]

MAX_DATA_ID_BYTES = 512
MAX_USER_INFO_BYTES = 128
MAX_TEXT_CHARS = 10_000
MAX_BATCH = 100
MAX_JOB_ID_CHARS = 128
MAX_SNAPSHOT_COUNT = 10_000  # Conf.Snapshot.Count is in (0, 10000]
MAX_SNAPSHOT_INTERVAL = 60  # Conf.Snapshot.TimeInterval is in (0, 60] seconds
SNAPSHOT_MODES = ("Interval", "Average", "Fps")

# Characters XML 1.0 cannot carry, even escaped: a body holding one would be refused whole.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BIZ_TYPE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KEY_MAX_BYTES = 850  # COS object key limit
_FILE_TYPE = re.compile(r"[A-Za-z0-9]{1,16}")
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_ISO_WITH_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})"
)
# The page lists RTMP/HLS/HTTP/HTTPS. rtmps (RTMP over TLS) is RTMP too, and the emulator takes
# it: refusing it locally would block a stream the service most likely accepts.
_LIVE_SCHEMES = ("rtmp", "rtmps", "http", "https")


def _utf8_len(value: str) -> int:
    return len(value.encode("utf-8"))


def require_str(value: object, field_name: str) -> str:
    """A string XML can carry (no control characters it cannot hold)."""
    if not isinstance(value, str):
        raise InvalidInput(field_name, f"must be a string, not {type(value).__name__}")
    bad = _XML_ILLEGAL.search(value)
    if bad is not None:
        raise InvalidInput(field_name, f"contains the control character {bad.group()!r}")
    return value


def data_id(value: str, field_name: str = "Input.DataId") -> str:
    """A DataId of at most 512 UTF-8 bytes."""
    size = _utf8_len(require_str(value, field_name))
    if size > MAX_DATA_ID_BYTES:
        raise LimitExceeded(field_name, MAX_DATA_ID_BYTES, size, "bytes")
    return value


def user_info_children(children: Mapping[str, Any], field_name: str) -> Mapping[str, Any]:
    """The children of a ``UserInfo`` element: each a string of at most 128 UTF-8 bytes."""
    for name, text in children.items():
        size = _utf8_len(require_str(text, f"{field_name}.{name}"))
        if size > MAX_USER_INFO_BYTES:
            raise LimitExceeded(f"{field_name}.{name}", MAX_USER_INFO_BYTES, size, "bytes")
    return children


def url(value: str, field_name: str) -> str:
    """An absolute http(s) URL."""
    parts = urlsplit(require_str(value, field_name))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(field_name, f"{value!r} is not an absolute http(s) URL")
    return value


def callback_url(value: str, field_name: str = "Conf.Callback") -> str:
    """A callback address: http(s) only (the service calls back with POST)."""
    return url(value, field_name)


def biz_type(value: str, field_name: str = "Conf.BizType") -> str:
    """A moderation policy id: 1 to 64 letters, digits, ``-`` or ``_``."""
    if not _BIZ_TYPE.fullmatch(require_str(value, field_name)):
        raise InvalidInput(field_name, "must be 1 to 64 letters, digits, '-' or '_'")
    return value


def callback_version(value: str, field_name: str = "Conf.CallbackVersion") -> str:
    """``Simple`` or ``Detail``."""
    if value not in ("Simple", "Detail"):
        raise InvalidInput(field_name, "must be 'Simple' or 'Detail'")
    return value


def callback_type(value: int, field_name: str = "Conf.CallbackType") -> int:
    """1 (every segment) or 2 (violations only)."""
    # 1 and 2 as integers only: True or 1.0 would be sent as "true" or "1.0".
    if type(value) is not int or value not in (1, 2):
        raise InvalidInput(field_name, "must be 1 (all segments) or 2 (violations)")
    return value


def object_key(value: str, field_name: str = "Input.Object") -> str:
    """A COS object key: 1 to 850 bytes, no control characters, no ``.``/``..`` segments."""
    if not require_str(value, field_name).strip("/"):
        raise InvalidInput(field_name, "must name an object")
    size = _utf8_len(value)
    if size > _KEY_MAX_BYTES:
        raise LimitExceeded(field_name, _KEY_MAX_BYTES, size, "bytes")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise InvalidInput(field_name, "must not contain control characters")
    if any(segment in (".", "..") for segment in value.split("/")):
        raise InvalidInput(field_name, "must not contain '.' or '..' path segments")
    return value


def text_content(content: str, field_name: str = "Input.Content") -> str:
    """Text of 1 to 10,000 characters (the limit applies before base64 encoding)."""
    require_str(content, field_name)
    if not content:
        raise InvalidInput(field_name, "must not be empty")
    if len(content) > MAX_TEXT_CHARS:
        raise LimitExceeded(field_name, MAX_TEXT_CHARS, len(content), "characters")
    return content


def one_source(**sources: object) -> str:
    """The name of the one source given; refuses none or several."""
    given = [name for name, value in sources.items() if value is not None]
    if len(given) != 1:
        names = "/".join(sources)
        detail = "none was given" if not given else f"got {', '.join(given)}"
        raise InvalidInput("Input", f"give exactly one of {names}; {detail}")
    return given[0]


def job_id(value: str, field_name: str = "job_id") -> str:
    """A job id safe to place in a path."""
    require_str(value, field_name)
    if not value or len(value) > MAX_JOB_ID_CHARS:
        raise InvalidInput(field_name, f"must be 1 to {MAX_JOB_ID_CHARS} characters")
    if not value.isascii() or not value.isalnum():
        raise InvalidInput(field_name, f"{value!r} is not a job id (letters and digits only)")
    return value


def flag(value: bool, field_name: str) -> bool:
    """A 0/1 switch (``Conf.DetectContent``) given as True/False; anything else is refused.

    Pass the value through :func:`zero_one` first to take the API's own 0/1 too.
    """
    if not isinstance(value, bool):
        shown = f"int {value}" if isinstance(value, int) else type(value).__name__
        raise InvalidInput(field_name, f"must be True or False (0 or 1 too), not {shown}")
    return value


def zero_one(value: Any) -> Any:
    """The API documents its switches as 0/1 (``Async``, ``LargeImageDetect``: page 436/48538;
    ``DetectContent``: page 436/48249): those ints read as False/True.

    Any other value is returned as given for the field's check to refuse (2 is not a switch,
    nor is "1", which a JSON line may hold by mistake).
    """
    if type(value) is int and value in (0, 1):
        return bool(value)
    return value


def positive(value: int, field_name: str) -> int:
    """A positive integer (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(field_name, "must be a positive integer")
    return value


def snapshot_count(count: int, field_name: str = "Conf.Snapshot.Count") -> int:
    """``Conf.Snapshot.Count``: frames to capture, in (0, 10000]."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise InvalidInput(field_name, f"must be an integer, not {type(count).__name__}")
    if count <= 0:
        raise InvalidInput(field_name, f"must be in (0, {MAX_SNAPSHOT_COUNT}], got {count}")
    if count > MAX_SNAPSHOT_COUNT:
        raise LimitExceeded(field_name, MAX_SNAPSHOT_COUNT, count, "frames")
    return count


def snapshot_mode(mode: str, field_name: str = "Conf.Snapshot.Mode") -> str:
    """``Conf.Snapshot.Mode`` in any case; returns its spelling on the wire (``Fps``)."""
    by_lower = {m.lower(): m for m in SNAPSHOT_MODES}
    chosen = by_lower.get(require_str(mode, field_name).strip().lower())
    if chosen is None:
        raise InvalidInput(field_name, f"{mode!r} is not one of {', '.join(SNAPSHOT_MODES)}")
    return chosen


def snapshot_interval(seconds: float, field_name: str = "Conf.Snapshot.TimeInterval") -> str:
    """``Conf.Snapshot.TimeInterval`` in (0, 60] seconds; returns its text on the wire.

    It is rounded to the millisecond (the documented precision) before its range is checked,
    so ``0.0001`` is refused rather than sent as ``0``.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise InvalidInput(field_name, f"must be a number of seconds, not {type(seconds).__name__}")
    millis = round(seconds * 1000) if math.isfinite(seconds) else -1
    if not 0 < millis <= MAX_SNAPSHOT_INTERVAL * 1000:
        raise InvalidInput(
            field_name,
            f"must be in (0, {MAX_SNAPSHOT_INTERVAL}] seconds to the millisecond, got {seconds!r}",
        )
    return f"{millis / 1000:.3f}".rstrip("0").rstrip(".")


def file_type(value: str, field_name: str = "Input.Type") -> str:
    """A file format such as ``docx`` (1-16 letters and digits)."""
    if not _FILE_TYPE.fullmatch(require_str(value, field_name)):
        raise InvalidInput(field_name, f"{value!r} is not a file type such as 'docx'")
    return value


def live_url(value: str, field_name: str = "Input.Url") -> str:
    """A live stream address: ``rtmp(s)://``, or ``http(s)://`` (HLS, HTTP-FLV)."""
    parts = urlsplit(require_str(value, field_name))
    if parts.scheme not in _LIVE_SCHEMES or not parts.netloc:
        raise InvalidInput(
            field_name, f"{value!r} is not an absolute rtmp, rtmps, http or https URL"
        )
    return value


def label(value: str, field_name: str) -> str:
    """A moderation label such as ``Porn`` or ``Normal`` (1-64 letters, digits, ``_``, ``-``)."""
    if not _LABEL.fullmatch(require_str(value, field_name)):
        raise InvalidInput(field_name, f"{value!r} is not a label such as 'Porn' or 'Normal'")
    return value


def moderation_time(value: datetime | str, field_name: str = "ModerationTime") -> str:
    """``ModerationTime`` as ``2021-08-07T12:12:12+08:00``: an aware datetime, or a string of
    that form (an offset is required: without one the instant is unknown)."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(field_name, "needs a timezone (an aware datetime)")
        return value.isoformat(timespec="seconds")
    if not _ISO_WITH_OFFSET.fullmatch(require_str(value, field_name)):
        raise InvalidInput(
            field_name, f"{value!r} is not a time such as '2021-08-07T12:12:12+08:00'"
        )
    return value


def sized(value: str | bytes | None) -> str:
    """The repr of inline content (a request's, or a job's echo of it): its size, not the text
    or bytes (user content in logs, and up to megabytes of it), so it does not read as empty."""
    if value is None:
        return "None"
    return f"<{len(value)} {'characters' if isinstance(value, str) else 'bytes'}>"
