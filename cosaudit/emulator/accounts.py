"""The account's say on a job beyond its content: allow/block lists of users (``ListInfo``) and
auto-freeze (``ForbidState``), reference pages 436/48538, 48539 and the query pages of each kind.

Lists come with the rules (``"lists"`` in the rules file, :mod:`cosaudit.emulator.rules`): a
job whose ``Input.UserInfo`` has a field equal to an entity of a list answers
``ListInfo/ListResults`` (``ListType`` 0 allow / 1 block, ``ListName``, ``Entity``), one entry
per list and entity matched, and nothing when none matched. ``Conf.Freeze`` (``PornScore``,
``AdsScore``, … 0–100) freezes an ``Object`` input whose scene hit with a score at or above the
value: ``ForbidState`` 1, else 0. Every kind but virus answers ``ForbidState``.

Choices where the reference is silent: a block-list hit makes the job's ``Result`` (or
``Suggestion``) 1 and leaves ``Label`` and the scenes as the content earned them (the list, not
the content, decided: ``ListInfo`` says which); an allow-list hit makes it 0 and ``Label``
``Normal``; when both match, the block list wins. A scene that did not hit never freezes, whatever
the value (``PornScore`` 0 does not freeze clean images). ``ForbidState`` 2 ("moved") is never
answered: the emulator moves no files. The single-image GET's synchronous answer has neither
node (its page lists none).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from attrs import define, field

from cosaudit.emulator.rules import PRIORITY, RuleSet, Verdict

__all__ = ["FREEZE_FIELDS", "ListHit", "Standing", "parse_freeze", "standing_of"]

FREEZE_FIELDS = MappingProxyType({f"{scene}Score": scene for scene in PRIORITY})
"""``Conf.Freeze`` field → the scene it watches."""


@define(frozen=True, slots=True)
class ListHit:
    """A user list that matched: its type (0 allow, 1 block), name, and the matching entity."""

    list_type: int
    list_name: str
    entity: str


def _frozen(value: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(value))


@define(frozen=True, slots=True)
class Standing:
    """What the account's lists and freeze settings say about one job."""

    hits: tuple[ListHit, ...] = ()
    freeze: Mapping[str, int] = field(factory=dict, converter=_frozen)

    def forbid_state(self, verdict: Verdict | None) -> int:
        """1 when a watched scene hit with a score at or above its value, else 0."""
        if verdict is None:
            return 0
        for scene, threshold in self.freeze.items():
            found = verdict.scene(scene)
            if found is not None and found.hit_flag and found.score >= threshold:
                return 1
        return 0

    def apply(self, tree: dict[str, Any], verdict: Verdict | None) -> None:
        """Add ``ListInfo`` (when a list matched) and ``ForbidState`` to a job's answer, and let
        a matched list decide its verdict (module docstring)."""
        if self.hits:
            types = {hit.list_type for hit in self.hits}
            decided = 1 if 1 in types else 0
            for name in ("Result", "Suggestion"):
                if name in tree:
                    tree[name] = decided
            if decided == 0 and "Label" in tree:
                tree["Label"] = "Normal"
            tree["ListInfo"] = {
                "ListResults": [
                    {"ListType": hit.list_type, "ListName": hit.list_name, "Entity": hit.entity}
                    for hit in self.hits
                ]
            }
        tree["ForbidState"] = self.forbid_state(verdict)


def parse_freeze(node: Any) -> Mapping[str, int]:
    """``Conf.Freeze`` as scene → score; ValueError naming a bad field."""
    if node is None or node == "":
        return {}
    if not isinstance(node, Mapping):
        raise ValueError("Conf.Freeze must be a container.")
    out: dict[str, int] = {}
    for name, value in node.items():
        scene = FREEZE_FIELDS.get(name)
        if scene is None:
            known = ", ".join(FREEZE_FIELDS)
            raise ValueError(f"Conf.Freeze.{name} is not a freeze setting; known: {known}.")
        if value is None or value == "":
            continue  # empty means off, as the reference says
        try:
            score = int(value) if isinstance(value, str) else -1
        except ValueError:
            score = -1
        if not 0 <= score <= 100:
            raise ValueError(f"Param Conf.Freeze.{name} is illegal: {value!r} is not 0 to 100.")
        out[scene] = score
    return out


def standing_of(
    rules: RuleSet,
    user_info: Mapping[str, Any] | None,
    request: Mapping[str, Any],
    echo: Mapping[str, str],
) -> Standing:
    """The lists a job's user matches and, for an ``Object`` input, its freeze settings."""
    values = [v for v in (user_info or {}).values() if isinstance(v, str) and v]
    hits = tuple(
        ListHit(account_list.list_type, account_list.name, value)
        for account_list in rules.lists
        for value in dict.fromkeys(values)
        if value in account_list.entities
    )
    conf = request.get("Conf")
    freeze: Mapping[str, int] = {}
    if "Object" in echo and isinstance(conf, Mapping):
        try:
            freeze = parse_freeze(conf.get("Freeze"))
        except ValueError:
            freeze = {}  # refused when submitted (parse_conf); never reached
    return Standing(hits, freeze)
