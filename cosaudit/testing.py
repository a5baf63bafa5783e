"""Testing your own code against the emulator: :class:`Emulated` (an emulator, its job clock, its
bucket folder, and clients bound to it) and :func:`emulated`, an async context manager for any
test runner. The pytest plugin (:mod:`cosaudit.pytest_plugin`) gives the same as fixtures.

::

    async with emulated() as cos:
        (cos.bucket_dir / "a.txt").write_text("buy now")
        async with cos.client() as client:
            job = await client.text.moderate("hello")
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from attrs import define

from .client import AuditClient
from .credentials import Credentials
from .emulator import Emulator, EmulatorConfig, Faults, RequestRecord, Stats
from .emulator.clock import ManualClock
from .emulator.config import Controls

__all__ = ["REGION", "Emulated", "emulated"]

# The emulator serves any region; clients need one to name hosts.
REGION = "ap-guangzhou"


@define(frozen=True, slots=True)
class Emulated:
    """A running emulator with what a test reaches for.

    Attributes:
        emulator: the :class:`~cosaudit.emulator.Emulator` (``jobs``, ``badcases``, ``add_key``).
        clock: the emulator's job clock; clients from :meth:`client` move it as they wait, and a
            test moves it with ``clock.advance(seconds)``.
        bucket_dir: the folder standing for the bucket: write objects there.
    """

    emulator: Emulator
    clock: ManualClock
    bucket_dir: Path

    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def bucket(self) -> str:
        """The bucket clients name: ``examplebucket-1250000000``."""
        return self.emulator.config.full_bucket

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.emulator.config.secret_id, self.emulator.config.secret_key)

    @property
    def faults(self) -> Faults:
        return self.emulator.faults

    @property
    def controls(self) -> Controls:
        return self.emulator.controls

    @property
    def stats(self) -> Stats:
        return self.emulator.stats

    @property
    def requests(self) -> tuple[RequestRecord, ...]:
        return self.emulator.requests

    def client(self, **kwargs: Any) -> AuditClient:
        """An unopened :class:`AuditClient` of this emulator (``async with`` it). Its waits
        return at once and move :attr:`clock` instead; ``kwargs`` go to ``AuditClient``."""
        kwargs.setdefault("sleep", self.clock.sleep)
        kwargs.setdefault("monotonic", self.clock)
        kwargs.setdefault("credentials", self.credentials)
        return AuditClient(bucket=self.bucket, region=REGION, endpoint=self.url, **kwargs)


def emulator_config(clock: ManualClock, bucket_dir: Path, **options: Any) -> EmulatorConfig:
    """The configuration :func:`emulated` and the fixtures use: ``options`` over the defaults,
    the job clock and the bucket folder."""
    return EmulatorConfig(**options, clock=clock, bucket_dir=bucket_dir)


@asynccontextmanager
async def emulated(bucket_dir: str | Path | None = None, **options: Any) -> AsyncIterator[Emulated]:
    """An emulator on the running loop, with a :class:`ManualClock` and a bucket folder (a
    fresh temporary one unless given); ``options`` are :class:`EmulatorConfig` fields."""
    with tempfile.TemporaryDirectory(prefix="cos-bucket-") as temporary:
        folder = Path(bucket_dir if bucket_dir is not None else temporary)
        clock = ManualClock()
        async with Emulator(emulator_config(clock, folder, **options)) as emulator:
            yield Emulated(emulator, clock, folder)
