"""The bulk runner's journal: an append-only JSON-lines record of what was submitted and how
it ended, so that a run stopped by anything (an exception, Ctrl-C, ``kill -9``, a power cut)
resumes without losing an item or submitting one twice.

One JSON object per line, keyed by the item's id (its ``DataId``)::

    {"e":"run","v":1,"kind":"text","t":1763700000.0}           a run (or a resume) starts
    {"e":"trying","id":"posts/1.txt"}                           about to send the submission
    {"e":"submitted","id":"posts/1.txt","job":"st8f..."}        accepted: its JobId ("dup":1
                                                                if it follows an ambiguous one)
    {"e":"ambiguous","id":"posts/2.txt","code":"InternalError"} may or may not be accepted
    {"e":"refused","id":"posts/3.txt","code":"SlowDown"}        certainly not accepted
    {"e":"done","id":"posts/1.txt","job":"st8f...","state":"Success","label":"Normal",
     "verdict":0}                                               final, and handed over

A run over items of several kinds (``"kind":"mixed"``) adds the item's kind to its ``trying``,
``submitted`` and ``ambiguous`` records (``"k":"image"``): a resume must know which API to
ask about a job whose item the new input does not bring.

What a resume makes of an item, from its last records:

* ``done``: finished; skipped.
* ``submitted``: a job exists; waited for again by its JobId, never resubmitted.
* ``trying`` with nothing after it: the process died while the request may have been on the
  wire; treated like ``ambiguous``.
* ``ambiguous``: reported, or resubmitted (a possible duplicate) if the caller says so.
* ``refused`` or no record: never accepted; submitted. A ``refused`` after an ``ambiguous``
  stays ambiguous: the earlier attempt may still have been accepted.

``grep '"e":"ambiguous"' journal.jsonl`` lists what to reconcile (with ``"trying"`` lines not
followed by another record of the same id, after a hard crash).

Durability (``fsync``): every record is handed to the operating system with one ``write``
before the runner goes on, so a crash of the process loses nothing. With ``fsync=True`` (the
default) the ``trying`` record is also on disk before its request is sent, so a power cut cannot
turn an accepted submission into one a resume would send again; concurrent submissions share
one ``fsync`` (group commit), run in a worker thread so the event loop never blocks on the
disk. With ``fsync=False`` a power cut may lose the last records; a process crash still loses
nothing.

A crash can leave a torn last line (a prefix of a record, or zeros): it is dropped when the
journal is opened again. Any other line that is not a record means the file was written by
something else, and opening refuses it. One run at a time may hold a journal (an exclusive
``flock`` where the platform has it).

Memory: a fresh run keeps nothing per item. A resume keeps a 16-byte digest of every finished
id (about 120 bytes each with the set around it, measured by ``benchmarks.memory``: ~120 MB per
million finished items) and the few unfinished records, which is what lets it skip finished
items without holding the input.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attrs import define

from .errors import InvalidInput

try:  # POSIX; elsewhere two runs on one journal are not prevented
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["Journal", "Open", "Phase"]

VERSION = 1


class Phase(enum.Enum):
    """Where an unfinished item stood when the journal was last written."""

    TRIED = "trying"  # sent or about to be sent, outcome never recorded: ambiguous
    SUBMITTED = "submitted"
    AMBIGUOUS = "ambiguous"


@define(frozen=True, slots=True)
class Open:
    """An item the journal saw started but not finished.

    Args:
        job_id: the JobId (``SUBMITTED`` only).
        code: why the outcome is unknown (``AMBIGUOUS``), if recorded.
        earlier: a submission before the one this entry is about may have been accepted:
            a ``SUBMITTED`` item may have another job (a possible duplicate).
        kind: the item's kind, in a run of several kinds.
    """

    phase: Phase
    job_id: str | None = None
    code: str | None = None
    earlier: bool = False
    kind: str | None = None

    @property
    def ambiguous(self) -> bool:
        return self.phase is not Phase.SUBMITTED


def _digest(item_id: str) -> bytes:
    # 128 bits: a collision (an unfinished item taken for a finished one) is out of reach
    # for any number of items a journal can hold.
    return hashlib.blake2b(item_id.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class Journal:
    """An open journal file; use :meth:`open`. Not thread-safe: one event loop writes it."""

    def __init__(
        self,
        path: Path,
        fd: int,
        kind: str,
        fsync: bool,
        finished: set[bytes],
        unfinished: dict[str, Open],
    ) -> None:
        self.path = path
        self.kind = kind
        self._fd: int | None = fd
        self._fsync = fsync
        self._finished = finished
        self._unfinished = unfinished
        self._written = 0  # records written, and how many of them an fsync covered
        self._synced = 0
        self._syncing: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return f"<Journal {str(self.path)!r} {self.kind}>"

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        kind: str,
        *,
        fsync: bool = True,
        shard: str | None = None,
    ) -> Journal:
        """Open (or create) the journal of a ``kind`` run, reading what earlier runs recorded.
        ``shard``: the run's shard spec ("I/N"), None for the whole input.

        Raises:
            InvalidInput: the file is not a journal, records another kind or another shard,
                or another run holds it.
        """
        path = Path(path)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise InvalidInput("journal", f"{path} is in use by another run") from None
            finished: set[bytes] = set()
            unfinished: dict[str, Open] = {}
            good_end = _replay(path, kind, shard, finished, unfinished)
            if os.fstat(fd).st_size != good_end:
                os.ftruncate(fd, good_end)  # drop a torn last line before appending after it
            journal = cls(path, fd, kind, fsync, finished, unfinished)
            journal._write(
                {"e": "run", "v": VERSION, "kind": kind, "shard": shard, "t": round(time.time(), 3)}
            )
            return journal
        except BaseException:
            os.close(fd)
            raise

    # -- what a resume needs -------------------------------------------------------------

    def is_finished(self, item_id: str) -> bool:
        """Whether an earlier run finished the item (and handed its result over)."""
        return bool(self._finished) and _digest(item_id) in self._finished

    def knows(self, item_id: str) -> bool:
        """Whether earlier runs journaled the item at all (finished, or still to claim)."""
        return item_id in self._unfinished or self.is_finished(item_id)

    @property
    def finished_count(self) -> int:
        """How many items earlier runs finished, as the journal read on opening says."""
        return len(self._finished)

    def claim(self, item_id: str) -> Open | None:
        """The item's unfinished record from earlier runs, taken so :meth:`unclaimed` skips it."""
        return self._unfinished.pop(item_id, None)

    def unclaimed(self) -> Iterator[tuple[str, Open]]:
        """Unfinished records whose items this run's input did not bring, taken one by one."""
        while self._unfinished:
            yield self._unfinished.popitem()

    # -- records -------------------------------------------------------------------------

    def trying(self, item_id: str, *, kind: str | None = None) -> None:
        record: dict[str, Any] = {"e": "trying", "id": item_id}
        if kind is not None:
            record["k"] = kind
        self._write(record)

    def submitted(
        self, item_id: str, job_id: str, *, duplicate: bool = False, kind: str | None = None
    ) -> None:
        record: dict[str, Any] = {"e": "submitted", "id": item_id, "job": job_id}
        if duplicate:
            record["dup"] = 1
        if kind is not None:
            record["k"] = kind
        self._write(record)

    def ambiguous(self, item_id: str, code: str, *, kind: str | None = None) -> None:
        record: dict[str, Any] = {"e": "ambiguous", "id": item_id, "code": code}
        if kind is not None:
            record["k"] = kind
        self._write(record)

    def refused(self, item_id: str, code: str) -> None:
        self._write({"e": "refused", "id": item_id, "code": code})

    def done(
        self,
        item_id: str,
        job_id: str | None,
        *,
        state: str | None,
        label: str | None = None,
        verdict: int | None = None,
        code: str | None = None,
    ) -> None:
        record: dict[str, Any] = {"e": "done", "id": item_id, "job": job_id, "state": state}
        for name, value in (("label", label), ("verdict", verdict), ("code", code)):
            if value is not None:
                record[name] = value
        self._write(record)

    async def commit(self) -> None:
        """Return once every record written so far is on disk (no-op with ``fsync=False``).

        Callers arriving while an ``fsync`` runs wait for the next one, which covers all of
        them: one ``fsync`` per burst, not per record.
        """
        if not self._fsync:
            return
        target = self._written
        while self._synced < target:
            if self._syncing is None:
                self._syncing = asyncio.ensure_future(self._sync())
            # Shielded: one caller being cancelled must not cancel the fsync others wait on.
            await asyncio.shield(self._syncing)

    async def _sync(self) -> None:
        covered = self._written
        try:
            fd = self._fd
            if fd is not None:
                await asyncio.to_thread(os.fsync, fd)
            self._synced = max(self._synced, covered)
        finally:
            self._syncing = None

    def close(self) -> None:
        """Flush to disk (with ``fsync=True``) and release the file; closing twice is harmless."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if self._fsync:
                os.fsync(fd)
        finally:
            os.close(fd)  # also releases the flock

    def _write(self, record: dict[str, Any]) -> None:
        if self._fd is None:
            raise ValueError("the journal is closed")
        # ensure_ascii: an id with a lone surrogate still makes a valid UTF-8 line.
        line = json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view) :]
        self._written += 1


def _replay(
    path: Path, kind: str, shard: str | None, finished: set[bytes], unfinished: dict[str, Open]
) -> int:
    """Apply every record of the file; return the offset just past the last whole record."""
    good_end = 0
    torn: tuple[int, bytes] | None = None  # a line that is not a record: fine only if last
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if torn is not None:
                raise InvalidInput(
                    "journal", f"{path} line {torn[0]} is not a journal record: {torn[1]!r}"
                )
            record = _parse(line)
            if record is None or not line.endswith(b"\n"):
                torn = (number, line[:80])
                continue
            if good_end == 0 and record.get("e") != "run":
                raise InvalidInput("journal", f"{path} is not a cosaudit journal")
            if record.get("e") == "run":
                _check_shard(record, shard, path)
            _apply(record, kind, path, finished, unfinished)
            good_end += len(line)
    if torn is not None and not _torn_record(torn[1], first=good_end == 0):
        # Never truncate a file that is not ours (say, a journal= pointing at a notes file).
        raise InvalidInput("journal", f"{path} is not a cosaudit journal")
    return good_end


def _check_shard(record: dict[str, Any], shard: str | None, path: Path) -> None:
    """Refuse a journal of another slice: resuming it with a different spec would take items
    the other shards take too, and submit them twice."""
    if "shard" not in record:
        return  # written before journals named their shard
    if record["shard"] != shard:

        def named(spec: object) -> str:
            return f"with --shard {spec}" if spec is not None else "without --shard"

        raise InvalidInput(
            "journal",
            f"{path} records a run {named(record['shard'])}, not {named(shard)}: resume "
            "with the spec it was started with",
        )


def _torn_record(start: bytes, *, first: bool) -> bool:
    """Whether a last line looks like a record cut short (or zeros left by a power cut)."""
    if not start.strip(b"\0"):
        return True
    header = b'{"e":"run"'
    if first:
        return start.startswith(header) or header.startswith(start)
    return start.startswith(b'{"e":') or b'{"e":'.startswith(start)


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and isinstance(record.get("e"), str) else None


def _apply(
    record: dict[str, Any],
    kind: str,
    path: Path,
    finished: set[bytes],
    unfinished: dict[str, Open],
) -> None:
    event = record["e"]
    if event == "run":
        if record.get("v") != VERSION:
            raise InvalidInput("journal", f"{path} has version {record.get('v')}, not {VERSION}")
        if record.get("kind") != kind:
            raise InvalidInput(
                "journal", f"{path} records a {record.get('kind')!r} run, not {kind!r}"
            )
        return
    item_id = record.get("id")
    if not isinstance(item_id, str):
        raise InvalidInput("journal", f"{path} has a record without an id: {record!r}")
    # Every unfinished entry stands for a submission that may have been accepted.
    before = unfinished.get(item_id)
    item_kind = record.get("k", before.kind if before is not None else None)
    if event == "trying":
        # Sent again after an ambiguous attempt: that attempt's reason still stands.
        code = before.code if before is not None else None
        unfinished[item_id] = Open(
            Phase.TRIED, code=code, earlier=before is not None, kind=item_kind
        )
    elif event == "submitted":
        earlier = bool(record.get("dup")) or (before is not None and before.earlier)
        unfinished[item_id] = Open(
            Phase.SUBMITTED, job_id=str(record["job"]), earlier=earlier, kind=item_kind
        )
    elif event == "ambiguous":
        unfinished[item_id] = Open(
            Phase.AMBIGUOUS, code=record.get("code"), earlier=True, kind=item_kind
        )
    elif event == "refused":
        if before is not None and before.earlier:
            # This attempt was refused, but an earlier one may have been accepted.
            unfinished[item_id] = Open(
                Phase.AMBIGUOUS, code=before.code, earlier=True, kind=item_kind
            )
        else:
            unfinished.pop(item_id, None)
    elif event == "done":
        unfinished.pop(item_id, None)
        finished.add(_digest(item_id))
    else:
        raise InvalidInput("journal", f"{path} has an unknown record {event!r}")
