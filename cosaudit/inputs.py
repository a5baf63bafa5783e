"""What you submit: request parameters validated against the documented limits.

Every check runs before anything is sent and raises :class:`~cosaudit.errors.InvalidInput`
(a ``ValueError``) or :class:`~cosaudit.errors.LimitExceeded` naming the request node and the
limit. The functions return the xmltodict-shaped fragments the kinds assemble into a body.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from attrs import define, field, fields

from .errors import InvalidInput, LimitExceeded
from .models import UserInfo

__all__ = [
    "MAX_BATCH",
    "MAX_DATA_ID_BYTES",
    "MAX_SNAPSHOT_COUNT",
    "MAX_SNAPSHOT_INTERVAL",
    "MAX_TEXT_CHARS",
    "MAX_USER_INFO_BYTES",
    "SNAPSHOT_MODES",
    "Freeze",
    "ImageInput",
    "UserInfoLike",
    "as_user_info",
    "callback_url",
    "conf",
    "data_id",
    "detect_type",
    "document_type",
    "flag",
    "job_id",
    "label",
    "live_url",
    "media_input",
    "moderation_time",
    "object_key",
    "one_source",
    "snapshot",
    "storage_path",
    "text_content",
    "url",
    "user_info",
]

MAX_DATA_ID_BYTES = 512
MAX_USER_INFO_BYTES = 128
MAX_TEXT_CHARS = 10_000
MAX_BATCH = 100
MAX_JOB_ID_CHARS = 128
MAX_SNAPSHOT_COUNT = 10_000  # Conf.Snapshot.Count is in (0, 10000]
MAX_SNAPSHOT_INTERVAL = 60  # Conf.Snapshot.TimeInterval is in (0, 60] seconds
SNAPSHOT_MODES = ("Interval", "Average", "Fps")

# DetectType names on the CI host (capitalised) -> the lower-case name the COS GET takes.
_SCENES = {
    "porn": ("Porn", "porn"),
    "ads": ("Ads", "ads"),
    "illegal": ("Illegal", "illegal"),
    "abuse": ("Abuse", "abuse"),
    "terrorism": ("Terrorism", "terrorist"),
    "terrorist": ("Terrorism", "terrorist"),
    "politics": ("Politics", "politics"),
    "teenager": ("Teenager", "teenager"),
}


def _utf8_len(value: str) -> int:
    return len(value.encode("utf-8"))


# Characters XML 1.0 cannot carry, even escaped: a body holding one would be refused whole.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BIZ_TYPE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KEY_MAX_BYTES = 850  # COS object key limit

UserInfoLike = UserInfo | Mapping[str, str]
"""A :class:`UserInfo`, or a mapping of its snake_case field names to strings."""


def _require_str(field_name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field_name, f"must be a string, not {type(value).__name__}")
    bad = _XML_ILLEGAL.search(value)
    if bad is not None:
        raise InvalidInput(field_name, f"contains the control character {bad.group()!r}")
    return value


def data_id(value: str | None, field_name: str = "Input.DataId") -> str | None:
    """A DataId of at most 512 UTF-8 bytes."""
    if value is None:
        return None
    size = _utf8_len(_require_str(field_name, value))
    if size > MAX_DATA_ID_BYTES:
        raise LimitExceeded(field_name, MAX_DATA_ID_BYTES, size, "bytes")
    return value


def as_user_info(value: UserInfoLike | None, field_name: str = "Input.UserInfo") -> UserInfo | None:
    """A :class:`UserInfo` from itself or a mapping of its field names; refuses unknown names."""
    if value is None or isinstance(value, UserInfo):
        return value
    if not isinstance(value, Mapping):
        raise InvalidInput(
            field_name, f"must be a UserInfo or a mapping, not {type(value).__name__}"
        )
    known = {a.name for a in fields(UserInfo)} - {"raw"}
    unknown = sorted(str(name) for name in value if name not in known)
    if unknown:
        raise InvalidInput(field_name, f"unknown fields {unknown}; known: {sorted(known)}")
    given: dict[str, Any] = dict(value)
    return UserInfo(**given)


def user_info(
    value: UserInfoLike | None, field_name: str = "Input.UserInfo"
) -> dict[str, str] | None:
    """UserInfo as XML children; each field at most 128 UTF-8 bytes."""
    value = as_user_info(value, field_name)
    if value is None:
        return None
    children = value.to_xml()
    for name, text in children.items():
        size = _utf8_len(_require_str(f"{field_name}.{name}", text))
        if size > MAX_USER_INFO_BYTES:
            raise LimitExceeded(f"{field_name}.{name}", MAX_USER_INFO_BYTES, size, "bytes")
    return children or None


def url(value: str, field_name: str) -> str:
    """An absolute http(s) URL."""
    parts = urlsplit(_require_str(field_name, value))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(field_name, f"{value!r} is not an absolute http(s) URL")
    return value


def callback_url(value: str | None, field_name: str = "Conf.Callback") -> str | None:
    """A callback address: http(s) only (the service calls back with POST)."""
    return None if value is None else url(value, field_name)


def detect_type(
    value: str | Iterable[str] | None, *, lower: bool = False, field_name: str = "Conf.DetectType"
) -> str | None:
    """``"Porn,Ads"`` from ``"porn,ads"`` or ``["Porn", "Ads"]``; unknown scenes are refused.

    ``lower=True`` gives the COS query form (``porn,terrorist``).
    """
    if value is None:
        return None
    if isinstance(value, str):
        names = value.split(",")
    elif isinstance(value, Iterable):
        names = list(value)
    else:
        raise InvalidInput(
            field_name, f"must be a string or a list of scenes, not {type(value).__name__}"
        )
    out: list[str] = []
    for name in names:
        key = _require_str(field_name, name).strip().lower()
        if key not in _SCENES:
            known = ", ".join(sorted({ci for ci, _ in _SCENES.values()}))
            raise InvalidInput(field_name, f"unknown scene {name!r}; known: {known}")
        chosen = _SCENES[key][1 if lower else 0]
        if chosen not in out:
            out.append(chosen)
    if not out:
        raise InvalidInput(field_name, "must name at least one scene")
    return ",".join(out)


def object_key(value: str, field_name: str = "Input.Object") -> str:
    """A COS object key: 1 to 850 bytes, no control characters, no ``.``/``..`` segments."""
    if not _require_str(field_name, value).strip("/"):
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
    """Base64 of text of at most 10,000 characters (the limit applies before encoding)."""
    _require_str(field_name, content)
    if not content:
        raise InvalidInput(field_name, "must not be empty")
    if len(content) > MAX_TEXT_CHARS:
        raise LimitExceeded(field_name, MAX_TEXT_CHARS, len(content), "characters")
    return base64.b64encode(content.encode("utf-8")).decode("ascii")


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
    _require_str(field_name, value)
    if not value or len(value) > MAX_JOB_ID_CHARS:
        raise InvalidInput(field_name, f"must be 1 to {MAX_JOB_ID_CHARS} characters")
    if not value.isascii() or not value.isalnum():
        raise InvalidInput(field_name, f"{value!r} is not a job id (letters and digits only)")
    return value


def _score(_: object, attribute: Any, value: int | None) -> None:
    # bool is an int subclass: True would be sent as "true", which no service reads as a score.
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100
    ):
        raise InvalidInput(f"Conf.Freeze.{_pascal(attribute.name)}", "must be an integer 0-100")


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


@define(frozen=True, slots=True)
class Freeze:
    """Auto-freeze a COS object when a scene's score reaches the value (0-100).

    Only applies when the input is a COS ``object``.
    """

    porn_score: int | None = field(default=None, validator=_score)
    ads_score: int | None = field(default=None, validator=_score)
    illegal_score: int | None = field(default=None, validator=_score)
    abuse_score: int | None = field(default=None, validator=_score)
    terrorism_score: int | None = field(default=None, validator=_score)
    politics_score: int | None = field(default=None, validator=_score)
    teenager_score: int | None = field(default=None, validator=_score)

    def to_xml(self) -> dict[str, int]:
        """The ``Conf.Freeze`` children that are set."""
        return {
            _pascal(a.name): value
            for a in fields(Freeze)
            if (value := getattr(self, a.name)) is not None
        }


def conf(
    *,
    biz_type: str | None = None,
    detect_type_value: str | Iterable[str] | None = None,
    callback: str | None = None,
    callback_version: str | None = None,
    callback_type: int | None = None,
    freeze: Freeze | None = None,
    **extra: object,
) -> dict[str, object]:
    """The ``<Conf>`` children shared by every kind (``extra`` are kind-specific)."""
    if biz_type is not None and not _BIZ_TYPE.fullmatch(_require_str("Conf.BizType", biz_type)):
        raise InvalidInput("Conf.BizType", "must be 1 to 64 letters, digits, '-' or '_'")
    if callback_version not in (None, "Simple", "Detail"):
        raise InvalidInput("Conf.CallbackVersion", "must be 'Simple' or 'Detail'")
    # 1 and 2 as integers only: True or 1.0 would be sent as "true" or "1.0".
    if callback_type is not None and (
        type(callback_type) is not int or callback_type not in (1, 2)
    ):
        raise InvalidInput("Conf.CallbackType", "must be 1 (all segments) or 2 (violations)")
    if freeze is not None and not isinstance(freeze, Freeze):
        raise InvalidInput("Conf.Freeze", "must be a Freeze")
    tree: dict[str, object] = {
        "BizType": biz_type,
        "DetectType": detect_type(detect_type_value),
        "Callback": callback_url(callback),
        "CallbackVersion": callback_version,
        "CallbackType": callback_type,
        "Freeze": freeze.to_xml() if freeze is not None else None,
    }
    tree.update(extra)
    return tree


def _positive(_: object, attribute: Any, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise InvalidInput(f"Input.{_pascal(attribute.name)}", "must be a positive integer")


def _typed(kind: type | tuple[type, ...], what: str) -> Any:
    """An attrs validator raising InvalidInput (not TypeError) for a value of the wrong type."""

    def check(_: object, attribute: Any, value: object) -> None:
        if value is None:
            return
        # bool is an int subclass: only a bool field takes True/False.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise InvalidInput(
                f"Input.{_pascal(attribute.name)}", f"must be {what}, not {type(value).__name__}"
            )

    return check


@define(frozen=True, slots=True)
class ImageInput:
    """One image of a batch: exactly one of a COS ``object`` key, a ``url`` or raw ``content``.

    Args:
        interval, max_frames: GIF frame step and frame count (service defaults 5 and 5).
        large_image_detect: compress images over the size limit instead of failing.
    """

    object: str | None = field(default=None, validator=_typed(str, "a string"))
    url: str | None = field(default=None, validator=_typed(str, "a string"))
    content: bytes | None = field(default=None, repr=False, validator=_typed(bytes, "bytes"))
    data_id: str | None = field(default=None, validator=_typed(str, "a string"))
    interval: int | None = field(default=None, validator=_positive)
    max_frames: int | None = field(default=None, validator=_positive)
    large_image_detect: bool | None = field(default=None, validator=_typed(bool, "True or False"))
    user_info: UserInfo | None = field(default=None, converter=as_user_info)

    def __attrs_post_init__(self) -> None:
        one_source(object=self.object, url=self.url, content=self.content)

    @classmethod
    def of(cls, value: ImageInput | str | bytes) -> ImageInput:
        """An ImageInput from itself, raw bytes, an http(s) URL, or else an object key."""
        if isinstance(value, ImageInput):
            return value
        if isinstance(value, bytes):
            return cls(content=value)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return cls(url=value)
        if isinstance(value, str):
            return cls(object=value)
        raise InvalidInput(
            "Input", f"expected ImageInput, bytes or str, not {type(value).__name__}"
        )

    def to_xml(self, field_name: str = "Input") -> dict[str, Any]:
        """The ``<Input>`` children, validated."""
        if self.object is not None:
            object_key(self.object, f"{field_name}.Object")
        if self.content is not None and not self.content:
            raise InvalidInput(f"{field_name}.Content", "must not be empty")
        large = None if self.large_image_detect is None else int(self.large_image_detect)
        return {
            "Object": self.object,
            "Url": url(self.url, f"{field_name}.Url") if self.url is not None else None,
            "Content": (
                base64.b64encode(self.content).decode("ascii") if self.content is not None else None
            ),
            "DataId": data_id(self.data_id, f"{field_name}.DataId"),
            "Interval": self.interval,
            "MaxFrames": self.max_frames,
            "LargeImageDetect": large,
            "UserInfo": user_info(self.user_info, f"{field_name}.UserInfo"),
        }


# --- media kinds (video, audio, document, live, virus) and badcase reports ---------------------

# media_input's parameters are named after the nodes and shadow these checks.
_check_url = url
_check_data_id = data_id
_check_user_info = user_info


def media_input(
    *,
    object: str | None,
    url: str | None,
    data_id: str | None = None,
    user_info: UserInfoLike | None = None,
    freeze: Freeze | None = None,
) -> dict[str, Any]:
    """The ``<Input>`` of a media job: exactly one of a COS ``object`` key or an http(s) ``url``.

    ``freeze`` is checked here because it only applies to a COS object.
    """
    source = one_source(object=object, url=url)
    if freeze is not None and source != "object":
        raise InvalidInput("Conf.Freeze", "applies to a COS object input only")
    return {
        "Object": object_key(object) if object is not None else None,
        "Url": _check_url(url, "Input.Url") if url is not None else None,
        "DataId": _check_data_id(data_id),
        "UserInfo": _check_user_info(user_info),
    }


def flag(value: bool | None, field_name: str) -> int | None:
    """A 0/1 switch (``Conf.DetectContent``) from True/False; anything else is refused."""
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidInput(field_name, f"must be True or False, not {type(value).__name__}")
    return int(value)


def snapshot(
    count: int, mode: str | None = None, time_interval: float | None = None
) -> dict[str, object]:
    """``Conf.Snapshot`` of a video job: ``Count`` in (0, 10000], ``Mode`` one of
    Interval/Average/Fps, ``TimeInterval`` in (0, 60] seconds.

    ``TimeInterval`` is rounded to the millisecond (the documented precision) before its
    range is checked, so ``0.0001`` is refused rather than sent as ``0``.
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise InvalidInput("Conf.Snapshot.Count", f"must be an integer, not {type(count).__name__}")
    if count <= 0:
        raise InvalidInput(
            "Conf.Snapshot.Count", f"must be in (0, {MAX_SNAPSHOT_COUNT}], got {count}"
        )
    if count > MAX_SNAPSHOT_COUNT:
        raise LimitExceeded("Conf.Snapshot.Count", MAX_SNAPSHOT_COUNT, count, "frames")
    chosen = None
    if mode is not None:
        by_lower = {m.lower(): m for m in SNAPSHOT_MODES}
        chosen = by_lower.get(_require_str("Conf.Snapshot.Mode", mode).strip().lower())
        if chosen is None:
            raise InvalidInput(
                "Conf.Snapshot.Mode", f"{mode!r} is not one of {', '.join(SNAPSHOT_MODES)}"
            )
    interval = None
    if time_interval is not None:
        if isinstance(time_interval, bool) or not isinstance(time_interval, int | float):
            raise InvalidInput(
                "Conf.Snapshot.TimeInterval",
                f"must be a number of seconds, not {type(time_interval).__name__}",
            )
        millis = round(time_interval * 1000) if math.isfinite(time_interval) else -1
        if not 0 < millis <= MAX_SNAPSHOT_INTERVAL * 1000:
            raise InvalidInput(
                "Conf.Snapshot.TimeInterval",
                f"must be in (0, {MAX_SNAPSHOT_INTERVAL}] seconds to the millisecond, "
                f"got {time_interval!r}",
            )
        interval = f"{millis / 1000:.3f}".rstrip("0").rstrip(".")
    return {"Mode": chosen, "Count": count, "TimeInterval": interval}


_FILE_TYPE = re.compile(r"[A-Za-z0-9]{1,16}")


def document_type(value: str | None, *, object: str | None, url: str | None) -> str | None:
    """``Input.Type`` of a document (e.g. ``docx``): required when the file name has no
    extension, since the service cannot tell the format and fails the job."""
    if value is not None:
        if not _FILE_TYPE.fullmatch(_require_str("Input.Type", value)):
            raise InvalidInput("Input.Type", f"{value!r} is not a file type such as 'docx'")
        return value.lower()
    name = object if object is not None else urlsplit(url or "").path
    last = name.rstrip("/").rsplit("/", 1)[-1]
    stem, dot, extension = last.rpartition(".")
    if not dot or not stem or not extension:
        raise InvalidInput(
            "Input.Type",
            f"{last!r} has no file extension: give the file type (e.g. file_type='docx')",
        )
    return None


# The page lists RTMP/HLS/HTTP/HTTPS. rtmps (RTMP over TLS) is RTMP too, and the emulator takes
# it: refusing it locally would block a stream the service most likely accepts.
_LIVE_SCHEMES = ("rtmp", "rtmps", "http", "https")


def live_url(value: str, field_name: str = "Input.Url") -> str:
    """A live stream address: ``rtmp(s)://``, or ``http(s)://`` (HLS, HTTP-FLV)."""
    parts = urlsplit(_require_str(field_name, value))
    if parts.scheme not in _LIVE_SCHEMES or not parts.netloc:
        raise InvalidInput(
            field_name, f"{value!r} is not an absolute rtmp, rtmps, http or https URL"
        )
    return value


def storage_path(value: str | None) -> dict[str, str] | None:
    """``StorageConf`` of a live job: the folder (key prefix) the stream is dumped to."""
    if value is None:
        return None
    return {"Path": object_key(value, "StorageConf.Path")}


_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def label(value: str, field_name: str) -> str:
    """A moderation label such as ``Porn`` or ``Normal`` (1-64 letters, digits, ``_``, ``-``)."""
    if not _LABEL.fullmatch(_require_str(field_name, value)):
        raise InvalidInput(field_name, f"{value!r} is not a label such as 'Porn' or 'Normal'")
    return value


_ISO_WITH_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})"
)


def moderation_time(value: datetime | str | None) -> str | None:
    """``ModerationTime`` as ``2021-08-07T12:12:12+08:00``: an aware datetime, or a string of
    that form (an offset is required: without one the instant is unknown)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput("ModerationTime", "needs a timezone (an aware datetime)")
        return value.isoformat(timespec="seconds")
    if not _ISO_WITH_OFFSET.fullmatch(_require_str("ModerationTime", value)):
        raise InvalidInput(
            "ModerationTime", f"{value!r} is not a time such as '2021-08-07T12:12:12+08:00'"
        )
    return value
