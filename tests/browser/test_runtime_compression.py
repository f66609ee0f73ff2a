"""The page over Brotli and over gzip: each file comes in the best coding the browser
asks for, the page answers, and the service worker keeps the decoded files (their
sha256 is the manifest's)."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
KEPT_SHA256 = """async (path) => {
  const name = (await caches.keys()).find((k) => k.startsWith('oneneuron-build-'));
  const hit = name && (await caches.match(path, { cacheName: name }));
  if (!hit) return null;
  const digest = await crypto.subtle.digest('SHA-256', await hit.arrayBuffer());
  const hex = (b) => b.toString(16).padStart(2, '0');
  return [...new Uint8Array(digest)].map(hex).join('');
}"""


@pytest.mark.parametrize("accept", ["gzip, deflate, br", "gzip, deflate"])
def test_the_page_answers_and_keeps_its_files_over_each_coding(
    browser, base_url, dist, accept
):
    context = browser.new_context(
        base_url=base_url, extra_http_headers={"Accept-Encoding": accept}
    )
    got: dict[str, tuple[str, str]] = {}

    def seen(response) -> None:
        path = response.url[len(base_url) :].split("?")[0]  # worker.js?early=...
        asked = response.request.all_headers().get("accept-encoding", "")
        got[path] = (asked, response.headers.get("content-encoding", "identity"))

    context.on("response", seen)
    page = context.new_page()
    try:
        page.goto("/")
        page.wait_for_selector("body[data-ready=true]", timeout=90_000)
        want = "br" if "br" in accept else "gzip"
        wasm = "/pyodide/pyodide.asm.wasm"
        assert got[wasm] == (accept, want)
        for path in ("/", "/worker/worker.js", "/pyodide/pyodide.asm.js"):
            assert got[path][1] == want, path
        files = json.loads((dist / "manifest.json").read_text())["files"]
        kept = None
        deadline = time.monotonic() + 60  # the service worker keeps it after ready
        while kept is None and time.monotonic() < deadline:
            page.wait_for_timeout(500)
            kept = page.evaluate(KEPT_SHA256, wasm)
        assert kept == files["pyodide/pyodide.asm.wasm"]["sha256"]
        assert kept == hashlib.sha256((dist / wasm[1:]).read_bytes()).hexdigest()
    finally:
        context.close()
