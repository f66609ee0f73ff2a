// Starting Python in the worker, as fast as a visit allows (used by worker.js, beside it).
//
// The build splits the runtime into what a start imports and later parts
// (tools/bytecode_pyodide.py): python_stdlib.zip holds only the standard-library
// modules a start imports, as bytecode (nothing of it is compiled in the page), and
// site-packages.bin numpy's modules a start imports, as bytecode alone, and oneneuron
// with its sources and hash-checked .pyc files. Every visit writes that bundle into
// site-packages (no wheel is unzipped; numpy's compiled extensions are linked when
// imported). The later parts (python_stdlib_later.zip, site-packages-later.bin) are
// loaded when a module they hold is first imported (numpy.random, at the first Train)
// by a finder at the end of sys.meta_path; runtime-parts.json says which holds what,
// which modules of numpy's wheel were left out of the build (importing one is an
// ImportError that says so), and which are deferred: a start imports them but calls
// them only later (numpy.linalg's compiled core), so it gets a stand-in module that
// imports the real one from its later part on first use. The service worker keeps
// every part after the first visit.
// A first visit starts Pyodide, imports the standard-library modules numpy and
// oneneuron will need (runtime-parts.json's preload, recorded by the build), and takes
// a memory snapshot of that interpreter before any package is loaded; once the page is
// ready, keep() puts it in Cache Storage. A repeat visit restores the snapshot instead
// of starting the interpreter. Anything missing, stale or broken falls back to the
// first-visit path. A first visit's biggest files come from the page (earlyFiles).

import { loadPyodide, version as PYODIDE_VERSION } from "../pyodide/pyodide.mjs";

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

// The absolute URL a fetch(input) asks for.
function urlOf(input) {
  return new URL(input instanceof Request ? input.url : String(input), self.location.href).href;
}

// Until the returned function is called, every fetch is first offered to
// answer(url, input, init): a Response (or a promise of one) it gives is the answer,
// null sends the fetch on as before.
function answerFetches(answer) {
  const original = self.fetch;
  const fetch = original.bind(self);
  self.fetch = async (input, init) => (await answer(urlOf(input), input, init)) || fetch(input, init);
  return () => {
    self.fetch = original;
  };
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

// The later parts, loaded by the finder (LATER_FINDER) when an import first needs one:
// fetched synchronously (a worker may), through the service worker, which answers
// from its offline copy; the standard library's zip is written where Python finds
// it, a bundle into site-packages.
function loadLater(py, indexURL, file) {
  const url = new URL(file, indexURL);
  const xhr = new XMLHttpRequest();
  xhr.open("GET", url, false);
  xhr.responseType = "arraybuffer";
  try {
    xhr.send();
  } catch (err) {
    throw new Error(`could not load pyodide/${file}: ${err.message}`);
  }
  if (xhr.status !== 200) throw new Error(`could not load pyodide/${file}: HTTP ${xhr.status}`);
  const bytes = new Uint8Array(xhr.response);
  if (file.endsWith(".zip")) py.FS.writeFile(LATER_ZIP, bytes);
  else install(py, bytes);
}

// The finder of the later parts and of the modules left out of the build (see the
// top of this file); the last expression is the function that installs it.
const LATER_FINDER = `
import importlib
import importlib.machinery
import json
import sys
import types
import zipimport


class Deferred(types.ModuleType):
    """Stands in for a module that a start imports but does not call: the first
    attribute asked of it (not a dunder: introspection asks those) fetches its later
    part and imports the real module, whose names it then holds too."""

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        name = self.__name__
        self.__loader__.fetch_part(name)
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        self.__dict__.update({k: v for k, v in vars(real).items() if k[:2] != "__"})
        return getattr(real, attr)


class LaterParts:
    """Imports from the parts of the runtime a start does not load."""

    def __init__(self, parts, load):
        self.parts = [(p["file"], tuple(p["modules"])) for p in parts["later"]]
        self.left_out = parts["left_out"]
        self.deferred = set(parts.get("deferred", ()))
        self.load = load
        self.loaded = set()

    @staticmethod
    def within(name, modules):
        return any(name == m or name.startswith(m + ".") for m in modules)

    def fetch_part(self, name):
        """The later part that holds the module, loaded once; None if none does."""
        file = next((f for f, m in self.parts if self.within(name, m)), None)
        if file is not None and file not in self.loaded:
            try:
                self.load(file)
            except Exception as err:
                raise ModuleNotFoundError(
                    f"No module named {name!r}: its part of the runtime did not load"
                    f" ({err}); reload the page when online",
                    name=name,
                ) from None
            self.loaded.add(file)
            importlib.invalidate_caches()
        return file

    def find_spec(self, name, path=None, target=None):
        for module, why in self.left_out.items():
            if self.within(name, (module,)):
                raise ModuleNotFoundError(
                    f"No module named {name!r}: {module} is left out of the page's"
                    f" Python ({why}); use numpy outside the page for it",
                    name=name,
                )
        if name in self.deferred and name not in sys.modules:
            held = next((f for f, m in self.parts if self.within(name, m)), None)
            if held is not None and held not in self.loaded:
                return importlib.machinery.ModuleSpec(name, self)
        file = self.fetch_part(name)
        if file is None:
            return None
        if file.endswith(".zip"):
            parent = name.rpartition(".")[0].replace(".", "/")
            where = "${LATER_ZIP}" + ("/" + parent if parent else "")
            return zipimport.zipimporter(where).find_spec(name)
        return importlib.machinery.PathFinder.find_spec(name, path)

    # the loader of the stand-ins (Deferred)
    def create_module(self, spec):
        return Deferred(spec.name)

    def exec_module(self, module):
        pass


def install(parts, load):
    sys.meta_path.append(LaterParts(json.loads(parts), load))


install
`;

// A first visit's page fetches Python's biggest files itself, before this worker's
// modules are in (js/boot.js); each comes here in one message: {early: file, status,
// type, body} (body: a stream, or the whole file) or {early: file, error}. Returns a
// map from each file's URL (under indexURL) to a promise of its Response, for
// answerEarly.
export function earlyFiles(indexURL, files) {
  const waiting = new Map();
  const answers = new Map();
  for (const file of files) {
    answers.set(new URL(file, indexURL).href, new Promise((resolve, reject) => waiting.set(file, { resolve, reject })));
  }
  const receive = ({ data }) => {
    const from = data && typeof data.early === "string" ? waiting.get(data.early) : null;
    if (!from) return;
    waiting.delete(data.early);
    if (!waiting.size) self.removeEventListener("message", receive);
    if (typeof data.error === "string") from.reject(new TypeError(data.error));
    else {
      const headers = data.type ? { "Content-Type": data.type } : {};
      from.resolve(new Response(data.body ?? null, { status: data.status, headers }));
    }
  };
  self.addEventListener("message", receive);
  return answers;
}

// While Python starts, a fetch of an early file is answered with it (once: a body is
// read once); everything else goes on to the network. Returns the function that puts
// fetch back.
function answerEarly(answers) {
  const restore = answerFetches((url) => {
    const answer = answers.get(url) ?? null;
    answers.delete(url);
    return answer;
  });
  return () => {
    restore();
    answers.clear();
  };
}

// A file of Python's that does not come (a 404, a network failure) makes loadPyodide
// hang (pyodide.asm.wasm) or fail with a riddle ("Program terminated with exit(1)").
// While Python starts, the first such answer to a fetch under indexURL becomes the
// error, naming the file. Returns {failed: a promise that rejects then, error, restore}.
function watchFetches(indexURL) {
  const original = self.fetch;
  const fetch = original.bind(self);
  let fail = null;
  const failed = new Promise((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  const watch = { failed, error: null, restore: () => (self.fetch = original) };
  const report = (url, why) => {
    if (!url.startsWith(indexURL) || watch.error) return;
    watch.error = new Error(`could not load ${new URL(url).pathname.slice(1)}: ${why}`);
    fail(watch.error);
  };
  self.fetch = async (input, init) => {
    const url = urlOf(input);
    try {
      const response = await fetch(input, init);
      if (!response.ok) report(url, `HTTP ${response.status}`);
      return response;
    } catch (err) {
      report(url, err.message);
      throw err;
    }
  };
  return watch;
}

/**
 * Start Python with numpy and oneneuron loaded and oneneuron.page imported.
 * @param {{indexURL: string, fast: boolean, early?: Map<string, Promise<Response>>,
 *   progress: (stage: string, fraction: number) => void}} options
 *   fast: false turns the snapshot and site-packages.bin off (?nosnapshot);
 *   early: the page's early files (earlyFiles), answered in place of their fetches
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
  const parts = fetch(new URL("runtime-parts.json", indexURL)).then((r) => r.text());
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
    const installFinder = py.runPython(LATER_FINDER);
    try {
      installFinder(await parts, (file) => loadLater(py, indexURL, file));
    } finally {
      installFinder.destroy();
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
