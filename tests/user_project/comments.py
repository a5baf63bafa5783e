"""A user's web service: a comment is published only if moderation finds nothing wrong."""

from aiohttp import web

from cosaudit import AuditClient, CosAuditError

CLIENT = web.AppKey("moderation", AuditClient)


async def post_comment(request: web.Request) -> web.Response:
    text = (await request.json())["text"]
    try:
        job = await request.app[CLIENT].text.moderate(text)
    except CosAuditError:
        return web.json_response({"published": False, "retry": True}, status=503)
    if job.is_sensitive:
        return web.json_response({"published": False, "label": job.label}, status=422)
    return web.json_response({"published": True})


def make_app(client: AuditClient) -> web.Application:
    app = web.Application()
    app[CLIENT] = client
    app.router.add_post("/comments", post_comment)
    return app
