"""Moderating many items; the runner lives in :mod:`cosaudit.bulk.runner`."""

from __future__ import annotations

from .runner import (
    AmbiguousPolicy,
    BulkItem,
    BulkItems,
    BulkOptions,
    BulkResult,
    BulkRun,
    BulkSummary,
    ItemStatus,
    item_id,
)

__all__ = [
    "AmbiguousPolicy",
    "BulkItem",
    "BulkItems",
    "BulkOptions",
    "BulkResult",
    "BulkRun",
    "BulkSummary",
    "ItemStatus",
    "item_id",
]
