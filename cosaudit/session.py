"""The HTTP session: sign, send, retry where safe, parse the XML, map errors to exceptions.

It knows hosts, signatures and status codes; it knows nothing of jobs or polling.

Retrying is an explicit loop, not tenacity (which :mod:`cosaudit.waiting` uses to poll): an
attempt here may be followed by a re-sign for clock skew or fresh credentials that is not a
retry, a retry takes tokens from the session-wide budget and waits out the session-wide
SlowDown pause, and what an ambiguous attempt left unsettled outlives the attempts after it.
Those steps share state that tenacity's separate retry/stop/wait hooks could only hold aside.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from typing import Any, Literal

import aiohttp
from attrs import define, field
from yarl import URL

from . import clockskew
from .budget import RetryQuota
from .config import AmbiguousSubmit, RetryPolicy, Timeouts
from .credentials import Credentials, CredentialsProvider
from .endpoints import Endpoints, Service
from .errors import (
    AuthError,
    ClientStateError,
    ConnectError,
    ConnectionLost,
    CosAuditError,
    InvalidInput,
    MalformedResponse,
    RequestTimeout,
    ServiceError,
    ThrottledError,
    service_error,
)
from .retrying import backoff, is_ambiguous, is_retryable
from .slowdown import SlowDownBreaker
from .wire import xmlcodec
from .wire.signing import Signer, encode

__all__ = ["Response", "RetryEvent", "RetryReason", "Session"]

logger = logging.getLogger("cosaudit")

# Codes after which a credentials provider is asked for fresh keys and the request re-signed once.
_REFRESH_CODES = frozenset(
    {"ExpiredToken", "SignatureExpired", "InvalidAccessKeyId", "SecretidNotExist"}
)
# Ask the provider again this many seconds before temporary credentials expire.
_REFRESH_MARGIN = 300.0
# After a provider failed to refresh ahead of expiry, keep using the still-valid credentials
# and ask it again no sooner than this many seconds later (not on every request).
_PROVIDER_RETRY = 10.0

RetryReason = Literal["transient", "ambiguous_submit", "clock_skew", "credentials"]
"""Why a request is sent again: see :class:`RetryEvent`."""


class _State(Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


@define(frozen=True, slots=True)
class Response:
    """A successful answer: the status, the request id and the parsed root element's children."""

    status: int
    request_id: str | None
    body: Mapping[str, Any] = field(repr=False)


@define(frozen=True, slots=True)
class RetryEvent:
    """One resend about to happen, handed to the ``on_retry`` hook.

    Attributes:
        attempt: the number of the attempt that failed (1 for the first).
        wait: seconds until the resend.
        error: what the failed attempt raised (it carries no credentials).
        reason: ``"transient"`` (backoff after a failure safe to retry),
            ``"ambiguous_submit"`` (a submission resent under ``AmbiguousSubmit.RETRY``: the
            first one may have been accepted, so this is a possible duplicate),
            ``"clock_skew"`` (re-signed with the offset read from the service's ``Date``), or
            ``"credentials"`` (re-signed with fresh credentials from the provider).
    """

    method: str
    url: str
    attempt: int
    wait: float
    error: BaseException
    reason: RetryReason = "transient"


class _Skewed(Exception):
    """A rejection that clock skew explains; carries the offset to sign with from now on."""

    def __init__(self, error: AuthError, offset: float) -> None:
        super().__init__(error)
        self.error = error
        self.offset = offset


def _describe(error: BaseException) -> str:
    """A transport failure in words that cannot carry our headers.

    aiohttp's exceptions hold the request (``RequestInfo``) and their repr prints its headers,
    ``Authorization`` and the security token included, so only chosen fields are used.
    """
    if isinstance(error, aiohttp.ClientResponseError):
        return f"{type(error).__name__} (HTTP {error.status}: {error.message})"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"{type(error).__name__} ({error.host}:{error.port}: {error.os_error.strerror})"
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__} ({error.strerror})"
    return type(error).__name__


def _drop_foreign_context(error: BaseException) -> None:
    """Unlink the aiohttp exceptions our errors were raised over (``raise ... from None``).

    ``from None`` only hides them from tracebacks: ``__context__`` still holds them, and their
    ``RequestInfo`` carries our headers, ``Authorization`` and the security token included.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.__suppress_context__ and not isinstance(current.__context__, CosAuditError):
            current.__context__ = None
        current = current.__cause__ or current.__context__


# Bodies up to this size go to aiohttp as bytes: written with the headers in one segment. Larger
# ones are streamed from a BytesIO, as aiohttp warns (and writes in one go) above 1 MiB of bytes.
_STREAM_ABOVE = 64 * 1024


def _payload(body: bytes | None) -> bytes | io.BytesIO | None:
    if body is None or len(body) <= _STREAM_ABOVE:
        return body
    return io.BytesIO(body)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _request_id(headers: Mapping[str, str]) -> str | None:
    return headers.get("x-ci-request-id") or headers.get("x-cos-request-id")


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
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._signer = signer or Signer()
        self._credentials_source = credentials
        self._cached: Credentials | None = (
            credentials if isinstance(credentials, Credentials) else None
        )
        self._refresh_lock = asyncio.Lock()
        self._provider_hold_until = -math.inf
        self._clock = clock
        self._clock_offset = 0.0
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._limit = limit
        self._verify_ssl = verify_ssl
        self._on_retry = on_retry
        self._max_response_bytes = max_response_bytes
        # Per session, never global: two clients to two services keep separate state.
        self.quota = RetryQuota(self.retry.budget) if self.retry.budget is not None else None
        self.breaker = (
            SlowDownBreaker(self.retry.slowdown, monotonic)
            if self.retry.slowdown is not None
            else None
        )
        self._http: aiohttp.ClientSession | None = None
        self._state = _State.UNOPENED

    def __repr__(self) -> str:
        return f"<Session {self.endpoints.bucket} {self.endpoints.region} {self._state.value}>"

    async def __aenter__(self) -> Session:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def clock_offset(self) -> float:
        """Seconds added to our clock when signing, learnt from the service's ``Date``."""
        return self._clock_offset

    def now(self) -> float:
        """Our wall clock corrected by :attr:`clock_offset`: the service's time as best known."""
        return self._clock() + self._clock_offset

    async def open(self) -> None:
        """Create the connection pool; a session opens once."""
        if self._state is not _State.UNOPENED:
            raise ClientStateError(f"session is {self._state.value}; it can be opened once")
        connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._verify_ssl)
        self._http = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout(None),
            raise_for_status=False,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),  # the API sets none; never replay strangers'
        )
        # aiohttp resends a GET once, unseen, when the connection drops: the single-image GET
        # is a billed submission, so that made a second job no one knew of. Every resend is
        # decided here instead (a query's is counted, budgeted and reported). No public switch
        # exists (aiohttp 3.11 has this private one, hence the floor); tests/test_client_faults.py
        # fails if it stops working.
        if hasattr(self._http, "_retry_connection"):
            self._http._retry_connection = False
        self._state = _State.OPEN

    async def close(self) -> None:
        """Close every connection; closing twice is harmless."""
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._state = _State.CLOSED

    def _timeout(self, remaining: float | None) -> aiohttp.ClientTimeout:
        """One attempt's limits: the configured ones, the total cut to the call's deadline."""
        total = self.timeouts.total
        if remaining is not None:
            total = remaining if total is None else min(total, remaining)
        return aiohttp.ClientTimeout(
            total=total, sock_connect=self.timeouts.connect, sock_read=self.timeouts.read
        )

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
                (:func:`is_ambiguous`) only under ``AmbiguousSubmit.RETRY``.
        """
        if self._state is not _State.OPEN or self._http is None:
            raise ClientStateError(f"session is {self._state.value}; use 'async with' first")
        idempotent = method == "GET" if idempotent is None else idempotent
        query = "&".join(f"{encode(k)}={encode(v)}" for k, v in (params or {}).items())
        base = f"{self.endpoints.base_url(service)}{path}"
        # Logs and errors name the parameters, never their values: a detect-url may be a
        # pre-signed URL carrying someone's signature and token.
        shown = "&".join(f"{encode(k)}=..." for k in (params or {}))
        call = _Call(
            method=method,
            url=base + (f"?{query}" if query else ""),
            shown_url=base + (f"?{shown}" if shown else ""),
            host=self.endpoints.host(service),
            service=service,
            signed_path=signed_path or path,
            params=dict(params or {}),
            body=body,
            root=root,
        )
        try:
            return await self._send(call, idempotent)
        except CosAuditError as error:
            _drop_foreign_context(error)
            raise

    async def _send(self, call: _Call, idempotent: bool) -> Response:
        """The attempts of one call: backoff, budget, pause, re-signing, within the deadline."""
        deadline = self._monotonic() + self.retry.deadline
        # Set once a submission is resent under AmbiguousSubmit.RETRY: that earlier attempt may
        # have been accepted, so if the call fails in the end, it fails as that attempt did
        # (ambiguous), whatever refused the later ones.
        unsettled: list[CosAuditError] = []
        try:
            return await self._attempts(call, idempotent, deadline, unsettled)
        except CosAuditError as final:
            if not unsettled or is_ambiguous(final) or isinstance(final, MalformedResponse):
                raise  # a MalformedResponse is a 2xx: accepted, only unreadable
            earlier = unsettled[-1]
            earlier.__suppress_context__ = False  # the later refusal shows in its traceback
            raise earlier  # noqa: B904 (its __context__ becomes ``final``, as wanted)

    async def _attempts(
        self,
        call: _Call,
        idempotent: bool,
        deadline: float,
        unsettled: list[CosAuditError],
    ) -> Response:
        policy = self.retry
        sent = 0  # attempts made, for the events
        failures = 0  # failed attempts counted against policy.attempts
        held = 0.0  # tokens this call's retries took from the budget
        last: CosAuditError | None = None  # what the previous attempt raised
        rejected: Credentials | None = None
        refreshed = resigned = False
        while True:
            await self._wait_out_pause(call, deadline)
            credentials = await self._credentials(call, deadline, rejected)
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                # A backoff, a pause or the provider ended past the deadline (a loaded loop
                # wakes late): no attempt starts now. The last attempt's error says what
                # happened to the request, a turned-away submission included.
                if last is not None:
                    raise last
                raise RequestTimeout(
                    "the call's deadline passed before the request was sent",
                    method=call.method,
                    url=call.shown_url,
                )
            sent += 1
            try:
                response = await self._attempt(call, credentials, remaining)
            except _Skewed as skewed:
                if resigned or self._monotonic() >= deadline:
                    raise skewed.error from None
                resigned = True
                last = skewed.error
                logger.info(
                    "clock skew: the service's Date is %+.0f s from our clock; signing with "
                    "that offset from now on (%s %s)",
                    skewed.offset,
                    call.method,
                    call.shown_url,
                )
                self._clock_offset = skewed.offset
                self._report(call, sent, 0.0, skewed.error, "clock_skew")
                continue
            except AuthError as error:
                if (
                    error.code not in _REFRESH_CODES
                    or refreshed
                    or isinstance(self._credentials_source, Credentials)
                    or self._monotonic() >= deadline
                ):
                    raise
                # The service rejected the request, so sending it again cannot duplicate it.
                refreshed = True
                rejected = credentials
                last = error
                logger.info("credentials rejected (%s); asking the provider again", error.code)
                self._report(call, sent, 0.0, error, "credentials")
                continue
            except CosAuditError as error:
                if isinstance(error, ThrottledError):
                    self._throttled(error)
                reason = self._retry_reason(error, idempotent)
                if reason is None:
                    raise
                failures += 1
                if failures >= policy.attempts:
                    raise
                wait = backoff(self.retry, failures, self._rng)
                # No attempt may start late: give up now rather than sleep past the deadline.
                if self._monotonic() + wait >= deadline:
                    raise
                if self.quota is not None:
                    cost = self.quota.cost(timeout=isinstance(error, RequestTimeout))
                    if not self.quota.acquire(cost):
                        logger.info(
                            "retry budget exhausted (%.0f tokens left); not retrying %s %s",
                            self.quota.available,
                            call.method,
                            call.shown_url,
                        )
                        raise
                    held += cost
                if reason == "ambiguous_submit":
                    unsettled.append(error)
                last = error
                self._report(call, sent, wait, error, reason)
                await self._sleep(wait)
                continue
            if self.quota is not None:
                self.quota.succeeded(held)
            if self.breaker is not None:
                self.breaker.succeeded()
            return response

    def _retry_reason(self, error: CosAuditError, idempotent: bool) -> RetryReason | None:
        if is_retryable(error, idempotent=idempotent):
            return "transient"
        if (
            not idempotent
            and self.retry.ambiguous_submit is AmbiguousSubmit.RETRY
            and is_ambiguous(error)
        ):
            return "ambiguous_submit"
        return None

    def _throttled(self, error: ThrottledError) -> None:
        if self.breaker is None:
            return
        pause = self.breaker.throttled(error.status)
        if pause is not None:
            logger.warning(
                "%d SlowDown answers within %gs: pausing every request of this session for %.1fs",
                self.breaker.policy.threshold,
                self.breaker.policy.window,
                pause,
            )

    async def _wait_out_pause(self, call: _Call, deadline: float) -> None:
        """Hold a request while the SlowDown breaker is open, or fail at once if it outlasts
        the call's deadline (failing fast beats sleeping only to fail)."""
        if self.breaker is None:
            return
        delay = self.breaker.delay()
        if delay <= 0:
            return
        if self._monotonic() + delay >= deadline:
            raise ThrottledError(
                self.breaker.last_status,
                "SlowDown",
                f"the session pauses {delay:.1f}s more after repeated SlowDown answers, "
                "past this call's deadline",
                method=call.method,
                url=call.shown_url,
            )
        # One sleep, not a loop: an injected sleep that does not move the clock must not spin.
        await self._sleep(delay)

    def _report(
        self, call: _Call, attempt: int, wait: float, error: BaseException, reason: RetryReason
    ) -> None:
        _drop_foreign_context(error)  # before the hook may keep it
        logger.debug(
            "retrying %s %s in %.2fs after attempt %d (%s): %r",
            call.method,
            call.shown_url,
            wait,
            attempt,
            reason,
            error,
        )
        if self._on_retry is not None:
            self._on_retry(RetryEvent(call.method, call.shown_url, attempt, wait, error, reason))

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
        self, call: _Call, deadline: float, rejected: Credentials | None = None
    ) -> Credentials:
        """Current credentials: cached, or fetched once however many requests ask at once.

        ``rejected`` are credentials the service just refused: they are never handed out
        again, but a refresh already made by a concurrent request is reused, not repeated.
        Waiting for the provider (or for a refresh under way) ends at the call's deadline:
        a provider that hangs cannot hold every request of the session.
        """
        source = self._credentials_source
        if isinstance(source, Credentials):
            return source
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

    async def _attempt(self, call: _Call, credentials: Credentials, remaining: float) -> Response:
        """One signed request, cut at ``remaining`` seconds (the call's deadline)."""
        assert self._http is not None
        headers = {"Host": call.host}
        if call.body is not None:
            headers["Content-Type"] = "application/xml"
            headers["Content-Length"] = str(len(call.body))
        elif call.method == "POST":
            headers["Content-Length"] = "0"
        if credentials.token:
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
        started = self._monotonic()
        try:
            # Redirects are not followed: aiohttp would resend the body and our token header
            # to wherever Location points. A 3xx is an <Error> answer (spec §2.4).
            async with self._http.request(
                call.method,
                URL(call.url, encoded=True),
                headers=headers,
                data=_payload(call.body),
                allow_redirects=False,
                timeout=self._timeout(remaining),
            ) as response:
                payload = await self._read(response, call)
                status = response.status
                response_headers = response.headers
        except aiohttp.ConnectionTimeoutError:
            raise ConnectError("connect timeout", method=call.method, url=call.shown_url) from None
        except (aiohttp.ClientConnectorError, ConnectionRefusedError) as exc:
            raise ConnectError(
                f"cannot connect: {_describe(exc)}", method=call.method, url=call.shown_url
            ) from None
        except (aiohttp.ServerTimeoutError, asyncio.TimeoutError):
            raise RequestTimeout(
                "no answer in time", method=call.method, url=call.shown_url
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionLost(
                f"connection lost: {_describe(exc)}", method=call.method, url=call.shown_url
            ) from None
        request_id = _request_id(response_headers)
        logger.debug(
            "%s %s -> %d (request id %s) in %.1f ms",
            call.method,
            call.shown_url,
            status,
            request_id,
            (self._monotonic() - started) * 1000,
        )
        if status >= 300:
            error = self._error(status, payload, response_headers, call)
            if isinstance(error, AuthError):
                start, _, end = self._signer.key_time(signed_at).partition(";")
                offset = clockskew.correction(
                    error.code,
                    error.message,
                    response_headers.get("Date"),
                    window=(int(start), int(end)),
                    now=self._clock(),
                )
                if offset is not None:
                    raise _Skewed(error, offset)
            raise error
        try:
            tree = xmlcodec.parse(payload, max_bytes=self._max_response_bytes)
        except xmlcodec.XMLError as exc:
            raise MalformedResponse(
                str(exc),
                method=call.method,
                url=call.shown_url,
                status=status,
                request_id=request_id,
            ) from None
        if call.root not in tree:
            raise MalformedResponse(
                f"expected <{call.root}>, got <{next(iter(tree))}>",
                method=call.method,
                url=call.shown_url,
                status=status,
                request_id=request_id,
            )
        children = tree[call.root]
        if children is None:
            children = {}
        if not isinstance(children, dict):
            raise MalformedResponse(
                f"<{call.root}> has no child elements",
                method=call.method,
                url=call.shown_url,
                status=status,
                request_id=request_id,
            )
        return Response(status, request_id or _text(children.get("RequestId")), children)

    async def _read(self, response: aiohttp.ClientResponse, call: _Call) -> bytes:
        limit = self._max_response_bytes
        declared = response.content_length
        if declared is not None and declared > limit:
            raise self._too_large(
                response, call, f"of {declared} bytes exceeds the limit of {limit} bytes"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise self._too_large(response, call, f"exceeds the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(
        self, response: aiohttp.ClientResponse, call: _Call, detail: str
    ) -> CosAuditError:
        if response.status >= 300:
            # An error answer stays the error of its status, only its body unread: a 503 is
            # still turned away (resent), a 500 on a submission still ambiguous.
            return self._error(
                response.status, b"", response.headers, call, f"error body {detail}, not read"
            )
        return MalformedResponse(
            f"answer {detail}",
            method=call.method,
            url=call.shown_url,
            status=response.status,
            request_id=_request_id(response.headers),
        )

    def _error(
        self,
        status: int,
        payload: bytes,
        headers: Mapping[str, str],
        call: _Call,
        unread: str = "the service answered with no error body",
    ) -> ServiceError:
        code = message = ""
        request_id = _request_id(headers)
        trace_id = headers.get("x-ci-trace-id") or headers.get("x-cos-trace-id")
        try:
            error = xmlcodec.parse(payload, max_bytes=self._max_response_bytes).get("Error") or {}
        except xmlcodec.XMLError:
            error = {}
        if isinstance(error, dict):
            code = _text(error.get("Code")) or ""
            message = _text(error.get("Message")) or ""
            request_id = request_id or _text(error.get("RequestId"))
            trace_id = trace_id or _text(error.get("TraceId"))
        return service_error(
            status,
            code or f"HTTP{status}",
            message or unread,
            request_id=request_id,
            trace_id=trace_id,
            method=call.method,
            url=call.shown_url,
        )


@define(frozen=True, slots=True)
class _Call:
    """Everything needed to (re)send one request; holds no credentials."""

    method: str
    url: str = field(repr=False)
    shown_url: str
    host: str
    service: Service
    signed_path: str
    params: dict[str, str] = field(repr=False)  # a detect-url may be a pre-signed URL
    body: bytes | None = field(repr=False)
    root: str
