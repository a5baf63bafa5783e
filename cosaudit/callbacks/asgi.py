"""The receiver as an ASGI application, for FastAPI, Starlette or any ASGI server.

::

    app = FastAPI()
    app.mount("/cosaudit/callback", receiver.asgi)

It answers every path it is given (the mount point decides which) and handles ``lifespan``
events as a no-op, so it can also be served alone (``uvicorn.run(receiver.asgi)``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .receiver import CallbackReceiver, Reply

__all__ = ["ASGIApp", "asgi_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def asgi_app(receiver: CallbackReceiver) -> ASGIApp:
    """An ASGI 3 application serving ``receiver``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # a websocket is not ours: closing without accepting refuses it
        reply = await _reply(receiver, scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [
                    (b"content-type", reply.content_type.encode()),
                    (b"content-length", str(len(reply.body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})

    return app


async def _reply(receiver: CallbackReceiver, scope: Scope, receive: Receive) -> Reply:
    method = str(scope.get("method", "GET"))
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    headers = {
        bytes(name).decode("latin-1").lower(): bytes(value).decode("latin-1")
        for name, value in scope.get("headers", ())
    }
    refused = receiver.precheck(method, query, headers)
    if refused is not None:
        return refused
    body = bytearray()
    while len(body) <= receiver.max_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return receiver.handle(method, query, headers, bytes(body))


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
