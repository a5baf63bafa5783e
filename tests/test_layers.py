"""Layers import one way: checked in a fresh interpreter, so nothing here is cached."""

from __future__ import annotations

import subprocess
import sys

import pytest

import cosaudit

PURE = [
    "cosaudit.signing",
    "cosaudit.xmlcodec",
    "cosaudit.errors",
    "cosaudit.models",
    "cosaudit.inputs",
    "cosaudit.credentials",
    "cosaudit.config",
    "cosaudit.endpoints",
    "cosaudit.budget",
    "cosaudit.slowdown",
    "cosaudit.clockskew",
]
CLIENT_SIDE = [
    "cosaudit.session",
    "cosaudit.client",
    "cosaudit.kinds",
    "cosaudit.models",
    "cosaudit.waiting",
]


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", PURE)
def test_pure_pieces_know_nothing_of_aiohttp(module: str) -> None:
    assert "aiohttp" not in loaded_after(f"import {module}")


def test_the_emulator_never_imports_the_client() -> None:
    loaded = loaded_after("import cosaudit.emulator, cosaudit.emulator.cli")
    assert "cosaudit.emulator.server" in loaded
    assert not loaded & set(CLIENT_SIDE)


def test_the_session_knows_nothing_of_polling() -> None:
    loaded = loaded_after("import cosaudit.session")
    assert "cosaudit.waiting" not in loaded and "cosaudit.kinds" not in loaded


def test_public_names_resolve() -> None:
    for name in cosaudit.__all__:
        assert getattr(cosaudit, name) is not None
    assert set(cosaudit.__all__) <= set(dir(cosaudit))
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = cosaudit.no_such_name  # type: ignore[attr-defined]
