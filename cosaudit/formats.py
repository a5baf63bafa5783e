"""The file formats each moderation kind takes, and :func:`guess_kind`: which kind an object
key's extension suggests (``cosaudit batch --kind auto``).

The lists are the formats the reference pages name for each kind:

* image: PNG, JPG, JPEG, BMP, GIF, WEBP; HEIF and HEIC (batch image moderation) (page 436/48537,
  436/48538);
* video: FLV, MKV, MP4, RMVB, AVI, WMV, 3GP, MOV, M3U8, M4V (page 436/48249);
* audio: MP3, WAV, AAC, FLAC, AMR, M4A, WMA, OGG, APE (page 436/48262; it lists 3GP too, a video
  container here, since the video kind moderates its pictures and its sound);
* document: the presentation, word-processing and spreadsheet formats and PDF of page 436/48258;
* text: TXT, the plain-text file (UTF-8 or GBK) text moderation reads (page 436/48188).

Anything else (no extension, an archive, ``.json``) is None: the caller decides (virus detection
takes any file, so it is never guessed).
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["EXTENSIONS", "guess_kind"]

EXTENSIONS: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "image": frozenset({"png", "jpg", "jpeg", "bmp", "gif", "webp", "heif", "heic"}),
        "video": frozenset(
            {"flv", "mkv", "mp4", "rmvb", "avi", "wmv", "3gp", "mov", "m3u8", "m4v"}
        ),
        "audio": frozenset({"mp3", "wav", "aac", "flac", "amr", "m4a", "wma", "ogg", "ape"}),
        "document": frozenset(
            {
                *("pptx", "ppt", "pot", "potx", "pps", "ppsx", "dps", "dpt", "pptm", "potm"),
                *("ppsm", "doc", "dot", "wps", "wpt", "docx", "dotx", "docm", "dotm", "xls"),
                *("xlt", "et", "ett", "xlsx", "xltx", "csv", "xlsb", "xlsm", "xltm", "ets"),
                "pdf",
            }
        ),
        "text": frozenset({"txt"}),
    }
)
"""Lower-case extensions (without the dot) by kind; no extension is in two kinds."""

_KIND_OF = MappingProxyType({ext: kind for kind, exts in EXTENSIONS.items() for ext in exts})


def guess_kind(key: str) -> str | None:
    """The kind an object key's extension suggests, or None when no kind lists it.

    ::

        >>> guess_kind("uploads/Cat.JPG"), guess_kind("a/b.pdf"), guess_kind("notes/readme")
        ('image', 'document', None)

    Only the last ``/``-separated segment counts, case-insensitively; a name that is only an
    extension (``.png``) has none.
    """
    name = key.rpartition("/")[2]
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return None
    return _KIND_OF.get(extension.lower())
