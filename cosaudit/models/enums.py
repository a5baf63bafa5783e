"""Enumerations of the moderation API: job states, verdicts and per-scene hit flags.

Values the service may add later are not errors: fields typed ``JobState | str`` or
``Result | int`` keep a value these enums do not know as the plain string or integer.
"""

from __future__ import annotations

from enum import Enum, IntEnum

__all__ = ["FINAL_STATES", "HitFlag", "JobState", "Result", "VirusSuggestion"]


class JobState(str, Enum):
    """``State`` of a moderation job."""

    SUBMITTED = "Submitted"
    SNAPSHOTING = "Snapshoting"  # sic: the service's spelling (video and live jobs)
    AUDITING = "Auditing"
    SUCCESS = "Success"
    FAILED = "Failed"
    # Not documented by the service; our emulator's state for a cancelled live job.
    CANCELLED = "Cancelled"


#: States after which a job never changes. Defined positively so that any state this version
#: does not know counts as pending rather than done.
FINAL_STATES = frozenset({JobState.SUCCESS, JobState.FAILED, JobState.CANCELLED})


class _Worded(IntEnum):
    """An integer code that prints as its word (``print(job.verdict)`` shows ``sensitive``,
    not ``1``); it still compares, serialises and formats with ``:d`` as the number."""

    def __str__(self) -> str:
        return self.name.lower()

    def __format__(self, spec: str) -> str:
        if spec and spec[-1] in "bcdoxXneEfFgG%":
            return int.__format__(self, spec)  # a number's format asks for the number
        return format(str(self), spec)


class Result(_Worded):
    """Verdict of a job, section or page (``Result``, or ``Suggestion`` for webpages)."""

    NORMAL = 0
    SENSITIVE = 1
    SUSPICIOUS = 2  # human review advised


class HitFlag(_Worded):
    """``HitFlag`` of one moderation scene."""

    NORMAL = 0
    HIT = 1
    SUSPECTED = 2


class VirusSuggestion(str, Enum):
    """``Suggestion`` of a virus detection job: a string, unlike every other kind's verdict."""

    NORMAL = "normal"  # the mainland page spells it "nomal"; that spelling reads as NORMAL too
    BLOCK = "block"  # a virus was found
