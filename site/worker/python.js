// Starting Python in the worker, as fast as a visit allows (used by worker.js, beside it).
//
// The build splits the runtime into what a start imports and later parts
// (tools/bytecode_pyodide.py): python_stdlib.zip holds only the standard-library
// modules a start imports, as bytecode (nothing of it is compiled in the page), and
// site-packages.bin numpy's modules a start imports, as bytecode alone, and oneneuron's
// with their sources and hash-checked .pyc files. Every visit writes that bundle into
// site-packages (no wheel is unzipped; numpy's compiled extensions are linked when
// imported). The later parts (python_stdlib_later.zip, site-packages-later.bin,
// oneneuron-later.bin: the trainer, the hidden layer) are loaded when a module
// they hold is first imported (numpy.random, at the first Train; oneneuron.train)
// by the finder of later parts (tools/later_parts.py, a module of the start's zip),
// which runtime-parts.json tells which part holds what, which modules were left out
// and which are deferred. The service worker keeps every part after the first visit.
// A first visit starts Pyodide, imports the standard-library modules numpy and
// oneneuron will need (runtime-parts.json's preload, recorded by the build), and takes
// a memory snapshot of that interpreter before any package is loaded; once the page is
// ready, keep() puts it in Cache Storage. A repeat visit restores the snapshot instead
// of starting the interpreter. Anything missing, stale or broken falls back to the
// first-visit path. A first visit's biggest files come from the page (fetches.js).

import { loadPyodide, version as PYODIDE_VERSION } from "../pyodide/pyodide.mjs";
import { answerEarly, answerFetches, watchFetches } from "./fetches.js";

const CACHE = "oneneuron-snapshot";
const SITE_PACKAGES = "/lib/python3.12/site-packages";
const LATER_ZIP = "/lib/python312_later.zip"; // python_stdlib_later.zip, once loaded
// The service worker's caches (sw.js): one a build ("oneneuron-build-" + its version),
// and "oneneuron-meta", whose "current" (a URL at the site's root) names the newest.
const BUILD_PREFIX = "oneneuron-build-";
const META = "oneneuron-meta";
const ROOT = new URL("../", import.meta.url); // the site's root: this file is in worker/
const networkFetch = self.fetch.bind(self); // not the wrapped one of a start under way

// The name of the cache of the build this worker's page was loaded from, or null.
// The service worker pins each page, and the worker it starts, to one build until
// the page reloads, and answers manifest.json from that build (sw.js: buildOf); the
// newest build ("current") may be another by now, and its files are not this page's.
// With no build kept (a first visit), nothing is asked.
async function buildCache() {
  try {
    const kept = self.caches && (await caches.match(new URL("current", ROOT).href, { cacheName: META }));
    if (!kept) return null;
    const response = await networkFetch(new URL("manifest.json", ROOT));
    return response.ok ? `${BUILD_PREFIX}${(await response.json()).version}` : null;
  } catch {
    return null;
  }
}

// A response kept in Cache Storage (in our own cache, or in the one named by `from`,
// a promise of a cache's name); null when there is none or the storage is unavailable.
async function cached(url, from = CACHE) {
  try {
    const cacheName = await from;
    return (cacheName && self.caches && (await caches.match(url, { cacheName, ignoreSearch: true }))) || null;
  } catch {
    return null;
  }
}

// While Pyodide starts, its fetches of our files (pyodide.asm.wasm, python_stdlib.zip,
// pyodide-lock.json) are answered from the build's cache directly, without a trip
// through the service worker: a 10 MB body streamed through it took ~0.4 s of a repeat
// visit here. Anything not in the cache goes to the network (the service worker) as
// before. Returns the function that puts fetch back.
function fetchFromCache(cache) {
  return answerFetches(async (url, input, init) => {
    const get = (init?.method ?? (input instanceof Request ? input.method : "GET")) === "GET";
    return get && new URL(url).origin === self.location.origin ? cached(url, cache) : null;
  });
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

// Write site-packages.bin's files (numpy and oneneuron installed) into site-packages.
function install(py, blob) {
  const made = new Set();
  unpack(blob, (path, bytes) => {
    if (!path.startsWith(`${SITE_PACKAGES}/`) || path.includes("/../")) throw new Error(`unexpected path ${path}`);
    const dir = path.slice(0, path.lastIndexOf("/"));
    if (!made.has(dir)) {
      py.FS.mkdirTree(dir);
      made.add(dir);
    }
    py.FS.writeFile(path, bytes);
  });
}

// The later parts, loaded by the finder (tools/later_parts.py) when an import first
// needs one: fetched synchronously (a worker may), through the service worker, which
// answers from its offline copy. The standard library's zip is written where Python
// finds it, and its path returned to the finder; a bundle goes into site-packages.
// Its bytes may have come already (prefetchLater).
function loadLater(py, indexURL, file) {
  const bytes = ahead.get(file) ?? download(indexURL, file);
  ahead.set(file, null); // loaded: never fetched ahead again
  if (file.endsWith(".zip")) {
    py.FS.writeFile(LATER_ZIP, bytes);
    return LATER_ZIP;
  }
  install(py, bytes);
  return undefined; // None: its modules are on sys.path now
}

function download(indexURL, file) {
  const xhr = new XMLHttpRequest();
  xhr.open("GET", new URL(file, indexURL), false);
  xhr.responseType = "arraybuffer";
  try {
    xhr.send();
  } catch (err) {
    throw new Error(`could not load pyodide/${file}: ${err.message}`);
  }
  if (xhr.status !== 200) throw new Error(`could not load pyodide/${file}: HTTP ${xhr.status}`);
  return new Uint8Array(xhr.response);
}

const ahead = new Map(); // later part → its bytes fetched ahead, or null once loaded
let runtimeParts = null; // runtime-parts.json's text, as the start fetched it

/** Fetch the later part that holds `module` (a dotted name) before an import needs it:
 * the import then finds its bytes here, not in a synchronous download in Python's way
 * (oneneuron's trainer: ~70 ms of a first Teach). Resolves to the part's file, or null
 * when no later part holds the module. Called once Python started (runtimeParts). */
export async function prefetchLater(indexURL, module) {
  const { later = [] } = JSON.parse(await runtimeParts);
  const within = (m) => module === m || module.startsWith(`${m}.`);
  const part = later.find((p) => p.modules.some(within));
  if (!part) return null;
  if (!ahead.has(part.file)) {
    const response = await fetch(new URL(part.file, indexURL));
    if (!response.ok) throw new Error(`could not load pyodide/${part.file}: HTTP ${response.status}`);
    ahead.set(part.file, new Uint8Array(await response.arrayBuffer()));
  }
  return part.file;
}

/**
 * Start Python with numpy and oneneuron loaded and oneneuron.page imported.
 * @param {{indexURL: string, fast: boolean, early?: Map<string, Promise<Response>>,
 *   progress: (stage: string, fraction: number) => void}} options
 *   fast: false turns the snapshot and site-packages.bin off (?nosnapshot);
 *   early: the page's early files (fetches.js: earlyFiles), answered in place of their fetches
 * @returns {Promise<{pyodide, page, runtime, keep: () => Promise<void>}>}
 *   rejects with an Error naming the file of Python's that could not be loaded
 */
export async function startPython(options) {
  const restoreFetch = answerEarly(options.early ?? new Map());
  const watch = watchFetches(options.indexURL);
  const started = start(options);
  started.catch(() => {}); // when the missing file is reported first
  try {
    // a missing file's error first, even when Pyodide failed with its own as well
    return await Promise.race([watch.failed, started]);
  } catch (err) {
    throw watch.error ?? err;
  } finally {
    watch.restore();
    restoreFetch();
  }
}

async function start({ indexURL, fast = true, progress = () => {} }) {
  const timings = { origin: performance.timeOrigin, start: performance.now() };
  const snapshotKey = new URL(`memory-snapshot-${PYODIDE_VERSION}.bin`, indexURL).href;
  const build = fast ? buildCache() : null;
  // numpy and oneneuron installed and compiled at build time, less the later parts:
  // from the service worker's cache, or on a first visit the network
  const bundleURL = new URL("site-packages.bin", indexURL).href;
  const bundle = fast
    ? cached(bundleURL, build)
        .then((r) => r || fetch(bundleURL))
        .then((r) => (r.ok ? r.arrayBuffer() : null))
        .catch(() => null)
    : Promise.resolve(null);
  // which later part holds which modules (the build writes it beside the parts)
  const parts = (runtimeParts = fetch(new URL("runtime-parts.json", indexURL)).then((r) => r.text()));
  parts.catch(() => {}); // reported by watchFetches, or when awaited
  progress("python", 0.05);

  let py = null;
  let snapshot = "off";
  let made = null;
  const saved = fast ? await cached(snapshotKey) : null;
  if (saved) {
    const restore = fetchFromCache(build);
    try {
      // the bytes are read while Pyodide's own files load
      const bytes = saved.arrayBuffer().then((b) => {
        timings.snapshotRead = performance.now();
        return new Uint8Array(b);
      });
      py = await loadPyodide({ indexURL, _loadSnapshot: bytes });
      snapshot = "restored";
    } catch (err) {
      console.warn("oneneuron: the saved Python snapshot did not load; starting afresh", err);
      await drop(snapshotKey);
    } finally {
      restore();
    }
  }
  if (!py) {
    py = await loadPyodide({ indexURL, _makeSnapshot: fast });
    // the standard-library modules a start imports (the build records them: preload),
    // imported before the snapshot is taken: a repeat visit finds them ready
    const { preload = [] } = JSON.parse(await parts);
    py.runPython(`
import importlib
for name in ${JSON.stringify(preload)}:
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
    // the finder first: loading the wheels (below) imports modules of the later parts
    const finder = py.pyimport(JSON.parse(await parts).finder);
    try {
      finder.install(await parts, (file) => loadLater(py, indexURL, file)).destroy();
    } finally {
      finder.destroy();
    }
    let packages = "wheels"; // how numpy and oneneuron got into site-packages
    const installed = await bundle;
    if (installed) {
      try {
        install(py, new Uint8Array(installed));
        packages = "site-packages.bin";
      } catch (err) {
        console.warn("oneneuron: the installed packages could not be used; loading the wheels", err);
        py.runPython(`import os, shutil; shutil.rmtree("${SITE_PACKAGES}"); os.mkdir("${SITE_PACKAGES}")`);
      }
    }
    if (packages === "wheels") {
      await py.loadPackage(["numpy", "oneneuron"], { messageCallback: () => {}, errorCallback: console.warn });
    }
    timings.packages = performance.now();
    progress("oneneuron", 0.85);
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
    return { pyodide: py, page, runtime: { pyodide: PYODIDE_VERSION, snapshot, packages, timings }, keep: keepForNextVisit };
  } catch (err) {
    if (snapshot === "restored") await drop(snapshotKey); // a snapshot that broke is not used again
    throw err;
  }
}
