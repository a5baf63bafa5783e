"""Request models from plain data (a dict, a JSON line): keys are the keyword API's snake_case
names, values are checked by the models themselves.

>>> from cosaudit.requests import TextRequest
>>> structure({"object": "a.txt", "data_id": "x"}, TextRequest).data_id
'x'
>>> structure('{"content": "hello"}', TextRequest).content
'hello'

JSON has no bytes: a bytes field (an image's ``content``) takes a base64 string, strictly
checked (standard alphabet, padded).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from ..errors import InvalidInput
from .common import Request

__all__ = ["structure"]

R = TypeVar("R", bound=Request)


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    # Values reach the model as given: its converters take a UserInfo, Freeze or image list as a
    # mapping, and its validators refuse a bad value naming the request node, where cattrs
    # would coerce ("90" -> 90) or fail with a message of its own.
    as_given = lambda value, _: value  # noqa: E731
    converter.register_structure_hook_func(lambda tp: not attrs.has(tp), as_given)
    # Plain types have hooks of their own that win over the predicate above: "5" would pass
    # as an int field's 5, 1 as a bool field's True.
    for plain in (int, float, str, bool, bytes):
        converter.register_structure_hook(plain, as_given)
    return converter


_CONVERTER = _converter()


def structure(data: Mapping[str, Any] | str | bytes, cls: type[R]) -> R:
    """A ``cls`` request from a mapping of its field names, or from one JSON object (a line
    of a JSON-lines file); raises :class:`InvalidInput`.

    An unknown or missing key is named in the error, as a bad value is; text that is not JSON
    is refused with where it stops being JSON.
    """
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
            raise InvalidInput("request", f"is not JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise InvalidInput("request", f"must be a mapping, not {type(data).__name__}")
    data = _bytes_from_base64(data, cls)
    try:
        return _CONVERTER.structure(data, cls)
    except ClassValidationError as group:
        raise _first_error(group, cls) from None


def _bytes_from_base64(data: Mapping[str, Any], cls: type[Any]) -> Mapping[str, Any]:
    """``data`` with a bytes field's text decoded from base64, the only way JSON carries bytes."""
    decoded: dict[str, bytes] = {}
    for field in attrs.fields(cls):
        value = data.get(field.name)
        # Types are strings here (postponed annotations); a bytes field is "bytes | None".
        if isinstance(value, str) and str(field.type).split(" | ")[0] == "bytes":
            try:
                decoded[field.name] = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise InvalidInput(
                    field.name, f"must be base64 when given as text (JSON, CSV): {exc}"
                ) from None
    return {**data, **decoded} if decoded else data


def _first_error(group: ClassValidationError, cls: type[Any]) -> InvalidInput:
    known = sorted(a.name for a in attrs.fields(cls))
    for error in group.exceptions:
        if isinstance(error, InvalidInput):
            return error
        if isinstance(error, ForbiddenExtraKeysError):
            extra = sorted(error.extra_fields)
            return InvalidInput(
                extra[0], f"is not a field of {cls.__name__}: unknown {extra}; known: {known}"
            )
        if isinstance(error, KeyError):
            return InvalidInput(str(error.args[0]), f"is required by {cls.__name__}")
    return InvalidInput("request", f"cannot make a {cls.__name__}: {group.exceptions[0]!r}")
