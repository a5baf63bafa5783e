"""XML answers in the two dialects of the service: CI (job APIs) and COS (single-image GET).

CI answers carry ``Server: tencent-ci`` and ``x-ci-request-id`` (+ ``x-ci-trace-id`` on errors)
and errors have no ``<Resource>``; COS answers carry ``Server: tencent-cos`` and
``x-cos-request-id`` (+ ``x-cos-trace-id``) and errors name the ``<Resource>``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from cosaudit.emulator.xmlchars import replace_illegal
from cosaudit.wire import xmlcodec

__all__ = ["ApiError", "Dialect", "error_response", "xml_response"]

_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


class Dialect(enum.Enum):
    """Which front end answers: the CI host or the COS host."""

    CI = "ci"
    COS = "cos"

    @property
    def server(self) -> str:
        return f"tencent-{self.value}"

    @property
    def request_id_header(self) -> str:
        return f"x-{self.value}-request-id"

    @property
    def trace_id_header(self) -> str:
        return f"x-{self.value}-trace-id"


class ApiError(Exception):
    """An answer with an ``<Error>`` body: raise it anywhere in a handler."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _headers(dialect: Dialect, request_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/xml",
        "Server": dialect.server,
        dialect.request_id_header: request_id,
    }


def xml_response(
    dialect: Dialect, root: str, tree: Mapping[str, Any], request_id: str, status: int = 200
) -> web.Response:
    """A success answer with body ``<root>…</root>``."""
    body = _DECLARATION + xmlcodec.build(root, tree)
    return web.Response(status=status, body=body, headers=_headers(dialect, request_id))


def error_response(
    dialect: Dialect, error: ApiError, request_id: str, trace_id: str, resource: str
) -> web.Response:
    """The ``<Error>`` answer of ``dialect`` for ``error``.

    ``Message`` and ``Resource`` may quote the request: characters XML cannot carry become
    U+FFFD there, so the body always parses.
    """
    tree: dict[str, Any] = {"Code": error.code, "Message": replace_illegal(error.message)}
    if dialect is Dialect.COS:
        tree["Resource"] = replace_illegal(resource)
    tree["RequestId"] = request_id
    tree["TraceId"] = trace_id
    headers = _headers(dialect, request_id)
    headers[dialect.trace_id_header] = trace_id
    body = _DECLARATION + xmlcodec.build("Error", tree)
    return web.Response(status=error.status, body=body, headers=headers)
