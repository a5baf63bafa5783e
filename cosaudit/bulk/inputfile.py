"""A bulk input file: JSON lines or CSV, one request a line, each naming its kind and its input.

JSON lines: ``{"kind": "text", "object": "docs/1.txt", "data_id": "item-1"}``, or ``content``
or ``url`` for the input, with any of the kind's options (``biz_type``, ``detect_type``...).
CSV: a header row naming the same fields; empty cells are left out, and a cell of a field that
is not a string (``snapshot_count``, ``detect_content``...) is read as JSON (``5``, ``true``).
A line without ``kind`` takes the default kind, if one is given. A line without ``data_id`` is
known by its object key or URL (a URL's query replaced by its digest), or else by a digest of
the request (inline content).

A line must name ``object``, ``content`` or ``url``: a plain string is refused, never taken as
an object key (it could as well be text or a URL).

:meth:`InputFile.check` reads the whole file before anything is sent: every line is made into
its request, and ids must be unique (a repeated id is refused naming both lines: one line per
id is what the output promises, and which of two different requests an id stands for would be
guesswork). Its memory does not grow with the file: ids go into a fixed 4 MiB Bloom filter, and
only ids it may have seen before (repeats, and about one in 40 million ids at 100,000 lines)
are compared exactly, in a second pass that only runs if there are any.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import attrs

from ..errors import InvalidInput
from ..requests import BULK_KINDS, Request, structure
from .identity import item_id

__all__ = ["BadLine", "InputFile", "input_of"]

_SOURCES = ("object", "content", "url")


class BadLine(InvalidInput):
    """A line of the input is not a request; ``line`` is its number (1-based, 0 for the whole
    file), ``field`` names the file, the line and the field at fault."""

    def __init__(self, source: str, line: int, field: str, message: str) -> None:
        super().__init__(f"{source} line {line}: {field}" if line else source, message)
        self.line = line


@attrs.define(frozen=True, slots=True)
class Line:
    """One request of the input and where it is."""

    number: int
    request: Request


class InputFile:
    """A JSONL or CSV file of requests, read (twice: :meth:`check`, then :meth:`requests`)
    from disk; standard input is first copied to an anonymous temporary file, so it is checked
    whole before anything is sent too."""

    def __init__(self, name: str, stream: IO[bytes], *, csv_format: bool, kind: str | None):
        self.name = name
        self._stream = stream
        self._csv = csv_format
        self._kind = kind

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> InputFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def check(self) -> int:
        """Make every line into its request and refuse repeated ids; returns the number of
        requests. Raises :class:`BadLine`."""
        seen = _Bloom()
        maybe: set[int] = set()
        count = 0
        for line in self.lines():
            count += 1
            digest = _digest(item_id(line.request))
            if seen.add(digest):
                maybe.add(digest)
        if maybe:
            self._find_repeat(maybe)
        return count

    def requests(self) -> Generator[Request, None, None]:
        """The requests, in file order (a fresh read each call)."""
        for line in self.lines():
            yield line.request

    def lines(self) -> Iterator[Line]:
        self._stream.seek(0)
        text = io.TextIOWrapper(self._stream, encoding="utf-8-sig", newline="")
        try:
            yield from (self._csv_lines(text) if self._csv else self._json_lines(text))
        except UnicodeDecodeError as exc:
            raise BadLine(self.name, 0, "encoding", f"is not UTF-8: {exc}") from None
        finally:
            if not self._stream.closed:  # a generator left unfinished may end after close()
                text.detach()

    def _json_lines(self, text: IO[str]) -> Iterator[Line]:
        for number, raw in enumerate(text, 1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except ValueError as exc:
                raise BadLine(self.name, number, "json", f"not a JSON object: {exc}") from None
            if not isinstance(data, dict):
                raise BadLine(
                    self.name,
                    number,
                    "line",
                    f"a line is a JSON object naming {', '.join(_SOURCES)}, "
                    f"not a {type(data).__name__}: {raw.strip()[:60]}",
                )
            yield Line(number, self._request(number, data))

    def _csv_lines(self, text: IO[str]) -> Iterator[Line]:
        reader = csv.DictReader(text)
        if not reader.fieldnames:
            return
        header = [name.strip() for name in reader.fieldnames]
        if not set(header) & set(_SOURCES):
            # A text file, or a CSV without its header row, would otherwise be read with its
            # first line as the header: every item wrong, or none at all.
            raise BadLine(
                self.name, 1, "header",
                f"not JSONL; a CSV needs a header naming {', '.join(_SOURCES[:-1])} or "
                f"{_SOURCES[-1]}, got {','.join(header)[:60]!r}",
            )  # fmt: skip
        reader.fieldnames = header
        for row in reader:
            number = reader.line_num
            if None in row:
                raise BadLine(
                    self.name, number, "row", f"more cells than the header's {len(header)}"
                )
            data = {name: value for name, value in row.items() if value not in ("", None)}
            if not data:
                continue
            yield Line(number, self._request(number, data, cells=True))

    def _request(self, number: int, data: dict[str, Any], *, cells: bool = False) -> Request:
        kind = data.pop("kind", None) or self._kind
        if kind is None:
            raise BadLine(
                self.name,
                number,
                "kind",
                f"name the kind (or pass --kind for lines without one): one of "
                f"{', '.join(BULK_KINDS)}",
            )
        model = BULK_KINDS.get(kind) if isinstance(kind, str) else None
        if model is None:
            raise BadLine(
                self.name, number, "kind", f"unknown kind {kind!r}; one of {', '.join(BULK_KINDS)}"
            )
        if not any(data.get(source) is not None for source in _SOURCES):
            raise BadLine(self.name, number, "input", f"name the input: {', '.join(_SOURCES)}")
        if cells:
            data = _typed_cells(data, model)
        if "data_id" not in data and "data_id" in attrs.fields_dict(model):
            # An object key or URL is its own id, as in moderate_many: readable in the output,
            # and the same in every run.
            named = data.get("object", data.get("url"))
            if isinstance(named, str) and named:
                data["data_id"] = item_id(named)
        try:
            return structure(data, model)
        except InvalidInput as error:
            raise BadLine(self.name, number, error.field, error.message) from None

    def _find_repeat(self, maybe: set[int]) -> None:
        """Refuse the first id that is really on two lines, among those the filter flagged."""
        first: dict[str, int] = {}
        for line in self.lines():
            ident = item_id(line.request)
            if _digest(ident) not in maybe:
                continue
            if ident in first:
                raise BadLine(
                    self.name,
                    line.number,
                    "data_id",
                    f"repeats the id {ident!r} of line {first[ident]}; give each line its own "
                    "data_id",
                )
            first[ident] = line.number


def _digest(ident: str) -> int:
    raw = hashlib.blake2b(ident.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    return int.from_bytes(raw, "little")


class _Bloom:
    """A set of 128-bit digests that may answer "seen" wrongly (rarely), never "not seen"
    wrongly; 4 MiB whatever the number of ids."""

    BITS = 1 << 25
    PROBES = 4

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS // 8)

    def add(self, digest: int) -> bool:
        """Add; whether it may have been added before."""
        bits = self._bits
        present = True
        for _ in range(self.PROBES):
            position = digest & (self.BITS - 1)
            digest >>= 25
            byte, mask = position >> 3, 1 << (position & 7)
            if not bits[byte] & mask:
                present = False
                bits[byte] |= mask
        return present


def _typed_cells(data: Mapping[str, str], model: type[Request]) -> dict[str, Any]:
    """CSV cells as the model's fields take them: strings stay strings; a cell of any other
    field is read as JSON (``5``, ``true``, ``["Porn"]``), else left for the model to refuse."""
    fields = attrs.fields_dict(model)
    typed: dict[str, Any] = {}
    for name, value in data.items():
        field = fields.get(name)
        if field is not None and str(field.type) not in ("str | None", "str"):
            try:
                typed[name] = json.loads(value)
                continue
            except ValueError:
                pass
        typed[name] = value
    return typed


def input_of(path: str, *, kind: str | None = None, stdin: IO[bytes] | None = None) -> InputFile:
    """Open ``path`` (``-``: standard input) as an :class:`InputFile`: ``.csv`` is CSV,
    ``.jsonl``/``.ndjson``/``.json`` JSON lines, anything else JSON lines if its first
    character is ``{``, else CSV."""
    if path == "-":
        spool: IO[bytes] = tempfile.TemporaryFile(prefix="cosaudit-batch-")  # noqa: SIM115
        shutil.copyfileobj(stdin if stdin is not None else sys.stdin.buffer, spool)
        stream, name = spool, "standard input"
    else:
        try:
            stream = Path(path).open("rb")  # noqa: SIM115 - closed by InputFile.close
        except OSError as exc:
            raise InvalidInput("input", f"cannot read {path}: {exc.strerror}") from None
        name = path
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".csv":
        csv_format = True
    elif suffix in (".jsonl", ".ndjson", ".json"):
        csv_format = False
    else:
        stream.seek(0)
        csv_format = not stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
    return InputFile(name, stream, csv_format=csv_format, kind=kind)
