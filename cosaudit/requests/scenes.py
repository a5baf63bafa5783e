"""Scene names (``DetectType``): the CI host's capitalised names and the COS GET's lower-case ones.

>>> detect_type("porn, terrorist")
'Porn,Terrorism'
>>> detect_type(["Porn", "Terrorism"], lower=True, field_name="detect-type")
'porn,terrorist'

With ``kind``, a scene that kind does not take (:data:`cosaudit.wire.scenes.KIND_SCENES`, the
table the emulator answers by) is refused before anything is sent:

>>> detect_type("Porn,Abuse", kind="image")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cosaudit.errors.InvalidInput: Conf.DetectType: image moderation does not take 'Abuse'; it ...
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import InvalidInput
from ..inputs import require_str
from ..wire.scenes import KIND_SCENES

__all__ = ["SCENES", "detect_type"]

# Any accepted spelling (lower case) -> (the CI host's name, the name the COS GET takes).
_SCENES = {
    "porn": ("Porn", "porn"),
    "ads": ("Ads", "ads"),
    "illegal": ("Illegal", "illegal"),
    "abuse": ("Abuse", "abuse"),
    "terrorism": ("Terrorism", "terrorist"),
    "terrorist": ("Terrorism", "terrorist"),
    "politics": ("Politics", "politics"),
    "teenager": ("Teenager", "teenager"),
}
SCENES = tuple(sorted({ci for ci, _ in _SCENES.values()}))
"""The scene names ``DetectType`` takes, as the CI host spells them."""


def detect_type(
    value: str | Iterable[str],
    *,
    lower: bool = False,
    field_name: str = "Conf.DetectType",
    kind: str | None = None,
) -> str:
    """``"Porn,Ads"`` from ``"porn,ads"`` or ``["Porn", "Ads"]``; unknown scenes are refused,
    and with ``kind`` so are scenes that kind of job does not take.

    ``lower=True`` gives the COS query form (``porn,terrorist``).
    """
    allowed = KIND_SCENES[kind] if kind is not None else SCENES
    if isinstance(value, str):
        names: Iterable[object] = value.split(",")
    elif isinstance(value, Iterable):
        names = list(value)
    else:
        raise InvalidInput(
            field_name, f"must be a string or a list of scenes, not {type(value).__name__}"
        )
    out: list[str] = []
    for name in names:
        key = require_str(name, field_name).strip().lower()
        if key not in _SCENES:
            raise InvalidInput(field_name, f"unknown scene {name!r}; known: {', '.join(SCENES)}")
        if _SCENES[key][0] not in allowed:
            raise InvalidInput(
                field_name,
                f"{kind} moderation does not take {name!r}; it takes {', '.join(allowed)}",
            )
        chosen = _SCENES[key][1 if lower else 0]
        if chosen not in out:
            out.append(chosen)
    if not out:
        raise InvalidInput(field_name, "must name at least one scene")
    return ",".join(out)
