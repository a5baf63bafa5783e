"""The aiohttp application: one catch-all handler that routes by path (the ``Host`` only keeps
the bucket listing, a COS-host route, off the CI host: :func:`front_of`).

Each request goes: count it → query names that clash (400) → signature check (against the
emulator's clock, :meth:`Service.server_time`) → APPID of the host → the API's rate limit
(``SlowDown`` beyond it, :mod:`cosaudit.emulator.ratelimits`) → injected fault, before phase? →
route → body (size-capped, ``Content-MD5``) → kind handler → injected fault, after phase? →
``Date`` header from the emulator's clock. Faults come after the signature check, so an
unsigned or badly signed request never uses one up and a fault still looks like the service
answering an authenticated caller (see :mod:`cosaudit.emulator.faults`).

The dialect of every answer, errors included, follows the route: the single-image GET
(``?ci-process=sensitive-content-recognition``) and the bucket listing (``GET /``) answer as
COS, everything else as CI. Unknown
paths are 404 ``InvalidUrl``; a known path with another method is 405 ``MethodNotAllowed`` (a COS
code: the CI table has none); an oversized body is 413 ``InvalidContent``; a body that does not
match its ``Content-MD5`` header (base64 of the binary MD5; a header that is not one counts as a
mismatch) is 400 ``InvalidContent`` (page 1045/43611).

A ``Host`` of the service's form ``<bucket>-<APPID>.(ci|cos).<region>.myqcloud.com`` names the
bucket's owner: when that APPID is not ``EmulatorConfig.appid`` the answer is 403
``AccessDenied`` (the bucket is someone else's); when the APPID is the account's but the name is
not ``EmulatorConfig.bucket``, 404 ``NoSuchBucket`` (the CI table's code for a missing bucket,
page 1045/43611; COS answers the same). Any other host — an IP address, ``localhost``,
what the official SDK sends with ``IP=`` — is not checked.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Mapping, Sequence

from aiohttp import hdrs, web

from cosaudit.emulator import injection
from cosaudit.emulator.auth import parse_query, refuse_clashes, verify
from cosaudit.emulator.config import EmulatorConfig
from cosaudit.emulator.faults import Fault, current_request
from cosaudit.emulator.kinds import Route, callback, routes
from cosaudit.emulator.kinds.base import Call
from cosaudit.emulator.requestlog import RequestRecord, job_id_in
from cosaudit.emulator.responses import ApiError, Dialect, error_response
from cosaudit.emulator.service import Service

__all__ = ["SERVICE", "UNROUTED", "create_app", "front_of"]

logger = logging.getLogger("cosaudit.emulator")

SERVICE = web.AppKey("cosaudit_emulator_service", Service)
# How Stats.requests names requests that match no route (an unknown path or method).
UNROUTED = "(no route)"
_ROUTES = web.AppKey("cosaudit_emulator_routes", tuple)


def _resolve(
    table: Sequence[Route],
    method: str,
    path: str,
    query: Mapping[str, str],
    front: Dialect | None = None,
) -> tuple[Route | None, dict[str, str], bool]:
    """The route for the request, its path groups, and whether the path exists at all."""
    path_known = False
    for route in table:
        if route.ci_process is not None and query.get("ci-process") != route.ci_process:
            continue
        if route.front is not None and front not in (None, route.front):
            continue
        match = route.pattern.fullmatch(path)
        if match is None:
            continue
        if route.method == method:
            return route, match.groupdict(), True
        path_known = True
    return None, {}, path_known


async def _read_body(request: web.Request, limit: int) -> bytes:
    too_large = ApiError(413, "InvalidContent", f"The request body exceeds {limit} bytes.")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None


_SERVICE_HOST = re.compile(
    r"(?P<name>[^.]+)-(?P<appid>\d+)\.(?P<front>ci|cos)\.[^.]+\.myqcloud\.com(?::\d+)?",
    re.IGNORECASE,
)


def front_of(host: str) -> Dialect | None:
    """The front end a ``Host`` names: CI for ``<bucket>.ci.<region>.myqcloud.com``, COS for
    ``<bucket>.cos.…``, None for any other host (an IP address, ``localhost``).

    Both front ends reach the emulator on one port, so the ``Host`` header (what the request is
    signed for) is the only thing that tells them apart. Routes that exist on one front end
    only (the bucket listing, ``GET /`` on the COS host) are refused on a ``Host`` naming the
    other, as the real CI host would (404 ``InvalidUrl``); a host naming neither reaches every
    route, so a client pointed at ``127.0.0.1`` without a ``Host`` of the service's form still
    works. The official Python SDK, given ``IP=``, names the COS host for every call, CI ones
    included: routes served on both front ends therefore stay reachable from any host.
    """
    match = _SERVICE_HOST.fullmatch(host)
    if match is None:
        return None
    return Dialect.COS if match["front"].lower() == "cos" else Dialect.CI


def _check_bucket(host: str, appid: str, bucket: str | None) -> None:
    match = _SERVICE_HOST.fullmatch(host)
    if match is None:
        return
    if match["appid"] != appid:
        raise ApiError(
            403,
            "AccessDenied",
            f"The bucket belongs to APPID {match['appid']}, not to this account ({appid}).",
        )
    if bucket is not None and match["name"].lower() != bucket:
        raise ApiError(
            404,
            "NoSuchBucket",
            f"The specified bucket does not exist: {match['name']}-{appid} "
            f"(this emulator serves {bucket}-{appid}).",
        )


def _check_md5(body: bytes, header: str) -> None:
    try:
        sent = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        sent = b""
    if not hmac.compare_digest(sent, hashlib.md5(body, usedforsecurity=False).digest()):
        raise ApiError(400, "InvalidContent", "The body does not match its Content-MD5.")


async def _dispatch(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    started = time.perf_counter()
    table: tuple[Route, ...] = request.app[_ROUTES]
    request_id = service.ids.request_id()
    path = request.path
    current_request.set((request.method, path))
    # The raw query: yarl's query_string is already percent-decoded (%2500 -> %00), and
    # parse_query decodes again; a value holding '%' was read wrong and its signature refused.
    query, clashes = parse_query(request.rel_url.raw_query_string)
    route, params, path_known = _resolve(table, request.method, path, query, front_of(request.host))
    dialect = route.dialect if route else (Dialect.COS if "ci-process" in query else Dialect.CI)
    service.stats.requests[f"{request.method} {route.template if route else UNROUTED}"] += 1
    fault: Fault | None = None

    def answer_error(error: ApiError) -> web.Response:
        return error_response(
            dialect, error, request_id, service.ids.trace_id(), resource=request.host + path
        )

    try:
        refuse_clashes(clashes)
        try:
            verify(
                service.keyring,
                dialect,
                request.method,
                path,
                query,
                request.headers,
                service.server_time(),
            )
        except ApiError:
            service.stats.auth_failures += 1
            raise
        _check_bucket(request.host, service.config.appid, service.config.bucket)
        if route is not None and (api := service.rate_limits.admit(route.method, route.template)):
            service.stats.throttled[api] += 1
            # 429 on the CI host, 503 on the COS host (pages 1045/43611, 436/7730).
            status = 503 if dialect is Dialect.COS else 429
            raise ApiError(status, "SlowDown", f"Please reduce your request rate ({api}).")
        # After authentication: an unsigned request must not use up a fault a test queued, and
        # a fault still looks like the service answering an authenticated caller.
        fault = service.faults.pick(request.method, path)
        if fault is not None:
            service.stats.faults[fault.label] += 1
            instead = await injection.before(fault, request, service, dialect)
            if instead is not None:
                return instead
        if route is None:
            if path_known:
                raise ApiError(405, "MethodNotAllowed", f"{request.method} is not allowed here.")
            raise ApiError(404, "InvalidUrl", f"No API at {request.method} {path}.")
        body = await _read_body(request, service.config.max_body_bytes)
        md5 = request.headers.get("Content-MD5")
        if md5 is not None:
            _check_md5(body, md5)
        call = Call(request, service, body, params, query, request_id)
        service.callbacks.open_request()
        answer: web.StreamResponse = await route.handler(call)
        # A callback-early fault: the job's callback goes out before its submission answers.
        await service.callbacks.before_answer()
    except ApiError as error:
        answer = answer_error(error)
    except Exception:  # any bug answers like the service does, and is logged loudly
        logger.exception("emulator failed on %s %s", request.method, path)
        answer = answer_error(ApiError(500, "InternalError", "The emulator hit an internal error."))
    if fault is not None:
        answer = await injection.after(fault, answer, request, service, dialect, answer_error)
    # The emulator's clock, skewed or not: a client corrects its own from this header.
    answer.headers[hdrs.DATE] = service.http_date()
    _record(request, service, answer, params, request_id, fault, started)
    return answer


def _record(
    request: web.Request,
    service: Service,
    answer: web.StreamResponse,
    params: Mapping[str, str],
    request_id: str,
    fault: Fault | None,
    started: float,
) -> None:
    transport = request.transport
    dropped = transport is None or transport.is_closing()
    body = answer.body if isinstance(answer, web.Response) else None
    service.requests.add(
        RequestRecord(
            method=request.method,
            path=request.path,  # never the query: it may hold q-signature or a token
            status=None if dropped else answer.status,
            latency_ms=(time.perf_counter() - started) * 1000,
            request_id=request_id,
            job_id=job_id_in(params.get("job_id"), body if isinstance(body, bytes) else None),
            fault=fault.label if fault is not None else None,
        )
    )


async def _shutdown(app: web.Application) -> None:
    # aiohttp runs on_shutdown before it waits for open requests (on_cleanup comes after): a
    # query waiting on a download must be released here, or closing waits for the download.
    await app[SERVICE].shutdown()


async def _close(app: web.Application) -> None:
    await app[SERVICE].close()


def create_app(config: EmulatorConfig | None = None) -> web.Application:
    """A fresh emulator application (for ``aiohttp_client`` and friends, or :class:`Emulator`)."""
    config = config or EmulatorConfig()
    # aiohttp raises on reading a body over client_max_size; _read_body turns that into XML.
    app = web.Application(client_max_size=config.max_body_bytes)
    service = app[SERVICE] = Service(config)
    service.callbacks.producer = functools.partial(callback.progress, service)
    app[_ROUTES] = routes()
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    app.on_shutdown.append(_shutdown)
    app.on_cleanup.append(_close)
    return app
