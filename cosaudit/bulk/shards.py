"""Shards: one input split over N processes or machines, each taking a fixed slice of it.

An item belongs to shard ``sha256(id) mod N`` (its first 8 bytes, big-endian), the id being its
DataId (:func:`~cosaudit.bulk.item_id`): every process computes the same split from the same
input, in any order and any Python (``hash()`` is salted per process, so never used), and a
shard rerun after a crash takes exactly its old items back. Each shard keeps its own journal
(:func:`shard_journal` derives one per shard), so shards resume independently.

``"auto/N"`` takes the index from ``JOB_COMPLETION_INDEX``, the variable a Kubernetes Indexed
Job sets in each pod (0 to N-1): one manifest runs N shards, and a pod that replaces a failed
one gets the same index, hence the same slice and journal.

The service's quota is the account's, shared by every shard: give each a rate of the quota
divided by N.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from attrs import define

from ..errors import InvalidInput

__all__ = ["INDEX_VARIABLE", "Shard", "shard_journal"]

INDEX_VARIABLE = "JOB_COMPLETION_INDEX"


@define(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based): ``Shard.parse("1/3")``.

    Raises:
        InvalidInput: ``count`` < 1, or ``index`` not in ``0 .. count-1``.
    """

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        for name in ("index", "count"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput("shard", f"the shard {name} must be an integer, not {value!r}")
        if self.count < 1:
            raise InvalidInput("shard", f"the number of shards must be >= 1, got {self.count}")
        if not 0 <= self.index < self.count:
            raise InvalidInput(
                "shard",
                f"shard index {self.index} is not in 0..{self.count - 1} "
                f"(indexes count from 0 to N-1)",
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, spec: str, environ: Mapping[str, str] | None = None) -> Shard:
        """``"I/N"``, or ``"auto/N"`` with I from ``JOB_COMPLETION_INDEX`` in ``environ``
        (``os.environ`` when None, read now).

        Raises:
            InvalidInput: not of that form, out of range, or ``auto`` without the variable.
        """
        if not isinstance(spec, str):
            raise InvalidInput("shard", f"give 'I/N' or 'auto/N', not {spec!r}")
        index_text, sep, count_text = spec.strip().partition("/")
        count = _integer(count_text, spec) if sep else None
        if count is None:
            raise InvalidInput("shard", f"give 'I/N' or 'auto/N' (e.g. '0/4'), not {spec!r}")
        if index_text.strip().lower() == "auto":
            env = os.environ if environ is None else environ
            found = env.get(INDEX_VARIABLE)
            if found is None or not found.strip():
                raise InvalidInput(
                    "shard",
                    f"'auto/{count}' takes the shard index from {INDEX_VARIABLE} (set by a "
                    "Kubernetes Indexed Job), which is not set; give 'I/N' instead",
                )
            index = _integer(found, f"{INDEX_VARIABLE}={found!r}")
        else:
            index = _integer(index_text, spec)
        if index is None:
            raise InvalidInput("shard", f"give 'I/N' or 'auto/N' (e.g. '0/4'), not {spec!r}")
        return cls(index, count)

    def owns(self, ident: str) -> bool:
        """Whether the item with id ``ident`` is this shard's."""
        if self.count == 1:
            return True
        digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index


def _integer(text: str, spec: str) -> int | None:
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        if text.lstrip("-").isdigit():
            return int(text)  # negative: the range check says what is wrong
        if text:
            raise InvalidInput("shard", f"not a whole number in {spec!r}: {text!r}")
        return None
    return int(text)


def shard_journal(path: str | os.PathLike[str], shard: Shard) -> Path:
    """The journal of ``shard`` beside ``path``: ``run.jsonl`` → ``run.shard-1-of-3.jsonl``.

    The same for every run of that shard, distinct for each shard: give each shard's run its
    own journal, so shards never contend for one file and each resumes its own slice.
    """
    path = Path(path)
    return path.with_name(f"{path.stem}.shard-{shard.index}-of-{shard.count}{path.suffix}")
