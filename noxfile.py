"""Developer tasks: ``nox -s tests lint typecheck demo bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite against the embedded emulator."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, the benchmarks and the typed-usage examples."""
    session.install("-e", ".[test]", "mypy")
    session.run("mypy")
    session.run("mypy", "--strict", "tests/typing_usage.py")
    session.run("mypy", "--strict", "benchmarks")


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """``cosaudit demo`` on the embedded emulator."""
    session.install(".")
    session.run("cosaudit", "demo", *session.posargs)


# Issue 4's benchmarks, in the order RESULTS.md reports them, with the arguments of a quick pass.
BENCHMARKS = {
    "hot_path": ["--repeat", "3", "--number", "500"],
    "import_time": ["--runs", "3"],
    "emulator_rps": ["--seconds", "2", "--repeat", "1"],
    "client_cost": ["--requests", "1000", "--repeat", "1"],
    "polling": ["--jobs", "300", "--repeat", "1"],
    "callbacks": ["--jobs", "500"],
    "throughput": ["--jobs", "1000", "--repeat", "1"],
    "memory": ["--sizes", "2000", "20000"],
    "report": ["--sizes", "10000", "100000"],
    "adaptive_rate": ["--seconds", "20"],
}


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """The benchmarks: ``nox -s bench`` (all, full size: about half an hour, mostly the
    official SDK's throughput), ``nox -s bench -- quick`` (a few minutes), or name some:
    ``nox -s bench -- client_cost polling``. Figures print; nothing asserts speed."""
    session.install("-e", ".[test]")
    quick = "quick" in session.posargs
    names = [name for name in session.posargs if name != "quick"] or list(BENCHMARKS)
    for name in names:
        if name not in BENCHMARKS:
            session.error(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
        session.run("python", "-m", f"benchmarks.{name}", *(BENCHMARKS[name] if quick else []))
