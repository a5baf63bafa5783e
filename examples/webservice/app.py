"""A small aiohttp service that publishes what users post once it is moderated.

* ``POST /comments`` (JSON ``{"text": "..."}``): moderated at once with the synchronous text
  API; answers ``201 {"status": "published"}``, or ``422`` with ``rejected`` (Result 1) or
  ``held`` (Result 2: a person should look).
* ``POST /images`` (the image bytes): submitted as an asynchronous job and answered at once,
  ``202 {"id": "<job id>", "status": "pending"}``; the service's callback resumes the waiting
  task, which publishes or rejects the image. No polling: the receiver is mounted on this very
  application (``/cosaudit/callback``), and polling starts only if no callback comes within
  the receiver's grace period.
* ``GET /images/<id>``: ``{"status": "pending" | "published" | "rejected" | "held"}``.

``create_app(client, receiver)`` builds the application; ``python -m examples.webservice``
runs it against the local emulator (see ``__main__.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from cosaudit import AuditClient, CosAuditError
from cosaudit.callbacks import CallbackReceiver
from cosaudit.models import JobBase

__all__ = ["CALLBACK_PATH", "IMAGES", "create_app", "status_of"]

CALLBACK_PATH = "/cosaudit/callback"
MAX_IMAGE_BYTES = 5 * 1024 * 1024
logger = logging.getLogger("examples.webservice")


def status_of(job: JobBase) -> str:
    """What the site does with a final job: publish it, reject it, or hold it for a person."""
    if job.is_sensitive:
        return "rejected"
    if job.is_suspicious:
        return "held"
    return "published"


class Images:
    """Uploaded images by job id, and the tasks waiting for their verdicts."""

    def __init__(self) -> None:
        self.status: dict[str, str] = {}
        self.settled: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def follow(self, client: AuditClient, job_id: str) -> None:
        self.status[job_id] = "pending"
        self.settled[job_id] = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._resume(client, job_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resume(self, client: AuditClient, job_id: str) -> None:
        # Woken by the callback; polls only if none comes within the receiver's grace.
        try:
            job = await client.image.wait(job_id, raise_on_failure=False)
            self.status[job_id] = "failed" if job.is_failed else status_of(job)
        except CosAuditError:
            logger.exception("image %s: no verdict", job_id)
            self.status[job_id] = "failed"
        finally:
            self.settled[job_id].set()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


CLIENT = web.AppKey("client", AuditClient)
IMAGES = web.AppKey("images", Images)


async def post_comment(request: web.Request) -> web.Response:
    payload: Any = await request.json()
    text = payload.get("text") if isinstance(payload, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise web.HTTPBadRequest(text="a comment needs a non-empty 'text'")
    job = await request.app[CLIENT].text.moderate(text)
    status = status_of(job)
    return web.json_response({"status": status}, status=201 if status == "published" else 422)


async def post_image(request: web.Request) -> web.Response:
    data = await request.read()
    if not data or len(data) > MAX_IMAGE_BYTES:
        raise web.HTTPBadRequest(text=f"an image of 1 to {MAX_IMAGE_BYTES} bytes is expected")
    client = request.app[CLIENT]
    job = await client.image.submit(content=data)  # carries the receiver's URL as Callback
    assert job.job_id is not None
    request.app[IMAGES].follow(client, job.job_id)
    return web.json_response({"id": job.job_id, "status": "pending"}, status=202)


async def get_image(request: web.Request) -> web.Response:
    status = request.app[IMAGES].status.get(request.match_info["id"])
    if status is None:
        raise web.HTTPNotFound()
    return web.json_response({"status": status})


async def _close(app: web.Application) -> None:
    await app[IMAGES].close()


def create_app(client: AuditClient, receiver: CallbackReceiver) -> web.Application:
    """The service, with ``receiver`` answering the callbacks at :data:`CALLBACK_PATH`
    (``client`` must have been made with ``callbacks=receiver``)."""
    app = web.Application(client_max_size=MAX_IMAGE_BYTES + 1024)
    app[CLIENT] = client
    app[IMAGES] = Images()
    app.router.add_post("/comments", post_comment)
    app.router.add_post("/images", post_image)
    app.router.add_get("/images/{id}", get_image)
    receiver.mount(app, CALLBACK_PATH)
    app.on_cleanup.append(_close)
    return app
