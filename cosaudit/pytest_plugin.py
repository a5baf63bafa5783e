"""The pytest plugin (entry point ``pytest11``; loaded whenever cosaudit is installed): fixtures
to test your own code against the emulator. Only these names are added; none is autouse.

``cos_emulator``
    an :class:`~cosaudit.testing.Emulated`: an emulator served from its own thread (so it works
    with pytest-asyncio, anyio and synchronous tests alike), its job clock, faults and a bucket
    folder. Fresh for each test; ``cosaudit_emulator_scope = session`` in the ini file shares
    one for the whole session instead. ``@pytest.mark.cos_emulator(job_duration=5, ...)`` gives
    a test's emulator :class:`~cosaudit.emulator.EmulatorConfig` settings (per-test scope only).
``cosaudit_client``
    an open :class:`~cosaudit.AuditClient` bound to it, opened on the test's event loop: for
    async tests under pytest-asyncio (strict or auto mode) or anyio (``@pytest.mark.anyio``;
    with pytest-asyncio in auto mode too, anyio's tests run on another loop than pytest-asyncio's
    fixtures, a clash of those two plugins: use strict mode).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import cast

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


async def _client_of(emulated: Emulated) -> AsyncIterator[AuditClient]:
    async with emulated.client() as client:
        yield client


# The client must be opened on the test's own loop, by whichever plugin runs the test: anyio
# (and pytest-asyncio in auto mode) run a plain async fixture; pytest-asyncio in strict mode,
# its default, only one made with its own decorator. Two fixtures, one picked per test.
@pytest.fixture
async def _cosaudit_client_plain(cos_emulator: Emulated) -> AsyncIterator[AuditClient]:
    async for client in _client_of(cos_emulator):
        yield client


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - pytest-asyncio is optional for users
    _ASYNCIO = False
else:
    _ASYNCIO = True

    @pytest_asyncio.fixture
    async def _cosaudit_client_asyncio(cos_emulator: Emulated) -> AsyncIterator[AuditClient]:
        async for client in _client_of(cos_emulator):
            yield client


@pytest.fixture
def cosaudit_client(request: pytest.FixtureRequest) -> AuditClient:
    """An open client of ``cos_emulator``'s bucket, on the test's loop (async tests under
    pytest-asyncio or anyio); its waits move the emulator's job clock instead of sleeping."""
    anyio_test = "anyio_backend" in request.fixturenames
    name = "_cosaudit_client_asyncio" if _ASYNCIO and not anyio_test else "_cosaudit_client_plain"
    return cast(AuditClient, request.getfixturevalue(name))
