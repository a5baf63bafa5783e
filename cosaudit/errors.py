"""Every exception cosaudit raises, in one tree.

::

    CosAuditError
    ├── InvalidInput (also ValueError)      bad input, raised before anything is sent
    │   └── LimitExceeded                    a documented limit (size, count, length) is exceeded
    ├── ClientStateError                    client used before open or after close
    ├── MissingCredentials (also KeyError)  no keys given and none in the environment
    ├── TransportError                      no usable HTTP answer
    │   ├── ConnectError                    the connection could not be made (nothing was sent)
    │   ├── RequestTimeout                  no answer in time (the request may have been processed)
    │   ├── ConnectionLost                  the connection broke mid-request
    │   └── MalformedResponse               an answer that is not the documented XML
    ├── ServiceError                        the service answered with an <Error> body
    │   ├── AuthError                       401/403: signature, key, token, permission
    │   ├── NotFoundError                   404: AuditingJobNotFound, NoSuchKey, ...
    │   ├── InvalidArgumentError            400: the service rejected an argument or body
    │   ├── ThrottledError                  429/503 SlowDown: retry later
    │   └── ServerError                     5xx
    ├── SubmissionUnknown                   a submit failed after the service may have accepted it
    ├── JobFailed                           a job ended in State=Failed (carries the job)
    ├── CallbackError (also ValueError)     a pushed callback body of no documented shape
    └── JobTimeout                          not final by the deadline (carries the last job)

Every service error carries ``status``, ``code``, ``message``, ``request_id`` and ``trace_id``.
No exception ever carries credentials or the ``Authorization`` value.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "CallbackError",
    "ClientStateError",
    "ConnectError",
    "ConnectionLost",
    "CosAuditError",
    "InvalidArgumentError",
    "InvalidInput",
    "JobFailed",
    "JobTimeout",
    "LimitExceeded",
    "MalformedResponse",
    "MissingCredentials",
    "NotFoundError",
    "RequestTimeout",
    "ServerError",
    "ServiceError",
    "SubmissionUnknown",
    "ThrottledError",
    "TransportError",
    "service_error",
]


class CosAuditError(Exception):
    """Root of every error cosaudit raises."""


class InvalidInput(CosAuditError, ValueError):
    """An argument was rejected locally, before anything was sent.

    Attributes:
        field: the request node or argument at fault, e.g. ``Input.DataId``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class LimitExceeded(InvalidInput):
    """A documented limit was exceeded; ``limit`` and ``actual`` say by how much."""

    def __init__(self, field: str, limit: int, actual: int, unit: str) -> None:
        super().__init__(field, f"{actual} {unit} exceeds the limit of {limit} {unit}")
        self.limit = limit
        self.actual = actual
        self.unit = unit


class ClientStateError(CosAuditError, RuntimeError):
    """The client was used before it was opened or after it was closed."""


class MissingCredentials(CosAuditError, KeyError):
    """No credentials were given and the environment names none.

    Also a ``KeyError`` (what :meth:`Credentials.from_env` raised before it had a type of
    its own), but printed as a sentence, not as a quoted key.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class TransportError(CosAuditError):
    """No usable HTTP answer was received.

    Attributes:
        method, url: the request (the URL carries no credentials).
    """

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(f"{message} ({method} {url})" if method else message)
        self.method = method
        self.url = url


class ConnectError(TransportError):
    """The connection could not be established: the service cannot have seen the request."""


class RequestTimeout(TransportError):
    """The service did not answer in time; it may still have processed the request."""


class ConnectionLost(TransportError):
    """The connection broke after the request was sent; it may have been processed."""


class MalformedResponse(TransportError):
    """The answer was not the documented XML (truncated, wrong type, unexpected root)."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: int = 0,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        self.request_id = request_id


class ServiceError(CosAuditError):
    """The service answered with an error body.

    Attributes:
        status: HTTP status. code: the ``<Code>`` (e.g. ``SlowDown``). message: ``<Message>``.
        request_id: ``x-ci-request-id``/``x-cos-request-id`` or ``<RequestId>``.
        trace_id: ``<TraceId>`` or ``x-ci-trace-id``. method, url: the request.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        trace_id: str | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(f"HTTP {status} {code}: {message} (request id {request_id})")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.trace_id = trace_id
        self.method = method
        self.url = url


class AuthError(ServiceError):
    """Authentication or permission failed (signature, key, token, clock, policy)."""


class NotFoundError(ServiceError):
    """The job, object or bucket does not exist (``AuditingJobNotFound``, ``NoSuchKey``...)."""


class InvalidArgumentError(ServiceError):
    """The service rejected an argument or the request body."""


class ThrottledError(ServiceError):
    """The service asked to slow down (``SlowDown``, 429 on CI, 503 on COS)."""


class ServerError(ServiceError):
    """The service failed internally (5xx)."""


_BY_CODE: dict[str, type[ServiceError]] = {
    "SlowDown": ThrottledError,
    "QueueSaturated": ThrottledError,
    "QueuePaused": ThrottledError,
    "AuditingJobNotFound": NotFoundError,
    "NoSuchKey": NotFoundError,
    "NoSuchBucket": NotFoundError,
    "ResourceNotFound": NotFoundError,
    "InvalidArgument": InvalidArgumentError,
    "MalformedXML": InvalidArgumentError,
    "InvalidContent": InvalidArgumentError,
    "MissingContent": InvalidArgumentError,
    "MissingAuthorization": AuthError,
    "InvalidAuthorization": AuthError,
    "AccessDenied": AuthError,
    "SecretidNotExist": AuthError,
    "SignatureExpired": AuthError,
    "SignatureDoesNotMatch": AuthError,
    "InvalidAccessKeyId": AuthError,
    "ExpiredToken": AuthError,
    "RequestTimeTooSkewed": AuthError,
}


def service_error(
    status: int,
    code: str,
    message: str,
    *,
    request_id: str | None = None,
    trace_id: str | None = None,
    method: str = "",
    url: str = "",
) -> ServiceError:
    """The most specific :class:`ServiceError` for a code and status."""
    cls = _BY_CODE.get(code)
    if cls is None:
        if status in (401, 403):
            cls = AuthError
        elif status == 404:
            cls = NotFoundError
        elif status == 429:
            cls = ThrottledError
        elif status >= 500:
            cls = ServerError
        elif status == 400:
            cls = InvalidArgumentError
        else:
            cls = ServiceError
    return cls(
        status, code, message, request_id=request_id, trace_id=trace_id, method=method, url=url
    )


class SubmissionUnknown(CosAuditError):
    """A submit failed in a way that leaves open whether the service accepted it.

    Raised after a 500, a read timeout or a connection dropped once the body was sent, when the
    ambiguous-submission policy says to report rather than resubmit (resubmitting could bill and
    moderate the item twice). Reconcile by ``data_id`` (e.g. from callbacks or a later listing).

    Attributes:
        kind: the job kind path segment, e.g. ``"text"``. data_id: the request's ``DataId``
        (or None). cause: the transport or service error that made the outcome unknown.
        data_ids: every ``DataId`` of the request, in order (a batch has several; a single
        submission has ``(data_id,)``). status, request_id: the cause's, when it has them.
    """

    def __init__(
        self,
        kind: str,
        data_id: str | None,
        cause: CosAuditError,
        *,
        data_ids: tuple[str | None, ...] | None = None,
    ) -> None:
        self.kind = kind
        self.data_id = data_id
        self.cause = cause
        self.data_ids: tuple[str | None, ...] = (data_id,) if data_ids is None else data_ids
        self.status: int | None = getattr(cause, "status", None)
        self.request_id: str | None = getattr(cause, "request_id", None)
        shown = f"DataId={data_id!r}" if len(self.data_ids) <= 1 else f"{len(self.data_ids)} items"
        super().__init__(f"{kind} submission may or may not have been accepted ({shown}): {cause}")


class JobFailed(CosAuditError):
    """A job ended ``Failed``; ``job`` is the final job, ``code``/``message`` its reason."""

    def __init__(self, job: Any) -> None:
        self.job = job
        self.code: str | None = getattr(job, "code", None)
        self.message: str | None = getattr(job, "message", None)
        super().__init__(f"job {getattr(job, 'job_id', '?')} failed: {self.code}: {self.message}")


class CallbackError(CosAuditError, ValueError):
    """A callback body is not one of the documented shapes (Simple or Detail, page 436/48190),
    or not the kind of job it was expected to be; ``reason`` says what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"callback: {reason}")
        self.reason = reason


class JobTimeout(CosAuditError, TimeoutError):
    """A job was still pending at the deadline; ``job`` is the last state seen (or None)."""

    def __init__(self, job_id: str, timeout: float, job: Any = None) -> None:
        self.job_id = job_id
        self.timeout = timeout
        self.job = job
        state = getattr(job, "state", None)
        super().__init__(f"job {job_id} not final after {timeout:g}s (last state {state})")
