"""Virus detection results: ``POST /virus/detect`` and ``GET /virus/detect/<jobId>``."""

from __future__ import annotations

from attrs import define, field

from ._convert import xml
from .common import JobBase, Node, SceneInfo
from .enums import HitFlag, Result, VirusSuggestion

__all__ = ["DetectDetail", "VirusJob", "VirusResult"]


@define(frozen=True, slots=True, repr=False)
class VirusResult(Node):
    """One infected file: for an archive, ``file_name`` names the member."""

    file_name: str | None = None
    virus_name: str | None = None


@define(frozen=True, slots=True, repr=False)
class DetectDetail(Node):
    """``DetectDetail``: one ``Result`` per infected file."""

    results: tuple[VirusResult, ...] = field(default=(), metadata=xml("Result"))


@define(frozen=True, slots=True, repr=False)
class VirusJob(JobBase):
    """A virus detection job. ``suggestion`` is the string ``normal`` or ``block``.

    So that code handling jobs of any kind sees the finding, ``verdict`` reads ``block`` as
    :attr:`Result.SENSITIVE` and ``normal`` as :attr:`Result.NORMAL`, and a blocked job has
    one scene, ``"Virus"``, whose keywords are the virus names.
    """

    object: str | None = None
    url: str | None = None
    suggestion: VirusSuggestion | str | None = None
    # A tuple although the English page and the Go SDK show one container: the mainland page
    # types DetectDetail "Container Array" and the Python SDK reads it as a list.
    detect_detail: tuple[DetectDetail, ...] = ()

    @property
    def viruses(self) -> tuple[VirusResult, ...]:
        """The infected files (the ``results`` of every ``detect_detail``)."""
        return tuple(result for detail in self.detect_detail for result in detail.results)

    @property
    def verdict(self) -> Result | int | None:
        if self.suggestion == VirusSuggestion.BLOCK:
            return Result.SENSITIVE
        if self.suggestion == VirusSuggestion.NORMAL:
            return Result.NORMAL
        return None  # not decided yet, or a value this version does not know

    @property
    def scenes(self) -> dict[str, SceneInfo]:
        """``{"Virus": ...}`` when a virus was found, else empty."""
        names = tuple(dict.fromkeys(r.virus_name for r in self.viruses if r.virus_name))
        if self.suggestion != VirusSuggestion.BLOCK and not names:
            return {}
        return {"Virus": SceneInfo(hit_flag=HitFlag.HIT, label="Virus", keywords=names)}
