// The Python side of the page: a module worker that answers messages.
//
// Every request {id, method, args} gets exactly one answer, {id, result} or
// {id, error: {kind, field, message}}; events without an id report loading
// ({event: "progress", ...}) and training ({event: "train", ...} after each slice,
// {event: "train-error", error}). All the maths is oneneuron.page.Page (pure Python,
// tested in CPython), reached through one call path (ask) and its table of requests;
// this file fetches what Python reads, and schedules training in slices between the
// other requests. Starting Python: js/python.js.

import "./pyodide/pyodide.mjs"; // fetched alongside js/python.js, not after it
import { startPython } from "./js/python.js";

const post = (message, transfer = []) => self.postMessage(message, transfer);
const progress = (stage, fraction) => post({ event: "progress", stage, fraction });

let pyodide = null;
let page = null; // oneneuron.page.Page, a PyProxy
let runtime = null;
let keepForNextVisit = async () => {};

const booting = startPython({
  indexURL: new URL("./pyodide/", import.meta.url).href,
  fast: !new URL(self.location.href).searchParams.has("nosnapshot"),
  progress,
}).then((started) => {
  ({ pyodide, page, runtime } = started);
  keepForNextVisit = started.keep;
});
booting.catch(() => {}); // reported to whoever awaits it

// -- one call path into Python ---------------------------------------------------------
// Every request goes to Page.handle(method, args) (oneneuron/page.py: REQUESTS, the one
// table from request names to Python methods, arguments by keyword). The args object
// crosses whole: numbers, strings, null, plain objects, and typed arrays as memoryview.
// Python answers {result} or {error: {kind, field, message}}: errors are data, never
// sentences to parse.
function ask(method, args) {
  const pyArgs = pyodide.toPy(args);
  const handle = page.handle;
  try {
    const answer = handle(method, pyArgs);
    const out = answer.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false });
    answer.destroy();
    return out;
  } finally {
    handle.destroy();
    pyArgs.destroy();
  }
}

// The buffers of every typed array in a result, so postMessage moves them, not copies.
function transferables(value, found = new Set()) {
  if (ArrayBuffer.isView(value)) {
    found.add(value.buffer);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) transferables(v, found);
  }
  return [...found];
}

// A failure on this side (a download, Python's start): the error as data too. For a
// Python exception, its last line without the traceback.
function internalError(err) {
  let message = err && err.message ? String(err.message) : String(err);
  if (err && err.type) {
    const lines = message.trimEnd().split("\n");
    const at = lines.findLastIndex((l) => l.startsWith(`${err.type}: `));
    if (at >= 0) message = lines.slice(at).join("\n");
  }
  return { kind: "internal", field: null, message };
}

async function fetchBytes(url, onProgress) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get("Content-Length")) || 0;
  if (!onProgress || !response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onProgress(received, total);
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function fetchText(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  return response.text();
}

// -- requests -----------------------------------------------------------------------------
// Work done before a request joins the queue, so the queue is never held up by the
// network: a URL or a file becomes the bytes or text Python reads, and the training
// data downloads while predictions go on being answered.
const fetchers = {
  // The first request: the default model's URL. Its fetch overlaps Python's start.
  async init({ url, ...rest }) {
    return { ...rest, text: await fetchText(url) };
  },
  async fetchModel({ url, ...rest }) {
    return { ...rest, text: await fetchText(url) };
  },
  // A file from the picker or a drop: read here, off the main thread; at most one byte
  // more than the reader accepts, so a huge file is refused without reading it all.
  async importFile({ file, ...rest }) {
    await booting;
    const module = pyodide.pyimport("oneneuron.weights");
    const limit = module.MAX_BYTES;
    module.destroy();
    return { ...rest, text: new Uint8Array(await file.slice(0, limit + 1).arrayBuffer()) };
  },
  async loadData({ split }) {
    const meta = JSON.parse(await fetchText("data/mnist.json"))[split];
    if (!meta) throw new Error(`there is no ${split} split in data/mnist.json`);
    const size = meta.count * 72; // bytes of bits; the transfer may be compressed
    const report = (received) =>
      post({ event: "progress", stage: `data-${split}`, fraction: Math.min(1, received / size), received, size });
    const [images, labels] = await Promise.all([
      fetchBytes(`data/${meta.images}`, report),
      fetchBytes(`data/${meta.labels}`),
    ]);
    return { split, images, labels };
  },
};

// The requests the worker answers itself: the training loop's. Every other request is
// Python's (ask).
const loopRequests = {
  // Train in slices until the run is done or paused; each slice is posted as a
  // {event: "train"} message. Answers at once.
  trainResume({ sliceSeconds = SLICE_SECONDS } = {}) {
    training.sliceSeconds = sliceSeconds;
    training.running = true;
    training.mark = performance.now();
    training.loop ??= trainLoop();
    return { result: { running: true } };
  },
  // Answered after the slice in progress: the progress at which training stopped.
  trainPause() {
    stopTraining();
    return { result: { seconds: training.elapsed } };
  },
  // Exactly one batch.
  trainStep() {
    stopTraining();
    const t0 = performance.now();
    const answer = ask("trainRun", { max_batches: 1, check: true });
    if (answer.error) {
      training.elapsed += (performance.now() - t0) / 1000;
      return answer;
    }
    training.python += (performance.now() - t0) / 1000;
    return { result: checked(withSeconds(answer.result, t0)) };
  },
};

// Answer one request: {result} or {error}. Python is awaited here, once for all.
async function run(method, args) {
  await booting;
  if (Object.hasOwn(loopRequests, method)) return loopRequests[method](args);
  if (method === "trainStart" || method === "trainCancel") stopTraining();
  const t0 = performance.now();
  const answer = ask(method, args);
  if (answer.error) return answer;
  if (method === "trainStart") {
    training.elapsed = (performance.now() - t0) / 1000; // building the run counts
    training.python = training.elapsed;
    training.checked = -Infinity;
    answer.result.seconds = training.elapsed;
  } else if (method === "init") {
    runtime.timings.ready = performance.now();
    progress("ready", 1);
    keepForNextVisit(); // after the page is ready: never on the way to the first answer
    answer.result.runtime = runtime;
  }
  return answer;
}

// -- the training loop ----------------------------------------------------------------------
// Slices of about SLICE_SECONDS of batches, one after another, each a job in the same
// queue as every request: a prediction asked for while training waits at most one
// slice. Between slices the loop yields a task, so messages (Pause) get in. The time
// counted (seconds) is the wall-clock time while the run is going, slices and all in
// between, not the time paused.
// The held-out check runs after a slice once CHECK_EVERY seconds have passed, and
// never takes more than about a tenth of the time (ten neurons check more slowly).
const SLICE_SECONDS = 0.025;
const CHECK_EVERY = 0.05;
const training = {
  running: false,
  loop: null,
  elapsed: 0, // seconds while running, this run
  python: 0, // of which in Python
  mark: 0, // performance.now() when elapsed was last brought up to date
  checked: -Infinity, // elapsed at the last check
  checkCost: 0, // seconds the last check took
  sliceSeconds: SLICE_SECONDS,
};

function checkDue() {
  return training.elapsed - training.checked >= Math.max(CHECK_EVERY, 10 * training.checkCost);
}

function checked(out) {
  if (out.check) {
    training.checked = training.elapsed;
    training.checkCost = out.check.seconds;
  }
  return out;
}

function stopTraining() {
  training.running = false;
}

function withSeconds(out, since) {
  training.elapsed += (performance.now() - since) / 1000;
  return { ...out, seconds: training.elapsed };
}

// A new task without setTimeout's 4-ms clamp on nested timers.
const tick = new MessageChannel();
let ticked = null;
tick.port1.onmessage = () => ticked && ticked();
const nextTask = () =>
  new Promise((resolve) => {
    ticked = resolve;
    tick.port2.postMessage(0);
  });

async function trainLoop() {
  try {
    while (training.running) {
      await enqueue(trainSlice);
      if (training.running) await nextTask();
    }
  } finally {
    training.loop = null;
  }
}

function trainSlice() {
  if (!training.running) return; // paused while this slice waited its turn
  const t0 = performance.now();
  const { result: out, error } = ask("trainRun", { max_seconds: training.sliceSeconds, check: checkDue() });
  if (error) {
    training.running = false;
    training.elapsed += (performance.now() - training.mark) / 1000;
    post({ event: "train-error", error, seconds: training.elapsed });
    return;
  }
  training.python += (performance.now() - t0) / 1000;
  const now = performance.now();
  training.elapsed += (now - training.mark) / 1000;
  training.mark = now;
  if (out.done) training.running = false;
  checked(out);
  out.seconds = training.elapsed;
  out.python = training.python; // of which in Python (the rest: messages, the page)
  out.event = "train";
  post(out, transferables(out));
}

// Requests run one after another, in the order they came: a prediction never sees a
// half-switched model, and a slow request cannot be overtaken by a later one.
let queue = Promise.resolve();

function enqueue(job) {
  const done = queue.then(job);
  queue = done.catch(() => {});
  return done;
}

self.onmessage = ({ data }) => {
  const { id, method, args = {} } = data || {};
  if (method === "trainPause") stopTraining(); // at once, not after queued slices
  const ready = Object.hasOwn(fetchers, method) ? fetchers[method](args) : Promise.resolve(args);
  // joins the queue once its bytes are here; a failed download is answered at once
  ready
    .then((full) => enqueue(() => run(method, full || {})))
    .catch((err) => ({ error: internalError(err) }))
    .then((answer) => {
      if (answer.error) post({ id, error: answer.error });
      else post({ id, result: answer.result }, transferables(answer.result));
    });
};
