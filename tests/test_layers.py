"""Layers import one way: checked in a fresh interpreter, so nothing here is cached."""

from __future__ import annotations

import subprocess
import sys

import pytest

import cosaudit

PURE = [
    "cosaudit.wire.signing",
    "cosaudit.wire.xmlcodec",
    "cosaudit.wire.scenes",
    "cosaudit.errors",
    "cosaudit.models",
    "cosaudit.inputs",
    "cosaudit.credentials",
    "cosaudit.config",
    "cosaudit.endpoints",
    "cosaudit.budget",
    "cosaudit.slowdown",
    "cosaudit.clockskew",
    "cosaudit.retrying",
    "cosaudit.request_retrying",
    "cosaudit.bulk.identity",
    "cosaudit.bulk.item",
    "cosaudit.bulk.results",
    "cosaudit.bulk.token_bucket",
    "cosaudit.bulk.adaptive_rate",
    "cosaudit.bulk.rate",
    "cosaudit.bulk.shards",
    "cosaudit.auth",
    "cosaudit.messages",
    "cosaudit.listing",
    "cosaudit.formats",
    "cosaudit.report",
    "cosaudit.callbacks.parsing",
    "cosaudit.callbacks.receiver",
]
CLIENT_SIDE = [
    "cosaudit.session",
    "cosaudit.auth",
    "cosaudit.transport",
    "cosaudit.messages",
    "cosaudit.retrying",
    "cosaudit.request_retrying",
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


# What the emulator may import of cosaudit: itself, and the wire pieces both sides share.
SHARED_WITH_EMULATOR = ("cosaudit", "cosaudit.emulator", "cosaudit.wire")


def test_the_emulator_never_imports_the_client() -> None:
    loaded = loaded_after("import cosaudit.emulator, cosaudit.emulator.cli")
    assert "cosaudit.emulator.server" in loaded
    assert not loaded & set(CLIENT_SIDE)


def test_the_emulator_imports_only_itself_and_the_wire_package() -> None:
    # Importing cosaudit.emulator runs cosaudit/__init__.py (the client's public API) first, so
    # the rule is checked on the emulator's own source: every cosaudit import it makes.
    import ast
    import pathlib

    root = pathlib.Path(cosaudit.__file__).parent / "emulator"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name == "cosaudit" or name.startswith("cosaudit."):
                    allowed = any(
                        name == prefix or name.startswith(prefix + ".")
                        for prefix in SHARED_WITH_EMULATOR[1:]
                    )
                    assert allowed, f"{path.relative_to(root)} imports {name}"


def test_the_session_knows_nothing_of_polling() -> None:
    loaded = loaded_after("import cosaudit.session")
    assert "cosaudit.waiting" not in loaded and "cosaudit.kinds" not in loaded


def test_the_report_s_libraries_load_only_to_draw_a_report() -> None:
    # cosaudit[report] is an extra: importing the package, or the report module, needs none of it.
    loaded = loaded_after("import cosaudit, cosaudit.report, cosaudit.demo, cosaudit.cli")
    assert "cosaudit.report" in loaded
    assert not loaded & {"jinja2", "pygal", "markupsafe"}


def test_public_names_resolve() -> None:
    for name in cosaudit.__all__:
        assert getattr(cosaudit, name) is not None
    assert set(cosaudit.__all__) <= set(dir(cosaudit))
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = cosaudit.no_such_name  # type: ignore[attr-defined]
