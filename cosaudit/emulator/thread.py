""":class:`EmulatorThread`: an emulator served from a thread of its own, with its own event loop.

An emulator on the test's own loop needs that loop to be running whenever a request arrives,
which ties it to one async test plugin and one loop scope. Served from its own thread it answers
synchronous code (the official SDK, ``requests``) and any async framework alike, and can live
for a whole test session. Its knobs (``faults``, ``controls``, a :class:`ManualClock`) are plain
attributes set from the test's thread between requests.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from cosaudit.emulator.config import EmulatorConfig
from cosaudit.emulator.server import Emulator

__all__ = ["EmulatorThread"]

_START_TIMEOUT = 30.0


class EmulatorThread:
    """Serve ``Emulator(config)`` from a daemon thread; a context manager giving the emulator.

    >>> with EmulatorThread(EmulatorConfig()) as emu:  # doctest: +SKIP
    ...     requests.get(emu.url + "/text/auditing/st1")
    """

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._emulator: Emulator | None = None
        self._error: BaseException | None = None

    @property
    def emulator(self) -> Emulator:
        if self._emulator is None:
            raise RuntimeError("the emulator thread is not started")
        return self._emulator

    def start(self) -> Emulator:
        """Start serving; returns once the port is bound (or raises what binding raised)."""
        if self._thread is not None:
            raise RuntimeError("the emulator thread is already started")
        self._thread = threading.Thread(target=self._run, name="cosaudit-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise RuntimeError("the emulator thread did not start")
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self.emulator

    def stop(self) -> None:
        """Close the emulator and end its thread; safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        thread.join()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # handed to start(); the thread must not print a traceback
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        # Built on its own loop: the application and its background work belong to it.
        async with Emulator(self.config) as emulator:
            self._emulator = emulator
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
