"""What a medium "contains", for the kinds the emulator cannot decode: video, audio, documents,
live streams and files scanned for viruses.

An optional sidecar manifest ``<key>.cosaudit.json`` beside the object in the bucket folder (for
a URL input, ``<url>.cosaudit.json`` fetched from loopback) says it; all fields are optional::

    {"duration_ms": 60000,
     "frames": [{"time_ms": 0, "text": "what OCR reads on the frame", "labels": {}}],
     "audio":  [{"offset_ms": 0, "duration_ms": 5000, "text": "what ASR hears",
                 "language": "en"}],
     "pages":  [{"text": "page text", "sheet": 1, "labels": {}}],
     "files":  [{"name": "inner/evil.exe", "virus": "Win32.Trojan.Example"}],
     "fail":   {"code": "ResourceNotSupported", "message": "corrupt file"}}

A frame's or page's ``labels`` say what the picture shows beyond its text (scene outcomes,
sub-labels, objects with a location), as in an image's manifest
(:mod:`cosaudit.emulator.pictures`). An audio segment's ``language`` is answered in its
section's ``LanguageResults`` (and the job's, for audio jobs).

Without a manifest the object's first bytes are read as text (UTF-8, errors ignored): a video
gets one frame at 0 ms, an audio file one segment of 1 s, a document one page per form feed
``\\f``; a virus scan looks for the EICAR test string in the file and in the members of a zip
archive (nested zips too).

Choices (not in the contract): unknown manifest fields and wrong types fail the job with
``ResourceNotSupported`` naming the field, rather than being ignored (a typo would otherwise
look like clean content); an audio segment without ``duration_ms`` lasts 1 s; a medium without
``duration_ms`` lasts until 1 s after its last frame or the end of its last audio segment,
whichever is later; the medium itself must exist even when it has a manifest. Every text is
made XML-safe (:func:`cosaudit.emulator.xmlchars.replace_illegal`) since results echo it.

Caps: a manifest is at most 1 MiB; the text fallback reads the first 1 MiB; a virus scan reads
the first 32 MiB of a file, at most 8 MiB of each archive member and 64 MiB in all, archives of
at most 10,000 members and 3 levels of nesting (beyond that, bytes are scanned as they are).
"""

from __future__ import annotations

import bisect
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from attrs import define, field

from cosaudit.emulator.rules import SceneVerdict
from cosaudit.emulator.sources import SourceError, Sources
from cosaudit.emulator.xmlchars import replace_illegal

__all__ = [
    "EICAR_NAME",
    "MANIFEST_SUFFIX",
    "AudioSegment",
    "Failure",
    "Fallback",
    "Frame",
    "InnerFile",
    "Media",
    "Page",
    "audio_fallback",
    "document_fallback",
    "eicar",
    "load_object",
    "load_stream",
    "load_url",
    "manifest_url",
    "parse_manifest",
    "piece_url",
    "scan_files",
    "url_name",
    "video_fallback",
    "virus_fallback",
]

MANIFEST_SUFFIX = ".cosaudit.json"
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_SCAN_BYTES = 1024 * 1024
MAX_FILE_SCAN_BYTES = 32 * 1024 * 1024
MAX_MEMBER_BYTES = 8 * 1024 * 1024
MAX_ARCHIVE_TOTAL = 64 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_NESTING = 3
# How long the last frame shows and an audio segment lasts when the manifest does not say.
DEFAULT_SPAN_MS = 1000

# The EICAR anti-virus test file, in two halves so this source file is not itself "infected".
_EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_NAME = "EICAR-Test-File"


# Where results say a snapshot, audio segment or page image is: the emulator renders no media,
# so these URLs use the reserved .invalid domain (RFC 2606) and never resolve.
PIECE_HOST = "https://cosaudit.emulator.invalid"


def piece_url(part: str, index: int, extension: str) -> str:
    """The ``Url`` a result gives for a rendered piece (``…/snapshot/3.jpg``)."""
    return f"{PIECE_HOST}/{part}/{index}.{extension}"


def eicar() -> bytes:
    """The EICAR test string, for building "infected" test files."""
    return _EICAR


@define(frozen=True, slots=True)
class Frame:
    """A picture of the video from ``time_ms`` on, and the text OCR reads on it."""

    time_ms: int
    text: str
    labels: tuple[SceneVerdict, ...] = ()


@define(frozen=True, slots=True)
class AudioSegment:
    """Speech from ``offset_ms`` for ``duration_ms``, as ASR hears it."""

    offset_ms: int
    duration_ms: int
    text: str
    language: str | None = None

    @property
    def end_ms(self) -> int:
        return self.offset_ms + self.duration_ms


@define(frozen=True, slots=True)
class Page:
    """A document page as an image of text; ``sheet`` for spreadsheets."""

    text: str
    sheet: int | None = None
    labels: tuple[SceneVerdict, ...] = ()


@define(frozen=True, slots=True)
class InnerFile:
    """A file (or archive member) and the virus it carries, if any."""

    name: str
    virus: str | None = None


@define(frozen=True, slots=True)
class Failure:
    """The manifest says the job fails with this code and message."""

    code: str
    message: str


def _sorted_frames(frames: Sequence[Frame]) -> tuple[Frame, ...]:
    return tuple(sorted(frames, key=lambda frame: frame.time_ms))


@define(frozen=True, slots=True)
class Media:
    """What one medium contains."""

    duration_ms: int | None = None
    frames: tuple[Frame, ...] = field(default=(), converter=_sorted_frames)
    audio: tuple[AudioSegment, ...] = ()
    pages: tuple[Page, ...] = ()
    files: tuple[InnerFile, ...] = ()
    fail: Failure | None = None
    _frame_times: tuple[int, ...] = field(init=False, repr=False, eq=False)

    @_frame_times.default
    def _times_of_frames(self) -> tuple[int, ...]:
        return tuple(frame.time_ms for frame in self.frames)

    @property
    def length_ms(self) -> int:
        """``duration_ms``, or until 1 s after the last frame or the end of the last segment."""
        if self.duration_ms is not None:
            return self.duration_ms
        ends = [self.frames[-1].time_ms + DEFAULT_SPAN_MS] if self.frames else []
        ends.extend(segment.end_ms for segment in self.audio)
        return max(ends, default=0)

    def frame_at(self, time_ms: int) -> Frame | None:
        """The latest frame shown at ``time_ms`` (None before the first)."""
        index = bisect.bisect_right(self._frame_times, time_ms)
        return self.frames[index - 1] if index else None


# --- the manifest ------------------------------------------------------------------------------


class _Bad(Exception):
    """A manifest field that is wrong; the message names it."""


def _object(value: Any, where: str, known: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{where} must be a JSON object")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise _Bad(f"{where} has unknown field {unknown[0]!r} (known: {', '.join(known)})")
    return value


def _int(node: Mapping[str, Any], name: str, where: str, default: int | None, low: int) -> Any:
    value = node.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _Bad(f"{where}.{name} must be a whole number >= {low}")
    return value


def _str(node: Mapping[str, Any], name: str, where: str, default: str | None) -> Any:
    value = node.get(name, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad(f"{where}.{name} must be a string")
    return replace_illegal(value)


def _list(root: Mapping[str, Any], name: str) -> list[Any]:
    value = root.get(name, [])
    if not isinstance(value, list):
        raise _Bad(f"{name} must be a JSON array")
    return value


def _labels(node: Mapping[str, Any], where: str) -> tuple[SceneVerdict, ...]:
    # Imported here: pictures reads image manifests with this module's helpers.
    from cosaudit.emulator.pictures import LabelError, parse_labels

    try:
        return parse_labels(node.get("labels"), f"{where}.labels")
    except LabelError as exc:
        raise _Bad(str(exc)) from None


def _media(root: Any) -> Media:
    top = _object(
        root, "the manifest", ("duration_ms", "frames", "audio", "pages", "files", "fail")
    )
    frames = []
    for i, item in enumerate(_list(top, "frames")):
        where = f"frames[{i}]"
        node = _object(item, where, ("time_ms", "text", "labels"))
        frames.append(
            Frame(
                _int(node, "time_ms", where, 0, 0),
                _str(node, "text", where, ""),
                _labels(node, where),
            )
        )
    audio = []
    for i, item in enumerate(_list(top, "audio")):
        where = f"audio[{i}]"
        node = _object(item, where, ("offset_ms", "duration_ms", "text", "language"))
        audio.append(
            AudioSegment(
                _int(node, "offset_ms", where, 0, 0),
                _int(node, "duration_ms", where, DEFAULT_SPAN_MS, 0),
                _str(node, "text", where, ""),
                _str(node, "language", where, None) or None,
            )
        )
    pages = []
    for i, item in enumerate(_list(top, "pages")):
        where = f"pages[{i}]"
        node = _object(item, where, ("text", "sheet", "labels"))
        pages.append(
            Page(
                _str(node, "text", where, ""),
                _int(node, "sheet", where, None, 1),
                _labels(node, where),
            )
        )
    files = []
    for i, item in enumerate(_list(top, "files")):
        where = f"files[{i}]"
        node = _object(item, where, ("name", "virus"))
        name = _str(node, "name", where, None)
        if not name:
            raise _Bad(f"{where}.name is required")
        files.append(InnerFile(name, _str(node, "virus", where, None) or None))
    fail = None
    if top.get("fail") is not None:
        node = _object(top["fail"], "fail", ("code", "message"))
        code = _str(node, "code", "fail", None)
        if not code:
            raise _Bad("fail.code is required")
        fail = Failure(code, _str(node, "message", "fail", ""))
    return Media(
        duration_ms=_int(top, "duration_ms", "the manifest", None, 0),
        frames=tuple(frames),
        audio=tuple(sorted(audio, key=lambda segment: segment.offset_ms)),
        pages=tuple(pages),
        files=tuple(files),
        fail=fail,
    )


def parse_manifest(data: bytes, where: str) -> Media:
    """The medium a manifest describes; SourceError ``ResourceNotSupported`` naming the bad
    field (``where`` names the manifest in the message)."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise SourceError("ResourceNotSupported", f"{where} exceeds {MAX_MANIFEST_BYTES} bytes.")
    try:
        return _media(json.loads(data))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise SourceError("ResourceNotSupported", f"{where} is not JSON: {exc}.") from None
    except _Bad as exc:
        raise SourceError("ResourceNotSupported", f"{where}: {exc}.") from None


# --- fallbacks: the bytes themselves -----------------------------------------------------------

# How each kind reads a medium without a manifest: its bytes and its file name.
Fallback = Callable[[bytes, str], Media]


def _decoded(data: bytes) -> str:
    return data[:MAX_SCAN_BYTES].decode("utf-8", errors="ignore")


def _text(data: bytes) -> str:
    return replace_illegal(_decoded(data))


def video_fallback(data: bytes, name: str) -> Media:
    """One frame at 0 ms showing the bytes as text."""
    return Media(frames=(Frame(0, _text(data)),))


def audio_fallback(data: bytes, name: str) -> Media:
    """One segment of 1 s saying the bytes as text."""
    return Media(audio=(AudioSegment(0, DEFAULT_SPAN_MS, _text(data)),))


def document_fallback(data: bytes, name: str) -> Media:
    """One page per form-feed-separated part of the bytes as text."""
    # Split before making the text XML-safe: a form feed is one of the characters XML cannot carry.
    return Media(pages=tuple(Page(replace_illegal(part)) for part in _decoded(data).split("\f")))


def virus_fallback(data: bytes, name: str) -> Media:
    """The file, or the members of a zip archive, each with the EICAR test "virus" if found."""
    return Media(files=tuple(scan_files(data, name)))


def _small_archive(data: bytes) -> bool:
    """Whether ``data`` ends like a zip archive whose end record declares at most
    :data:`MAX_MEMBERS` members in a central directory of at most 4 MiB (zipfile would build an
    object per entry of any size of directory; zip64 counts as too large)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return False
    count, size = struct.unpack_from("<HI", data, end + 10)
    return bool(count <= MAX_MEMBERS and size <= 4 * 1024 * 1024)


class _Budget:
    """Bytes still allowed to be decompressed in one scan."""

    def __init__(self, total: int) -> None:
        self.left = total


def scan_files(data: bytes, name: str) -> list[InnerFile]:
    """``name`` with the EICAR virus if its bytes hold the test string; for a zip archive its
    members instead (named by their path in the archive, nested archives joined with ``/``)."""
    return _scan(data, name, None, 0, _Budget(MAX_ARCHIVE_TOTAL))


def _scan(
    data: bytes, name: str, prefix: str | None, depth: int, budget: _Budget
) -> list[InnerFile]:
    if data[:2] == b"PK" and depth < MAX_NESTING and _small_archive(data):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                found: list[InnerFile] = []
                for info in archive.infolist()[:MAX_MEMBERS]:
                    if info.is_dir():
                        continue
                    inner = replace_illegal(info.filename)
                    path = inner if prefix is None else f"{prefix}/{inner}"
                    try:
                        with archive.open(info) as member:
                            content = member.read(max(0, min(MAX_MEMBER_BYTES, budget.left)))
                    except (
                        RuntimeError,
                        NotImplementedError,
                        zipfile.BadZipFile,
                        zlib.error,
                        EOFError,
                        OSError,
                        ValueError,
                    ):
                        # Encrypted or unreadable: nothing can be found in it.
                        found.append(InnerFile(path))
                        continue
                    budget.left -= len(content)
                    found.extend(_scan(content, path, path, depth + 1, budget))
                return found
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            pass  # not an archive after all: scan the bytes
    return [InnerFile(name, EICAR_NAME if _EICAR in data else None)]


# --- loading -----------------------------------------------------------------------------------


def _read_manifest_object(sources: Sources, key: str) -> Media | None:
    manifest_key = key + MANIFEST_SUFFIX
    try:
        path = sources.object_path(manifest_key)
    except SourceError:
        return None
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise SourceError(
            "ResourceNotSupported", f"{manifest_key} exceeds {MAX_MANIFEST_BYTES} bytes."
        )
    return parse_manifest(path.read_bytes(), manifest_key)


def load_object(
    sources: Sources,
    key: str,
    *,
    max_bytes: int,
    fallback: Fallback,
    scan_bytes: int = MAX_SCAN_BYTES,
) -> Media:
    """What object ``key`` contains: its manifest, else ``fallback`` over its first
    ``scan_bytes``. SourceError if the object is missing or larger than ``max_bytes`` (the
    kind's limit)."""
    path = sources.object_path(key)
    if path.stat().st_size > max_bytes:
        raise SourceError("ResourceNotSupported", f"The object exceeds {max_bytes} bytes.")
    manifest = _read_manifest_object(sources, key)
    if manifest is not None:
        return manifest
    return fallback(sources.read_object(key, scan_bytes, truncate=True), PurePosixPath(key).name)


def manifest_url(url: str) -> str:
    """Where the manifest of the file at ``url`` is: ``<url>.cosaudit.json`` (before the query)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path + MANIFEST_SUFFIX))


def url_name(url: str) -> str:
    """The file name a URL ends with (the host when its path has none)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return PurePosixPath(parts.path).name or parts.netloc


async def load_url(
    sources: Sources, url: str, *, fallback: Fallback, scan_bytes: int = MAX_SCAN_BYTES
) -> Media:
    """What the file at ``url`` contains: ``<url>.cosaudit.json`` when that answers, else
    ``fallback`` over the first ``scan_bytes`` of the file. SourceError if the file itself
    cannot be fetched."""
    data = await sources.fetch(url, scan_bytes, truncate=True)  # the URL parses: it was fetched
    where = manifest_url(url)
    try:
        raw = await sources.fetch(where, MAX_MANIFEST_BYTES)
    except SourceError as exc:
        if exc.code != "ResourceNotFound":
            raise
        return fallback(data, url_name(url))
    return parse_manifest(raw, where)


def load_stream(sources: Sources, url: str) -> Media:
    """What the live stream at ``url`` shows: the manifest named by the URL's path in the
    bucket folder (``rtmp://host/live/room1`` → ``live/room1.cosaudit.json``), else the
    object at that path read as one frame, else nothing (a stream of blank frames)."""
    try:
        key = unquote(urlsplit(url).path).lstrip("/")
    except ValueError:
        return Media()
    if not key:
        return Media()
    manifest = _read_manifest_object(sources, key)
    if manifest is not None:
        return manifest
    try:
        data = sources.read_object(key, MAX_SCAN_BYTES, truncate=True)
    except SourceError:
        return Media()
    return video_fallback(data, PurePosixPath(key).name)
