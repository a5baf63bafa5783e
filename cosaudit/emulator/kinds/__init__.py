"""The registry of moderation kinds and the routes they serve.

Adding a kind is one module defining a :class:`KindSpec` and one entry in :data:`KINDS`; the
generic ``GET <submit path>/<jobId>`` query comes with it (``KindSpec.query`` replaces it, as
video does for live streams). Endpoints that create no job (the badcase report, the bucket
listing) are plain routes in :data:`OTHER_ROUTES`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aiohttp import web

from cosaudit.emulator.kinds import (
    audio,
    badcase,
    document,
    image,
    listing,
    text,
    video,
    virus,
    webpage,
)
from cosaudit.emulator.kinds.base import Call, Handler, KindSpec, Route, job_detail, poll_job

__all__ = ["KINDS", "OTHER_ROUTES", "KindSpec", "Route", "routes"]

KINDS: tuple[KindSpec, ...] = (
    text.KIND,
    image.KIND,
    webpage.KIND,
    video.KIND,
    audio.KIND,
    document.KIND,
    virus.KIND,
)
# Endpoints that belong to no kind of job: the badcase report, the bucket listing.
OTHER_ROUTES: tuple[Route, ...] = badcase.ROUTES + listing.ROUTES


def _query(kind: KindSpec) -> Handler:
    async def query(call: Call) -> web.Response:
        job, state = await poll_job(call, kind)
        detail = job_detail(job, state, kind.render)
        return call.answer({"JobsDetail": detail, "RequestId": call.request_id})

    return query


def routes(kinds: Sequence[KindSpec] = KINDS) -> tuple[Route, ...]:
    """Every route of ``kinds``; routes with a ``ci_process`` condition come first."""
    table: list[Route] = list(OTHER_ROUTES)
    for kind in kinds:
        table.extend(kind.extra_routes)
    for kind in kinds:
        submit = kind.submit_path
        path = re.escape(submit)
        table.append(Route("POST", re.compile(path), kind.submit, submit))
        table.append(
            Route(
                "GET",
                re.compile(rf"{path}/(?P<job_id>[^/]+)"),
                kind.query or _query(kind),
                f"{submit}/{{jobId}}",
            )
        )
    return tuple(sorted(table, key=lambda route: route.ci_process is None))
