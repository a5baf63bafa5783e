"""How a request fault (:mod:`cosaudit.emulator.faults`) acts on the HTTP exchange.

:func:`before` runs once the request is authenticated and before it is routed; :func:`after`
gets the answer the request would have had. A dropped connection is a TCP reset (``SO_LINGER``
0, then abort), so the client sees ``ECONNRESET`` rather than a clean end of stream; aiohttp
then fails writing the placeholder answer the handler returns, and ignores that quietly.

Choices beyond the spec (which documents none of these failures):

* ``truncated`` cuts the XML document, not the HTTP message: ``Content-Length`` matches what is
  sent, so the client reads a complete HTTP answer whose body does not parse;
* ``malformed`` renames the last end tag (``</Response>`` becomes ``</Broken>``);
* ``wrong-type`` answers the HTML page a proxy or captive portal would;
* these three force status 200 and keep the real answer's ``Server`` and request-id headers;
* a ``slow`` answer interrupted by shutdown is dropped rather than sent, as a server going away
  would do.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable

from aiohttp import hdrs, web

from cosaudit.emulator.faults import Fault, FaultKind, Phase
from cosaudit.emulator.responses import ApiError, Dialect
from cosaudit.emulator.service import Service

__all__ = ["WRONG_TYPE_PAGE", "ErrorAnswer", "after", "before", "drop_connection"]

WRONG_TYPE_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Gateway</title></head>"
    b"<body><h1>Please wait</h1><p>Your request is being processed.</p></body></html>\n"
)
_CUT_HEADERS = frozenset({"content-length", "content-type"})

# Builds the <Error> answer of the request (its dialect, request id, resource).
ErrorAnswer = Callable[[ApiError], web.Response]


def drop_connection(request: web.BaseRequest) -> web.Response:
    """Reset the request's connection; return the placeholder answer aiohttp will fail to send."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response()


async def _delay(fault: Fault, service: Service) -> bool:
    """Wait the fault's delay; False if the emulator began shutting down meanwhile."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(service.stopping.wait(), fault.delay or 0.0)
    return not service.stopping.is_set()


def _error(fault: Fault, dialect: Dialect) -> ApiError:
    status = fault.error_status(cos_host=dialect is Dialect.COS)
    return ApiError(status, fault.code or "InternalError", fault.message or "")


async def before(
    fault: Fault, request: web.BaseRequest, service: Service, dialect: Dialect
) -> web.Response | None:
    """Act before processing: an answer to give instead, or None to go on processing.

    Error faults raise :class:`ApiError`, answered like any other error.
    """
    if fault.phase is not Phase.BEFORE:
        return None
    if fault.kind.is_error:
        raise _error(fault, dialect)
    if fault.kind is FaultKind.RESET:
        return drop_connection(request)
    if fault.kind is FaultKind.SLOW and not await _delay(fault, service):
        return drop_connection(request)
    return None


def _malformed(body: bytes) -> bytes:
    end = body.rfind(b"</")
    close = body.find(b">", end)
    if end < 0 or close < 0:
        return b'<?xml version="1.0" encoding="utf-8"?>\n<Response>'
    return body[:end] + b"</Broken" + body[close:]


def _replace_body(answer: web.StreamResponse, body: bytes, content_type: str) -> web.Response:
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in _CUT_HEADERS}
    headers[hdrs.CONTENT_TYPE] = content_type
    return web.Response(status=200, body=body, headers=headers)


async def after(
    fault: Fault,
    answer: web.StreamResponse,
    request: web.BaseRequest,
    service: Service,
    dialect: Dialect,
    error_answer: ErrorAnswer,
) -> web.StreamResponse:
    """Act on the processed request's ``answer``: the answer to give instead."""
    if fault.phase is not Phase.AFTER:
        return answer
    if fault.kind.is_error:
        return error_answer(_error(fault, dialect))
    if fault.kind is FaultKind.RESET:
        return drop_connection(request)
    if fault.kind is FaultKind.SLOW:
        return answer if await _delay(fault, service) else drop_connection(request)
    body = answer.body if isinstance(answer, web.Response) else None
    real = body if isinstance(body, bytes) else b""
    if fault.kind is FaultKind.TRUNCATED:
        return _replace_body(answer, real[: len(real) // 2], "application/xml")
    if fault.kind is FaultKind.MALFORMED:
        return _replace_body(answer, _malformed(real), "application/xml")
    if fault.kind is FaultKind.WRONG_TYPE:
        return _replace_body(answer, WRONG_TYPE_PAGE, "text/html; charset=utf-8")
    return answer
