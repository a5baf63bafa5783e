"""The HTTP session: sign, send, retry where safe, parse the XML, map errors to exceptions.

It knows hosts, signatures and status codes; it knows nothing of jobs or polling.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from typing import Any

import aiohttp
from attrs import define, field
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from yarl import URL

from . import xmlcodec
from .config import RetryPolicy, Timeouts
from .credentials import Credentials, CredentialsProvider
from .endpoints import Endpoints, Service
from .errors import (
    AuthError,
    ClientStateError,
    ConnectError,
    ConnectionLost,
    MalformedResponse,
    RequestTimeout,
    ServerError,
    ServiceError,
    ThrottledError,
    service_error,
)
from .signing import Signer, encode

__all__ = ["Response", "RetryEvent", "Session"]

logger = logging.getLogger("cosaudit")

# Codes after which a credentials provider is asked for fresh keys and the request re-signed once.
_REFRESH_CODES = frozenset(
    {"ExpiredToken", "SignatureExpired", "InvalidAccessKeyId", "SecretidNotExist"}
)
# Ask the provider again this many seconds before temporary credentials expire.
_REFRESH_MARGIN = 300.0


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
    """One retry about to happen, handed to the ``on_retry`` hook."""

    method: str
    url: str
    attempt: int
    wait: float
    error: BaseException


def is_retryable(error: BaseException, *, idempotent: bool) -> bool:
    """Whether a failed request may be sent again.

    Any request: connection refused (nothing was sent), 429/``SlowDown`` and 503 (the service
    turned it away). Only queries (``idempotent``): timeouts, broken connections, malformed
    answers and other 5xx, after which a submission may have been accepted.
    """
    if isinstance(error, ConnectError | ThrottledError):
        return True
    if isinstance(error, ServerError) and error.status == 503:
        return True
    if not idempotent:
        return False
    return isinstance(error, RequestTimeout | ConnectionLost | MalformedResponse | ServerError)


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


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _request_id(headers: Mapping[str, str]) -> str | None:
    return headers.get("x-ci-request-id") or headers.get("x-cos-request-id")


class Session:
    """An open connection pool to one bucket's CI and COS hosts.

    Use as ``async with Session(...) as session``. Requests are signed with fresh credentials
    (or ones from a provider), retried per :class:`RetryPolicy`, and answered as
    :class:`Response` or a :class:`~cosaudit.errors.CosAuditError`.

    Args:
        clock: wall-clock seconds for signatures (injectable for tests).
        monotonic, sleep: measure and wait retry backoff (injectable so tests never wait).
        limit: connections kept open at most.
        verify_ssl: verify TLS certificates; switch off only explicitly, for a test endpoint.
        on_retry: called with a :class:`RetryEvent` before each retry.
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
    ) -> None:
        self.endpoints = endpoints
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._signer = signer or Signer()
        self._credentials_source = credentials
        self._cached: Credentials | None = (
            credentials if isinstance(credentials, Credentials) else None
        )
        self._refresh_lock = asyncio.Lock()
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._limit = limit
        self._verify_ssl = verify_ssl
        self._on_retry = on_retry
        self._max_response_bytes = max_response_bytes
        self._http: aiohttp.ClientSession | None = None
        self._state = _State.UNOPENED

    def __repr__(self) -> str:
        return f"<Session {self.endpoints.bucket} {self.endpoints.region} {self._state.value}>"

    async def __aenter__(self) -> Session:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Create the connection pool; a session opens once."""
        if self._state is not _State.UNOPENED:
            raise ClientStateError(f"session is {self._state.value}; it can be opened once")
        timeout = aiohttp.ClientTimeout(
            total=self.timeouts.total,
            sock_connect=self.timeouts.connect,
            sock_read=self.timeouts.read,
        )
        connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._verify_ssl)
        self._http = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            raise_for_status=False,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),  # the API sets none; never replay strangers'
        )
        self._state = _State.OPEN

    async def close(self) -> None:
        """Close every connection; closing twice is harmless."""
        if self._http is not None:
            await self._http.close()
            self._http = None
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
            return await self._with_retries(call, idempotent)
        except AuthError as error:
            if error.code not in _REFRESH_CODES or isinstance(
                self._credentials_source, Credentials
            ):
                raise
            # The service rejected the request, so sending it again cannot duplicate it.
            logger.info("credentials rejected (%s); asking the provider again", error.code)
            self._cached = None
            return await self._with_retries(call, idempotent)

    async def _with_retries(self, call: _Call, idempotent: bool) -> Response:
        started = self._monotonic()
        policy = self.retry

        out_of_attempts = stop_after_attempt(policy.attempts)

        def past_deadline(state: RetryCallState) -> bool:
            # tenacity computes the wait before asking to stop: no attempt may start late.
            elapsed = self._monotonic() - started
            return elapsed + state.upcoming_sleep >= policy.deadline

        retrying = AsyncRetrying(
            stop=lambda state: out_of_attempts(state) or past_deadline(state),
            wait=wait_random_exponential(multiplier=policy.initial, max=policy.maximum),
            retry=retry_if_exception(lambda exc: is_retryable(exc, idempotent=idempotent)),
            sleep=self._sleep,
            before_sleep=lambda state: self._report_retry(call, state),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(call)
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    def _report_retry(self, call: _Call, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.debug(
            "retrying %s %s in %.2fs after attempt %d: %r",
            call.method,
            call.shown_url,
            wait,
            state.attempt_number,
            error,
        )
        if self._on_retry is not None and error is not None:
            event = RetryEvent(call.method, call.shown_url, state.attempt_number, wait, error)
            self._on_retry(event)

    async def _credentials(self) -> Credentials:
        cached = self._cached
        if cached is not None and (
            cached.expires_at is None or cached.expires_at - self._clock() > _REFRESH_MARGIN
        ):
            return cached
        source = self._credentials_source
        if isinstance(source, Credentials):
            return source
        async with self._refresh_lock:
            if self._cached is None or self._cached is cached:
                fresh = await source()
                if not isinstance(fresh, Credentials):
                    raise TypeError("the credentials provider must return Credentials")
                self._cached = fresh
            return self._cached

    async def _attempt(self, call: _Call) -> Response:
        assert self._http is not None
        credentials = await self._credentials()
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
        headers["Authorization"] = self._signer.sign(
            credentials.secret_id,
            credentials.secret_key,
            call.method,
            call.signed_path,
            call.params,
            headers,
            self._clock(),
        )
        started = self._monotonic()
        try:
            # Redirects are not followed: aiohttp would resend the body and our token header
            # to wherever Location points. A 3xx is an <Error> answer (spec §2.4).
            async with self._http.request(
                call.method,
                URL(call.url, encoded=True),
                headers=headers,
                # aiohttp writes a large bytes body in one go and warns; stream it instead.
                data=io.BytesIO(call.body) if call.body is not None else None,
                allow_redirects=False,
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
            raise self._error(status, payload, response_headers, call)
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
            raise MalformedResponse(
                f"answer of {declared} bytes exceeds the limit of {limit} bytes",
                method=call.method,
                url=call.shown_url,
                status=response.status,
                request_id=_request_id(response.headers),
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise MalformedResponse(
                    f"answer exceeds the limit of {limit} bytes",
                    method=call.method,
                    url=call.shown_url,
                    status=response.status,
                    request_id=_request_id(response.headers),
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _error(
        self, status: int, payload: bytes, headers: Mapping[str, str], call: _Call
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
            message or "the service answered with no error body",
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
    params: dict[str, str]
    body: bytes | None = field(repr=False)
    root: str
