"""The receiver's framework-neutral core: check a POST, parse it, hand it to whoever waits.

:meth:`CallbackReceiver.handle` takes a request (method, query, headers, body) and returns a
:class:`Reply`; the aiohttp and ASGI adapters only move bytes. Checks, in order:

=====================================================  =======
anything but POST                                       405
no ``token`` in the query, or not a secret in use       403
a body over ``max_body`` bytes                          413
not JSON, or JSON of no documented shape                400
otherwise (a job nobody expects too: logged, dropped)   200
=====================================================  =======

The service does not sign callbacks (page 436/48190 documents no signature), so the secret in
the callback URL is the only proof that a POST comes from whoever was given the URL; it is
compared in constant time and never appears in reprs or logs.

Where a push goes: to the job's listeners (a waiter, a live watcher) if the job is expected
(submitted through a client using this receiver); else, while a submit is in flight, to a
small buffer of early pushes (the service may call back before the submit's answer brings the
JobId), bounded in count, bytes and age and emptied once no submit is in flight; else nowhere.
In ``confirm`` trust the buffer keeps only a wake-up per job (no body: the waiter queries
anyway), and a push for a job recently settled or forgotten is never buffered. So a flood of
posts, forged or late, during a bulk run (a submit always in flight) holds little memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import attrs
from attrs import define, field

from ..errors import CallbackError, ClientStateError, InvalidInput
from .parsing import Callback, parse_callback

if TYPE_CHECKING:
    from aiohttp import web

    from .asgi import ASGIApp

__all__ = ["DEFAULT_PATH", "CallbackReceiver", "Listener", "ReceiverStats", "Reply", "Trust"]

logger = logging.getLogger("cosaudit.callbacks")

Trust = Literal["confirm", "token"]
DEFAULT_PATH = "/cosaudit/callback"
# The query parameter carrying the receiver's secret.
TOKEN_PARAM = "token"
# Pushes kept per listener, and per expected job nobody listens to yet: a live stream calls
# back every few seconds; a consumer that falls this far behind loses the oldest updates.
_QUEUE = 64
# Digests remembered per job to drop duplicate deliveries.
_SEEN = 16
# Job ids recently settled or forgotten, remembered so that their late pushes are not buffered
# as early ones (a bulk run always has a submit in flight); older ones cost a buffer slot only.
_SETTLED = 10_000


@define(frozen=True, slots=True)
class Reply:
    """The answer to one callback request."""

    status: int
    body: bytes
    content_type: str = "application/json"


def _reply(status: int, message: str) -> Reply:
    return Reply(status, b'{"message": "' + message.encode() + b'"}')


class ReceiverStats:
    """What the receiver did with the requests it got; counters only grow.

    Attributes:
        delivered: pushes handed to a waiting or expected job.
        early: pushes buffered before their submit's answer.
        duplicates: deliveries already seen for the same job.
        unknown: pushes for a job nobody expects (late, forged, or another client's).
        tests: the service's test requests (no job).
        refused: refusals by reason: ``method``, ``token``, ``size``, ``malformed``.
    """

    def __init__(self) -> None:
        self.delivered = 0
        self.early = 0
        self.duplicates = 0
        self.unknown = 0
        self.tests = 0
        self.refused: Counter[str] = Counter()

    def __repr__(self) -> str:
        return (
            f"ReceiverStats(delivered={self.delivered}, early={self.early}, "
            f"duplicates={self.duplicates}, unknown={self.unknown}, tests={self.tests}, "
            f"refused={dict(self.refused)})"
        )


class Listener:
    """One consumer of a job's pushes (a waiter or a live watcher), in arrival order."""

    def __init__(self, backlog: Iterable[Callback] = ()) -> None:
        self._queue: deque[Callback] = deque(backlog, maxlen=_QUEUE)
        self._ready: asyncio.Future[None] | None = None

    def put(self, callback: Callback) -> None:
        self._queue.append(callback)
        ready = self._ready
        if ready is not None and not ready.done():
            ready.set_result(None)

    async def next(self) -> Callback:
        """The next push, waiting for it if none is queued."""
        while not self._queue:
            self._ready = asyncio.get_running_loop().create_future()
            try:
                await self._ready
            finally:
                self._ready = None
        return self._queue.popleft()


class _Expected:
    """A job submitted with this receiver's URL: its listeners, or its pushes until one comes."""

    __slots__ = ("backlog", "kind", "listeners", "seen")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.listeners: list[Listener] = []
        self.backlog: deque[Callback] = deque(maxlen=_QUEUE)
        self.seen: deque[bytes] = deque(maxlen=_SEEN)

    def push(self, callback: Callback, digest: bytes) -> bool:
        """Deliver ``callback``; False when it is a duplicate."""
        # A live stream's Simple callbacks can be byte for byte alike and still be news (the
        # last one means the stream ended, which only a query tells): never dropped.
        if self.kind != "live" or callback.version != "Simple":
            if digest in self.seen:
                return False
            self.seen.append(digest)
        if self.listeners:
            for listener in self.listeners:
                listener.put(callback)
        else:
            self.backlog.append(callback)
        return True


class CallbackReceiver:
    """Receives the service's callbacks and wakes the waiters of the jobs they report.

    ::

        async with CallbackReceiver("0.0.0.0", 8080,
                                    public_url="https://example.com/cosaudit/callback") as rx:
            async with AuditClient(..., callbacks=rx) as client:
                job = await client.video.moderate(object="a.mp4", snapshot_count=10)

    Run it standalone (``async with``: an aiohttp server on ``host:port`` serving ``path``),
    or mount it in your own server: :meth:`mount` on an aiohttp ``web.Application``,
    :attr:`asgi` for FastAPI/Starlette (``app.mount("/cosaudit/callback", rx.asgi)``), or
    call :meth:`handle` from any other framework.

    Args:
        host, port: where the standalone server listens (port 0: a free one).
        public_url: the address the service can reach, without the secret (added as
            ``?token=``); default ``http://host:port/path``.
        secret: the URL secret; default 32 random bytes. See :meth:`rotate`.
        trust: ``"confirm"`` (default): a push wakes its waiter, which queries the job once
            and returns what the query says, so a leaked URL cannot decide an outcome.
            ``"token"``: the pushed body is the result, no query made.
        grace: seconds a waiter waits for a push before it also polls on its normal schedule
            (a lost callback then costs ``grace`` seconds, never a hang).
        max_body: the largest body read (16 MiB: a long video's Detail callback is big).
        early_limit, early_bytes, early_ttl: how many pushes for not-yet-known jobs are
            kept, how many body bytes at most (``token`` trust; ``confirm`` keeps no body),
            and for how many seconds, while a submit is in flight.
        max_expected: jobs submitted and not yet waited for that are remembered; past that the
            oldest are forgotten (their waiters poll).
        clock: monotonic time for the early buffer's ages.
    """

    def __init__(
        self,
        host: str | None = None,
        port: int = 0,
        *,
        public_url: str | None = None,
        path: str = DEFAULT_PATH,
        secret: str | None = None,
        trust: Trust = "confirm",
        grace: float = 10.0,
        max_body: int = 16 * 1024 * 1024,
        early_limit: int = 1000,
        early_bytes: int = 64 * 1024 * 1024,
        early_ttl: float = 60.0,
        max_expected: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if trust not in ("confirm", "token"):
            raise InvalidInput("trust", f"must be 'confirm' or 'token', got {trust!r}")
        if not isinstance(grace, int | float) or not 0 <= grace < float("inf"):
            raise InvalidInput("grace", f"must be a finite number of seconds >= 0, got {grace!r}")
        if not path.startswith("/"):
            raise InvalidInput("path", f"must start with '/', got {path!r}")
        if public_url is not None:
            parts = urlsplit(public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise InvalidInput("public_url", "must be an absolute http(s) URL")
        self.host = host
        self.port = port
        self.public_url = public_url
        self.path = path
        self.trust: Trust = trust
        self.grace = float(grace)
        self.max_body = max_body
        self.early_limit = early_limit
        self.early_bytes = early_bytes
        self.early_ttl = early_ttl
        self.max_expected = max_expected
        self.stats = ReceiverStats()
        self._clock = clock
        self._secrets: list[str] = [_check_secret(secret) if secret else _new_secret()]
        self._expected: dict[str, _Expected] = {}
        # Expected jobs nobody listens to yet, oldest first: the ones max_expected forgets.
        self._unclaimed: OrderedDict[str, None] = OrderedDict()
        self._early: OrderedDict[str, _Early] = OrderedDict()
        self._early_size = 0  # body bytes held in _early
        self._settled: OrderedDict[str, None] = OrderedDict()
        self._in_flight = 0
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"<CallbackReceiver {self._base_url() or 'not started'} trust={self.trust}>"

    # --- the URL and its secret ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """The callback URL, secret included: what submits send as ``Callback``. Keep it
        private; it is never shown in reprs or logs."""
        base = self._base_url()
        if base is None:
            raise ClientStateError("the receiver has no address: start it or give public_url")
        parts = urlsplit(base)
        query = f"{parts.query}&" if parts.query else ""
        return urlunsplit(parts._replace(query=f"{query}{TOKEN_PARAM}={self._secrets[0]}"))

    def _base_url(self) -> str | None:
        if self.public_url is not None:
            return self.public_url
        if self._runner is None:
            return None
        host = self.host or "127.0.0.1"
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}{self.path}"

    def rotate(self, secret: str | None = None) -> None:
        """Make a new secret current (random unless given): submits from now on carry it,
        and callbacks carrying the previous one are still accepted until :meth:`retire`.

        Two secrets at most are accepted, the current and the previous: rotating again
        drops the oldest (jobs submitted with it are then woken by polling only)."""
        self._secrets = [_check_secret(secret) if secret else _new_secret(), self._secrets[0]]

    def retire(self) -> None:
        """Stop accepting every secret but the current one (after the jobs submitted with
        the old URL have called back)."""
        del self._secrets[1:]

    def _accepts(self, token: str) -> bool:
        given = token.encode()
        # Compare with every secret, not stopping at a match: the time taken tells nothing.
        matches = [hmac.compare_digest(given, secret.encode()) for secret in self._secrets]
        return any(matches)

    # --- the request ----------------------------------------------------------------------------

    def precheck(self, method: str, query: str, headers: Mapping[str, str]) -> Reply | None:
        """The refusal a request gets before its body is read (405, 403, 413 by its
        ``Content-Length``), or None."""
        if method.upper() != "POST":
            self.stats.refused["method"] += 1
            return _reply(405, "POST only")
        tokens = [value for name, value in parse_qsl(query) if name == TOKEN_PARAM]
        if len(tokens) != 1 or not self._accepts(tokens[0]):
            self.stats.refused["token"] += 1
            return _reply(403, "forbidden")
        length = _header(headers, "content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            self.stats.refused["size"] += 1
            return _reply(413, "body too large")
        return None

    def handle(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Handle one request: ``query`` is the URL's query string (without ``?``)."""
        refused = self.precheck(method, query, headers)
        if refused is not None:
            return refused
        if len(body) > self.max_body:
            self.stats.refused["size"] += 1
            return _reply(413, "body too large")
        try:
            callback = parse_callback(body)
        except CallbackError as error:
            self.stats.refused["malformed"] += 1
            logger.debug("callback refused: %s", error.reason)
            return _reply(400, "not a callback body")
        self.deliver(callback, hashlib.blake2b(body, digest_size=16).digest(), len(body))
        return _reply(200, "ok")

    def deliver(self, callback: Callback, digest: bytes, size: int = 0) -> None:
        """Hand a parsed callback to its job (``digest`` identifies duplicates, ``size`` is
        its body's length, counted against ``early_bytes`` if it is buffered)."""
        job_id = callback.job_id
        if job_id is None:
            self.stats.tests += 1
            logger.info("callback test request received")
            return
        expected = self._expected.get(job_id)
        if expected is not None:
            if expected.push(callback, digest):
                self.stats.delivered += 1
            else:
                self.stats.duplicates += 1
            return
        if self._in_flight and job_id not in self._settled:
            self._buffer(job_id, callback, digest, size)
            return
        self.stats.unknown += 1
        logger.debug("callback for job %.64s, which nobody waits for: dropped", job_id)

    def _buffer(self, job_id: str, callback: Callback, digest: bytes, size: int) -> None:
        now = self._clock()
        early = self._early
        while early and now - next(iter(early.values())).since > self.early_ttl:
            self._drop_oldest_early()
        if self.trust == "confirm":
            # Only a wake-up: the waiter queries the job, so the body is never read.
            callback = attrs.evolve(callback, body={})
            size = 0
        entry = early.get(job_id)
        if entry is None:
            if len(early) >= self.early_limit:
                self._drop_oldest_early()
            entry = early[job_id] = _Early(now)
        if self.trust == "confirm" and entry.pushes:
            self.stats.duplicates += 1  # one wake-up per job is all a waiter needs
            return
        if any(seen == digest for _, seen, _ in entry.pushes):
            self.stats.duplicates += 1
            return
        if len(entry.pushes) >= _QUEUE:
            return
        if size > self.early_bytes:
            self.stats.unknown += 1  # larger than the whole buffer: dropped
            return
        while self._early_size + size > self.early_bytes:
            self._drop_oldest_early()  # the oldest first, this job's own pushes perhaps
        if job_id not in early:
            entry = early[job_id] = _Early(now)
        entry.pushes.append((callback, digest, size))
        self._early_size += size
        self.stats.early += 1

    def _drop_oldest_early(self) -> None:
        _, entry = self._early.popitem(last=False)
        self._early_size -= sum(size for _, _, size in entry.pushes)

    # --- the client's side ----------------------------------------------------------------------

    @contextmanager
    def submitting(self) -> Iterator[None]:
        """Mark a submit in flight: pushes for unknown jobs are buffered meanwhile."""
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                # Whatever no submit claimed belongs to nobody (a forged or a stale push).
                self._early.clear()
                self._early_size = 0

    def expect(self, job_id: str, kind: str) -> None:
        """Remember a job submitted with this receiver's URL, taking any early pushes."""
        if job_id in self._expected:
            return
        expected = self._expected[job_id] = _Expected(kind)
        self._unclaimed[job_id] = None
        self._settled.pop(job_id, None)
        entry = self._early.pop(job_id, None)
        for callback, digest, size in entry.pushes if entry is not None else ():
            self._early_size -= size
            expected.push(callback, digest)
            self.stats.delivered += 1
        if len(self._unclaimed) > self.max_expected:
            # The oldest job nobody listens to: O(1), however many jobs have waiters.
            forgotten, _ = self._unclaimed.popitem(last=False)
            del self._expected[forgotten]
            self._settle(forgotten)

    def _settle(self, job_id: str) -> None:
        """Remember a job just forgotten, so that its late pushes are not buffered."""
        self._settled[job_id] = None
        if len(self._settled) > _SETTLED:
            self._settled.popitem(last=False)

    def expects(self, job_id: str) -> bool:
        """Whether the job was submitted with this receiver's URL and not yet resolved."""
        return job_id in self._expected

    def listen(self, job_id: str, kind: str) -> Listener:
        """Start listening to a job's pushes (expecting it if not yet); :meth:`unlisten`
        when done. The first listener takes the pushes that came before it."""
        expected = self._expected.get(job_id)
        if expected is None:
            expected = self._expected[job_id] = _Expected(kind)
            self._settled.pop(job_id, None)
        self._unclaimed.pop(job_id, None)
        listener = Listener(expected.backlog)
        expected.backlog.clear()
        expected.listeners.append(listener)
        return listener

    def unlisten(self, job_id: str, listener: Listener) -> None:
        """Stop listening; the job is forgotten with its last listener (a later push for it
        is acknowledged and dropped)."""
        expected = self._expected.get(job_id)
        if expected is None:
            return
        if listener in expected.listeners:
            expected.listeners.remove(listener)
        if not expected.listeners:
            del self._expected[job_id]
            self._settle(job_id)

    # --- serving --------------------------------------------------------------------------------

    def mount(self, app: web.Application, path: str | None = None) -> None:
        """Serve callbacks at ``path`` (default :attr:`path`) of an aiohttp application."""
        from .aiohttp_server import mount

        mount(self, app, path or self.path)

    @property
    def asgi(self) -> ASGIApp:
        """An ASGI application serving callbacks at any path it is mounted on."""
        from .asgi import asgi_app

        return asgi_app(self)

    async def start(self) -> None:
        """Serve standalone on ``host:port`` (an aiohttp server); :attr:`port` tells the port
        bound when it was 0."""
        if self._runner is not None:
            return
        if self.host is None:
            raise ClientStateError("a standalone receiver needs a host to listen on")
        from .aiohttp_server import serve

        self._runner, self.port = await serve(self, self.host, self.port, self.path)

    async def close(self) -> None:
        """Stop the standalone server; closing twice is harmless."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> CallbackReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


@define(slots=True)
class _Early:
    """Pushes for a job not yet known, buffered since ``since``: (callback, digest, size)."""

    since: float
    pushes: list[tuple[Callback, bytes, int]] = field(factory=list)


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _check_secret(secret: str) -> str:
    # URL-safe characters only: the secret travels in a query string unencoded.
    if (
        len(secret) < 16
        or not all(c.isalnum() or c in "-_" for c in secret)
        or not secret.isascii()
    ):
        raise InvalidInput("secret", "must be at least 16 letters, digits, '-' or '_'")
    return secret


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, found in headers.items():
            if key.lower() == name:
                return str(found)
    return None if value is None else str(value)
