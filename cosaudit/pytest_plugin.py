"""The pytest plugin (entry point ``pytest11``; loaded whenever cosaudit is installed): fixtures
to test your own code against the emulator. Only these names are added; none is autouse.

``cos_emulator``
    an :class:`~cosaudit.testing.Emulated`: an emulator served from its own thread (so it works
    with pytest-asyncio, anyio and synchronous tests alike), its job clock, faults and a bucket
    folder. Fresh for each test; ``cosaudit_emulator_scope = session`` in the ini file shares
    one for the whole session instead. ``@pytest.mark.cos_emulator(job_duration=5, ...)`` gives
    a test's emulator :class:`~cosaudit.emulator.EmulatorConfig` settings (per-test scope only).
``cosaudit_client``
    an open :class:`~cosaudit.AuditClient` bound to it, on the test's event loop (an async
    fixture: pytest-asyncio in auto mode, or anyio's ``@pytest.mark.anyio``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from .client import AuditClient
from .emulator.clock import ManualClock
from .emulator.thread import EmulatorThread
from .testing import Emulated, emulator_config

__all__ = ["cos_emulator", "cosaudit_client"]

_SCOPE_INI = "cosaudit_emulator_scope"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        _SCOPE_INI,
        "how long one cos_emulator lives: function (default) or session",
        default="function",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cos_emulator(**settings): EmulatorConfig settings for this test's cos_emulator",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A shared emulator cannot take one test's settings: say so rather than ignore them.
    marked = item.get_closest_marker("cos_emulator") is not None
    uses = "cos_emulator" in getattr(item, "fixturenames", ())
    if marked and uses and _scope("cos_emulator", item.config) == "session":
        pytest.fail(
            f"@pytest.mark.cos_emulator needs an emulator per test, but {_SCOPE_INI} is "
            "session: build one with cosaudit.testing.emulated() instead",
            pytrace=False,
        )


def _scope(fixture_name: str, config: pytest.Config) -> str:
    scope = str(config.getini(_SCOPE_INI) or "function")
    if scope not in ("function", "session"):
        raise pytest.UsageError(f"{_SCOPE_INI} must be function or session, not {scope!r}")
    return scope


@pytest.fixture(scope=_scope)  # type: ignore[arg-type]  # pytest accepts a callable scope
def cos_emulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Emulated]:
    """An emulator for your tests: ``cos_emulator.url``, ``.faults``, ``.clock``,
    ``.bucket_dir``, ``.requests``, ``.client()``."""
    marker = request.node.get_closest_marker("cos_emulator")
    options = dict(marker.kwargs) if marker is not None else {}
    bucket_dir = Path(options.pop("bucket_dir", None) or tmp_path_factory.mktemp("cos-bucket"))
    clock = ManualClock()
    with EmulatorThread(emulator_config(clock, bucket_dir, **options)) as emulator:
        yield Emulated(emulator, clock, bucket_dir)


@pytest.fixture
async def cosaudit_client(cos_emulator: Emulated) -> AsyncIterator[AuditClient]:
    """An open client of ``cos_emulator``'s bucket; its waits move the emulator's job clock."""
    async with cos_emulator.client() as client:
        yield client
