// Starting Python in the worker, as fast as a visit allows (used by worker.js only).
//
// A first visit starts Pyodide, imports the standard-library modules numpy and
// oneneuron will need, and takes a memory snapshot of that interpreter before any
// package is loaded; numpy's and oneneuron's imports then write their compiled
// bytecode. Once the page is ready, keep() puts both in Cache Storage. A repeat visit
// restores the snapshot instead of starting the interpreter (about 0.5 s instead of
// 2), and writes the bytecode back before importing (nothing is compiled again).
// Anything missing, stale or broken falls back to the first-visit path.

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

// Collects the .pyc files under site-packages as hash-checked ones: Python ignores
// any whose source has changed, so a stale bundle can only cost time, never be wrong.
const PYC_COLLECT = `
import glob, importlib.util, os
def _oneneuron_pycs(root):
    out = {}
    for pyc in sorted(glob.glob(root + "/**/__pycache__/*.pyc", recursive=True)):
        with open(pyc, "rb") as f:
            data = f.read()
        folder = os.path.dirname(os.path.dirname(pyc))
        source = os.path.join(folder, os.path.basename(pyc).split(".")[0] + ".py")
        if len(data) < 16 or not os.path.exists(source):
            continue
        if int.from_bytes(data[4:8], "little") == 0:  # timestamp-based: make it hash-checked
            with open(source, "rb") as f:
                digest = importlib.util.source_hash(f.read())
            data = data[:4] + (3).to_bytes(4, "little") + digest + data[16:]
        out[pyc] = data
    return out
_oneneuron_pycs
`;

async function cached(key) {
  try {
    const cache = await caches.open(CACHE);
    return (await cache.match(key)) || null;
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

// The bytecode bundle's key names the wheels' hashes: a new build, a new bundle.
async function bytecodeKey(indexURL) {
  try {
    const lock = await (await fetch(new URL("pyodide-lock.json", indexURL))).json();
    const sha = (name) => (lock.packages[name] ? lock.packages[name].sha256.slice(0, 16) : "none");
    return new URL(`pycache-${PYODIDE_VERSION}-${sha("numpy")}-${sha("oneneuron")}.bin`, indexURL).href;
  } catch {
    return null;
  }
}

// Bundle format: a uint32 (little-endian) length, a JSON index [[path, bytes], ...],
// then the files one after another.
function pack(files) {
  const index = Object.entries(files).map(([path, bytes]) => [path, bytes.length]);
  const head = new TextEncoder().encode(JSON.stringify(index));
  const blob = new Uint8Array(4 + head.length + index.reduce((n, [, l]) => n + l, 0));
  new DataView(blob.buffer).setUint32(0, head.length, true);
  blob.set(head, 4);
  let at = 4 + head.length;
  for (const bytes of Object.values(files)) {
    blob.set(bytes, at);
    at += bytes.length;
  }
  return blob;
}

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
 *   fast: false turns snapshots and the bytecode cache off (?nosnapshot)
 * @returns {Promise<{pyodide, page, runtime, keep: () => Promise<void>}>}
 */
export async function startPython({ indexURL, fast = true, progress = () => {} }) {
  const timings = { origin: performance.timeOrigin, start: performance.now() };
  const snapshotKey = new URL(`memory-snapshot-${PYODIDE_VERSION}.bin`, indexURL).href;
  const pycKey = fast ? bytecodeKey(indexURL) : Promise.resolve(null);
  progress("python", 0.05);

  let py = null;
  let snapshot = "off";
  let made = null;
  const saved = fast && self.caches ? await cached(snapshotKey) : null;
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

    const key = await pycKey;
    const bundle = key ? await cached(key) : null;
    let bytecode = "compiled";
    if (bundle) {
      try {
        unpack(new Uint8Array(await bundle.arrayBuffer()), (path, bytes) => {
          if (!path.startsWith(`${SITE_PACKAGES}/`)) throw new Error(`unexpected path ${path}`);
          py.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
          py.FS.writeFile(path, bytes);
        });
        bytecode = "restored";
      } catch (err) {
        console.warn("oneneuron: compiled bytecode not restored", err);
      }
    }
    py.runPython("import sys; sys.dont_write_bytecode = False");
    const page = py.pyimport("oneneuron.page").Page();
    py.runPython("import sys; sys.dont_write_bytecode = True");
    timings.imported = performance.now();

    // Keep what the next visit can reuse; called once the page is ready, never on the
    // way to the first answer.
    const keepForNextVisit = async () => {
      try {
        if (made) await keep(snapshotKey, made);
        made = null;
        if (key && bytecode === "compiled") {
          const collect = py.runPython(PYC_COLLECT);
          const found = collect(SITE_PACKAGES);
          const files = found.toJs({ dict_converter: Object.fromEntries });
          found.destroy();
          collect.destroy();
          const cache = await caches.open(CACHE);
          for (const request of await cache.keys()) {
            if (request.url.includes("/pycache-") && request.url !== key) await cache.delete(request);
          }
          await keep(key, pack(files));
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
