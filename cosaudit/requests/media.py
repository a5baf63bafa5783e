"""The requests of the media kinds that take one file as a COS ``object`` or a ``url``: video
(``POST /video/auditing``), audio (``POST /audio/auditing``) and document
(``POST /document/auditing``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import urlsplit

from attrs import define, field

from .. import inputs
from ..errors import InvalidInput
from ..userinfo import UserInfoFields
from .common import (
    Freeze,
    Request,
    as_freeze,
    as_user_info,
    biz_type_field,
    callback_field,
    callback_type_field,
    callback_version_field,
    check_freeze,
    check_user_info,
    checked,
    conf_tree,
    data_id_field,
    detect_type_field,
    freeze_needs_object,
    input_tree,
    object_field,
    url_field,
)

__all__ = ["AudioRequest", "DocumentRequest", "VideoRequest", "guess_file_type"]


def _media_input(request: Any) -> dict[str, object]:
    return input_tree(request, Object=request.object, Url=request.url)


def _one_file(request: Any) -> None:
    source = inputs.one_source(object=request.object, url=request.url)
    # Checked here because freezing only applies to a COS object.
    freeze_needs_object(request.freeze, source)


@define(frozen=True, slots=True, kw_only=True)
class VideoRequest(Request):
    """One video; frames are captured as ``snapshot_mode`` says (see ``client.video``).

    Args:
        snapshot_count: frames to capture, 1 to 10,000 (``Conf.Snapshot.Count``).
        snapshot_mode: ``Interval`` (the service's default), ``Average`` or ``Fps``.
        snapshot_interval: seconds between frames (frames per second for ``Fps``),
            in (0, 60], to the millisecond.
        detect_content: also moderate the sound (``AudioSection`` results).
    """

    kind: ClassVar[str] = "video"

    object: str | None = object_field()
    url: str | None = url_field()
    snapshot_count: int = field(validator=checked("Conf.Snapshot.Count", inputs.snapshot_count))
    snapshot_mode: str | None = field(
        default=None, validator=checked("Conf.Snapshot.Mode", inputs.snapshot_mode)
    )
    snapshot_interval: float | None = field(
        default=None, validator=checked("Conf.Snapshot.TimeInterval", inputs.snapshot_interval)
    )
    detect_content: bool | None = field(
        default=None,
        converter=inputs.zero_one,
        validator=checked("Conf.DetectContent", inputs.flag),
    )
    data_id: str | None = data_id_field()
    user_info: UserInfoFields | None = field(
        default=None, converter=as_user_info, validator=check_user_info
    )
    biz_type: str | None = biz_type_field()
    detect_type: str | Iterable[str] | None = detect_type_field(kind="video")
    callback: str | None = callback_field()
    callback_version: str | None = callback_version_field()
    callback_type: int | None = callback_type_field()
    freeze: Freeze | None = field(default=None, converter=as_freeze, validator=check_freeze)

    def __attrs_post_init__(self) -> None:
        _one_file(self)

    def to_body(self) -> dict[str, Any]:
        mode, interval = self.snapshot_mode, self.snapshot_interval
        snapshot = {
            "Mode": inputs.snapshot_mode(mode) if mode is not None else None,
            "Count": self.snapshot_count,
            "TimeInterval": inputs.snapshot_interval(interval) if interval is not None else None,
        }
        detect_content = self.detect_content
        return {
            "Input": _media_input(self),
            "Conf": conf_tree(
                self,
                Snapshot=snapshot,
                DetectContent=int(detect_content) if detect_content is not None else None,
            ),
        }


@define(frozen=True, slots=True, kw_only=True)
class AudioRequest(Request):
    """One audio file (or a video file, whose sound track is moderated)."""

    kind: ClassVar[str] = "audio"

    object: str | None = object_field()
    url: str | None = url_field()
    data_id: str | None = data_id_field()
    user_info: UserInfoFields | None = field(
        default=None, converter=as_user_info, validator=check_user_info
    )
    biz_type: str | None = biz_type_field()
    detect_type: str | Iterable[str] | None = detect_type_field(kind="audio")
    callback: str | None = callback_field()
    callback_version: str | None = callback_version_field()
    callback_type: int | None = callback_type_field()
    freeze: Freeze | None = field(default=None, converter=as_freeze, validator=check_freeze)

    def __attrs_post_init__(self) -> None:
        _one_file(self)

    def to_body(self) -> dict[str, Any]:
        return {"Input": _media_input(self), "Conf": conf_tree(self)}


def guess_file_type(name: str) -> str | None:
    """The extension of the last segment of a key or URL path (``docx``), or None without one.

    >>> guess_file_type("contracts/a.DOCX"), guess_file_type("uploads/contract")
    ('DOCX', None)
    """
    last = name.rstrip("/").rsplit("/", 1)[-1]
    stem, dot, extension = last.rpartition(".")
    return extension if dot and stem and extension else None


@define(frozen=True, slots=True, kw_only=True)
class DocumentRequest(Request):
    """One document (office files, PDFs, text-like files).

    Args:
        file_type: the format (``Input.Type``, e.g. ``docx``); required when the file
            name has no extension, since the service would fail the job.
        callback_type: 1 calls back every page, 2 only the pages that hit.
    """

    kind: ClassVar[str] = "document"

    object: str | None = object_field()
    url: str | None = url_field()
    file_type: str | None = field(default=None, validator=checked("Input.Type", inputs.file_type))
    data_id: str | None = data_id_field()
    user_info: UserInfoFields | None = field(
        default=None, converter=as_user_info, validator=check_user_info
    )
    biz_type: str | None = biz_type_field()
    detect_type: str | Iterable[str] | None = detect_type_field(kind="document")
    callback: str | None = callback_field()
    callback_type: int | None = callback_type_field()
    freeze: Freeze | None = field(default=None, converter=as_freeze, validator=check_freeze)

    def __attrs_post_init__(self) -> None:
        _one_file(self)
        if self.file_type is None:
            name = self.object if self.object is not None else urlsplit(self.url or "").path
            if guess_file_type(name) is None:
                last = name.rstrip("/").rsplit("/", 1)[-1]
                raise InvalidInput(
                    "Input.Type",
                    f"{last!r} has no file extension: give the file type (e.g. file_type='docx')",
                )

    def to_body(self) -> dict[str, Any]:
        document = _media_input(self)
        document["Type"] = self.file_type.lower() if self.file_type is not None else None
        return {"Input": document, "Conf": conf_tree(self)}
