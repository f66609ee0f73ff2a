"""The package's own tests, run again inside Pyodide (Python 3.12, numpy 2.0.2, wasm).

tests/pyodide/runner.mjs loads Pyodide from dist/pyodide, numpy and the oneneuron
wheel from dist's lock, installs pytest from the verified wheels build.py fetched,
and runs tests/ plus the installed package's doctests there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.pyodide

# Fewer tests than this actually passing inside Pyodide means tests stopped being
# collected or got skipped there: a regression even if nothing fails.
MIN_PASSED = 200


def test_package_tests_pass_under_pyodide(pyodide_runner, pyodide_summary) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import build  # build.py: fetches and verifies the test-only wheels (cached)

    wheels = [a for w in build.fetch_pyodide_test_wheels() for a in ("--wheel", w)]
    done = pyodide_runner("pytest", *map(str, wheels))
    output = done.stdout + done.stderr
    lines = [x for x in done.stdout.splitlines() if x.startswith("pyodide-result ")]
    if not lines:  # Pyodide itself died: name the test it was in, show the end
        where = [x.strip() for x in output.splitlines() if '"/repo/tests/' in x]
        pytest.fail(
            f"the Pyodide run ended without a result (exit {done.returncode})"
            + (f"; it was in {where[-1]}" if where else "")
            + f":\n{output[-6000:]}",
            pytrace=False,
        )
    result = json.loads(lines[-1].removeprefix("pyodide-result "))
    counts = ", ".join(
        f"{result[k]} {k}"
        for k in ("passed", "skipped", "failed", "errors", "xfailed")
        if result[k] or k in ("passed", "skipped")
    )
    pyodide_summary.append(
        f"package tests under Pyodide {result['pyodide']} (Python {result['python']}, "
        f"numpy {result['numpy']}): {counts} in {result['seconds']} s"
    )
    print(pyodide_summary[-1])
    if done.returncode != 0 or result["exit"] != 0:
        pytest.fail(
            f"tests fail under Pyodide ({counts}):\n{_failures(output)}", pytrace=False
        )
    assert result["oneneuron"].startswith("/lib/python3.12/site-packages/"), result
    assert result["passed"] >= MIN_PASSED, (
        f"only {result['passed']} tests passed under Pyodide, expected at least "
        f"{MIN_PASSED} ({counts}):\n{output[-6000:]}"
    )


def _failures(output: str) -> str:
    """The FAILED/ERROR lines and the first failure's report, else the run's end."""
    lines = [x for x in output.splitlines() if x.startswith(("FAILED", "ERROR"))]
    if not lines:  # no summary: pytest itself broke
        return output[-6000:]
    first = output.partition(" FAILURES =")[2] or output.partition(" ERRORS =")[2]
    first = first.partition("\n")[2].split("\n_____", 1)[0]
    end = "\n".join(first.splitlines()[-25:])
    return "\n".join(lines[:40]) + "\n\n-- the end of the first one --\n" + end
