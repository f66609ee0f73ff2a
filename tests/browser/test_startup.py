"""How the page starts, and how it says so when it cannot: the Content-Security-Policy
it runs under, a visit from a file, no JavaScript, a file of Python's that is missing,
a weights file or a kept model that cannot load, a browser storage that is full.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from oneneuron.page import SHIPPED

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
    "connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'none'"
)
VIOLATIONS = """
  window.cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) =>
    window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""
STATUS = "[data-testid=train-status]"


# -- the Content-Security-Policy -------------------------------------------------------
def test_the_policy_is_one_meta_line_before_anything_it_governs():
    html = (ROOT / "site" / "index.html").read_text()
    lines = [ln for ln in html.splitlines() if "Content-Security-Policy" in ln]
    assert lines == [
        f'  <meta http-equiv="Content-Security-Policy" content="{POLICY}">'
    ]
    head = html[: html.index("</head>")]
    assert head.index("Content-Security-Policy") < head.index("<script")
    assert " style=" not in html and "<style" not in html  # style-src 'self'
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script


def test_the_page_starts_predicts_and_trains_under_its_policy(page, hand):
    """No violation while Python starts, a drawn 6 is predicted and a short run trains;
    in the page (securitypolicyviolation) and in its worker (the console), which gets
    the same policy from the server's header."""
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(VIOLATIONS)
    response = page.reload()
    assert page.locator("meta[http-equiv=Content-Security-Policy]").count() == 1
    worker = page.request.get("/worker/worker.js")
    assert worker.headers["content-security-policy"].startswith(POLICY)
    assert response.ok
    hand.ready()
    hand.six()
    hand.settle(model="six")
    assert hand.answer()["digit"] == "6"
    for name, value in {"samples": "2000", "epochs": "1", "batch_size": "256"}.items():
        page.fill(f"[name={name}]", value)
    page.click("#train-start")
    page.wait_for_selector(f"{STATUS}[data-state=done]", timeout=120_000)
    hand.settle(model="trained")
    page.wait_for_selector("body[data-offline=ready]", state="attached")
    assert page.evaluate("window.cspViolations") == []
    assert seen == []


# -- a first visit's downloads ---------------------------------------------------------
EARLY = ("/pyodide/pyodide.asm.wasm", "/pyodide/python_stdlib.zip")
BUNDLE = "/pyodide/site-packages.bin"


def _downloads(page, base_url: str) -> list[tuple[str, str]]:
    """("request" or "finished", path) of the page's and its worker's requests, in
    order (the query left out)."""
    seen: list[tuple[str, str]] = []

    def log(said: str):
        return lambda r: seen.append((said, r.url[len(base_url) :].split("?")[0]))

    page.on("request", log("request"))
    page.on("requestfinished", log("finished"))
    return seen


def _first_visit_predicting_six(page, hand_for, base_url: str) -> list[tuple[str, str]]:
    """A first visit (no service worker) on which a drawn 6 is read as a 6; returns
    its requests (_downloads). The page is a fresh one (the hand fixture's would have
    visited "/" already, and that visit's late requests, site-packages.bin or
    worker/python.js, would be logged among this one's)."""
    seen = _downloads(page, base_url)
    page.goto("/?nosw")
    hand = hand_for(page)
    hand.ready()
    hand.six()
    hand.settle(model="six")
    assert hand.answer()["digit"] == "6"
    return seen


def test_a_first_visit_downloads_python_before_its_worker_is_in(
    page, hand_for, base_url
):
    """The wasm and the standard library are asked for by the page itself, before the
    worker's own modules; site-packages.bin once they are in (Python's start runs
    while it downloads); each once."""
    seen = _first_visit_predicting_six(page, hand_for, base_url)
    at = {event: seen.index(event) for event in seen}
    python_js = at["request", "/worker/python.js"]
    for path in EARLY:
        assert at["request", path] < python_js, seen
        assert at["finished", path] < at["request", BUNDLE], seen
    for path in (*EARLY, BUNDLE):
        assert seen.count(("request", path)) == 1, seen


def test_without_streams_across_threads_the_files_go_whole(page, hand_for, base_url):
    """A browser that cannot hand a stream to a worker (postMessage refuses it) gets
    each early file whole instead, and starts as well."""
    page.add_init_script("""
      window.refusedStreams = 0;
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (message, transfer) {
        if ((transfer || []).some((t) => t instanceof ReadableStream)) {
          window.refusedStreams += 1;
          throw new DOMException("could not clone a ReadableStream", "DataCloneError");
        }
        return post.call(this, message, transfer);
      };
    """)
    seen = _first_visit_predicting_six(page, hand_for, base_url)
    assert page.evaluate("window.refusedStreams") == 1  # the wasm's
    for path in (*EARLY, BUNDLE):
        assert seen.count(("request", path)) == 1, seen


# -- a clear failure instead of a spinner ----------------------------------------------
def test_a_page_opened_as_a_file_says_how_to_serve_it(page, dist):
    page.goto((dist / "index.html").as_uri())
    problem = page.locator("#start-problem")
    problem.wait_for(state="visible", timeout=10_000)
    assert "python3 build.py serve" in problem.inner_text()
    assert page.get_attribute("#status", "data-state") == "error"
    assert "Starting Python" not in page.inner_text("#status")


def test_without_javascript_the_page_says_so(browser, base_url):
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    try:
        page = context.new_page()
        page.goto("/")
        assert "turn JavaScript on" in page.inner_text("body")
        assert not page.locator("#status").is_visible()  # no spinner that never ends
    finally:
        context.close()


@pytest.mark.parametrize(
    ("missing", "said"),
    [
        (
            "pyodide/pyodide.asm.wasm",
            "could not load pyodide/pyodide.asm.wasm: HTTP 404",
        ),
        ("pyodide/python_stdlib.zip", "could not load pyodide/python_stdlib.zip"),
        ("pyodide/pyodide-lock.json", "could not load pyodide/pyodide-lock.json"),
        ("pyodide/pyodide.mjs", "the Python worker could not be loaded"),
        ("worker/worker.js", "the Python worker could not be loaded"),
    ],
)
def test_a_missing_file_of_python_stops_the_start_with_a_reason(
    page, base_url, missing, said
):
    # any query too: a first visit's worker is worker.js?early=...
    page.context.route(f"{base_url}/{missing}*", lambda r: r.fulfill(status=404))
    page.goto("/?nosw")
    problem = page.locator("#start-problem")
    problem.wait_for(state="visible", timeout=30_000)
    text = problem.inner_text()
    assert "Python could not start" in text and said in text
    assert "Reload the page" in text and "python3 build.py serve" in text
    assert page.get_attribute("#status", "data-state") == "error"
    assert page.get_attribute("body", "data-ready") == "false"


def test_a_failed_fetch_of_python_stops_the_start_with_a_reason(page, base_url):
    page.context.route(f"{base_url}/pyodide/pyodide.asm.wasm", lambda r: r.abort())
    page.goto("/?nosw")
    problem = page.locator("#start-problem")
    problem.wait_for(state="visible", timeout=30_000)
    assert "could not load pyodide/pyodide.asm.wasm" in problem.inner_text()


# -- a model that does not load changes nothing ----------------------------------------
def _unreadable_card() -> str:
    """A weights file the card cannot show (400-digit epochs: page.summary fails on
    it after reading, or the reader refuses it, whichever comes first)."""
    d = json.loads((DIST / "weights" / "six.json").read_text())
    d["classes"] = [3]
    d["training"]["epochs"] = int("9" * 400)
    return json.dumps(d)


def test_a_file_that_fails_to_load_leaves_the_model_predicting(page, hand, tmp_path):
    hand.ready()
    path = tmp_path / "huge-epochs.json"
    path.write_text(_unreadable_card())
    page.set_input_files("#import", path)
    page.wait_for_selector("#model-message[data-kind=error]")
    assert "Could not load huge-epochs.json" in page.inner_text("#model-message")
    assert page.is_checked("input[name=model][value=six]")
    hand.six()
    hand.settle(model="six", timeout=10_000)  # answered, by the model it had
    assert hand.answer()["digit"] == "6"
    checked = page.locator("input[name=model]:checked")
    assert [checked.nth(i).get_attribute("value") for i in range(checked.count())] == [
        "six"
    ]


@pytest.mark.parametrize("kept", ["huge epochs", "not json", "no text"])
def test_a_broken_kept_model_is_dropped_on_reload(page, hand, kept):
    hand.ready()
    text = {"huge epochs": _unreadable_card(), "not json": "{ oops"}.get(kept)
    saved = {"version": 1, "label": "Trained here", "text": text}
    if kept == "no text":
        saved = "{ not json at all"
    page.evaluate(
        "(s) => localStorage.setItem('oneneuron.trained', s)",
        saved if isinstance(saved, str) else json.dumps(saved),
    )
    page.reload()
    hand.ready()
    hand.six()
    hand.settle(model="six")
    assert hand.answer()["digit"] == "6"
    if kept != "no text":
        assert "could not be loaded" in page.inner_text("#train-message")
    assert page.evaluate("localStorage.getItem('oneneuron.trained')") is None
    assert page.get_attribute("[data-testid=prediction]", "data-model") == "six"
    offered = page.locator("input[name=model]")
    names = [offered.nth(i).get_attribute("value") for i in range(offered.count())]
    assert names == list(SHIPPED)  # the shipped ones; the broken one is gone


# -- a trained model that the browser cannot keep --------------------------------------
def test_a_full_local_storage_is_said_instead_of_keeping(page, hand):
    hand.ready()
    filled = page.evaluate(
        """() => {
          localStorage.clear();
          let chunk = "x".repeat(1 << 20), n = 0;
          for (;;) {
            try {
              localStorage.setItem(`fill-${n}`, chunk);
              n += 1;
            } catch {
              if (chunk.length === 1) return n;
              chunk = chunk.slice(chunk.length / 2);
            }
          }
        }"""
    )
    assert filled > 0
    for name, value in {"samples": "2000", "epochs": "1", "batch_size": "256"}.items():
        page.fill(f"[name={name}]", value)
    page.click("#train-start")
    page.wait_for_selector(f"{STATUS}[data-state=done]", timeout=120_000)
    message = page.inner_text("#train-message")
    assert "could not keep it for your next visit (its storage is full)" in message
    assert "keeps it until Reset" not in message
    assert page.evaluate("localStorage.getItem('oneneuron.trained')") is None

    page.evaluate("localStorage.clear()")  # room again: the next run is kept
    page.click("#train-start")
    page.wait_for_function(
        "() => document.getElementById('train-message').textContent"
        ".includes('This browser keeps it until Reset.')",
        timeout=120_000,
    )
    assert page.evaluate("localStorage.getItem('oneneuron.trained')") is not None
