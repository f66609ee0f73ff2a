"""Shared by the tests that run the package inside Pyodide (Node) from CPython."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("runner.mjs")
PYODIDE_DIR = ROOT / "dist" / "pyodide"

# Lines for the end of the pytest report (counts under Pyodide, parity figures).
SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:
    if SUMMARY:
        terminalreporter.section("Pyodide")
        for line in SUMMARY:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("Node.js is needed for the Pyodide tests: install nodejs")
    return path


@pytest.fixture(scope="session")
def pyodide_dist() -> Path:
    """dist/pyodide, checked to hold a wheel built from the current py/oneneuron."""
    lock = PYODIDE_DIR / "pyodide-lock.json"
    if not lock.exists():
        pytest.fail("dist/ is not built: run python3 build.py build first")
    (wheel,) = PYODIDE_DIR.glob("oneneuron-*-py3-none-any.whl")
    source = ROOT / "py" / "oneneuron"
    with zipfile.ZipFile(wheel) as z:
        shipped = {
            n.removeprefix("oneneuron/"): z.read(n)
            for n in z.namelist()
            if n.startswith("oneneuron/") and n.endswith(".py")
        }
    current = {p.name: p.read_bytes() for p in source.glob("*.py")}
    stale = sorted(
        n for n in current.keys() | shipped.keys() if current.get(n) != shipped.get(n)
    )
    if stale:
        pytest.fail(
            f"{wheel.relative_to(ROOT)} is not built from the current py/oneneuron "
            f"({', '.join(stale)} differ): run python3 build.py build"
        )
    return PYODIDE_DIR


@pytest.fixture(scope="session")
def pyodide_summary() -> list[str]:
    """Lines that the end of the pytest report shows under "Pyodide"."""
    return SUMMARY


@pytest.fixture(scope="session")
def pyodide_runner(node: str, pyodide_dist: Path):
    """Run tests/pyodide/runner.mjs with some arguments; stdout and stderr as text."""

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [node, str(RUNNER), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
