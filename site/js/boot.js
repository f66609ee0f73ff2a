// The page's first script, a classic one (module scripts are refused on file://, so
// this is the one that can still speak there). Served over HTTP, it starts Python's
// worker at once, before the page's own modules load (js/main.js adopts it). Opened
// as a file, nothing can start: it says how to serve the page instead.

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
  const worker = new Worker(`worker/worker.js${location.search.includes("nosnapshot") ? "?nosnapshot" : ""}`, {
    type: "module",
  });
  // A worker whose script cannot load (a 404) says so once, maybe before js/api.js
  // listens: the event is kept for it (api.js: connect).
  worker.addEventListener("error", (e) => {
    worker.startError ??= e;
  });
  window.oneneuronWorker = worker;
}
