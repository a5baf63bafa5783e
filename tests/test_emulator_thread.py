"""EmulatorThread: serving from its own thread, and an error after start-up reaching stop()."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest

from cosaudit.emulator import EmulatorConfig
from cosaudit.emulator.thread import EmulatorThread


def test_serves_from_its_thread_and_stops_twice() -> None:
    runner = EmulatorThread(EmulatorConfig())
    emulator = runner.start()
    with pytest.raises(urllib.error.HTTPError) as caught:  # unsigned: refused, but answered
        urllib.request.urlopen(emulator.url + "/text/auditing/st1", timeout=10)
    with caught.value:
        assert caught.value.code == 401
    runner.stop()
    runner.stop()


def test_an_error_after_start_up_is_raised_by_stop_and_stop_survives_the_ended_loop() -> None:
    runner = EmulatorThread(EmulatorConfig())
    runner.start()
    loop, thread = runner._loop, runner._thread
    assert loop is not None and thread is not None

    def cancel_everything() -> None:
        for task in asyncio.all_tasks(loop):
            task.cancel()

    # The serving coroutine ends with an error while the test's thread does nothing.
    loop.call_soon_threadsafe(cancel_everything)
    thread.join()
    assert loop.is_closed()
    with pytest.raises(asyncio.CancelledError):
        runner.stop()  # the stored error, not call_soon_threadsafe's "Event loop is closed"
    runner.stop()  # and only once
