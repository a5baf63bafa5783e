"""The receiver on aiohttp: a route on a user's ``web.Application``, or a server of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .receiver import CallbackReceiver, Reply

__all__ = ["mount", "serve"]

_CHUNK = 64 * 1024


def mount(receiver: CallbackReceiver, app: web.Application, path: str) -> None:
    """Serve ``receiver`` at ``path`` of ``app`` (every method: others get 405 from it)."""

    async def handle(request: web.Request) -> web.Response:
        return _response(await _reply(receiver, request))

    app.router.add_route("*", path, handle)


async def serve(
    receiver: CallbackReceiver, host: str, port: int, path: str
) -> tuple[web.AppRunner, int]:
    """Start a server of its own; returns its runner and the port bound."""
    app = web.Application()
    mount(receiver, app, path)
    # No access log: its request line would print the URL's secret.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, int(runner.addresses[0][1])


async def _reply(receiver: CallbackReceiver, request: web.Request) -> Reply:
    refused = receiver.precheck(request.method, request.query_string, request.headers)
    if refused is not None:
        return refused
    # Read at most one byte past the limit: the app's client_max_size (1 MiB by default on a
    # user's application) is not ours to rely on, and a body without Content-Length is
    # counted as it comes.
    body = bytearray()
    while len(body) <= receiver.max_body:
        chunk = await request.content.read(_CHUNK)
        if not chunk:
            break
        body += chunk
    return receiver.handle(request.method, request.query_string, request.headers, bytes(body))


def _response(reply: Reply) -> web.Response:
    return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)
