"""Build models from xmltodict trees: the one cattrs converter and the hooks it needs.

xmltodict gives a string for every leaf, ``None`` for an empty element, and a dict *or* a list of
dicts for a repeated element depending on how many came back. The hooks turn that into typed
values; each model's hook is built on its first use (the field hooks it needs looked up once),
so importing this module stays cheap.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable, Mapping
from datetime import datetime
from types import NoneType, UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
import cattrs

from .enums import HitFlag, JobState, Result, VirusSuggestion

__all__ = ["ModelError", "converter", "is_model", "structure", "structure_all", "xml", "xml_name"]

T = TypeVar("T")
_V = TypeVar("_V")

# Field metadata key naming the XML element when it is not the PascalCase of the field name.
_XML_KEY = "cosaudit.xml"

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40


class ModelError(ValueError):
    """A response element does not have the shape its model expects.

    The message names the path, e.g. ``ImageJob.ads_info <AdsInfo>: SceneInfo.score <Score>:
    expected an integer, got dict {'a': '1'}``.
    """


def xml(name: str) -> dict[str, str]:
    """Field metadata for an irregular element name: ``field(default=None, metadata=xml("IP"))``."""
    return {_XML_KEY: name}


def xml_name(attribute: attrs.Attribute[Any]) -> str:
    """The element name of a field: its metadata override, else ``job_id`` → ``JobId``."""
    explicit: str | None = attribute.metadata.get(_XML_KEY)
    if explicit is not None:
        return explicit
    return "".join(part.capitalize() for part in attribute.name.split("_"))


def is_model(tp: Any) -> bool:
    """Whether ``tp`` is one of our models (an attrs class with a ``raw`` field)."""
    # What attrs.has and attrs.fields read, read once: the class's tuple of fields, which names
    # each field as an attribute. structure() asks this on every call.
    return isinstance(tp, type) and hasattr(getattr(tp, "__attrs_attrs__", None), "raw")


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {_short.repr(value)}"


# --- scalars -------------------------------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    # xmltodict gives None for <X/> and <X></X>; JSON callbacks give "" for the same thing.
    return value is None or (isinstance(value, str) and not value.strip())


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    # JSON (Detail callbacks) carries numbers where XML carries their text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ModelError(f"expected text, got {_describe(value)}")


def _to_int(value: Any) -> int:
    if value.__class__ is str:  # the XML case, first: int() takes what _to_int would
        try:
            return int(value)
        except ValueError:
            pass
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if number.is_integer():  # "95.0"
                return int(number)
    raise ModelError(f"expected an integer, got {_describe(value)}")


def _to_float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ModelError(f"expected a number, got {_describe(value)}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _to_text(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ModelError(f"expected true or false, got {_describe(value)}")


# "+0800" → "+08:00": datetime.fromisoformat only accepts the colon form before Python 3.11.
_OFFSET_WITHOUT_COLON = re.compile(r"([T ][\d:.]+[+-]\d{2})(\d{2})$")


def _to_datetime(value: Any) -> datetime | None:
    text = _to_text(value).strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = _OFFSET_WITHOUT_COLON.sub(r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None  # unparsable: the string is still in the model's ``raw``
    # Without an offset the instant is unknown (the service documents none); don't guess one.
    return parsed if parsed.tzinfo is not None else None


# Enum members by value: a dict lookup costs a tenth of calling the enum class.
_STATES: dict[str, JobState] = {member.value: member for member in JobState}
_RESULTS: dict[int, Result] = {member.value: member for member in Result}
_HIT_FLAGS: dict[int, HitFlag] = {member.value: member for member in HitFlag}


def _to_state(value: Any) -> JobState | str:
    text = _to_text(value).strip()
    # A state this version does not know stays text; it counts as pending.
    return _STATES.get(text, text)


def _optional_int(members: Mapping[int, _V]) -> Callable[[Any, Any], _V | int | None]:
    """Hook of an optional integer; ``members`` turns known values into enum members."""

    def hook(value: Any, _: Any) -> _V | int | None:
        # The XML case in one call: every HitFlag, Score, Count and Result of every answer.
        if value.__class__ is str:
            try:
                number = int(value)
            except ValueError:
                pass
            else:
                return members.get(number, number)
        if _is_blank(value):
            return None
        number = _to_int(value)
        return members.get(number, number)

    return hook


def _to_virus_suggestion(value: Any) -> VirusSuggestion | str:
    text = _to_text(value).strip()
    if text.lower() == "nomal":  # the mainland page's spelling of "normal"
        return VirusSuggestion.NORMAL
    try:
        return VirusSuggestion(text.lower())
    except ValueError:
        return text  # a value this version does not know


def _optional(parse: Callable[[Any], _V]) -> Callable[[Any, Any], _V | None]:
    def hook(value: Any, _: Any) -> _V | None:
        # _is_blank, inlined for the XML case: this runs for every leaf of every answer.
        if value is None:
            return None
        if value.__class__ is str:
            return parse(value) if value.strip() else None
        return None if _is_blank(value) else parse(value)

    return hook


def _optional_text(value: Any, _: Any) -> str | None:
    # Text keeps "" as given: only a missing or empty element is None.
    return None if value is None else _to_text(value)


# --- repeated elements ---------------------------------------------------------------------------


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _keywords(value: Any, _: Any) -> tuple[str, ...]:
    # Every tuple[str, ...] field is a keyword list. Text-type scenes put them comma-separated in
    # one element; image OCR and audio scenes repeat the element (a list, or one string).
    if value is None:
        return ()
    if isinstance(value, list):
        parts = [_to_text(item) for item in value if item is not None]
    else:
        parts = _to_text(value).split(",")
    return tuple([stripped for part in parts if (stripped := part.strip())])


def _tuple_hook(tp: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
    item_type = get_args(tp)[0]
    if item_type is str:
        return _keywords
    item_hook = converter.get_structure_hook(item_type)

    def hook(value: Any, _: Any) -> tuple[Any, ...]:
        # A repeated element comes as a list, or as a single dict when only one came back.
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        return tuple([item_hook(item, item_type) for item in items if item is not None])

    return hook


# --- models --------------------------------------------------------------------------------------

_STRUCTURE_ERRORS = (ValueError, TypeError, KeyError, AttributeError)


def _locate(cls: type[Any], value: Mapping[str, Any], error: Exception) -> str:
    # Only on failure: find the field at fault, so the message names a path, not just a value.
    for attribute in attrs.fields(cls):
        key = xml_name(attribute)
        if attribute.name == "raw" or key not in value:
            continue
        try:
            converter.structure(value[key], attribute.type)
        except _STRUCTURE_ERRORS as inner:
            return f"{cls.__name__}.{attribute.name} <{key}>: {inner}"
    return f"{cls.__name__}: {error}"


def _optional_model_hook(tp: Any) -> Callable[[Any, Any], Any]:
    # A model's own hook takes None (an absent or empty element) as well: no wrapper per call.
    return converter.get_structure_hook(next(arg for arg in get_args(tp) if arg is not NoneType))


def _is_optional_model(tp: Any) -> bool:
    args = get_args(tp)
    return (
        get_origin(tp) in (Union, UnionType)
        and len(args) == 2
        and NoneType in args
        and any(is_model(arg) for arg in args)
    )


def _model_hook(cls: type[Any]) -> Callable[[Any, Any], Any]:
    # Element name -> (field name, its structuring hook, its type), every hook looked up once.
    attrs.resolve_types(cls)
    fields: dict[str, tuple[str, Callable[[Any, Any], Any], Any]] = {
        xml_name(attribute): (
            attribute.name,
            converter.get_structure_hook(attribute.type),
            attribute.type,
        )
        for attribute in attrs.fields(cls)
        if attribute.name != "raw"
    }

    def hook(value: Any, _: Any) -> Any:
        if value.__class__ is not dict:
            if value is None:
                return None
            if not isinstance(value, Mapping):
                raise ModelError(
                    f"{cls.__name__}: expected an element with children, got {_describe(value)}"
                )
        # Walk the children that came (a few) rather than the fields that could (up to 40):
        # cattrs' generated function tests every field. ``raw`` keeps every node of the source
        # element, including those this version does not model.
        kwargs: dict[str, Any] = {"raw": value}
        try:
            for key, child in value.items():
                found = fields.get(key)
                if found is not None:
                    name, structure_child, tp = found
                    kwargs[name] = structure_child(child, tp)
            return cls(**kwargs)
        except _STRUCTURE_ERRORS as error:
            raise ModelError(_locate(cls, value, error)) from error

    return hook


converter = cattrs.Converter(detailed_validation=False)
converter.register_structure_hook(str | None, _optional_text)
converter.register_structure_hook(int | None, _optional_int({}))
converter.register_structure_hook(float | None, _optional(_to_float))
converter.register_structure_hook(bool | None, _optional(_to_bool))
converter.register_structure_hook(datetime | None, _optional(_to_datetime))
converter.register_structure_hook(JobState | str | None, _optional(_to_state))
converter.register_structure_hook(Result | int | None, _optional_int(_RESULTS))
converter.register_structure_hook(HitFlag | int | None, _optional_int(_HIT_FLAGS))
converter.register_structure_hook(VirusSuggestion | str | None, _optional(_to_virus_suggestion))
converter.register_structure_hook_factory(_is_homogeneous_tuple, _tuple_hook)
converter.register_structure_hook_factory(is_model, _model_hook)
converter.register_structure_hook_factory(_is_optional_model, _optional_model_hook)


def structure(cls: type[T], mapping: Mapping[str, Any]) -> T:
    """Build model ``cls`` from the xmltodict dict of one element.

    Example: ``structure(ImageJob, tree["Response"]["JobsDetail"])``. Raises :class:`ModelError`
    when the element does not have the expected shape.
    """
    if not is_model(cls):
        raise TypeError(f"{cls!r} is not a cosaudit model")
    if mapping is None:  # the hook takes None for an absent optional element; here it is wrong
        raise ModelError(f"{cls.__name__}: expected an element with children, got NoneType None")
    result: T = converter.structure(mapping, cls)
    return result


def structure_all(cls: type[T], value: Any) -> tuple[T, ...]:
    """Build a tuple of ``cls`` from a repeated element: a dict, a list of dicts, or ``None``.

    Example: ``structure_all(ImageJob, tree["Response"].get("JobsDetail"))`` for a batch.
    """
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple([structure(cls, item) for item in items if item is not None])
