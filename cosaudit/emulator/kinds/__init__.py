"""The registry of moderation kinds and the routes they serve.

Adding a kind (video, audio, ...) is one module defining a :class:`KindSpec` and one entry in
:data:`KINDS`; the generic ``GET /<kind>/auditing/<jobId>`` query comes with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aiohttp import web

from cosaudit.emulator.kinds import image, text, webpage
from cosaudit.emulator.kinds.base import Call, Handler, KindSpec, Route, job_detail
from cosaudit.emulator.responses import ApiError

__all__ = ["KINDS", "KindSpec", "Route", "routes"]

KINDS: tuple[KindSpec, ...] = (text.KIND, image.KIND, webpage.KIND)


def _query(kind: KindSpec) -> Handler:
    async def query(call: Call) -> web.Response:
        job_id = call.params["job_id"]
        job = call.service.jobs.get(job_id)
        # A job of another kind is as unknown here as a made-up id.
        if job is None or job.kind != kind.name:
            raise ApiError(404, "AuditingJobNotFound", f"The job {job_id} does not exist.")
        call.service.stats.queries[kind.name] += 1
        job, state = await call.service.jobs.poll(job_id, call.service.controls.hold)
        detail = job_detail(job, state, kind.render)
        return call.answer({"JobsDetail": detail, "RequestId": call.request_id})

    return query


def routes(kinds: Sequence[KindSpec] = KINDS) -> tuple[Route, ...]:
    """Every route of ``kinds``; routes with a ``ci_process`` condition come first."""
    table: list[Route] = []
    for kind in kinds:
        table.extend(kind.extra_routes)
    for kind in kinds:
        name = re.escape(kind.name)
        submit = f"/{kind.name}/auditing"
        table.append(Route("POST", re.compile(rf"/{name}/auditing"), kind.submit, submit))
        table.append(
            Route(
                "GET",
                re.compile(rf"/{name}/auditing/(?P<job_id>[^/]+)"),
                _query(kind),
                f"{submit}/{{jobId}}",
            )
        )
    return tuple(sorted(table, key=lambda route: route.ci_process is None))
