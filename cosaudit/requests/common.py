"""What the request models share: the base class, field checks, ``UserInfo``, ``Freeze`` and
the ``<Conf>`` settings most kinds take."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from attrs import Attribute, define, field, fields

from .. import inputs
from ..errors import InvalidInput
from ..userinfo import FIELD_NAMES, UserInfoFields
from .scenes import detect_type as ci_scenes

__all__ = [
    "Freeze",
    "Request",
    "UserInfoLike",
    "as_freeze",
    "as_scenes",
    "as_user_info",
    "biz_type_field",
    "callback_field",
    "callback_type_field",
    "callback_version_field",
    "check_freeze",
    "check_user_info",
    "checked",
    "conf_tree",
    "data_id_field",
    "detect_type_field",
    "freeze_needs_object",
    "input_tree",
    "object_field",
    "pascal",
    "unknown_keys",
    "url_field",
    "user_info_tree",
]

UserInfoLike = UserInfoFields | Mapping[str, str]
"""A :class:`cosaudit.UserInfo`, or a mapping of its snake_case field names to strings."""

Validator = Callable[[Any, "Attribute[Any]", Any], None]


@define(frozen=True, slots=True)
class Request:
    """Base of the request models: validated when made, turned into a body by :meth:`to_body`."""

    kind: ClassVar[str | None] = None
    """The moderation kind it is submitted to (``client.<kind>``); None for the image batch and
    the badcase report, which are no bulk run's items."""

    @property
    def synchronous(self) -> bool:
        """Whether the service answers with the final result (no job to wait for)."""
        return False

    def to_body(self) -> dict[str, Any]:
        """The xmltodict-shaped children of ``<Request>`` (``None`` values are left out)."""
        raise NotImplementedError


def checked(field_name: str, check: Callable[[Any, str], object]) -> Validator:
    """An attrs validator running ``check(value, field_name)`` on a value that is given."""

    def validate(_: object, __: Attribute[Any], value: Any) -> None:
        if value is not None:
            check(value, field_name)

    return validate


def pascal(name: str) -> str:
    """``porn_score`` -> ``PornScore``."""
    return "".join(part.capitalize() for part in name.split("_"))


def unknown_keys(value: Mapping[Any, Any], known: Iterable[str], field_name: str) -> None:
    """Refuse a mapping with keys that are not field names, naming them and the known ones."""
    allowed = set(known)
    unknown = sorted(str(name) for name in value if name not in allowed)
    if unknown:
        raise InvalidInput(field_name, f"unknown fields {unknown}; known: {sorted(allowed)}")


# --- Input -------------------------------------------------------------------------------------
# ``user_info`` and ``freeze`` are declared in each class, not by a helper here: mypy's attrs
# plugin reads a field's converter only from a ``field(...)`` written in the class, and the
# converter is what lets the keyword API take a mapping for them.


def object_field() -> Any:
    """``object``: a COS object key (``Input.Object``)."""
    return field(default=None, validator=checked("Input.Object", inputs.object_key))


def url_field() -> Any:
    """``url``: an http(s) URL the service fetches (``Input.Url``)."""
    return field(default=None, validator=checked("Input.Url", inputs.url))


def data_id_field() -> Any:
    """``data_id``: the caller's id, echoed in the result (``Input.DataId``)."""
    return field(default=None, validator=checked("Input.DataId", inputs.data_id))


def input_tree(request: Any, **sources: object) -> dict[str, object]:
    """The ``<Input>`` children: the ``sources`` in the order given, then ``DataId`` and
    ``UserInfo``."""
    sources["DataId"] = request.data_id
    sources["UserInfo"] = user_info_tree(request.user_info, "Input.UserInfo")
    return sources


# --- UserInfo ----------------------------------------------------------------------------------


def as_user_info(value: UserInfoLike | None) -> UserInfoFields | None:
    """A UserInfo from itself or a mapping of its field names; refuses unknown names."""
    if value is None or isinstance(value, UserInfoFields):
        return value
    if not isinstance(value, Mapping):
        raise InvalidInput(
            "Input.UserInfo", f"must be a UserInfo or a mapping, not {type(value).__name__}"
        )
    unknown_keys(value, FIELD_NAMES, "Input.UserInfo")
    given: dict[str, Any] = dict(value)
    return UserInfoFields(**given)


def user_info_tree(value: UserInfoFields | None, field_name: str) -> dict[str, str] | None:
    """The ``UserInfo`` children, each checked (at most 128 UTF-8 bytes); None when empty."""
    if value is None:
        return None
    children = value.to_xml()
    inputs.user_info_children(children, field_name)
    return children or None


def check_user_info(_: object, __: Attribute[Any], value: UserInfoFields | None) -> None:
    """The validator of a request's ``user_info`` (its converter is :func:`as_user_info`)."""
    user_info_tree(value, "Input.UserInfo")


# --- Freeze ------------------------------------------------------------------------------------


def _score(_: object, attribute: Attribute[Any], value: int | None) -> None:
    # bool is an int subclass: True would be sent as "true", which no service reads as a score.
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100
    ):
        raise InvalidInput(f"Conf.Freeze.{pascal(attribute.name)}", "must be an integer 0-100")


@define(frozen=True, slots=True)
class Freeze:
    """Auto-freeze a COS object when a scene's score reaches the value (0-100).

    Only applies when the input is a COS ``object``.
    """

    porn_score: int | None = field(default=None, validator=_score)
    ads_score: int | None = field(default=None, validator=_score)
    illegal_score: int | None = field(default=None, validator=_score)
    abuse_score: int | None = field(default=None, validator=_score)
    terrorism_score: int | None = field(default=None, validator=_score)
    politics_score: int | None = field(default=None, validator=_score)
    teenager_score: int | None = field(default=None, validator=_score)

    def to_xml(self) -> dict[str, int]:
        """The ``Conf.Freeze`` children that are set."""
        return {
            pascal(a.name): value
            for a in fields(Freeze)
            if (value := getattr(self, a.name)) is not None
        }


def as_freeze(value: Freeze | Mapping[str, int] | None) -> Freeze | None:
    """A Freeze from itself or a mapping of its field names (a JSON line's ``freeze``)."""
    if value is None or isinstance(value, Freeze) or not isinstance(value, Mapping):
        return value  # the field's validator refuses anything but None or a Freeze
    unknown_keys(value, (a.name for a in fields(Freeze)), "Conf.Freeze")
    return Freeze(**value)


def check_freeze(_: object, __: Attribute[Any], value: object) -> None:
    """The validator of a request's ``freeze`` (its converter is :func:`as_freeze`)."""
    if value is not None and not isinstance(value, Freeze):
        raise InvalidInput("Conf.Freeze", "must be a Freeze")


def freeze_needs_object(freeze: Freeze | None, source: str) -> None:
    if freeze is not None and source != "object":
        raise InvalidInput("Conf.Freeze", "applies to a COS object input only")


# --- Conf --------------------------------------------------------------------------------------


def as_scenes(value: object) -> object:
    """A list of scenes as a tuple, so a generator is read once and the request stays frozen."""
    if value is None or isinstance(value, str) or not isinstance(value, Iterable):
        return value
    return tuple(value)


def biz_type_field() -> Any:
    return field(default=None, validator=checked("Conf.BizType", inputs.biz_type))


def detect_type_field(field_name: str = "Conf.DetectType", *, kind: str | None = None) -> Any:
    """``detect_type``: scene names, as ``"porn,ads"`` or a list (only those ``kind`` takes)."""
    return field(
        default=None,
        converter=as_scenes,
        validator=checked(field_name, lambda v, name: ci_scenes(v, field_name=name, kind=kind)),
    )


def callback_field(field_name: str = "Conf.Callback") -> Any:
    return field(default=None, validator=checked(field_name, inputs.callback_url))


def callback_version_field() -> Any:
    return field(default=None, validator=checked("Conf.CallbackVersion", inputs.callback_version))


def callback_type_field() -> Any:
    return field(default=None, validator=checked("Conf.CallbackType", inputs.callback_type))


def conf_tree(request: Any, **extra: object) -> dict[str, object]:
    """The ``<Conf>`` children of the shared settings a request has (``extra`` after them)."""
    scenes = getattr(request, "detect_type", None)
    freeze = getattr(request, "freeze", None)
    tree: dict[str, object] = {
        "BizType": getattr(request, "biz_type", None),
        "DetectType": ci_scenes(scenes) if scenes is not None else None,
        "Callback": getattr(request, "callback", None),
        "CallbackVersion": getattr(request, "callback_version", None),
        "CallbackType": getattr(request, "callback_type", None),
        "Freeze": freeze.to_xml() if freeze is not None else None,
    }
    tree.update(extra)
    return tree
