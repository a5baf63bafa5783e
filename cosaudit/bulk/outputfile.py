"""A bulk run's output file: one JSON line per item, written as each result is handed over, kept
in step with the run's journal so that a run killed at any moment and resumed leaves exactly one
line per item.

How the two files agree (the journal is the truth):

* A result's line is handed to the operating system with one ``write`` *before* the runner
  journals the item as ``done`` (which it does when the caller asks for the next result). A
  ``kill -9`` can therefore leave lines the journal has not marked done (at most the last), and
  a torn last line, but never a ``done`` item without its line.
* Results that are not final (``pending``, ``ambiguous``, a refused submission) get a line too,
  but are never journaled done: a resume takes them up again.
* :meth:`OutputFile.resume` keeps exactly the lines of items the journal has finished, once
  each, and drops the rest (a torn line, a line the journal never marked done, a not-final
  result); the resume then hands those items over again (re-polling a journaled JobId, never
  resubmitting) and writes their new lines. It writes the kept lines to a temporary file and
  renames it over the output, so a kill during it leaves the old file whole.

A power cut is another matter: the output is not ``fsync``-ed line by line (that would cost a
disk flush per item), so the disk may keep a journal ``done`` whose line it lost. The resume
counts the lines it keeps against the items the journal finished and says so if they differ.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from .records import JSONValue

__all__ = ["OutputFile"]


class OutputFile:
    """The output, open for appending one line per result; use :meth:`create` or
    :meth:`resume`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd
        # One encoder for the run: ``json.dumps`` with options builds a new one per call, a
        # cost paid for every item of a 100,000-item run.
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> OutputFile:
        """A new, empty output; refuses to overwrite a file."""
        path = Path(path)
        return cls(path, os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o644))

    @classmethod
    def resume(
        cls, path: str | os.PathLike[str], finished: Callable[[str], bool]
    ) -> tuple[OutputFile, Counter[str], int]:
        """The output of an earlier run, keeping only the lines of items ``finished`` (per the
        journal) says are done, each once; returns it with the kept lines counted by status,
        and the number of lines dropped.

        Holds a 16-byte digest of each kept id while it runs (as the journal does of finished
        ids on a resume).
        """
        path = Path(path)
        kept: Counter[str] = Counter()
        if not path.exists():
            return cls.create(path), kept, 0
        dropped = 0
        seen: set[bytes] = set()
        temporary = path.with_name(path.name + ".resuming")
        with path.open("rb") as old, temporary.open("wb") as new:
            for line in old:
                ident, status = _id_of(line)
                digest = (
                    hashlib.blake2b(ident.encode("utf-8", "surrogatepass"), digest_size=16).digest()
                    if ident is not None
                    else b""
                )
                if ident is None or digest in seen or not finished(ident):
                    dropped += 1
                    continue
                seen.add(digest)
                new.write(line)
                kept[status] += 1
            new.flush()
            os.fsync(new.fileno())
        os.replace(temporary, path)
        return cls(path, os.open(path, os.O_WRONLY | os.O_APPEND)), kept, dropped

    def write(self, data: dict[str, JSONValue]) -> None:
        """Append one record as one line, with one ``write`` (so a kill never tears a line the
        journal counts as done)."""
        if self._fd is None:
            raise ValueError("the output is closed")
        line = (self._encode(data) + "\n").encode("utf-8", "surrogatepass")
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def _id_of(line: bytes) -> tuple[str | None, str]:
    """The ``data_id`` and ``status`` of a whole output line; no id for a torn or foreign one."""
    if not line.endswith(b"\n"):
        return None, ""
    try:
        data = json.loads(line)
    except ValueError:
        return None, ""
    if not isinstance(data, dict) or not isinstance(data.get("data_id"), str):
        return None, ""
    return data["data_id"], str(data.get("status"))
