"""The split runtime in the page (issue 15): a first visit starts from the start's parts
only (no wheel, no later part) and predicts; a module of a later part imports on
demand, online and, after one visit, offline; a module left out of the build says so.

Each test serves a copy of dist/ with one file added, probe.js: a worker that starts
Python as the page's worker does (worker/python.js) and runs the lines it is sent,
the way Train's import of numpy.random runs in the page's worker.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_service_worker import Site  # a copy of dist/ on a server

pytestmark = pytest.mark.browser

PROBE = b"""import { startPython } from "./worker/python.js";
self.onmessage = async ({ data }) => {
  try {
    const indexURL = new URL("pyodide/", self.location.href).href;
    const { pyodide } = await startPython({ indexURL });
    const results = data.code.map((code) => {
      try {
        return String(pyodide.runPython(code));
      } catch (err) {
        return `error: ${String(err.message).trim().split("\\n").pop()}`;
      }
    });
    self.postMessage({ results });
  } catch (err) {
    self.postMessage({ error: String(err.message) });
  }
};
"""
RUN = """async (code) => {
  const worker = new Worker("probe.js", { type: "module" });
  const answer = await new Promise((resolve) => {
    worker.onmessage = ({ data }) => resolve(data);
    worker.onerror = (e) => resolve({ error: `worker: ${e.message}` });
    worker.postMessage({ code });
  });
  worker.terminate();
  return answer;
}"""
# numpy.random (Train's first need), numpy.fft, a standard-library module and a module
# of oneneuron's a start does not import; each value is what CPython gives
LATER = [
    "import numpy.random; repr(numpy.random.default_rng(0).random())",
    # numpy.linalg's compiled core is deferred: a stand-in until first used
    "import numpy; repr(numpy.linalg.inv([[2.0, 0.0], [0.0, 4.0]]).tolist())",
    "import numpy; repr(numpy.linalg.solve([[2.0, 0.0], [0.0, 4.0]], [2, 4]).tolist())",
    "import numpy.fft; repr(float(abs(numpy.fft.fft([1, 2, 3, 4])[1])))",
    "import difflib; repr(difflib.SequenceMatcher(None, 'abcd', 'abce').ratio())",
    "from oneneuron import network; repr(network.MAX_HIDDEN)",
]
LATER_VALUES = [
    "0.6369616873214543",
    "[[0.5, 0.0], [0.0, 0.25]]",
    "[1.0, 1.0]",
    "2.8284271247461903",
    "0.75",
    "256",
]
LATER_FILES = (
    "/pyodide/site-packages-later.bin",
    "/pyodide/python_stdlib_later.zip",
    "/pyodide/oneneuron-later.bin",
)


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path / "site")
    (s.root / "probe.js").write_bytes(b"")
    s.rebuild({"probe.js": PROBE})  # listed in manifest.json: kept for offline too
    yield s
    s.close()


def _got(site: Site) -> set[str]:
    return {Path(p.split("?")[0]).as_posix() for p in site.requests}


def _predicts_six(hand) -> None:
    hand.six()
    hand.settle(model="six")
    assert hand.answer()["digit"] == "6"


def test_a_first_visit_predicts_from_the_start_parts_and_imports_later_ones(
    browser, site, hand_for
):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site.url + "?nosw")  # no offline copy: only what the page asks for
        hand = hand_for(page)
        hand.ready()
        _predicts_six(hand)
        got = _got(site)
        assert {"/pyodide/site-packages.bin", "/pyodide/python_stdlib.zip"} <= got
        assert not {p for p in got if p.endswith(".whl")}
        assert not got & set(LATER_FILES)

        answer = page.evaluate(RUN, [*LATER, "import numpy.f2py"])
        assert "error" not in answer, answer
        *values, left_out = answer["results"]
        assert values == LATER_VALUES
        assert set(LATER_FILES) <= _got(site)  # loaded on demand
        assert left_out.startswith("error: ModuleNotFoundError: No module named")
        assert "numpy.f2py is left out of the page's Python" in left_out
        assert "Fortran" in left_out
    finally:
        context.close()


def test_later_parts_import_offline_after_one_visit(browser, site, hand_for):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site.url)
        hand_for(page).ready()
        page.wait_for_selector(
            "body[data-offline=ready]", state="attached", timeout=60_000
        )
        assert set(LATER_FILES) <= _got(site)  # fetched into the offline copy
        context.set_offline(True)
        page.reload()
        hand = hand_for(page)
        hand.ready()
        _predicts_six(hand)
        answer = page.evaluate(RUN, LATER)
        assert answer == {"results": LATER_VALUES}
    finally:
        context.close()


def test_the_trainer_comes_ahead_of_the_first_teach(browser, site, hand_for):
    """oneneuron's trainer is in a later part: fetched and imported when "Teach it
    this drawing" comes near, so the first Teach downloads nothing; and loading a later
    part never pulls in the standard library's (importlib.metadata, email, csv)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site.url + "?nosw")  # no offline copy: only what the page asks for
        hand = hand_for(page)
        hand.ready()
        _predicts_six(hand)
        assert not _got(site) & set(LATER_FILES)
        page.locator("#lesson").scroll_into_view_if_needed()
        page.wait_for_selector("#teach:not([disabled])")
        for _ in range(300):  # fetched ahead, while nobody clicks
            if "/pyodide/oneneuron-later.bin" in _got(site):
                break
            page.wait_for_timeout(100)
        asked = len(site.requests)
        page.click("#teach")
        page.wait_for_selector("#lesson[data-state=taught][data-steps='1']")
        assert not [p for p in site.requests[asked:] if "/pyodide/" in p]
        assert _got(site) & set(LATER_FILES) == {"/pyodide/oneneuron-later.bin"}
    finally:
        context.close()
