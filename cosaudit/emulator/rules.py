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

Custom lists load from JSON (:meth:`RuleSet.from_json_file`, ``EmulatorConfig.rules``,
``cosaudit emulator --rules FILE``)::

    {"Porn": {"block": ["..."], "review": ["..."]},
     "include_defaults": true,
     "libraries": [
        {"name": "rivals", "scene": "Ads", "suggestion": "block", "keywords": ["acme"]},
        {"name": "known-bad", "scene": "Porn", "images": {"img-1": "<sha256 of the file>"}}],
     "lists": [{"name": "banned", "type": "block", "entities": ["user-666"]}]}

Scenes left out of the file have no keywords, unless ``include_defaults`` is true (then the
file's lists are added to the bundled ones). ``libraries`` stand for the account's own risk
libraries: a text library's keywords hit like the scene's own (``suggestion`` ``block``, the
default, or ``review``) and are answered in ``LibResults`` (``LibType`` 2, ``LibName``,
``Keywords``) of text- and audio-type containers; an image library names images by the SHA-256
of their bytes, and an image whose bytes match hits with ``LibResults`` ``ImageId`` and
``Score`` 100 (an exact copy). A library's optional ``sub_label`` is answered as the ``SubLabel``
of the scenes it hits. ``lists`` are the account's allow/block lists of users
(:mod:`cosaudit.emulator.accounts`).
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from attrs import define, evolve, field

__all__ = [
    "DEFAULT_RULES",
    "PRIORITY",
    "SCENES",
    "AccountList",
    "Box",
    "LibHit",
    "Library",
    "ObjectHit",
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
_NO_IMAGES: Mapping[str, str] = MappingProxyType({})

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
class Box:
    """Where something was seen in a picture (``Location``), in pixels."""

    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    rotate: float = 0


@define(frozen=True, slots=True)
class ObjectHit:
    """A named object seen in a picture (``ObjectResults``), as a manifest says."""

    name: str
    location: Box = field(factory=Box)
    sub_label: str = ""


@define(frozen=True, slots=True)
class LibHit:
    """A hit in one of the account's libraries: keywords of a text library, or an image."""

    name: str
    keywords: tuple[str, ...] = ()
    image_id: str | None = None
    score: int | None = None


@define(frozen=True, slots=True)
class SceneVerdict:
    """The outcome of one scene: HitFlag 0/1/2, Score 0–100, the keywords that hit, and what a
    manifest or a library adds (sub-category, objects, library hits)."""

    scene: str
    hit_flag: int
    score: int
    keywords: tuple[str, ...]
    category: str = ""
    sub_label: str = ""
    objects: tuple[ObjectHit, ...] = ()
    libs: tuple[LibHit, ...] = ()


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
    def sub_label(self) -> str:
        """The ``SubLabel`` of the labelled scene (empty when it has none or nothing hit)."""
        found = self.scene(self.label)
        return found.sub_label if found is not None else ""

    @property
    def category(self) -> str:
        """The ``Category`` of the labelled scene (empty when it has none or nothing hit)."""
        found = self.scene(self.label)
        return found.category if found is not None else ""

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
            merged.append(merge_scene(name, found))
        return cls(tuple(merged))


def merge_scene(name: str, found: Sequence[SceneVerdict]) -> SceneVerdict:
    """One scene's outcomes merged: worst HitFlag, highest score, everything seen; the first
    non-empty sub-category of the worst outcomes, else of any."""
    if len(found) == 1 and found[0].scene == name:
        return found[0]  # the common case (one section, one page), kept cheap
    flag = worst_flag(v.hit_flag for v in found)
    # The worst outcomes first, so their sub-category is preferred.
    ranked = sorted(found, key=lambda v: v.hit_flag != flag)
    return SceneVerdict(
        name,
        flag,
        max((v.score for v in found), default=0),
        tuple(dict.fromkeys(k for v in found for k in v.keywords)),
        category=next((v.category for v in ranked if v.category), ""),
        sub_label=next((v.sub_label for v in ranked if v.sub_label), ""),
        objects=tuple(dict.fromkeys(o for v in found for o in v.objects)),
        libs=tuple(dict.fromkeys(lib for v in found for lib in v.libs)),
    )


def _merged(name: str, parts: Sequence[SceneVerdict]) -> SceneVerdict:
    return merge_scene(name, parts) if parts else SceneVerdict(name, 0, 0, ())


def _score(keyword: str, low: int, high: int) -> int:
    return low + zlib.crc32(keyword.encode("utf-8")) % (high - low + 1)


_SUGGESTIONS = {"block": 1, "review": 2}
_SHA256 = re.compile(r"[0-9a-f]{64}")


@define(frozen=True, slots=True)
class Library:
    """One of the account's risk libraries: ``keywords`` (text) or ``images`` (id → SHA-256)."""

    name: str
    scene: str
    hit_flag: int = 1
    keywords: tuple[str, ...] = field(default=(), converter=_folded)
    images: Mapping[str, str] = field(default=_NO_IMAGES, converter=MappingProxyType)
    sub_label: str = ""


def _entities(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@define(frozen=True, slots=True)
class AccountList:
    """An allow (``list_type`` 0) or block (1) list of users, matched against ``UserInfo``."""

    name: str
    list_type: int
    entities: frozenset[str] = field(converter=_entities)


def _hit(name: str, flag: int, scored: tuple[str, ...], also: tuple[str, ...] = ()) -> SceneVerdict:
    """A hit scored by the words of its severity (``scored``), listing ``also`` after them."""
    low, high = (90, 100) if flag == 1 else (61, 90)
    return SceneVerdict(name, flag, max(_score(w, low, high) for w in scored), scored + also)


@define(frozen=True, slots=True)
class RuleSet:
    """Keyword lists per scene, the account's libraries and user lists; :meth:`moderate`
    applies them to a text, :meth:`match_image` to an image's bytes."""

    scenes: Mapping[str, SceneRules] = field(converter=_frozen_scenes)
    libraries: tuple[Library, ...] = ()
    lists: tuple[AccountList, ...] = ()

    def moderate(self, text: str, scenes: Iterable[str]) -> Verdict:
        """The verdict of ``text`` for each scene name in ``scenes`` (in that order)."""
        folded = text.casefold()
        out = []
        for name in scenes:
            rules = self.scenes.get(name, SceneRules((), ()))
            parts = []
            blocked = tuple(w for w in rules.block if w in folded)
            reviewed = tuple(w for w in rules.review if w in folded)
            if blocked:
                parts.append(_hit(name, 1, blocked, reviewed))
            elif reviewed:
                parts.append(_hit(name, 2, reviewed))
            for library in self.libraries:
                words = tuple(w for w in library.keywords if w in folded)
                if library.scene == name and words:
                    hit = _hit(name, library.hit_flag, words)
                    libs = (LibHit(library.name, keywords=words),)
                    parts.append(evolve(hit, libs=libs, sub_label=library.sub_label))
            out.append(_merged(name, parts))
        return Verdict(tuple(out))

    def match_image(self, data: bytes, scenes: Iterable[str]) -> Verdict:
        """Hits of the image libraries whose images include ``data`` (by SHA-256), per scene."""
        digest = hashlib.sha256(data).hexdigest() if self.libraries else ""
        out = []
        for name in scenes:
            parts = [
                SceneVerdict(
                    name,
                    library.hit_flag,
                    100,
                    (),
                    sub_label=library.sub_label,
                    libs=(LibHit(library.name, image_id=image_id, score=100),),
                )
                for library in self.libraries
                if library.scene == name
                for image_id, sha in library.images.items()
                if sha == digest
            ]
            out.append(_merged(name, parts))
        return Verdict(tuple(out))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RuleSet:
        """Build from the rules-file shape (module docstring); ValueError if bad."""
        scenes: dict[str, SceneRules] = {}
        include = data.get("include_defaults", False)
        if not isinstance(include, bool):
            raise ValueError("include_defaults must be true or false")
        for name, lists in data.items():
            if name in _FILE_KEYS:
                continue
            if name not in SCENES:
                known = ", ".join((*PRIORITY, *_FILE_KEYS))
                raise ValueError(f"unknown scene {name!r}; known: {known}")
            if not isinstance(lists, Mapping):
                raise ValueError(f"scene {name!r} must map 'block'/'review' to word lists")
            # A misspelt list ("blok") would otherwise be ignored, and its words never match.
            _known(lists, name, ("block", "review"))
            words = {kind: _words(lists, kind, name) for kind in ("block", "review")}
            scenes[name] = SceneRules(words["block"], words["review"])
        if include:
            for name, rules in _DEFAULT_MAPPING.items():
                mine = scenes.get(name, SceneRules((), ()))
                scenes[name] = SceneRules(
                    (*rules["block"], *mine.block), (*rules["review"], *mine.review)
                )
        return cls(
            scenes,
            tuple(_library(item, i) for i, item in enumerate(_array(data, "libraries"))),
            tuple(_account_list(item, i) for i, item in enumerate(_array(data, "lists"))),
        )

    @classmethod
    def from_json_file(cls, path: str | Path) -> RuleSet:
        """Load lists from a JSON file (shape as :meth:`from_mapping`); errors name the file."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
            raise ValueError(f"{path}: the rules file is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: the rules file must hold a JSON object")
        try:
            return cls.from_mapping(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


_FILE_KEYS = ("include_defaults", "libraries", "lists")


def _words(node: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = node.get(key, [])
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise ValueError(f"{where}.{key} must be a list of non-empty strings")
    return value


def _array(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ValueError(f"{key} must be a list of objects")
    return value


def _known(node: Mapping[str, Any], where: str, known: tuple[str, ...]) -> None:
    unknown = sorted(set(node) - set(known))
    if unknown:
        raise ValueError(f"{where} has unknown field {unknown[0]!r} (known: {', '.join(known)})")


def _name(node: Mapping[str, Any], where: str) -> str:
    name = node.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}.name must be a non-empty string")
    return name


def _library(node: Mapping[str, Any], index: int) -> Library:
    where = f"libraries[{index}]"
    _known(node, where, ("name", "scene", "suggestion", "keywords", "images", "sub_label"))
    scene = node.get("scene")
    if scene not in SCENES:
        raise ValueError(f"{where}.scene must be one of {', '.join(PRIORITY)}")
    suggestion = node.get("suggestion", "block")
    if suggestion not in _SUGGESTIONS:
        raise ValueError(f"{where}.suggestion must be 'block' or 'review'")
    images = node.get("images", {})
    if not isinstance(images, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) and _SHA256.fullmatch(v.lower())
        for k, v in images.items()
    ):
        raise ValueError(f"{where}.images must map image ids to SHA-256 hex digests")
    return Library(
        _name(node, where),
        scene,
        _SUGGESTIONS[suggestion],
        tuple(_words(node, "keywords", where)),
        {k: v.lower() for k, v in images.items()},
        _sub_label(node, where),
    )


def _sub_label(node: Mapping[str, Any], where: str) -> str:
    value = node.get("sub_label", "")
    if not isinstance(value, str):
        raise ValueError(f"{where}.sub_label must be a string")
    return value


def _account_list(node: Mapping[str, Any], index: int) -> AccountList:
    where = f"lists[{index}]"
    _known(node, where, ("name", "type", "entities"))
    kind = node.get("type")
    if kind not in ("allow", "block"):
        raise ValueError(f"{where}.type must be 'allow' or 'block'")
    return AccountList(
        _name(node, where), 0 if kind == "allow" else 1, _words(node, "entities", where)
    )


_DEFAULT_MAPPING: Mapping[str, Mapping[str, list[str]]] = {
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

DEFAULT_RULES = RuleSet.from_mapping(_DEFAULT_MAPPING)
