// The Python side of the page: a module worker that answers messages.
//
// Every request {id, method, args} gets exactly one answer, {id, result} or
// {id, error: {kind, field, message}}; events without an id report loading
// ({event: "progress", ...}) and training ({event: "train", ...} after each slice,
// {event: "train-error", error}). All the maths is oneneuron.page.Page (pure Python,
// tested in CPython), reached through one call path (ask). One table (REQUESTS, below)
// says which requests the worker answers itself or prepares for Python; every other
// request goes to Python as it is. Beside this file: python.js (starting Python),
// fetches.js (its start's fetches) and trainloop.js (training in slices between the
// other requests).
//
// Everything off the main thread lives in this folder (site/worker/). Paths in
// requests ("weights/six.json", "data/mnist.json") are the site's, as the page and
// manifest.json name them: they are read from the site's root, not from this folder.

import "../pyodide/pyodide.mjs"; // fetched alongside python.js, not after it
import { earlyFiles } from "./fetches.js";
import { prefetchLater, startPython } from "./python.js";
import { TrainLoop } from "./trainloop.js";

const ROOT = new URL("../", import.meta.url); // the site's root: index.html's folder
const post = (message, transfer = []) => self.postMessage(message, transfer);
const progress = (stage, fraction) => post({ event: "progress", stage, fraction });

let pyodide = null;
let page = null; // oneneuron.page.Page, a PyProxy
let runtime = null;
let keepForNextVisit = async () => {};

const params = new URL(self.location.href).searchParams;
const indexURL = new URL("pyodide/", ROOT).href;
const booting = startPython({
  indexURL,
  fast: !params.has("nosnapshot"),
  early: earlyFiles(indexURL, params.get("early")?.split(",").filter(Boolean) ?? []),
  progress,
}).then((started) => {
  ({ pyodide, page, runtime } = started);
  keepForNextVisit = started.keep;
});
booting.catch(() => {}); // reported to whoever awaits it

// -- one call path into Python ---------------------------------------------------------
// Python's requests go to Page.handle(method, args) (oneneuron/page.py: REQUESTS, the
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

// A file of the site, by its path from the site's root; errors name that path.
async function fetchBytes(path, onProgress) {
  const response = await fetch(new URL(path, ROOT));
  if (!response.ok) throw new Error(`could not load ${path}: HTTP ${response.status}`);
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

async function fetchText(path) {
  const response = await fetch(new URL(path, ROOT));
  if (!response.ok) throw new Error(`could not load ${path}: HTTP ${response.status}`);
  return response.text();
}

let mnistJson = null; // a promise of data/mnist.json

function dataIndex() {
  mnistJson ??= fetchText("data/mnist.json").then(JSON.parse);
  mnistJson.catch(() => {
    mnistJson = null;
  });
  return mnistJson;
}

// The images and labels of one entry of mnist.json, and any more files of images
// (`extra`: [{path, size}]), with the images' progress posted as {event: "progress",
// stage, received, size} (size: count × image_bytes and the extras' sizes, the bytes
// as they arrive, whatever the transfer's compression).
async function fetchSplit(stage, meta, images, extra = []) {
  const files = [{ path: images, size: meta.count * meta.image_bytes }, ...extra];
  const size = files.reduce((sum, f) => sum + f.size, 0);
  const got = files.map(() => 0);
  const report = (i) => (received) => {
    got[i] = received;
    const all = got.reduce((sum, r) => sum + r, 0);
    post({ event: "progress", stage, fraction: Math.min(1, all / size), received: all, size });
  };
  const [labels, pixels, ...more] = await Promise.all([
    fetchBytes(`data/${meta.labels}`),
    ...files.map((f, i) => fetchBytes(`data/${f.path}`, report(i))),
  ]);
  return { images: pixels, labels, extra: more };
}

// -- what the worker does before Python answers -------------------------------------------
// Work done at once, outside the queue, so the queue is never held up by the network:
// a URL or a file becomes the bytes or text Python reads, and the training data
// downloads while predictions go on being answered. Each returns the args Python gets.

// A shipped model not held yet: Python says which weights file (its "source"), read
// here before "select" joins the queue.
async function weightsSource(args) {
  await booting;
  const { result } = ask("source", { name: args.name ?? null });
  return result?.url ? { ...args, text: await fetchText(result.url) } : args;
}

// A file from the picker or a drop: read here, off the main thread; at most one byte
// more than the reader accepts, so a huge file is refused without reading it all.
async function weightsFile({ file, ...rest }) {
  if (!file) return rest; // the text itself (a model kept in localStorage)
  await booting;
  const module = pyodide.pyimport("oneneuron.weights");
  const limit = module.MAX_BYTES;
  module.destroy();
  return { ...rest, text: new Uint8Array(await file.slice(0, limit + 1).arrayBuffer()) };
}

// data/mnist.json (format 3) says which files make each split, how many images and
// how many bytes an image: train {count, image_bytes, labels, variants: {key:
// {images, preprocess}}}, test {count, image_bytes, images, labels, variants: {key:
// {images, preprocess, image_bytes}}}, sets {name: {the fields of test}}. Read once;
// a failed read is tried again next time. A training variant is picked by its
// deskew setting (the panel's switch): one file is fetched, the other only when a
// run asks for it. The test images come with their inputs packed for every
// training variant (small), so a run never makes 10,000 test inputs here.
async function dataSplit({ split, deskew = false }) {
  const index = await dataIndex();
  const meta = index[split];
  if (!meta || (split !== "train" && split !== "test")) {
    throw new Error(`there is no ${split} split in data/mnist.json`);
  }
  if (split === "test") {
    const variants = Object.values(meta.variants || {});
    const extra = variants.map((v) => ({ path: v.images, size: meta.count * v.image_bytes }));
    const { images, labels, extra: packed } = await fetchSplit("data-test", meta, meta.images, extra);
    const inputs = variants.map((v, i) => ({ preprocess: v.preprocess, images: packed[i] }));
    return { split, images, labels, inputs };
  }
  const variant = Object.values(meta.variants || {}).find((v) => v.preprocess.deskew === deskew);
  if (!variant) throw new Error(`data/mnist.json has no training images with deskew ${deskew}`);
  const { images, labels } = await fetchSplit(`data-${split}`, meta, variant.images);
  return { split, images, labels, preprocess: variant.preprocess };
}

// The names of data/mnist.json's "sets", in its order (the handwriting panel's rows).
async function setNames() {
  return { names: Object.keys((await dataIndex()).sets || {}) };
}

// A foreign digit set (the handwriting panel): one of data/mnist.json's "sets".
async function digitSet({ name }) {
  const meta = ((await dataIndex()).sets || {})[name];
  if (!meta) throw new Error(`there is no digit set ${name} in data/mnist.json`);
  const { images, labels } = await fetchSplit(`data-set-${name}`, meta, meta.images);
  return { name, images, labels };
}

// The page's first model answered (its first "select"): Python and the page are ready.
// The answer is how the start went (python.js: runtime, with its timings).
function ready() {
  runtime.timings.ready = performance.now();
  progress("ready", 1);
  keepForNextVisit(); // after the page is ready: never on the way to the first answer
  return { result: runtime };
}

// -- the one table of requests -------------------------------------------------------------
// Request name → what the worker does with it:
//   first(args): at once, when the request arrives, outside the queue (a download, a
//     file read, stopping the training loop); returns the args the answer gets.
//   answer(args): in the queue, once Python started: {result} or {error}. Without
//     one, Python answers (ask).
// A request not in this table goes to Python as it is (oneneuron/page.py: REQUESTS).
const REQUESTS = {
  ready: { answer: ready },
  select: { first: weightsSource },
  loadWeights: { first: weightsFile },
  loadData: { first: dataSplit },
  loadSet: { first: digitSet },
  dataSets: { first: setNames, answer: ({ names }) => ({ result: names }) }, // no Python
  // a module soon needed (the trainer, by Teach and Train) from a later part of Python's
  // runtime: its part fetched now, not in Python's way (python.js: prefetchLater), then
  // imported in the queue (~7 ms) rather than in the first click's
  prefetch: {
    first: async ({ module }) => {
      await booting; // its list of parts comes with the start
      return { module, file: await prefetchLater(indexURL, module) };
    },
    answer: ({ module, file }) => {
      if (file) pyodide.pyimport(module).destroy();
      return { result: file };
    },
  },
  // the training loop's (trainloop.js), which asks Python for each slice
  trainStart: { answer: (args) => training.start(args) },
  trainResume: { answer: (args) => training.resume(args) },
  // stopped at once, not after the slices already queued; answered after them
  trainPause: { first: (args) => (training.stop(), args), answer: () => training.pause() },
  trainStep: { answer: () => training.step() },
  trainCancel: { answer: (args) => training.cancel(args) },
};
const PYTHON = {}; // a request that is Python's alone

// Requests run one after another, in the order they came: a prediction never sees a
// half-switched model, and a slow request cannot be overtaken by a later one.
let queue = Promise.resolve();

function enqueue(job) {
  const done = queue.then(job);
  queue = done.catch(() => {});
  return done;
}

const training = new TrainLoop({ ask, enqueue, send: (out) => post(out, transferables(out)) });

self.onmessage = ({ data }) => {
  if (data && "early" in data) return; // a file for Python's start (fetches.js: earlyFiles)
  const { id, method, args = {} } = data || {};
  const { first, answer } = Object.hasOwn(REQUESTS, method) ? REQUESTS[method] : PYTHON;
  // first runs now (a failed download is answered at once); the answer joins the queue
  new Promise((resolve) => resolve(first ? first(args) : args))
    .then((full) => enqueue(() => booting.then(() => (answer ? answer(full) : ask(method, full)))))
    .catch((err) => ({ error: internalError(err) }))
    .then((out) => {
      if (out.error) post({ id, error: out.error });
      else post({ id, result: out.result }, transferables(out.result));
    });
};
