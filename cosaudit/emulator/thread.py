""":class:`EmulatorThread`: an emulator served from a thread of its own, with its own event loop.

An emulator on the test's own loop needs that loop to be running whenever a request arrives,
which ties it to one async test plugin and one loop scope. Served from its own thread it answers
synchronous code (the official SDK, ``requests``) and any async framework alike, and can live
for a whole test session. Its knobs (``faults``, ``controls``, a :class:`ManualClock`) are plain
attributes set from the test's thread between requests.
"""

from __future__ import annotations

import asyncio
import contextlib
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
            self._thread, error, self._error = None, self._error, None
            raise error
        return self.emulator

    def stop(self) -> None:
        """Close the emulator and end its thread; safe to call twice, and after the thread
        ended on its own. Raises what ended the thread early (an error while serving), once."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            # RuntimeError: the loop already ended (closed), so there is nothing left to stop.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # handed to start() or stop(): no traceback from the thread
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
