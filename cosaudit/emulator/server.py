""":class:`Emulator`: the application served on a loopback port, as an async context manager."""

from __future__ import annotations

from types import TracebackType

from aiohttp import web

from cosaudit.emulator.app import SERVICE, create_app
from cosaudit.emulator.auth import Key
from cosaudit.emulator.badcases import BadCase
from cosaudit.emulator.callbacks import Callbacks
from cosaudit.emulator.config import Controls, EmulatorConfig
from cosaudit.emulator.faults import Faults
from cosaudit.emulator.jobs import JobsView
from cosaudit.emulator.requestlog import RequestRecord
from cosaudit.emulator.service import Service
from cosaudit.emulator.stats import Stats

__all__ = ["Emulator"]


class Emulator:
    """A running emulator.

    >>> async with Emulator(EmulatorConfig(job_duration=0.05)) as emu:   # doctest: +SKIP
    ...     print(emu.url)
    http://127.0.0.1:54321

    Port 0 (the default) picks a free port; :attr:`port` tells which.
    """

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.app = create_app(self.config)
        self._service: Service = self.app[SERVICE]
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self.jobs = JobsView(self._service.jobs, lambda: self._service.controls.hold)

    @property
    def controls(self) -> Controls:
        """Run-time knobs: ``job_duration``, ``final_after_polls``, ``hold``."""
        return self._service.controls

    @property
    def faults(self) -> Faults:
        """Injected faults and the clock offset (:mod:`cosaudit.emulator.faults`):
        ``faults.add("reset", phase="after", count=1)``, ``faults.fail_next(2)``,
        ``faults.clock_offset = 3600``."""
        return self._service.faults

    @property
    def callbacks(self) -> Callbacks:
        """Callbacks sent to the ``Callback`` URLs of jobs (:mod:`cosaudit.emulator.callbacks`):
        ``callbacks.enabled``, ``delivered``, ``given_up``, ``dropped``, ``log`` of tries."""
        return self._service.callbacks

    @property
    def stats(self) -> Stats:
        """Counters of requests, submissions, queries, faults (``stats.faults`` by label)."""
        return self._service.stats

    @property
    def requests(self) -> tuple[RequestRecord, ...]:
        """The latest requests served (``EmulatorConfig.request_log_size``), oldest first:
        method, path, status, latency, job id, fault; never a query, header or secret."""
        return self._service.requests.snapshot()

    @property
    def badcases(self) -> tuple[BadCase, ...]:
        """Badcase reports received (``POST /report/badcase``), oldest first."""
        return tuple(self._service.badcases)

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://<host>:<port>``."""
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def add_key(self, secret_id: str, secret_key: str, token: str | None = None) -> None:
        """Accept another key pair (with the token it must present, for temporary keys)."""
        self._service.keyring.add(Key(secret_id, secret_key, token))

    async def start(self) -> None:
        """Serve on ``config.host:config.port``."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already started")
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def close(self) -> None:
        """Stop serving and cancel background work; safe to call twice."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
