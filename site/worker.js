// The Python side of the page: a module worker that answers messages.
//
// Every request {id, method, args} gets exactly one answer, {id, result} or
// {id, error}; events without an id report loading ({event: "progress", ...}) and
// training ({event: "train", ...} after each slice, {event: "train-error"}).
// All the maths is oneneuron.page.Page (pure Python, tested in CPython); this file
// converts JavaScript values to Python and back, and schedules training in slices
// between the other requests. Starting Python: js/python.js.

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

// -- conversions --------------------------------------------------------------------------
function toJs(value) {
  if (value && typeof value.toJs === "function") {
    const out = value.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false });
    value.destroy();
    return out;
  }
  return value;
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

// Call a Page method with positional args and keyword args; bytes go in as memoryview.
function call(name, args = [], kwargs = {}) {
  const proxies = [];
  const pyArgs = args.map((a) => {
    if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
      const p = pyodide.toPy(a instanceof ArrayBuffer ? new Uint8Array(a) : a);
      proxies.push(p);
      return p;
    }
    if (a && typeof a === "object") {
      const p = pyodide.toPy(a);
      proxies.push(p);
      return p;
    }
    return a;
  });
  const method = page[name];
  try {
    return toJs(method.callKwargs(...pyArgs, kwargs));
  } finally {
    method.destroy();
    for (const p of proxies) p.destroy();
  }
}

// The message a person should read: for a Python exception, its last line(s) without
// the traceback ("ValueError: weights[0][7] must be..." → "weights[0][7] must be...").
function errorMessage(err) {
  if (err && err.type && typeof err.message === "string") {
    const lines = err.message.trimEnd().split("\n");
    const at = lines.findLastIndex((l) => l.startsWith(`${err.type}: `));
    if (at >= 0) {
      const text = lines.slice(at).join("\n").slice(err.type.length + 2);
      return err.type === "ValueError" ? text : `${err.type}: ${text}`;
    }
  }
  return err && err.message ? String(err.message) : String(err);
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
const handlers = {
  // The first request: the default model's URL. Its fetch overlaps Python's start.
  async init({ name, url, label }) {
    const text = fetchText(url);
    text.catch(() => {});
    await booting;
    const info = call("load_weights", [await text], { name, label });
    runtime.timings.ready = performance.now();
    progress("ready", 1);
    keepForNextVisit(); // after the page is ready: never on the way to the first answer
    return { model: info, models: call("models"), runtime };
  },
  async fetchModel({ name, url, label, activate = true }) {
    const text = await fetchText(url);
    await booting;
    return { model: call("load_weights", [text], { name, label, activate }), models: call("models") };
  },
  // A file from the picker or a drop: read here, off the main thread; at most one byte
  // more than the reader accepts, so a huge file is refused without reading it all.
  async importFile({ file, name = "file", label }) {
    await booting;
    const module = pyodide.pyimport("oneneuron.weights");
    const limit = module.MAX_BYTES;
    module.destroy();
    const bytes = new Uint8Array(await file.slice(0, limit + 1).arrayBuffer());
    return { model: call("load_weights", [bytes], { name, label }), models: call("models") };
  },
  // A weights file's text kept by the page (the model trained on an earlier visit).
  async loadModel({ text, name, label = null, activate = true }) {
    await booting;
    return { model: call("load_weights", [text], { name, label, activate }), models: call("models") };
  },
  async select({ name }) {
    await booting;
    return { model: call("select", [name]), models: call("models") };
  },
  async models() {
    await booting;
    return call("models");
  },
  async modelInfo({ name = null } = {}) {
    await booting;
    return call("model_info", [name]);
  },
  async predict({ pixels, width, height }) {
    await booting;
    return call("predict", [pixels, height, width]);
  },
  async export({ name = null } = {}) {
    await booting;
    return call("export", [name]);
  },
  async forget({ name }) {
    await booting;
    return call("forget", [name]);
  },

  // -- training (the page's training panel) --
  async checkSettings({ settings }) {
    await booting;
    return call("check_settings", [settings]);
  },
  // The split's bytes were fetched before this request joined the queue (fetchers).
  async loadData({ split, images, labels }) {
    await booting;
    return call("set_data", [split, images, labels]);
  },
  async trainStart({ settings }) {
    await booting;
    stopTraining();
    const t0 = performance.now();
    const out = call("train_start", [settings]);
    training.elapsed = (performance.now() - t0) / 1000; // building the run counts
    training.python = training.elapsed;
    training.checked = -Infinity;
    return { ...out, seconds: training.elapsed };
  },
  // Train in slices until the run is done or paused; each slice is posted as a
  // {event: "train"} message. Answers at once.
  async trainResume({ sliceSeconds = SLICE_SECONDS } = {}) {
    await booting;
    training.sliceSeconds = sliceSeconds;
    training.running = true;
    training.mark = performance.now();
    training.loop ??= trainLoop();
    return { running: true };
  },
  // Answered after the slice in progress: the progress at which training stopped.
  async trainPause() {
    stopTraining();
    return { seconds: training.elapsed };
  },
  // Exactly one batch.
  async trainStep() {
    await booting;
    stopTraining();
    const t0 = performance.now();
    try {
      const out = call("train_run", [1, null], { check: true });
      training.python += (performance.now() - t0) / 1000;
      return checked(withSeconds(out, t0));
    } catch (err) {
      training.elapsed += (performance.now() - t0) / 1000;
      throw err;
    }
  },
  async trainFinish({ name = "trained", label = null, mistakes = 0 } = {}) {
    await booting;
    const { evaluation = null, ...model } = call("train_finish", [name, label], { mistakes });
    return { model, models: call("models"), evaluation };
  },
  async trainCancel() {
    await booting;
    stopTraining();
    return call("train_cancel");
  },
  async evaluate({ name = null, mistakes = 0 } = {}) {
    await booting;
    return call("evaluate", [name], { mistakes });
  },
  async inspect({ index, name = null }) {
    await booting;
    return call("inspect", [index, name]);
  },
  async addExample({ pixels, width, height, label }) {
    await booting;
    return call("add_example", [pixels, height, width, label]);
  },
  async clearExamples() {
    await booting;
    return call("clear_examples");
  },
  async updateRule({ optimizer = "adam" } = {}) {
    await booting;
    return call("update_rule", [optimizer]);
  },
};

// Work done before a request joins the queue, so the queue is never held up by the
// network: the training data downloads while predictions go on being answered.
const fetchers = {
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
  let out;
  const t0 = performance.now();
  try {
    out = call("train_run", [null, training.sliceSeconds], { check: checkDue() });
    training.python += (performance.now() - t0) / 1000;
  } catch (err) {
    training.running = false;
    const now = performance.now();
    training.elapsed += (now - training.mark) / 1000;
    post({ event: "train-error", message: errorMessage(err), seconds: training.elapsed });
    return;
  }
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
  const { id, method, args } = data || {};
  if (method === "trainPause") stopTraining(); // at once, not after queued slices
  const fetcher = Object.hasOwn(fetchers, method) ? fetchers[method] : null;
  const ready = fetcher ? fetcher(args || {}) : null;
  const answer = (job) =>
    job.then(
      (result) => post({ id, result }, transferables(result)),
      (err) => post({ id, error: errorMessage(err) }),
    );
  if (ready) {
    // joins the queue once its bytes are here; a failed download is answered at once
    answer(ready.then((full) => enqueue(() => run(method, full))));
  } else {
    answer(enqueue(() => run(method, args || {})));
  }
};

async function run(method, args) {
  const handler = Object.hasOwn(handlers, method) ? handlers[method] : null;
  if (!handler) throw new Error(`unknown request ${JSON.stringify(method)}`);
  return handler(args);
}
