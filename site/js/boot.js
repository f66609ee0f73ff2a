// The page's first script, a classic one (module scripts are refused on file://, so
// this is the one that can still speak there). Served over HTTP, it starts Python's
// worker at once, before the page's own modules load (js/main.js adopts it). Opened
// as a file, nothing can start: it says how to serve the page instead.

// Under pyodide/, what a first visit fetches early: Pyodide's wasm and the runtime
// parts a start loads (tests/test_build.py holds this list equal to the build's).
// site-packages.bin starts once the others are in: Python's start needs them first,
// and runs while it downloads.
const EARLY = ["pyodide.asm.wasm", "python_stdlib.zip", "site-packages.bin"];
const WASM = "pyodide.asm.wasm";
const BUNDLE = "site-packages.bin";

// Each file goes to the worker in exactly one message, {early: file, status, type,
// body} or {early: file, error} when its fetch failed. The wasm's body is a stream that
// the worker compiles as it arrives (held here meanwhile: the download never waits for
// the worker), the others' the whole file, once it is here; where streams cannot cross
// to a worker, the wasm's too.
function fetchEarly(worker, files) {
  const send = (file) =>
    fetch(`pyodide/${file}`)
      .then(async (response) => {
        const message = { early: file, status: response.status, type: response.headers.get("Content-Type") };
        if (!response.ok) return worker.postMessage(message);
        if (file === WASM && response.body) {
          let arrived = null;
          const whole = new Promise((resolve) => (arrived = resolve));
          const held = response.body.pipeThrough(
            new TransformStream({ flush: arrived }, new ByteLengthQueuingStrategy({ highWaterMark: 2 ** 26 })),
          );
          try {
            worker.postMessage({ ...message, body: held }, [held]);
            return whole;
          } catch {
            response = new Response(held); // read whole, below
          }
        }
        const body = await response.arrayBuffer();
        worker.postMessage({ ...message, body }, [body]);
      })
      .catch((err) => worker.postMessage({ early: file, error: String(err?.message || err) }));
  const first = Promise.all(files.filter((file) => file !== BUNDLE).map(send));
  if (files.includes(BUNDLE)) first.then(() => send(BUNDLE));
}

if (location.protocol === "file:") {
  document.addEventListener("DOMContentLoaded", () => {
    const status = document.getElementById("status");
    status.dataset.state = "error";
    document.getElementById("status-text").textContent = "Not started";
    const problem = document.getElementById("start-problem");
    problem.textContent =
      "This page was opened as a file, and browsers do not run Python's worker from files. " +
      "Serve it instead: in the project's folder run python3 build.py serve, then open the address it prints.";
    problem.hidden = false;
  });
} else {
  const fast = !location.search.includes("nosnapshot");
  // A first visit (no service worker answers the page) also fetches Python's biggest
  // files here, at once, for the worker (python.js: early files). The worker's own
  // script and modules arrive after the page's, and the download would wait for them.
  const early = navigator.serviceWorker?.controller ? [] : EARLY.filter((file) => fast || file !== BUNDLE);
  const search = new URLSearchParams();
  if (!fast) search.set("nosnapshot", "");
  if (early.length) search.set("early", early.join(","));
  const query = String(search);
  const worker = new Worker(`worker/worker.js${query ? `?${query}` : ""}`, { type: "module" });
  // A worker whose script cannot load (a 404) says so once, maybe before js/api.js
  // listens: the event is kept for it (api.js: connect).
  worker.addEventListener("error", (e) => {
    worker.startError ??= e;
  });
  window.oneneuronWorker = worker;
  fetchEarly(worker, early);
}
