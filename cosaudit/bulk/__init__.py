"""Moderating many items: bounded concurrency, results as they finish, and a journal to resume
from, so a run of millions loses nothing and submits nothing twice.

::

    async with client.moderate_many(keys, kind="text", journal="audit.jsonl") as run:
        async for result in run:                      # in the order items finish
            if result.ok and result.job.is_sensitive:
                block(result.id)
    print(run.summary)

Design choices (each for a reason a bulk job hits sooner or later):

* **The input is pulled, never held.** At most ``concurrency`` items are between the input and
  the caller at any time (being submitted, polled, or waiting to be handed over): a slow
  consumer slows the input down instead of filling memory. Memory does not grow with the run.
* **Results in completion order**, not input order: ordering would make one slow job hold
  back everything behind it (or buffer it). Each result carries the item's ``id``.
* **An item's id is its DataId**: the caller's ``data_id``, else the string item itself (an
  object key or URL of at most 512 bytes; a URL's query and user info, which may hold a
  pre-signed URL's signature or a password, are replaced by their digest so they never reach
  the journal), else ``sha256:`` of the item's canonical JSON. The
  same item gets the same id in every run, which is what lets a resume recognise it. Ids must
  be unique within the input: a repeated one is submitted again (spotting repeats would take
  memory growing with the run), though a resume skips every item whose id finished.
* **One run, several kinds.** Without ``kind=``, each item names its own: a request model by
  its type (:attr:`Request.kind <cosaudit.requests.Request.kind>`), a mapping by its
  ``"kind"`` key; a plain string is refused (a key, a URL or text?). The journal then records
  each item's kind, so a resume knows which API to ask about a job.
* **Submissions are never retried blindly.** A submission the service certainly did not accept
  (connection refused, 429/503, a 4xx) may be sent again; one that it may have accepted
  (:class:`~cosaudit.errors.SubmissionUnknown`, a timeout, a dropped connection, a 500) is
  *ambiguous*: reported (``on_ambiguous="report"``, the default) or sent again and counted as
  a possible duplicate (``"resubmit"``).
* **A result is journaled as finished when the caller moves past it** (asks for the next one,
  or leaves ``async with`` without an exception), not when the job finishes: if the loop body
  crashes while handling a result, a resume hands that result over again (by re-polling its
  JobId, not by resubmitting). Delivery is at least once; submission at most once.
* **Stopping is graceful.** Leaving ``async with`` early, an exception or a cancellation stops
  the input, abandons polls (the journal has their JobIds) and lets submissions already on the
  wire finish, so their JobIds are journaled rather than left ambiguous; cancelling again
  abandons those too. A hard crash leaves them ambiguous, never silently resubmitted.
* **Progress is drawn from the summary.** :attr:`BulkRun.summary` is a live snapshot;
  ``progress=True`` draws it with tqdm a few times a second (:mod:`~cosaudit.bulk.progress`),
  never per result, so a bar costs the run nothing it would notice.
* **A rate, when asked.** ``rate=N`` caps submissions per second; ``rate="adaptive"`` finds
  and holds what the service accepts, cutting on ``SlowDown`` and regrowing as botocore's
  adaptive retry mode does (:mod:`~cosaudit.bulk.adaptive_rate`). None (the default) is bounded
  by ``concurrency`` only.
* **Shards.** ``shard="1/3"`` takes the slice of the input whose ids hash to shard 1 of 3, so
  N processes or machines split one input with nothing taken twice; each keeps its own journal
  (:mod:`~cosaudit.bulk.shards`).

Where each piece lives:

* :mod:`~cosaudit.bulk.identity`: an item's id, its DataId in every run.
* :mod:`~cosaudit.bulk.item`: one item's life: request, journaled submission, polls, retries.
* :mod:`~cosaudit.bulk.results`: what a run hands over: :class:`BulkResult`, :class:`BulkSummary`.
* :mod:`~cosaudit.bulk.records`: a result as a plain record (JSON lines, DataFrames, reports).
* :mod:`~cosaudit.bulk.progress`: the tqdm bar of ``progress=True``.
* :mod:`~cosaudit.bulk.collected`: a whole run's results, for notebooks: ``to_pandas()``.
* :mod:`~cosaudit.bulk.rate`: pacing submissions, on :mod:`~cosaudit.bulk.token_bucket` and
  :mod:`~cosaudit.bulk.adaptive_rate`.
* :mod:`~cosaudit.bulk.shards`: which items are a shard's; its journal.
* :mod:`~cosaudit.bulk.runner`: the run: ``async with``/``for``, input, slots, delivery, counts.
* :mod:`cosaudit.journal` (beside this package): the record a run resumes from.
* :mod:`~cosaudit.bulk.inputfile`, :mod:`~cosaudit.bulk.outputfile`: the files of
  ``cosaudit batch`` (:mod:`cosaudit.batch`): requests in, one record per item out.
"""

from __future__ import annotations

from .adaptive_rate import DEFAULT_START_RATE
from .collected import Collected
from .identity import BulkItem, BulkItems, item_id
from .item import AmbiguousPolicy
from .rate import Rate
from .results import BulkResult, BulkSummary, ItemStatus
from .runner import BulkOptions, BulkRun
from .shards import Shard, shard_journal

__all__ = [
    "DEFAULT_START_RATE",
    "AmbiguousPolicy",
    "BulkItem",
    "BulkItems",
    "BulkOptions",
    "BulkResult",
    "BulkRun",
    "BulkSummary",
    "Collected",
    "ItemStatus",
    "Rate",
    "Shard",
    "item_id",
    "shard_journal",
]
