"""The service worker keeps exactly the build the manifest lists: each page on its own
build until it reloads, every kept file checked by sha256 (a bad one fetched again),
training data by its hash, nothing half-kept, and answers even when a write fails.

Each test serves a copy of dist/ of its own with build.make_server, and "rebuilds"
it by changing files and manifest.json the way build.py writes them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import threading
import time
from functools import partial
from pathlib import Path

import build
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
BUILDS = (
    "async () => (await caches.keys()).filter(k => k.startsWith('oneneuron-build-'))"
)
TEXT = "(path) => fetch(path).then(r => r.text())"
BYTES = """async (path) => {
  const r = await fetch(path);
  const b = new Uint8Array(await r.arrayBuffer());
  return [r.status, b.length, Array.from(b.slice(0, 16))];
}"""

# A second Python worker, started by a page as js/boot.js starts its own: how its start
# got numpy and oneneuron ("site-packages.bin" from the build's cache, or "wheels").
NEW_WORKER = """async () => {
  const worker = new Worker("worker/worker.js", { type: "module" });
  const answer = await new Promise((resolve) => {
    worker.onmessage = ({ data }) => (data.error || data.id === 2) && resolve(data);
    worker.onerror = (e) => resolve({ error: { message: `worker: ${e.message}` } });
    worker.postMessage({ id: 1, method: "select", args: {} });
    worker.postMessage({ id: 2, method: "ready", args: {} });
  });
  worker.terminate();
  return answer.error ? answer.error.message : answer.result.packages;
}"""
MANIFEST_VERSION = "async () => (await (await fetch('manifest.json')).json()).version"
CURRENT = """async () => {
  const r = await caches.match("current", { cacheName: "oneneuron-meta" });
  return r ? r.text() : null;
}"""


class Gate:
    """Requests held by the server (Site.hold) until the test opens the gate: a race
    forced into the order under test, whatever the machine's speed."""

    def __init__(self, path: str, headers: dict[str, str]) -> None:
        self.path, self.headers = path, headers
        self.arrived = threading.Event()  # a request came and waits
        self._open = threading.Event()

    def pass_through(self, handler) -> None:
        if handler.path.split("?")[0] != self.path:
            return
        if any(handler.headers.get(k) != v for k, v in self.headers.items()):
            return
        self.arrived.set()
        self._open.wait(120)

    def wait(self, timeout: float = 60) -> None:
        assert self.arrived.wait(timeout), f"no request for {self.path} came"

    def open(self) -> None:
        self._open.set()


class Site:
    """A copy of dist/ on a server of its own, which can be rebuilt under it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copytree(DIST, root)
        self.server = build.make_server(root, port=0, quiet=True)
        self.requests: list[str] = []
        self.gates: list[Gate] = []
        made = self.server.RequestHandlerClass  # partial(handler, directory=...)
        seen = self.requests
        gates = self.gates

        class Logged(made.func):  # type: ignore[misc, name-defined]
            def do_GET(self) -> None:
                for gate in list(gates):
                    gate.pass_through(self)
                super().do_GET()

            def log_request(self, code="-", size="-") -> None:
                seen.append(self.path)

        self.server.RequestHandlerClass = partial(Logged, *made.args, **made.keywords)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    @property
    def version(self) -> str:
        return json.loads((self.root / "manifest.json").read_text())["version"]

    def rebuild(self, changes: dict[str, bytes], *, wrong_hash: str = "") -> str:
        """Write changed files (and their .gz) and a new manifest; ``wrong_hash``
        names a file whose listed sha256 will not match. Returns the new version."""
        manifest = json.loads((self.root / "manifest.json").read_text())
        for path, data in changes.items():
            (self.root / path).write_bytes(data)
            gz = self.root / f"{path}.gz"
            if gz.exists():
                gz.write_bytes(gzip.compress(data, mtime=0))
            digest = hashlib.sha256(data).hexdigest()
            if path == wrong_hash:
                digest = hashlib.sha256(data + b"!").hexdigest()
            manifest["files"][path] = {"bytes": len(data), "sha256": digest}
        manifest["version"] = hashlib.sha256(
            json.dumps(manifest["files"], sort_keys=True).encode()
        ).hexdigest()[:16]
        text = json.dumps(manifest).encode()
        (self.root / "manifest.json").write_bytes(text)
        (self.root / "manifest.json.gz").write_bytes(gzip.compress(text, mtime=0))
        return manifest["version"]

    def hold(self, path: str, **headers: str) -> Gate:
        """Hold every request for ``path`` (that has these headers: Sec_Fetch_Mode
        for Sec-Fetch-Mode) until the returned gate is opened."""
        gate = Gate(path, {k.replace("_", "-"): v for k, v in headers.items()})
        self.gates.append(gate)
        return gate

    def close(self) -> None:
        for gate in self.gates:
            gate.open()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path / "site")
    yield s
    s.close()


@pytest.fixture
def context(browser):
    c = browser.new_context()
    yield c
    c.close()


def _visit(context, site: Site, hand_for):
    """A new page (a new client) on the site, started and kept offline-ready."""
    page = context.new_page()
    page.goto(site.url)
    hand_for(page).ready()
    page.wait_for_selector("body[data-offline=ready]", state="attached", timeout=60_000)
    return page


def until(page, predicate: str, arg=None, timeout: float = 60) -> None:
    """Wait until an async predicate (Cache Storage is async) holds in the page.
    page.wait_for_function does not await a promise: it takes it for true at once."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate, arg):
        assert time.monotonic() < deadline, f"false for {timeout} s: {predicate}"
        page.wait_for_timeout(100)


def _wait_for_build(page, version: str, only: bool = False) -> None:
    """Until the build is the current one (kept whole: its cache appears as soon as
    it starts to fill); ``only``: and no other build is kept."""
    until(page, f"async () => (await ({CURRENT})()) === '{version}'")
    if only:
        until(page, f"async () => (await ({BUILDS})()).length === 1")


def test_an_open_page_keeps_its_build_while_a_new_page_gets_the_new_one(
    context, site, hand_for
):
    old = site.version
    first = _visit(context, site, hand_for)
    format_js = (site.root / "js" / "format.js").read_bytes()
    old_text = format_js.decode()
    new = site.rebuild({"js/format.js": format_js + b"// the next build\n"})

    second = _visit(context, site, hand_for)  # its visit fetches the new build
    _wait_for_build(second, new)
    third = _visit(context, site, hand_for)
    assert third.evaluate(TEXT, "js/format.js").endswith("// the next build\n")
    # the pages opened before stay on their own build, cache and all
    assert first.evaluate(TEXT, "js/format.js") == old_text
    assert second.evaluate(TEXT, "js/format.js") == old_text
    hand_for(first).six()
    hand_for(first).settle(model="six")
    assert hand_for(first).answer()["digit"] == "6"
    assert sorted(first.evaluate(BUILDS)) == sorted(
        [f"oneneuron-build-{old}", f"oneneuron-build-{new}"]
    )

    first.close()
    second.close()
    third.reload()  # once no page uses the old build, its cache goes
    hand_for(third).ready()
    _wait_for_build(third, new, only=True)
    assert third.evaluate(TEXT, "js/format.js").endswith("// the next build\n")


def test_a_page_started_on_a_build_reads_python_from_that_build(
    context, site, hand_for
):
    """Python's start reads site-packages.bin from the service worker's cache. A page
    on the old build that starts a worker after a newer build became the current one
    reads the old build's copy, not the newer one's (here unusable: read, it would
    send the start to the wheels)."""
    first = _visit(context, site, hand_for)
    first.reload()  # now a repeat visit, answered from the kept build
    hand_for(first).ready()
    assert first.evaluate(NEW_WORKER) == "site-packages.bin"

    new = site.rebuild({"pyodide/site-packages.bin": b"not a bundle"})
    second = _visit(context, site, hand_for)  # its visit caches the new build
    _wait_for_build(second, new)
    third = _visit(context, site, hand_for)  # a page on the new build
    assert third.evaluate(MANIFEST_VERSION) == new
    assert third.evaluate(NEW_WORKER) == "wheels"  # the new build's copy is unusable
    assert first.evaluate(NEW_WORKER) == "site-packages.bin"


# How the page's Python started: numpy and oneneuron from "site-packages.bin" (read from
# its build's cache) or from the "wheels" (the bundle it read was unusable).
PACKAGES = "() => performance.getEntriesByName('oneneuron:ready')[0].detail.packages"
JUNK = "oneneuron-build-0000000000000000"  # a build no page uses: a prune drops it


@pytest.mark.parametrize("script", ["same", "new"])
def test_a_worker_not_yet_running_when_a_new_build_lands_keeps_its_pages_build(
    context, site, hand_for, script
):
    """The racy moment: a page answered from the old build starts its Python worker;
    the worker's script has been asked for (the worker is pinned to the page's build)
    but the worker is not running yet, when the new build becomes the current one and
    builds and pins no page uses are dropped. The worker, once running, still reads
    Python from its page's build (the new build's bundle is unusable: read, it would
    send the start to the wheels)."""
    first = _visit(context, site, hand_for)  # a first visit: the service worker's in
    old = site.version
    changes = {"pyodide/site-packages.bin": b"not a bundle"}
    if script == "new":  # a new version of the service worker installs meanwhile
        changes["sw.js"] = (site.root / "sw.js").read_bytes() + b"// the next one\n"
    new = site.rebuild(changes)
    # the next page's worker script comes from the network (as if not kept), held there
    # (the service worker's own fetches are "cors", a worker's script "same-origin")
    first.evaluate(
        "async ([name, url]) => (await caches.open(name)).delete(url)",
        [f"oneneuron-build-{old}", site.url + "worker/worker.js"],
    )
    worker_script = site.hold("/worker/worker.js", Sec_Fetch_Mode="same-origin")
    update = site.hold("/manifest.json")  # the service worker's look for a new build

    second = context.new_page()
    second.goto(site.url)  # answered from the old build; its visit looks for a new one
    update.wait()
    worker_script.wait()  # the worker is pinned, and not running
    update.open()  # the new build is cached and becomes the current one ...
    _wait_for_build(first, new)
    # ... and what no page uses has been dropped since
    first.evaluate(f"caches.open('{JUNK}')")
    until(first, f"async () => !(await caches.keys()).includes('{JUNK}')")
    worker_script.open()
    hand_for(second).ready()
    assert second.evaluate(MANIFEST_VERSION) == old
    assert second.evaluate(PACKAGES) == "site-packages.bin"
    hand_for(second).six()
    hand_for(second).settle(model="six")
    assert hand_for(second).answer()["digit"] == "6"


def test_training_data_is_kept_by_its_hash_and_follows_the_build(
    context, site, hand_for
):
    labels = (site.root / "data" / "test-labels.bin").read_bytes()
    first = _visit(context, site, hand_for)
    status, size, head = first.evaluate(BYTES, "data/test-labels.bin")
    assert (status, size, head) == (200, len(labels), list(labels[:16]))
    until(
        first,
        "async () => (await (await caches.open('oneneuron-data')).keys()).length === 1",
    )

    changed = bytes((b + 1) % 10 for b in labels)  # a rebuild with other labels
    new = site.rebuild({"data/test-labels.bin": changed})
    second = _visit(context, site, hand_for)
    _wait_for_build(second, new)
    third = _visit(context, site, hand_for)
    assert third.evaluate(BYTES, "data/test-labels.bin")[2] == list(changed[:16])
    assert first.evaluate(BYTES, "data/test-labels.bin")[2] == list(labels[:16])

    # a kept copy that went bad is not served, and is replaced
    key = f"{site.url}data/test-labels.bin?sha256={hashlib.sha256(changed).hexdigest()}"
    third.evaluate(
        "async (k) => (await caches.open('oneneuron-data'))"
        ".put(k, new Response('bad'))",
        key,
    )
    assert third.evaluate(BYTES, "data/test-labels.bin")[1] == len(changed)
    until(
        third,
        "async (k) => { const r = await (await caches.open('oneneuron-data')).match(k);"
        f" return r && (await r.arrayBuffer()).byteLength === {len(changed)}; }}",
        key,
    )


def test_a_corrupted_cache_entry_is_checked_and_repaired(context, site, hand_for):
    page = _visit(context, site, hand_for)
    name = f"oneneuron-build-{site.version}"
    good = {
        p: (site.root / p).read_bytes()
        for p in ("js/format.js", "pyodide/pyodide-lock.json")
    }
    spoil = """async ([name, url]) => (await caches.open(name)).put(url,
      new Response("spoilt", {headers: {"Content-Type": "text/javascript"}}))"""
    kept = """async ([name, url]) => {
      const r = await (await caches.open(name)).match(url);
      return r ? await r.text() : null;
    }"""
    for path in good:
        page.evaluate(spoil, [name, site.url + path])
    # served through the service worker: checked, fetched again, kept again
    assert page.evaluate(TEXT, "js/format.js") == good["js/format.js"].decode()
    until(
        page,
        f"async () => ({kept})({json.dumps([name, site.url + 'js/format.js'])})"
        " !== 'spoilt'",
    )
    # read by Python's start straight from the cache: repaired after the next visit
    page.reload()
    hand_for(page).ready()
    lock = json.dumps([name, site.url + "pyodide/pyodide-lock.json"])
    until(page, f"async () => ({kept})({lock}) !== 'spoilt'", timeout=30)
    for path, data in good.items():
        assert page.evaluate(kept, [name, site.url + path]) == data.decode()


def test_a_failed_update_leaves_no_half_filled_cache(context, site, hand_for):
    old = site.version
    page = _visit(context, site, hand_for)
    weights = (site.root / "weights" / "six.json").read_bytes()
    new = site.rebuild(
        {"weights/six.json": weights + b"\n"}, wrong_hash="weights/six.json"
    )
    site.requests.clear()
    page.reload()
    hand_for(page).ready()
    for _ in range(300):
        if "/weights/six.json" in site.requests:
            break
        page.wait_for_timeout(100)
    assert "/weights/six.json" in site.requests  # the update fetched it, and failed
    # the new build's cache, made before its files were fetched, is dropped whole
    until(page, f"async () => (await ({BUILDS})()).join() === 'oneneuron-build-{old}'")
    assert f"oneneuron-build-{new}" not in page.evaluate("caches.keys()")
    hand_for(page).six()
    hand_for(page).settle(model="six")


def test_a_refused_cache_write_still_answers(context, site, hand_for):
    """A real, tiny storage quota (CDP Storage.overrideQuotaForOrigin): the 4.3 MB
    training images cannot be kept, and the page gets them all the same."""
    page = _visit(context, site, hand_for)
    cdp = context.new_cdp_session(page)
    cdp.send(
        "Storage.overrideQuotaForOrigin",
        {"origin": site.url.rstrip("/"), "quotaSize": 1},
    )
    refused = page.evaluate(
        """async () => {
          try {
            const probe = await caches.open("quota-probe");
            await probe.put("/x", new Response("x".repeat(1e6)));
            return false;
          } catch (e) {
            return e.name;
          } finally {
            await caches.delete("quota-probe");
          }
        }"""
    )
    assert refused == "QuotaExceededError"  # the quota is real
    meta = json.loads((site.root / "data" / "mnist.json").read_text())
    name = meta["test"]["images"]  # training data, fetched only when asked
    images = site.root / "data" / name
    status, size, head = page.evaluate(BYTES, f"data/{name}")
    assert (status, size) == (200, images.stat().st_size)
    assert head == list(images.read_bytes()[:16])
    page.wait_for_timeout(500)
    cached = page.evaluate(
        "async () => (await (await caches.open('oneneuron-data')).keys()).length"
    )
    assert cached == 0
