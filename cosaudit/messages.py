"""One HTTP exchange as data: the call, a signed request, the raw answer, and reading it.

Pure (no I/O): the auth flow turns a :class:`Call` into a signed :class:`Request`, a transport
turns that into a :class:`RawResponse`, and :func:`read` makes that a :class:`Response` or
raises our error for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import define, field

from .endpoints import Service
from .errors import CosAuditError, MalformedResponse, ServiceError, service_error
from .wire import xmlcodec

__all__ = ["Call", "RawResponse", "Request", "Response", "read", "request_id"]


@define(frozen=True, slots=True)
class Call:
    """Everything needed to (re)send one API call; holds no credentials."""

    method: str
    url: str = field(repr=False)
    shown_url: str  # the URL with parameter values cut: safe for logs and errors
    host: str
    service: Service
    signed_path: str
    params: dict[str, str] = field(repr=False)  # a detect-url may be a pre-signed URL
    body: bytes | None = field(repr=False)
    root: str


@define(frozen=True, slots=True)
class Request:
    """One signed attempt of a call: its headers carry the signature and any token."""

    call: Call
    headers: dict[str, str] = field(repr=False)
    signed_at: float


@define(frozen=True, slots=True)
class RawResponse:
    """What a transport read: status, headers and body, unparsed.

    ``oversize`` says why the body was not read (it exceeded the size cap); ``body`` is then
    empty. ``headers`` must look names up case-insensitively, as HTTP names are (aiohttp's
    ``CIMultiDictProxy``, or ``multidict.CIMultiDict`` in a test transport): the request id
    and the ``Date`` of clock-skew correction are read from it.
    """

    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    oversize: str | None = None


@define(frozen=True, slots=True)
class Response:
    """A successful answer: the status, the request id and the parsed root element's children."""

    status: int
    request_id: str | None
    body: Mapping[str, Any] = field(repr=False)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def request_id(headers: Mapping[str, str]) -> str | None:
    """The service's id of the request, from whichever host answered."""
    return headers.get("x-ci-request-id") or headers.get("x-cos-request-id")


def read(call: Call, raw: RawResponse, max_bytes: int) -> Response:
    """The children of ``call.root`` in a 2xx answer; any other answer raises our error.

    A 3xx is an error too: redirects are never followed (page 1045/43611).
    """
    status = raw.status
    if status >= 300:
        raise _error(call, raw, max_bytes)
    rid = request_id(raw.headers)
    if raw.oversize is not None:
        raise _malformed(call, f"answer {raw.oversize}", status, rid)
    try:
        tree = xmlcodec.parse(raw.body, max_bytes=max_bytes)
    except xmlcodec.XMLError as exc:
        error: CosAuditError = _malformed(call, str(exc), status, rid)
    else:
        if call.root not in tree:
            raise _malformed(call, f"expected <{call.root}>, got <{next(iter(tree))}>", status, rid)
        children = tree[call.root]
        if children is None:
            children = {}
        if not isinstance(children, dict):
            raise _malformed(call, f"<{call.root}> has no child elements", status, rid)
        return Response(status, rid or _text(children.get("RequestId")), children)
    raise error  # outside the except: no parser exception in its context


def _malformed(call: Call, detail: str, status: int, rid: str | None) -> MalformedResponse:
    return MalformedResponse(
        detail, method=call.method, url=call.shown_url, status=status, request_id=rid
    )


def _error(call: Call, raw: RawResponse, max_bytes: int) -> ServiceError:
    """The error of a non-2xx answer, from its ``<Error>`` body where that is readable."""
    code = message = ""
    headers = raw.headers
    rid = request_id(headers)
    trace_id = headers.get("x-ci-trace-id") or headers.get("x-cos-trace-id")
    if raw.oversize is not None:
        # An error answer stays the error of its status, only its body unread: a 503 is
        # still turned away (resent), a 500 on a submission still ambiguous.
        unread = f"error body {raw.oversize}, not read"
        error: Any = {}
    else:
        unread = "the service answered with no error body"
        try:
            error = xmlcodec.parse(raw.body, max_bytes=max_bytes).get("Error") or {}
        except xmlcodec.XMLError:
            error = {}
    if isinstance(error, dict):
        code = _text(error.get("Code")) or ""
        message = _text(error.get("Message")) or ""
        rid = rid or _text(error.get("RequestId"))
        trace_id = trace_id or _text(error.get("TraceId"))
    return service_error(
        raw.status,
        code or f"HTTP{raw.status}",
        message or unread,
        request_id=rid,
        trace_id=trace_id,
        method=call.method,
        url=call.shown_url,
    )
