// Starting Python in the worker, as fast as a visit allows (used by worker.js only).
//
// The build ships the standard-library modules a start imports as bytecode in
// python_stdlib.zip (nothing of the standard library is compiled in the page), and
// numpy's and oneneuron's as hash-checked .pyc files in site-packages-pyc.bin, which the
// service worker keeps after the first visit and later visits write into site-packages
// before the import.
// A first visit starts Pyodide, imports the standard-library modules numpy and
// oneneuron will need, and takes a memory snapshot of that interpreter before any
// package is loaded; once the page is ready, keep() puts it in Cache Storage. A repeat
// visit restores the snapshot instead of starting the interpreter. Anything missing,
// stale or broken falls back to the first-visit path.

import { loadPyodide, version as PYODIDE_VERSION } from "../pyodide/pyodide.mjs";

const CACHE = "oneneuron-snapshot";
const SITE_PACKAGES = "/lib/python3.12/site-packages";
// Standard-library modules that loading numpy and oneneuron imports (listed with
// sys.modules before and after, under Pyodide 0.27.7). Imported before the snapshot
// is taken, a repeat visit finds them compiled and initialised already.
const PRELOAD = [
  "__future__", "base64", "calendar", "csv", "ctypes", "dataclasses", "datetime",
  "email.message", "email.utils", "email.header", "email.charset", "email.encoders",
  "email.iterators", "email.quoprimime", "email.base64mime", "encodings.cp437", "gzip",
  "hashlib", "importlib.metadata", "json", "numbers", "pickle", "platform", "quopri",
  "tarfile",
];

// A response kept in Cache Storage: in our own cache, or (name null) in any, such as
// the service worker's; null when there is none or the storage is unavailable.
async function cached(url, name = CACHE) {
  try {
    if (!self.caches) return null;
    return (await (name ? (await caches.open(name)).match(url) : caches.match(url))) || null;
  } catch {
    return null;
  }
}

async function keep(key, bytes) {
  const cache = await caches.open(CACHE);
  await cache.put(key, new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
}

async function drop(key) {
  try {
    await (await caches.open(CACHE)).delete(key);
  } catch {
    // nothing to drop
  }
}

// Bundle format: a uint32 (little-endian) length, a JSON index [[path, bytes], ...],
// then the files one after another.
function unpack(blob, write) {
  const size = new DataView(blob.buffer, blob.byteOffset).getUint32(0, true);
  const index = JSON.parse(new TextDecoder().decode(blob.subarray(4, 4 + size)));
  let at = 4 + size;
  for (const [path, length] of index) {
    write(path, blob.subarray(at, at + length));
    at += length;
  }
}

/**
 * Start Python with numpy and oneneuron loaded and oneneuron.page imported.
 * @param {{indexURL: string, fast: boolean, progress: (stage: string, fraction: number) => void}} options
 *   fast: false turns the snapshot and the precompiled bytecode off (?nosnapshot)
 * @returns {Promise<{pyodide, page, runtime, keep: () => Promise<void>}>}
 */
export async function startPython({ indexURL, fast = true, progress = () => {} }) {
  const timings = { origin: performance.timeOrigin, start: performance.now() };
  const snapshotKey = new URL(`memory-snapshot-${PYODIDE_VERSION}.bin`, indexURL).href;
  // numpy's and oneneuron's bytecode, compiled at build time; only from the service
  // worker's cache (a first visit compiles instead: fetching it would cost more bytes)
  const bundle = fast
    ? cached(new URL("site-packages-pyc.bin", indexURL).href, null)
        .then((r) => r && r.arrayBuffer())
        .catch(() => null)
    : Promise.resolve(null);
  progress("python", 0.05);

  let py = null;
  let snapshot = "off";
  let made = null;
  const saved = fast ? await cached(snapshotKey) : null;
  if (saved) {
    try {
      // the bytes are read while Pyodide's own files load
      py = await loadPyodide({ indexURL, _loadSnapshot: saved.arrayBuffer().then((b) => new Uint8Array(b)) });
      snapshot = "restored";
    } catch (err) {
      console.warn("oneneuron: the saved Python snapshot did not load; starting afresh", err);
      await drop(snapshotKey);
    }
  }
  if (!py) {
    py = await loadPyodide({ indexURL, _makeSnapshot: fast });
    py.runPython(`
import importlib
for name in ${JSON.stringify(PRELOAD)}:
    try:
        importlib.import_module(name)
    except ImportError:
        pass
`);
    if (fast) {
      try {
        made = py.makeMemorySnapshot();
        snapshot = "made";
      } catch (err) {
        console.warn("oneneuron: no Python snapshot this time", err);
      }
    }
  }
  timings.python = performance.now();
  progress("numpy", 0.6);
  try {
    await py.loadPackage(["numpy", "oneneuron"], { messageCallback: () => {}, errorCallback: console.warn });
    timings.packages = performance.now();
    progress("oneneuron", 0.85);

    let bytecode = "compiled";
    const compiled = await bundle;
    if (compiled) {
      try {
        unpack(new Uint8Array(compiled), (path, bytes) => {
          if (!path.startsWith(`${SITE_PACKAGES}/`)) throw new Error(`unexpected path ${path}`);
          py.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
          py.FS.writeFile(path, bytes);
        });
        bytecode = "precompiled";
      } catch (err) {
        console.warn("oneneuron: precompiled bytecode not used", err);
      }
    }
    const page = py.pyimport("oneneuron.page").Page();
    // Everything loaded so far lives as long as the page: out of the garbage collector's
    // sight, a full collection no longer walks ~27,000 objects (5-10 ms) in the middle of
    // a prediction now and then.
    py.runPython("import gc; gc.freeze()");
    timings.imported = performance.now();

    // Keep what the next visit can reuse; called once the page is ready, never on the
    // way to the first answer.
    const keepForNextVisit = async () => {
      try {
        if (made) await keep(snapshotKey, made);
        made = null;
        const cache = await caches.open(CACHE);
        for (const request of await cache.keys()) {
          if (request.url !== snapshotKey) await cache.delete(request); // older versions' files
        }
      } catch (err) {
        console.warn("oneneuron: could not keep Python's start-up for the next visit", err);
      }
    };
    return { pyodide: py, page, runtime: { pyodide: PYODIDE_VERSION, snapshot, bytecode, timings }, keep: keepForNextVisit };
  } catch (err) {
    if (snapshot === "restored") await drop(snapshotKey); // a snapshot that broke is not used again
    throw err;
  }
}
