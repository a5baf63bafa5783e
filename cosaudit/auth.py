"""The auth flow: which credentials, how a request is signed, and the two resends that are not
retries.

:meth:`Auth.flow` runs one attempt of a call the way httpx's ``auth_flow`` does: sign the
request, send it (through the ``exchange`` it is given), and when the service refused it in a
way that is ours to mend, sign it again and send it once more:

* **clock skew**: the service's ``Date`` says our clock is off (:mod:`cosaudit.clockskew`); the
  offset is kept (every later request signs with it) and the request re-signed once;
* **stale credentials**: an expired-key answer (:data:`REFRESH_CODES`) from a provider's
  credentials; the provider is asked again and the request re-signed once.

The service refused the first request, so neither resend can duplicate anything; neither
counts as a retry or takes from the retry budget. Pure: no I/O but the provider's.

httpx's flow is a generator; this one is a coroutine handed the exchange, because an async
generator costs about 2.5 µs a call under asyncio (its first-iteration hook, a WeakSet entry
and an ``aclose``): 6 % of what the client adds to a request.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Literal, NoReturn, Protocol

from attrs import define

from . import clockskew
from .credentials import Credentials, CredentialsProvider
from .endpoints import Service
from .errors import AuthError, CosAuditError, RequestTimeout
from .messages import Call, Request, Response
from .wire.signing import Signer

__all__ = ["REFRESH_CODES", "Attempt", "Auth", "Rejection", "Resend", "Resends"]

logger = logging.getLogger("cosaudit")

REFRESH_CODES = frozenset(
    {"ExpiredToken", "SignatureExpired", "InvalidAccessKeyId", "SecretidNotExist"}
)
"""Codes after which a credentials provider is asked for fresh keys and the request re-signed."""
# Ask the provider again this many seconds before temporary credentials expire.
_REFRESH_MARGIN = 300.0
# After a provider failed to refresh ahead of expiry, keep using the still-valid credentials
# and ask it again no sooner than this many seconds later (not on every request).
_PROVIDER_RETRY = 10.0

Resend = Literal["clock_skew", "credentials"]


@define(frozen=True, slots=True)
class Rejection:
    """The service refused a signed request: its error and the ``Date`` it answered with."""

    error: AuthError
    date: str | None


class Attempt(Protocol):
    """What the flow needs of the retry loop for the attempt it runs."""

    deadline: float  # the call's, on the monotonic clock

    async def ready(self) -> None:
        """Wait until a request may be sent (the SlowDown pause)."""

    def sending(self) -> float:
        """A request is about to be sent: the seconds left for it (or the call ends)."""

    def give_up(self, error: CosAuditError) -> NoReturn:
        """End the call with ``error``."""

    def resending(self, error: AuthError, reason: Resend) -> None:
        """A resend is about to be prepared (the ``on_retry`` event)."""


@define(slots=True)
class Resends:
    """What one call's flow has done so far: each resend happens at most once per call,
    however many retries the call makes."""

    skew: bool = False
    refresh: bool = False
    rejected: Credentials | None = None  # never handed out again for this call


class Auth:
    """One session's credentials and clock offset, and the flow that signs with them.

    Args:
        clock: wall-clock seconds for signatures.
        monotonic: measures the call's deadline and the provider hold-off.
    """

    def __init__(
        self,
        credentials: Credentials | CredentialsProvider,
        *,
        signer: Signer,
        clock: Callable[[], float],
        monotonic: Callable[[], float],
    ) -> None:
        self._source = credentials
        self._cached: Credentials | None = (
            credentials if isinstance(credentials, Credentials) else None
        )
        self._refresh_lock = asyncio.Lock()
        self._provider_hold_until = -math.inf
        self._signer = signer
        self._clock = clock
        self._monotonic = monotonic
        self.clock_offset = 0.0

    def now(self) -> float:
        """Our wall clock corrected by :attr:`clock_offset`: the service's time as best known."""
        return self._clock() + self.clock_offset

    async def flow(
        self,
        call: Call,
        resends: Resends,
        exchange: Callable[[Request, float], Awaitable[Response | Rejection]],
        attempt: Attempt,
    ) -> Response:
        """Sign and send ``call``; sign and send it again for a rejection we can mend.

        ``exchange(request, timeout)`` sends and reads. What happens before a request is sent
        (the SlowDown pause, the provider, the deadline) ends the call through
        ``attempt.give_up``, however retryable the error looks.
        """
        while True:
            try:
                await attempt.ready()
                source = self._source
                # Fixed keys are taken as they are, without a coroutine for _credentials.
                credentials = (
                    source
                    if isinstance(source, Credentials)
                    else await self._credentials(source, call, attempt.deadline, resends.rejected)
                )
            except CosAuditError as error:
                attempt.give_up(error)
            request = self.sign(call, credentials)
            answer = await exchange(request, attempt.sending())
            if isinstance(answer, Response):
                return answer
            reason = self._mend(answer, request, credentials, resends, attempt.deadline)
            if reason is None:
                raise answer.error
            attempt.resending(answer.error, reason)

    def _mend(
        self,
        rejection: Rejection,
        request: Request,
        credentials: Credentials,
        resends: Resends,
        deadline: float,
    ) -> Resend | None:
        """Which resend mends ``rejection`` (making it ready), or None: the call fails with it."""
        error = rejection.error
        start, _, end = self._signer.key_time(request.signed_at).partition(";")
        offset = clockskew.correction(
            error.code,
            error.message,
            rejection.date,
            window=(int(start), int(end)),
            now=self._clock(),
        )
        if offset is not None:
            # Skew explains it, so fresh keys would not help: a second skewed answer ends the call.
            if resends.skew or self._monotonic() >= deadline:
                return None
            resends.skew = True
            logger.info(
                "clock skew: the service's Date is %+.0f s from our clock; signing with "
                "that offset from now on (%s %s)",
                offset,
                request.call.method,
                request.call.shown_url,
            )
            self.clock_offset = offset
            return "clock_skew"
        if (
            error.code not in REFRESH_CODES
            or resends.refresh
            or isinstance(self._source, Credentials)
            or self._monotonic() >= deadline
        ):
            return None
        resends.refresh = True
        resends.rejected = credentials
        logger.info("credentials rejected (%s); asking the provider again", error.code)
        return "credentials"

    def sign(self, call: Call, credentials: Credentials) -> Request:
        """The request with its headers: host, body type and length, token, ``Authorization``."""
        headers = {"Host": call.host}
        if call.body is not None:
            headers["Content-Type"] = "application/xml"
            headers["Content-Length"] = str(len(call.body))
        elif call.method == "POST":
            headers["Content-Length"] = "0"
        if credentials.token:
            # The CI host reads its own token header; the COS host the COS one.
            token_header = (
                "x-ci-security-token" if call.service is Service.CI else "x-cos-security-token"
            )
            headers[token_header] = credentials.token
        signed_at = self.now()
        headers["Authorization"] = self._signer.sign(
            credentials.secret_id,
            credentials.secret_key,
            call.method,
            call.signed_path,
            call.params,
            headers,
            signed_at,
        )
        return Request(call, headers, signed_at)

    def _usable(self, credentials: Credentials | None, rejected: Credentials | None) -> bool:
        if credentials is None or credentials is rejected:
            return False
        if credentials.expires_at is None:
            return True
        left = credentials.expires_at - self.now()
        if left > _REFRESH_MARGIN:
            return True
        # The provider failed to refresh ahead of expiry a moment ago: the current credentials
        # stay in use while they are valid, and the provider is asked again later.
        return left > 0 and self._monotonic() < self._provider_hold_until

    async def _credentials(
        self,
        source: CredentialsProvider,
        call: Call,
        deadline: float,
        rejected: Credentials | None,
    ) -> Credentials:
        """A provider's current credentials: cached, or fetched once however many requests
        ask at once.

        ``rejected`` are credentials the service just refused: they are never handed out
        again, but a refresh already made by a concurrent request is reused, not repeated.
        Waiting for the provider (or for a refresh under way) ends at the call's deadline:
        a provider that hangs cannot hold every request of the session.
        """
        if self._usable(self._cached, rejected):
            assert self._cached is not None
            return self._cached
        try:
            return await asyncio.wait_for(
                self._refresh(source, rejected), max(0.0, deadline - self._monotonic())
            )
        except asyncio.TimeoutError:
            raise RequestTimeout(
                "no credentials from the provider within the call's deadline",
                method=call.method,
                url=call.shown_url,
            ) from None

    async def _refresh(
        self, source: CredentialsProvider, rejected: Credentials | None
    ) -> Credentials:
        async with self._refresh_lock:
            current = self._cached
            if self._usable(current, rejected):
                assert current is not None
                return current
            try:
                fresh = await source()
            except Exception as exc:
                still_valid = (
                    current is not None
                    and current is not rejected
                    and current.expires_at is not None
                    and current.expires_at > self.now()
                )
                if not still_valid:
                    raise
                assert current is not None
                logger.warning(
                    "refreshing credentials ahead of expiry failed (%s); using the current ones "
                    "for %.0fs more before asking again",
                    type(exc).__name__,
                    _PROVIDER_RETRY,
                )
                self._provider_hold_until = self._monotonic() + _PROVIDER_RETRY
                return current
            if not isinstance(fresh, Credentials):
                raise TypeError("the credentials provider must return Credentials")
            self._cached = fresh
            left = math.inf if fresh.expires_at is None else fresh.expires_at - self.now()
            # Keys that come already inside the refresh margin (a short-lived token, or a
            # provider that caches its own) are used while valid and the provider asked again
            # after the same pause as after a failure, not once per request.
            self._provider_hold_until = (
                self._monotonic() + _PROVIDER_RETRY if left <= _REFRESH_MARGIN else -math.inf
            )
            return fresh
