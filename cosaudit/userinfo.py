"""Business user information: one pure definition that requests send and results echo.

Requests (:mod:`cosaudit.requests`) take it as input; the response model
:class:`cosaudit.UserInfo` extends it with ``raw``. It lives here, outside both, so that
requests never import response models.
"""

from __future__ import annotations

from attrs import define, field, fields

__all__ = ["UserInfoFields"]


@define(frozen=True, slots=True)
class UserInfoFields:
    """The fields of ``UserInfo`` (each ≤ 128 UTF-8 bytes when sent); :class:`cosaudit.UserInfo`
    is the class to use."""

    token_id: str | None = None
    nickname: str | None = None
    device_id: str | None = None
    app_id: str | None = None
    room: str | None = None
    # The one irregular element name; "cosaudit.xml" is the metadata key models._convert.xml
    # reads when it builds a UserInfo from a response.
    ip: str | None = field(default=None, metadata={"cosaudit.xml": "IP"})
    type: str | None = None
    receive_token_id: str | None = None
    gender: str | None = None
    level: str | None = None
    role: str | None = None

    def to_xml(self) -> dict[str, str]:
        """The request element, e.g. ``{"TokenId": "u1", "IP": "10.0.0.1"}``, no unset fields."""
        out: dict[str, str] = {}
        for attribute, name in _ELEMENTS:
            value = getattr(self, attribute)
            if value is not None:
                out[name] = value
        return out


def _element(name: str, explicit: str | None) -> str:
    return explicit or "".join(part.capitalize() for part in name.split("_"))


# (field, element) of each field, in order; computed once, not per request.
_ELEMENTS = tuple(
    (a.name, _element(a.name, a.metadata.get("cosaudit.xml"))) for a in fields(UserInfoFields)
)
FIELD_NAMES = frozenset(name for name, _ in _ELEMENTS)
"""The snake_case field names a mapping given as user info may use."""
