"""Run the example service against the local emulator, on one port:

    python -m examples.webservice [--port 8080]
    curl -X POST localhost:8080/comments -d '{"text": "you idiot"}'   # 422 rejected
    curl -X POST localhost:8080/images --data-binary @photo.png       # 202 {"id": ...}
    curl localhost:8080/images/<id>                                   # published / rejected

The emulator judges an image by the text embedded in it (a PNG ``tEXt`` chunk, a JPEG or GIF
comment) with its keyword rules. Against the real service, give ``AuditClient`` your bucket,
region and credentials, and the receiver a ``public_url`` the service can reach.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from aiohttp import web

from cosaudit import AuditClient, Credentials
from cosaudit.callbacks import CallbackReceiver
from cosaudit.emulator import Emulator, EmulatorConfig
from examples.webservice.app import CALLBACK_PATH, create_app


async def serve(port: int) -> None:
    async with Emulator(EmulatorConfig(job_duration=(0.2, 2.0))) as emu:
        receiver = CallbackReceiver(public_url=f"http://127.0.0.1:{port}{CALLBACK_PATH}")
        async with AuditClient(
            bucket="examplebucket-1250000000",
            region="ap-guangzhou",
            endpoint=emu.url,
            credentials=Credentials(emu.config.secret_id, emu.config.secret_key),
            callbacks=receiver,
        ) as client:
            runner = web.AppRunner(create_app(client, receiver), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            print(f"serving on http://127.0.0.1:{port} (emulator {emu.url}); Ctrl-C stops")
            try:
                await asyncio.Event().wait()
            finally:
                await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
