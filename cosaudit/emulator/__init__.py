"""A faithful local emulator of the COS / CI content-moderation API, on aiohttp.

>>> config = EmulatorConfig(bucket_dir=folder, job_duration=0.05)  # doctest: +SKIP
>>> async with Emulator(config) as emu:  # doctest: +SKIP
...     emu.url                     # "http://127.0.0.1:<port>"
...     emu.controls.hold = True    # jobs stay Auditing
...     emu.faults.fail_next(1, status=429, code="SlowDown")
...     emu.faults.add("reset", phase="after", probability=0.1)   # see faults.py
...     emu.requests                # the latest requests: method, path, status, job id, fault

It serves text, image (single GET and batch), webpage, video, audio, document, live-stream,
virus-detection and badcase APIs (what media contain comes from sidecar manifests,
:mod:`cosaudit.emulator.media`) and the bucket listing (COS ``GET Bucket`` of the bucket
folder), verifies request signatures exactly as the service does, runs jobs through
``Submitted → Auditing → Success|Failed`` on an injectable clock (or by poll count), and judges
content with deterministic keyword rules (:mod:`cosaudit.emulator.rules`). Beyond a per-API
request rate (``EmulatorConfig.qps``, :mod:`cosaudit.emulator.ratelimits`) it answers
``SlowDown``. ``create_app`` gives the bare aiohttp application; :class:`EmulatorThread`
serves one from a thread of its own (for synchronous code, or any async test plugin),
:class:`ManualClock` is a job clock tests move by hand.

The emulator imports nothing of cosaudit but itself and :mod:`cosaudit.wire` (the signature
and the XML codec, which the published signature vectors and the official-SDK tests check from
outside): importing the client would stop it being an independent check of it.
"""

from cosaudit.emulator.app import create_app
from cosaudit.emulator.clock import ManualClock
from cosaudit.emulator.config import Controls, EmulatorConfig
from cosaudit.emulator.faults import Fault, FaultKind, FaultPlan, Faults, Phase, Rule
from cosaudit.emulator.faultspec import parse_faults, read_faults
from cosaudit.emulator.jobs import JobRecord
from cosaudit.emulator.requestlog import RequestRecord
from cosaudit.emulator.rules import DEFAULT_RULES, RuleSet
from cosaudit.emulator.server import Emulator
from cosaudit.emulator.stats import Stats
from cosaudit.emulator.thread import EmulatorThread

__all__ = [
    "DEFAULT_RULES",
    "Controls",
    "Emulator",
    "EmulatorConfig",
    "EmulatorThread",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "Faults",
    "JobRecord",
    "ManualClock",
    "Phase",
    "RequestRecord",
    "Rule",
    "RuleSet",
    "Stats",
    "create_app",
    "parse_faults",
    "read_faults",
]
