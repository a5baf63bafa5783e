"""Credentials and the hook that supplies fresh temporary ones."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping

from attrs import define, field

__all__ = ["Credentials", "CredentialsProvider"]


def _masked(value: str) -> str:
    return "[secure]" if value else "''"


@define(frozen=True, slots=True, repr=False)
class Credentials:
    """A SecretId/SecretKey pair, with the session token of temporary (STS) keys.

    The repr shows the SecretId (an identifier, needed to debug which key was used) and never
    the key or token.

    Args:
        expires_at: Unix time the temporary key expires, if known; the session asks its
            provider for new credentials shortly before then.
    """

    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    expires_at: float | None = None

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

        ``COS_SECRET_ID``/``COS_SECRET_KEY`` are fallbacks. Raises ``KeyError`` naming the
        variables when no id or key is set.
        """
        env = os.environ if environ is None else environ
        secret_id = env.get("TENCENTCLOUD_SECRET_ID") or env.get("COS_SECRET_ID")
        secret_key = env.get("TENCENTCLOUD_SECRET_KEY") or env.get("COS_SECRET_KEY")
        if not secret_id or not secret_key:
            raise KeyError(
                "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY "
                "(or COS_SECRET_ID and COS_SECRET_KEY)"
            )
        token = env.get("TENCENTCLOUD_SESSION_TOKEN") or None
        return cls(secret_id, secret_key, token)


CredentialsProvider = Callable[[], Awaitable[Credentials]]
"""An async callable returning current credentials, e.g. fresh STS keys from your broker."""
