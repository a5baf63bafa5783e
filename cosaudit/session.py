"""The HTTP session: the request pipeline, wired together; it knows nothing of jobs or polling.

One call goes through layers, one module each (httpx's shape):

* :mod:`cosaudit.request_retrying`: the attempts, on tenacity, within the policy's attempts
  and deadline, the session's retry budget and its SlowDown pause, by the rules of
  :mod:`cosaudit.retrying`;
* :mod:`cosaudit.auth`: each attempt's auth flow: credentials, signing, and the resends for
  clock skew and stale credentials that are not retries;
* :mod:`cosaudit.transport`: one request over aiohttp (or a transport a test passes in);
* :mod:`cosaudit.messages`: the answer read as a :class:`Response` or our error.

The session owns one of each, so all their state is per session, never global: open or closed
is its own, the credentials and clock offset its auth flow's, the retry budget and the SlowDown
pause its retrying's (read through :attr:`Session.clock_offset`, :attr:`Session.budget` and
:attr:`Session.slowdown`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from functools import partial

from .auth import Auth, Rejection, Resends
from .budget import RetryBudgetState
from .config import RetryPolicy, Timeouts
from .credentials import Credentials, CredentialsProvider
from .endpoints import Endpoints, Service
from .errors import AuthError, ClientStateError, CosAuditError, InvalidInput
from .messages import Call, Request, Response, read, request_id
from .request_retrying import RequestRetrying
from .retrying import RetryEvent, RetryReason, observe_retry
from .slowdown import SlowDownPauseState
from .transport import AiohttpTransport, Transport, drop_foreign_context
from .wire import xmlcodec
from .wire.signing import Signer, encode

__all__ = ["Response", "RetryEvent", "RetryReason", "Session"]

logger = logging.getLogger("cosaudit")


class _State(Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class Session:
    """An open connection pool to one bucket's CI and COS hosts.

    Use as ``async with Session(...) as session``. Requests are signed with fresh credentials
    (or ones from a provider), retried per :class:`RetryPolicy` within its deadline and the
    session's retry budget, paused while the service keeps throttling, re-signed once on clock
    skew, and answered as :class:`Response` or a :class:`~cosaudit.errors.CosAuditError`.

    Args:
        clock: wall-clock seconds for signatures (injectable for tests).
        monotonic, sleep: measure and wait retry backoff (injectable so tests never wait).
        limit: connections kept open at most.
        verify_ssl: verify TLS certificates; switch off only explicitly, for a test endpoint.
        on_retry: called with a :class:`RetryEvent` before each resend.
        rng: the source of backoff jitter (injectable for reproducible runs).
        max_response_bytes: the largest answer read; larger ones fail unread.
        transport: sends each request; None for aiohttp's, created on :meth:`open` with
            ``limit``, ``verify_ssl`` and ``timeouts``. Closing an opened session closes it.
    """

    def __init__(
        self,
        endpoints: Endpoints,
        credentials: Credentials | CredentialsProvider,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        signer: Signer | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        limit: int = 100,
        verify_ssl: bool = True,
        on_retry: Callable[[RetryEvent], None] | None = None,
        max_response_bytes: int = xmlcodec.DEFAULT_MAX_BYTES,
        rng: random.Random | None = None,
        transport: Transport | None = None,
    ) -> None:
        if not isinstance(verify_ssl, bool):
            # Only an explicit False turns verification off; a truthy "no" must not.
            raise InvalidInput("verify_ssl", f"must be True or False, not {verify_ssl!r}")
        if (
            isinstance(max_response_bytes, bool)
            or not isinstance(max_response_bytes, int)
            or max_response_bytes < 1
        ):
            raise InvalidInput(
                "max_response_bytes",
                f"must be a whole number of bytes >= 1, not {max_response_bytes!r}",
            )
        self.endpoints = endpoints
        # Per service: where to connect and the host to name (endpoints are frozen).
        self._hosts = {
            service: (endpoints.base_url(service), endpoints.host(service)) for service in Service
        }
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._auth = Auth(credentials, signer=signer or Signer(), clock=clock, monotonic=monotonic)
        self._monotonic = monotonic
        self._limit = limit
        self._verify_ssl = verify_ssl
        self._on_retry = on_retry
        self._max_response_bytes = max_response_bytes
        self._retrying = RequestRetrying(
            self.retry,
            monotonic=monotonic,
            sleep=sleep,
            rng=rng or random.Random(),
            report=self._report,
        )
        self._transport = transport
        self._state = _State.UNOPENED

    def __repr__(self) -> str:
        return f"<Session {self.endpoints.bucket} {self.endpoints.region} {self._state.value}>"

    async def __aenter__(self) -> Session:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def budget(self) -> RetryBudgetState | None:
        """The live token count of the policy's :class:`~cosaudit.config.RetryBudget`."""
        return self._retrying.budget

    @property
    def slowdown(self) -> SlowDownPauseState | None:
        """The live state of the policy's :class:`~cosaudit.config.SlowDownPause`."""
        return self._retrying.slowdown

    @property
    def clock_offset(self) -> float:
        """Seconds added to our clock when signing, learnt from the service's ``Date``."""
        return self._auth.clock_offset

    def now(self) -> float:
        """Our wall clock corrected by :attr:`clock_offset`: the service's time as best known."""
        return self._auth.now()

    async def open(self) -> None:
        """Create the connection pool; a session opens once."""
        if self._state is not _State.UNOPENED:
            raise ClientStateError(f"session is {self._state.value}; it can be opened once")
        if self._transport is None:
            self._transport = AiohttpTransport(
                self.timeouts,
                limit=self._limit,
                verify_ssl=self._verify_ssl,
                max_response_bytes=self._max_response_bytes,
            )
        self._state = _State.OPEN

    async def close(self) -> None:
        """Close every connection; closing twice is harmless."""
        if self._state is _State.OPEN and self._transport is not None:
            await self._transport.close()
        self._state = _State.CLOSED

    async def request(
        self,
        method: str,
        path: str,
        *,
        service: Service = Service.CI,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        signed_path: str | None = None,
        root: str = "Response",
        idempotent: bool | None = None,
    ) -> Response:
        """Send one API call, with retries, and return the children of the ``root`` element.

        Args:
            path: the path as sent (percent-encoded); ``signed_path`` is its decoded form
                when they differ.
            idempotent: whether sending twice is harmless; defaults to ``method == "GET"``.
                A call that is not is a submission: it is resent after an ambiguous failure
                (:func:`~cosaudit.retrying.is_ambiguous`) only under ``AmbiguousSubmit.RETRY``.
        """
        if self._state is not _State.OPEN:
            raise ClientStateError(f"session is {self._state.value}; use 'async with' first")
        idempotent = method == "GET" if idempotent is None else idempotent
        base, host = self._hosts[service]
        base += path
        if params:
            query = "&".join(f"{encode(k)}={encode(v)}" for k, v in params.items())
            # Logs and errors name the parameters, never their values: a detect-url may be a
            # pre-signed URL carrying someone's signature and token.
            shown = "&".join(f"{encode(k)}=..." for k in params)
            url, shown_url = f"{base}?{query}", f"{base}?{shown}"
        else:
            url = shown_url = base
        call = Call(
            method,
            url,
            shown_url,
            host,
            service,
            signed_path or path,
            dict(params) if params else {},
            body,
            root,
        )
        try:
            return await self._retrying(
                # Each attempt is the auth flow's: one request, and a resend if it mends one.
                partial(self._auth.flow, call, Resends(), self._exchange),
                method=method,
                url=call.shown_url,
                idempotent=idempotent,
            )
        except CosAuditError as error:
            drop_foreign_context(error)
            raise

    async def _exchange(self, request: Request, timeout: float) -> Response | Rejection:
        """Send one signed request: the answer, or the rejection the auth flow may mend."""
        assert self._transport is not None
        debug = logger.isEnabledFor(logging.DEBUG)
        started = self._monotonic() if debug else 0.0
        raw = await self._transport.send(request, timeout)
        call = request.call
        if debug:
            logger.debug(
                "%s %s -> %d (request id %s) in %.1f ms",
                call.method,
                call.shown_url,
                raw.status,
                request_id(raw.headers),
                (self._monotonic() - started) * 1000,
            )
        try:
            return read(call, raw, self._max_response_bytes)
        except AuthError as error:
            return Rejection(error, raw.headers.get("Date"))

    def _report(self, event: RetryEvent) -> None:
        drop_foreign_context(event.error)  # before the hook may keep it
        logger.debug(
            "retrying %s %s in %.2fs after attempt %d (%s): %r",
            event.method,
            event.url,
            event.wait,
            event.attempt,
            event.reason,
            event.error,
        )
        observe_retry(event)  # the caller of this request, if it observes its retries
        if self._on_retry is not None:
            self._on_retry(event)
