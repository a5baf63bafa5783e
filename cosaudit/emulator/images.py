"""Images that carry text: tiny valid PNG/JPEG/GIF files to make, and the text to read back.

The emulator's "OCR" is the text embedded in an image's metadata: PNG ``tEXt``/``iTXt``/``zTXt``
chunks, JPEG ``COM`` segments, GIF comment extensions. Bytes that are no known image but valid
UTF-8 count as an image showing that text, so plain ``.txt`` fixtures work too.

At most :data:`MAX_TEXT_BYTES` of text are read from one image, counted before decoding and
shared by all its text pieces, compressed or not: the emulator reads untrusted uploads, and a
thousand small compressed chunks must not inflate into a gigabyte. Text past the budget is
dropped silently (the image is still judged on what was read).

>>> embedded_text(png_with_text("buy now"))
'buy now'
"""

from __future__ import annotations

import struct
import zlib

from cosaudit.emulator.xmlchars import replace_illegal

__all__ = [
    "MAX_TEXT_BYTES",
    "ImageDecodeError",
    "embedded_text",
    "gif_with_comment",
    "jpeg_with_comment",
    "png_with_text",
]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_BYTES = 1024 * 1024


class ImageDecodeError(ValueError):
    """Bytes that are neither a supported image nor UTF-8 text."""


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_with_text(text: str, keyword: str = "Comment") -> bytes:
    """A valid 1×1 grey PNG whose metadata holds ``text``.

    Latin-1 text goes in a ``tEXt`` chunk; anything else in an uncompressed UTF-8 ``iTXt``.
    """
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit greyscale
    idat = zlib.compress(b"\x00\x80")  # filter byte 0, one mid-grey pixel
    key = keyword.encode("latin-1")
    try:
        chunk = _png_chunk(b"tEXt", key + b"\x00" + text.encode("latin-1"))
    except UnicodeEncodeError:
        # iTXt: keyword, NUL, compression flag 0, method 0, empty language, NUL, empty
        # translated keyword, NUL, UTF-8 text.
        chunk = _png_chunk(b"iTXt", key + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))
    return (
        _PNG_SIGNATURE
        + _png_chunk(b"IHDR", ihdr)
        + chunk
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg_with_comment(text: str) -> bytes:
    """A valid 1×1 grey baseline JPEG with ``text`` (UTF-8) in a COM segment."""
    payload = text.encode("utf-8")
    if len(payload) > 65533:
        raise ValueError("a JPEG comment holds at most 65533 bytes")
    # One-symbol Huffman tables (code "0" for DC category 0 and for AC end-of-block) make the
    # smallest legal scan: the bits 0,0 padded with ones, i.e. the byte 0x3F.
    huffman_one = bytes([1] + [0] * 15) + b"\x00"
    return (
        b"\xff\xd8"
        + _jpeg_segment(0xFE, payload)
        + _jpeg_segment(0xDB, b"\x00" + b"\x01" * 64)
        + _jpeg_segment(0xC0, struct.pack(">BHHB", 8, 1, 1, 1) + b"\x01\x11\x00")
        + _jpeg_segment(0xC4, b"\x00" + huffman_one)
        + _jpeg_segment(0xC4, b"\x10" + huffman_one)
        + _jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"
        + b"\xff\xd9"
    )


def _sub_blocks(data: bytes) -> bytes:
    return b"".join(
        bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255)
    )


def gif_with_comment(text: str) -> bytes:
    """A valid 1×1 GIF89a with ``text`` (UTF-8) in a comment extension."""
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)  # 1×1, global colour table of 2 entries
        + b"\xff\xff\xff\x00\x00\x00"
        + b"\x21\xfe"
        + _sub_blocks(text.encode("utf-8"))
        + b"\x00"
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02\x44\x01\x00"  # LZW minimum code size 2, one data block, terminator
        + b"\x3b"
    )


def _decode(raw: bytes) -> str:
    """UTF-8 (a last character the budget cut in half is dropped), else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            return raw[: exc.start].decode("utf-8")
        return raw.decode("latin-1")


class _Budget:
    """The text bytes one image may still yield, shared by all its pieces."""

    def __init__(self, limit: int = MAX_TEXT_BYTES) -> None:
        self.left = limit

    @property
    def spent(self) -> bool:
        return self.left <= 0

    def take(self, raw: bytes) -> bytes:
        """``raw`` cut to what is left, and counted."""
        piece = raw[: self.left]
        self.left -= len(piece)
        return piece

    def inflate(self, data: bytes) -> bytes:
        """Inflate ``data``, producing no more than is left; never allocates past the budget."""
        if self.spent:
            return b""
        try:
            out = zlib.decompressobj().decompress(data, self.left)
        except zlib.error as exc:
            raise ImageDecodeError(f"corrupt compressed PNG text: {exc}") from exc
        self.left -= len(out)
        return out


def _png_texts(data: bytes, budget: _Budget) -> list[str]:
    texts: list[str] = []
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data) and not budget.spent:
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"tEXt":
            texts.append(budget.take(body.partition(b"\x00")[2]).decode("latin-1"))
        elif kind == b"zTXt":
            texts.append(budget.inflate(body.partition(b"\x00")[2][1:]).decode("latin-1"))
        elif kind == b"iTXt":
            rest = body.partition(b"\x00")[2]
            compressed, rest = rest[0:1] == b"\x01", rest[2:]
            rest = rest.partition(b"\x00")[2].partition(b"\x00")[2]
            texts.append(_decode(budget.inflate(rest) if compressed else budget.take(rest)))
        elif kind == b"IEND":
            break
    return texts


def _jpeg_texts(data: bytes, budget: _Budget) -> list[str]:
    texts: list[str] = []
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and not budget.spent:
        marker = data[pos + 1]
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no more metadata
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker == 0xFE:
            texts.append(_decode(budget.take(data[pos + 4 : pos + 2 + length])))
        pos += 2 + length
    return texts


def _read_sub_blocks(data: bytes, pos: int, budget: _Budget | None) -> tuple[bytes, int]:
    """The data of the sub-blocks at ``pos`` (kept within ``budget``; None skips them) and the
    position after their terminator."""
    out = bytearray()
    while pos < len(data) and data[pos]:
        size = data[pos]
        if budget is not None:
            out += budget.take(data[pos + 1 : pos + 1 + size])
        pos += 1 + size
    return bytes(out), pos + 1


def _gif_texts(data: bytes, budget: _Budget) -> list[str]:
    texts: list[str] = []
    flags = data[10] if len(data) > 10 else 0
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < len(data) and not budget.spent:
        block = data[pos]
        if block == 0x21 and pos + 1 < len(data):
            label = data[pos + 1]
            content, pos = _read_sub_blocks(data, pos + 2, budget if label == 0xFE else None)
            if label == 0xFE:
                texts.append(_decode(content))
        elif block == 0x2C and pos + 10 <= len(data):
            local = data[pos + 9]
            pos += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            _, pos = _read_sub_blocks(data, pos + 1, None)  # skip the LZW code size and data
        else:
            break
    return texts


def embedded_text(data: bytes) -> str:
    """The text an image carries in its metadata (pieces joined by newlines); may be empty.

    Characters XML cannot carry are replaced by U+FFFD: the text is echoed in answers. Raises
    :class:`ImageDecodeError` for empty input and for bytes that are neither a PNG, JPEG, GIF,
    BMP or WebP image nor UTF-8 text.
    """
    return replace_illegal(_raw_text(data))


def _raw_text(data: bytes) -> str:
    if not data:
        raise ImageDecodeError("empty file")
    budget = _Budget()
    if data.startswith(_PNG_SIGNATURE):
        return "\n".join(_png_texts(data, budget))
    if data.startswith(b"\xff\xd8"):
        return "\n".join(_jpeg_texts(data, budget))
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "\n".join(_gif_texts(data, budget))
    if data.startswith(b"BM") or (data.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        return ""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImageDecodeError("not a PNG, JPEG, GIF, BMP or WebP image") from exc
    return _decode(budget.take(data))
