// The Python side of the page: a module worker that answers messages.
//
// Every request {id, method, args} gets exactly one answer, {id, result} or
// {id, error}; events without an id ({event: "progress", ...}) report loading.
// All the maths is oneneuron.page.Page (pure Python, tested in CPython); this file
// converts JavaScript values to Python and back. Starting Python: js/python.js.

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

  // Training (the page's training panel): data is fetched only when asked for.
  async loadData({ split }) {
    await booting;
    const meta = JSON.parse(await fetchText("data/mnist.json"))[split];
    if (!meta) throw new Error(`there is no ${split} split in data/mnist.json`);
    const report = (received, total) =>
      post({ event: "progress", stage: `data-${split}`, fraction: total ? received / total : 0 });
    const [images, labels] = await Promise.all([
      fetchBytes(`data/${meta.images}`, report),
      fetchBytes(`data/${meta.labels}`),
    ]);
    return call("set_data", [split, images, labels]);
  },
  async trainStart({ settings }) {
    await booting;
    return call("train_start", [settings]);
  },
  // One slice of training: a few batches or a time budget, so requests in between
  // (predictions, pause) are answered at once.
  async trainRun({ maxBatches = null, maxSeconds = null, check = false } = {}) {
    await booting;
    return call("train_run", [maxBatches, maxSeconds], { check });
  },
  async trainFinish({ name = "trained", label = null } = {}) {
    await booting;
    return { model: call("train_finish", [name, label]), models: call("models") };
  },
  async trainCancel() {
    await booting;
    return call("train_cancel");
  },
  async evaluate({ name = null, mistakes = 0 } = {}) {
    await booting;
    return call("evaluate", [name], { mistakes });
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

// Requests run one after another, in the order they came: a prediction never sees a
// half-switched model, and a slow request cannot be overtaken by a later one.
let queue = Promise.resolve();

self.onmessage = ({ data }) => {
  const { id, method, args } = data || {};
  queue = queue.then(async () => {
    try {
      const handler = Object.hasOwn(handlers, method) ? handlers[method] : null;
      if (!handler) throw new Error(`unknown request ${JSON.stringify(method)}`);
      const result = await handler(args || {});
      post({ id, result }, transferables(result));
    } catch (err) {
      post({ id, error: errorMessage(err) });
    }
  });
};
