"""The transport: one attempt over the network, and nothing more.

A :class:`Transport` sends one signed :class:`~cosaudit.messages.Request` and returns the
:class:`~cosaudit.messages.RawResponse`, read up to the size cap, or raises
:class:`~cosaudit.errors.ConnectError`, :class:`~cosaudit.errors.RequestTimeout` or
:class:`~cosaudit.errors.ConnectionLost`. It never retries, never follows a redirect and never
parses. :class:`AiohttpTransport` is the one sessions use; a test may pass its own (one that
answers in-process) as ``Session(transport=...)``. This is the only client module that
imports aiohttp.
"""

from __future__ import annotations

import asyncio
import io
from typing import Protocol

import aiohttp
from aiohttp import hdrs
from yarl import URL

from .config import Timeouts
from .errors import ConnectError, ConnectionLost, CosAuditError, RequestTimeout
from .messages import Call, RawResponse, Request

__all__ = ["AiohttpTransport", "Transport", "drop_foreign_context"]


class Transport(Protocol):
    """Sends one request; ``timeout`` is the seconds left of its call's deadline."""

    async def send(self, request: Request, timeout: float) -> RawResponse: ...

    async def close(self) -> None: ...


def _describe(error: BaseException) -> str:
    """A transport failure in words that cannot carry our headers.

    aiohttp's exceptions hold the request (``RequestInfo``) and their repr prints its headers,
    ``Authorization`` and the security token included, so only chosen fields are used.
    """
    if isinstance(error, aiohttp.ClientResponseError):
        # Its message may quote the server's bytes (a parse error): a line of it, not 100 KB.
        return f"{type(error).__name__} (HTTP {error.status}: {error.message[:200]})"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"{type(error).__name__} ({error.host}:{error.port}: {error.os_error.strerror})"
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__} ({error.strerror})"
    return type(error).__name__


def drop_foreign_context(error: BaseException) -> None:
    """Unlink the foreign exceptions our errors were raised over (``raise ... from None``).

    ``from None`` only hides them from tracebacks: ``__context__`` still holds them, and an
    aiohttp exception's ``RequestInfo`` carries our headers, ``Authorization`` and the security
    token included.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.__suppress_context__ and not isinstance(current.__context__, CosAuditError):
            current.__context__ = None
        current = current.__cause__ or current.__context__


def _where(call: Call) -> dict[str, str]:
    return {"method": call.method, "url": call.shown_url}


# Bodies up to this size go to aiohttp as bytes: written with the headers in one segment. Larger
# ones are streamed from a BytesIO, as aiohttp warns (and writes in one go) above 1 MiB of bytes.
_STREAM_ABOVE = 64 * 1024


def _payload(body: bytes | None) -> bytes | io.BytesIO | None:
    if body is None or len(body) <= _STREAM_ABOVE:
        return body
    return io.BytesIO(body)


class AiohttpTransport:
    """An aiohttp connection pool; create it inside the running event loop.

    Args:
        limit: connections kept open at most.
        verify_ssl: verify TLS certificates.
        max_response_bytes: the largest body read; a larger one is left unread
            (``RawResponse.oversize``).
    """

    def __init__(
        self, timeouts: Timeouts, *, limit: int, verify_ssl: bool, max_response_bytes: int
    ) -> None:
        self._timeouts = timeouts
        self._max_bytes = max_response_bytes
        # The configured limits, built once: every attempt the call's deadline does not cut
        # uses this one (a ClientTimeout costs about 9 k instructions to build).
        self._limits = aiohttp.ClientTimeout(
            total=timeouts.total, sock_connect=timeouts.connect, sock_read=timeouts.read
        )
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, ssl=verify_ssl),
            timeout=self._limits,
            raise_for_status=False,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),  # the API sets none; never replay strangers'
        )
        # aiohttp resends a GET once, unseen, when the connection drops: the single-image GET
        # is a billed submission, so that made a second job no one knew of. Every resend is
        # decided by the retry loop instead (a query's is counted, budgeted and reported). No
        # public switch exists (aiohttp 3.11 has this private one, hence the floor);
        # tests/test_client_faults.py fails if it stops working.
        if hasattr(self._http, "_retry_connection"):
            self._http._retry_connection = False

    async def close(self) -> None:
        await self._http.close()

    def _timeout(self, remaining: float) -> aiohttp.ClientTimeout:
        """One attempt's limits: the configured ones, the total cut to the call's deadline."""
        total = self._timeouts.total
        if total is not None and total <= remaining:
            return self._limits
        return aiohttp.ClientTimeout(
            total=remaining, sock_connect=self._timeouts.connect, sock_read=self._timeouts.read
        )

    async def send(self, request: Request, timeout: float) -> RawResponse:
        call = request.call
        try:
            # Redirects are not followed: aiohttp would resend the body and our token header
            # to wherever Location points. A 3xx is an <Error> answer (page 1045/43611).
            async with self._http.request(
                call.method,
                URL(call.url, encoded=True),
                headers=request.headers,
                data=_payload(call.body),
                allow_redirects=False,
                timeout=self._timeout(timeout),
            ) as response:
                return await self._read(response)
        except aiohttp.ConnectionTimeoutError:
            error: CosAuditError = ConnectError("connect timeout", **_where(call))
        except (aiohttp.ClientConnectorError, ConnectionRefusedError) as exc:
            error = ConnectError(f"cannot connect: {_describe(exc)}", **_where(call))
        except (aiohttp.ServerTimeoutError, asyncio.TimeoutError):
            error = RequestTimeout("no answer in time", **_where(call))
        except (aiohttp.ClientError, OSError) as exc:
            error = ConnectionLost(f"connection lost: {_describe(exc)}", **_where(call))
        # Raised outside the except clauses, so the aiohttp exception (whose RequestInfo
        # holds our headers) is not even in its __context__.
        raise error

    async def _read(self, response: aiohttp.ClientResponse) -> RawResponse:
        limit = self._max_bytes
        declared = response.content_length
        if declared is not None and declared > limit:
            detail = f"of {declared} bytes exceeds the limit of {limit} bytes"
            return RawResponse(response.status, response.headers, b"", detail)
        if declared is not None and hdrs.CONTENT_ENCODING not in response.headers:
            # aiohttp reads no more than a declared length: one read, no chunk loop. Not for a
            # compressed answer: the length counts what came over the wire, and aiohttp unpacks
            # it (a 16 MB gzip body unpacks to 16 GB), so the loop counts what it unpacks to.
            return RawResponse(response.status, response.headers, await response.read())
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                detail = f"exceeds the limit of {limit} bytes"
                return RawResponse(response.status, response.headers, b"", detail)
            chunks.append(chunk)
        return RawResponse(response.status, response.headers, b"".join(chunks))
