"""Credentials and the hook that supplies fresh temporary ones."""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from attrs import define, field

from .errors import InvalidInput, MissingCredentials

__all__ = ["Credentials", "CredentialsProvider"]


def _masked(value: str) -> str:
    return "[secure]" if value else "''"


# The SecretId goes into the Authorization value between '&'-separated 'q-' fields, the token
# into a header of its own: either holding '&', ';', '=', whitespace or a control character
# could forge fields or headers. Error messages never show the value (it may be a key pasted
# into the wrong argument).
_SECRET_ID = re.compile(r"[!-~]+", re.ASCII)
_TOKEN = re.compile(r"[!-~]*", re.ASCII)


def _check_secret_id(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidInput("Credentials.secret_id", f"must be a string, not {type(value).__name__}")
    if not _SECRET_ID.fullmatch(value) or any(ch in value for ch in "&;="):
        raise InvalidInput(
            "Credentials.secret_id",
            "must be 1 or more visible ASCII characters other than '&', ';' and '='",
        )


def _check_secret_key(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidInput(
            "Credentials.secret_key", f"must be a string, not {type(value).__name__}"
        )
    if not value:
        raise InvalidInput("Credentials.secret_key", "must not be empty")


def _check_token(_: object, __: object, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidInput("Credentials.token", f"must be a string, not {type(value).__name__}")
    if not _TOKEN.fullmatch(value):
        raise InvalidInput(
            "Credentials.token",
            "must be visible ASCII characters only (it is sent as a header; value not shown)",
        )


def _check_expiry(_: object, __: object, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise InvalidInput("Credentials.expires_at", "must be Unix seconds (a number) or None")


@define(frozen=True, slots=True, repr=False)
class Credentials:
    """A SecretId/SecretKey pair, with the session token of temporary (STS) keys.

    The repr shows the SecretId (an identifier, needed to debug which key was used) and never
    the key or token.

    Args:
        expires_at: Unix time the temporary key expires, if known; the session asks its
            provider for new credentials shortly before then.

    Raises :class:`~cosaudit.errors.InvalidInput` for a SecretId or token that could not be
    sent as it is (control characters, ``&``/``;``/``=`` in the id), never showing the value.
    """

    secret_id: str = field(validator=_check_secret_id)
    secret_key: str = field(repr=False, validator=_check_secret_key)
    token: str | None = field(default=None, repr=False, validator=_check_token)
    expires_at: float | None = field(default=None, validator=_check_expiry)

    def __repr__(self) -> str:
        token = ", token=[secure]" if self.token else ""
        expiry = f", expires_at={self.expires_at}" if self.expires_at is not None else ""
        return (
            f"Credentials(secret_id={self.secret_id!r}, secret_key={_masked(self.secret_key)}"
            f"{token}{expiry})"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read ``TENCENTCLOUD_SECRET_ID``/``_SECRET_KEY``/``_SESSION_TOKEN``.

        ``COS_SECRET_ID``/``COS_SECRET_KEY`` are fallbacks. Raises
        :class:`~cosaudit.errors.MissingCredentials` naming the variables when no id or key is
        set.
        """
        env = os.environ if environ is None else environ
        secret_id = env.get("TENCENTCLOUD_SECRET_ID") or env.get("COS_SECRET_ID")
        secret_key = env.get("TENCENTCLOUD_SECRET_KEY") or env.get("COS_SECRET_KEY")
        if not secret_id or not secret_key:
            raise MissingCredentials(
                "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY "
                "(or COS_SECRET_ID and COS_SECRET_KEY), or pass credentials=Credentials(...)"
            )
        token = env.get("TENCENTCLOUD_SESSION_TOKEN") or None
        return cls(secret_id, secret_key, token)


CredentialsProvider = Callable[[], Awaitable[Credentials]]
"""An async callable returning current credentials, e.g. fresh STS keys from your broker."""
