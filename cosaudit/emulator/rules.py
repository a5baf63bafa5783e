"""The deterministic keyword rule engine that stands in for the real moderation models.

Each scene has two keyword lists: *block* words (HitFlag 1, Score 90–100, Result 1) and
*review* words (HitFlag 2, Score 61–90, Result 2). Matching is a case-insensitive substring
search; the score of a hit is derived from the keyword's CRC-32, so the same text always gets the
same verdict.

Bundled defaults (:data:`DEFAULT_RULES`):

============  ============================================  ====================================
scene         block                                         review
============  ============================================  ====================================
Porn          porn, xxx, nude, 色情                          sexy, lingerie, 性感
Terrorism     bomb, terrorist, 恐怖袭击                       weapon, explosive, 武器
Politics      coup, 政变                                     protest, 游行
Illegal       cocaine, counterfeit, 毒品                     casino, gamble, 赌博
Abuse         idiot, moron, 傻逼                             stupid, shut up, 笨蛋
Teenager      underage drinking, 未成年饮酒                   smoking, 吸烟
Ads           buy now, discount code, free money, 加微信     promo, limited offer, 优惠
============  ============================================  ====================================

Overall verdict: ``Result`` is 1 when any scene blocks, else 2 when any scene asks for review,
else 0. ``Label`` is the first scene in :data:`PRIORITY` among the scenes of that worst
severity (so Result and Label always agree), ``Normal`` when nothing hit.

Custom lists load from JSON of the shape
``{"Porn": {"block": ["..."], "review": ["..."]}, ...}`` (:meth:`RuleSet.from_json_file`);
scenes left out of the file have no keywords.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from attrs import define, field

__all__ = [
    "DEFAULT_RULES",
    "PRIORITY",
    "SCENES",
    "RuleSet",
    "SceneRules",
    "SceneVerdict",
    "Verdict",
    "worst_flag",
]

# Label priority when several scenes hit with the same severity: the gravest harm first, Ads
# (the mildest and most common) last.
PRIORITY = ("Porn", "Terrorism", "Politics", "Illegal", "Abuse", "Teenager", "Ads")
SCENES = frozenset(PRIORITY)

NORMAL = "Normal"

# HitFlag severity: 1 (violation) is worse than 2 (suspected), which is worse than 0.
_SEVERITY = {0: 0, 2: 1, 1: 2}


def worst_flag(flags: Iterable[int]) -> int:
    """The most severe of some HitFlag/Result values (1 > 2 > 0); 0 for none."""
    return max(flags, key=_SEVERITY.__getitem__, default=0)


def _folded(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(w.casefold() for w in words)


def _frozen_scenes(scenes: Mapping[str, SceneRules]) -> Mapping[str, SceneRules]:
    return MappingProxyType(dict(scenes))


@define(frozen=True, slots=True)
class SceneRules:
    """The keyword lists of one scene, stored case-folded."""

    block: tuple[str, ...] = field(converter=_folded)
    review: tuple[str, ...] = field(converter=_folded)


@define(frozen=True, slots=True)
class SceneVerdict:
    """The outcome of one scene: HitFlag 0/1/2, Score 0–100, the keywords that hit."""

    scene: str
    hit_flag: int
    score: int
    keywords: tuple[str, ...]


@define(frozen=True, slots=True)
class Verdict:
    """The scenes asked for, in request order, each with its outcome."""

    scenes: tuple[SceneVerdict, ...]

    @property
    def result(self) -> int:
        """0 normal, 1 block, 2 review."""
        return worst_flag(s.hit_flag for s in self.scenes)

    @property
    def label(self) -> str:
        """The highest-priority scene of the worst severity, or ``Normal``."""
        worst = self.result
        if worst == 0:
            return NORMAL
        hit = {s.scene for s in self.scenes if s.hit_flag == worst}
        return next(scene for scene in PRIORITY if scene in hit)

    @property
    def score(self) -> int:
        """The score of the labelled scene (the highest score when nothing hit)."""
        label = self.label
        return max(
            (s.score for s in self.scenes if label in (NORMAL, s.scene)),
            default=0,
        )

    @property
    def keywords(self) -> tuple[str, ...]:
        """Every keyword that hit, in scene order, without repeats."""
        return tuple(dict.fromkeys(k for s in self.scenes for k in s.keywords))

    def scene(self, name: str) -> SceneVerdict | None:
        """The outcome of scene ``name``, if it was asked for."""
        return next((s for s in self.scenes if s.scene == name), None)

    @classmethod
    def combine(cls, verdicts: Iterable[Verdict], scenes: Iterable[str]) -> Verdict:
        """Merge verdicts of several parts: worst HitFlag, highest score, all keywords."""
        parts = list(verdicts)
        merged = []
        for name in scenes:
            found = [v for v in (p.scene(name) for p in parts) if v is not None]
            merged.append(
                SceneVerdict(
                    name,
                    worst_flag(v.hit_flag for v in found),
                    max((v.score for v in found), default=0),
                    tuple(dict.fromkeys(k for v in found for k in v.keywords)),
                )
            )
        return cls(tuple(merged))


def _score(keyword: str, low: int, high: int) -> int:
    return low + zlib.crc32(keyword.encode("utf-8")) % (high - low + 1)


@define(frozen=True, slots=True)
class RuleSet:
    """Keyword lists per scene; :meth:`moderate` applies them to a text."""

    scenes: Mapping[str, SceneRules] = field(converter=_frozen_scenes)

    def moderate(self, text: str, scenes: Iterable[str]) -> Verdict:
        """The verdict of ``text`` for each scene name in ``scenes`` (in that order)."""
        folded = text.casefold()
        out = []
        for name in scenes:
            rules = self.scenes.get(name, SceneRules((), ()))
            blocked = tuple(w for w in rules.block if w in folded)
            reviewed = tuple(w for w in rules.review if w in folded)
            if blocked:
                score = max(_score(w, 90, 100) for w in blocked)
                out.append(SceneVerdict(name, 1, score, blocked + reviewed))
            elif reviewed:
                score = max(_score(w, 61, 90) for w in reviewed)
                out.append(SceneVerdict(name, 2, score, reviewed))
            else:
                out.append(SceneVerdict(name, 0, 0, ()))
        return Verdict(tuple(out))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RuleSet:
        """Build from ``{"Porn": {"block": [...], "review": [...]}, ...}``; ValueError if bad."""
        scenes: dict[str, SceneRules] = {}
        for name, lists in data.items():
            if name not in SCENES:
                raise ValueError(f"unknown scene {name!r}; known: {', '.join(PRIORITY)}")
            if not isinstance(lists, Mapping):
                raise ValueError(f"scene {name!r} must map 'block'/'review' to word lists")
            words = {}
            for kind in ("block", "review"):
                value = lists.get(kind, [])
                if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
                    raise ValueError(f"{name}.{kind} must be a list of non-empty strings")
                words[kind] = value
            scenes[name] = SceneRules(words["block"], words["review"])
        return cls(scenes)

    @classmethod
    def from_json_file(cls, path: str | Path) -> RuleSet:
        """Load lists from a JSON file (shape as :meth:`from_mapping`)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: the rules file must hold a JSON object")
        return cls.from_mapping(data)


DEFAULT_RULES = RuleSet.from_mapping(
    {
        "Porn": {"block": ["porn", "xxx", "nude", "色情"], "review": ["sexy", "lingerie", "性感"]},
        "Terrorism": {
            "block": ["bomb", "terrorist", "恐怖袭击"],
            "review": ["weapon", "explosive", "武器"],
        },
        "Politics": {"block": ["coup", "政变"], "review": ["protest", "游行"]},
        "Illegal": {
            "block": ["cocaine", "counterfeit", "毒品"],
            "review": ["casino", "gamble", "赌博"],
        },
        "Abuse": {"block": ["idiot", "moron", "傻逼"], "review": ["stupid", "shut up", "笨蛋"]},
        "Teenager": {"block": ["underage drinking", "未成年饮酒"], "review": ["smoking", "吸烟"]},
        "Ads": {
            "block": ["buy now", "discount code", "free money", "加微信"],
            "review": ["promo", "limited offer", "优惠"],
        },
    }
)
