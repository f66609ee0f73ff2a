// The service worker: after a first visit the page works offline, reload included.
//
// manifest.json lists every file of the build with its sha256 and a version. On
// install, every file the page needs is fetched, checked against its sha256 and kept
// in one cache per version, with that manifest; a new version is cached completely
// before it becomes the current one (an update that fails leaves nothing behind).
//
// Each page (and its worker) is answered from the build it was loaded from until it
// reloads: a client id → version map, kept in Cache Storage, pins it. manifest.json,
// too, is that build's: Python's start reads its big files from the cache directly,
// from the cache manifest.json names (worker/python.js). A build's cache is kept
// while a page uses it. Every answer from a cache is checked against the manifest's
// sha256 first; a bad entry is dropped and fetched again, and after each visit the
// whole build is checked and repaired in the background. The MNIST training data
// (megabytes) is not precached: it is kept by sha256 when training first fetches it.
// Cache Storage may refuse a write (a full disk): the page still gets its answer.
//
// The pins and "current" are read and written under a Web Lock, so that the old and
// the new version of this script (both alive while an update activates) never undo
// each other's writes; and a pin is dropped only once its client has run and gone. A
// page, or its Python worker, is pinned when its navigation (its script) is answered,
// before it runs: until then the browser does not list it among the clients, and a
// build switched meanwhile must not take it over.

const PREFIX = "oneneuron-build-";
const META = "oneneuron-meta"; // "current": the newest complete build; "clients": the pins
const DATA = "oneneuron-data"; // training data, keyed by path and sha256
const MANIFEST = "manifest.json";
const LAZY = /^data\/.+\.bin$/; // fetched only when asked: a training run, the handwriting panel
const REPAIR_AFTER_MS = 3000; // the background check waits for the page to start

const scope = new URL(self.registration.scope);
const at = (path) => new URL(path, scope).href;
const relative = (url) => new URL(url, scope).pathname.slice(scope.pathname.length);
const dataKey = (path, sha256) => at(`${path}?sha256=${sha256}`);
let looking = null; // a look for a new build under way
let tidying = null; // the check and clean-up after a visit
// fetching, checking, pruning and repairing a build: sw-build.js, beside this file
importScripts("sw-build.js");

async function hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// -- what is kept ------------------------------------------------------------------------
const PINS_LOCK = "oneneuron-pins"; // "current" and the pins: read, changed and written whole
const FILL_LOCK = "oneneuron-fill"; // one build filled or dropped at a time
const UNBORN_MS = 10 * 60 * 1000; // a pin whose client never ran (a navigation given up)

// Under a Web Lock shared by every instance of this script; where there is none, one
// after another within this one.
const chains = new Map();
function exclusive(name, job) {
  if (self.navigator?.locks) return navigator.locks.request(name, job);
  const done = (chains.get(name) ?? Promise.resolve()).then(job);
  chains.set(name, done.catch(() => {}));
  return done;
}

async function readCurrent(meta) {
  const r = await (meta ?? (await caches.open(META))).match("current");
  return r ? r.text() : null;
}

const manifests = new Map(); // version → a promise of its manifest's files (once kept)
function filesOf(version) {
  if (!manifests.has(version)) {
    const files = caches
      .open(PREFIX + version)
      .then((cache) => cache.match(at(MANIFEST)))
      .then((r) => (r ? r.json().then((m) => m.files) : null));
    manifests.set(version, files);
    files.then((f) => f || manifests.delete(version), () => manifests.delete(version));
  }
  return manifests.get(version);
}

// A pin: {version, at: when it was made, ran: its client has been seen running}. A
// client's pin never changes, so what this instance learned is kept in memory too;
// a pin it could not save (a full disk) lives as long as this instance. That a client
// ran is saved by prune (a client it finds running, or one this instance answered).
const known = new Map(); // client id → pin
const running = new Set(); // clients this instance has answered

async function readPins(meta) {
  const r = await meta.match("clients");
  const saved = r ? Object.entries(await r.json().catch(() => ({}))) : [];
  const pins = new Map(known);
  for (const [id, pin] of saved) {
    // the earlier form, a bare version, was made for a client that had run
    pins.set(id, typeof pin === "string" ? { version: pin, at: 0, ran: true } : pin);
  }
  return pins;
}

async function savePins(meta, pins) {
  try {
    await meta.put("clients", new Response(JSON.stringify(Object.fromEntries(pins))));
  } catch {
    // a full disk: the pins live as long as this worker (known)
  }
}

/** The build that answers this fetch: the page's own, pinned at its navigation. */
async function buildOf(event) {
  const { request, clientId, resultingClientId } = event;
  const navigate = request.mode === "navigate";
  const pinned = () => {
    if (navigate || resultingClientId || !known.has(clientId)) return null;
    running.add(clientId);
    return known.get(clientId).version;
  };
  // a page's or a worker's fetches once it runs: no lock, nothing written
  const version = pinned();
  if (version) return version;
  return exclusive(PINS_LOCK, async () => {
    const again = pinned();
    if (again) return again;
    const meta = await caches.open(META);
    const pins = await readPins(meta);
    let changed = false;
    let version = null;
    if (navigate) {
      version = await readCurrent(meta); // the newest whole build
    } else {
      let pin = pins.get(clientId);
      if (!pin) {
        // a page loaded before this worker controlled it: the current build
        pin = { version: await readCurrent(meta), at: Date.now(), ran: true };
        if (pin.version && clientId) {
          pins.set(clientId, pin);
          changed = true;
        }
      }
      version = pin.version;
    }
    // a page, or a worker whose script this is: pinned before it runs
    if (version && resultingClientId) {
      pins.set(resultingClientId, { version, at: Date.now(), ran: false });
      changed = true;
    }
    if (changed) await savePins(meta, pins);
    for (const id of [clientId, resultingClientId]) if (id && pins.has(id)) known.set(id, pins.get(id));
    if (!navigate && clientId && version) running.add(clientId);
    return version;
  });
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheBuild().then(() => self.skipWaiting()));
});

// Pages already open (a first visit: loaded before this worker) stay on the build that
// was current when this worker took them over; a page pinned already (by the previous
// version of this script) keeps its pin.
async function pinAll() {
  await exclusive(PINS_LOCK, async () => {
    const meta = await caches.open(META);
    const [pins, version] = await Promise.all([readPins(meta), readCurrent(meta)]);
    for (const c of await self.clients.matchAll({ includeUncontrolled: true, type: "all" })) {
      if (version && !pins.has(c.id)) pins.set(c.id, { version, at: Date.now(), ran: true });
    }
    await savePins(meta, pins);
  });
}

self.addEventListener("activate", (event) => {
  // fetches wait while this worker activates: the builds no page uses are dropped after
  event.waitUntil(
    self.clients
      .claim()
      .then(pinAll)
      .then(() => void prune().catch(() => {}))
      .catch(() => {}),
  );
});

// -- answering ----------------------------------------------------------------------------
/** A kept answer whose body matches sha256; a bad one is dropped. */
async function checkedHit(cache, key, sha256) {
  const hit = await cache.match(key);
  if (!hit) return null;
  const body = await hit.arrayBuffer();
  if ((await hex(body)) === sha256) return stored(body, hit.headers);
  await cache.delete(key);
  return null;
}

/** Keep a network answer once its whole body matches sha256; a failed write is only a miss. */
async function keepChecked(cache, key, sha256, response) {
  try {
    const body = await response.arrayBuffer();
    if ((await hex(body)) === sha256) await cache.put(key, stored(body, response.headers));
  } catch {
    // a full disk: the next visit fetches it again
  }
}

async function respond(event) {
  const { request } = event;
  let path = relative(request.url);
  if (request.mode === "navigate" && (path === "" || path.endsWith("/"))) path += "index.html";
  const version = await buildOf(event);
  if (path === MANIFEST && version) {
    // the build this page (or its worker) runs, the newest or not (worker/python.js)
    const kept = await (await caches.open(PREFIX + version)).match(at(MANIFEST));
    if (kept) return kept;
  }
  const files = version && (await filesOf(version));
  const file = files && Object.hasOwn(files, path) ? files[path] : null;
  if (!file) return fetch(request); // not a file of the page's build
  const lazy = LAZY.test(path);
  const cache = await caches.open(lazy ? DATA : PREFIX + version);
  const key = lazy ? dataKey(path, file.sha256) : at(path);
  const hit = await checkedHit(cache, key, file.sha256);
  if (hit) return hit;
  const response = await fetch(request);
  if (!response.ok || !response.body) return response;
  // the page reads its copy as it arrives (the download's progress); the other is kept
  const [page, kept] = response.body.tee();
  event.waitUntil(keepChecked(cache, key, file.sha256, stored(kept, response.headers)));
  return stored(page, response.headers);
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || new URL(request.url).origin !== scope.origin) return;
  event.respondWith(respond(event));
  if (request.mode !== "navigate") return;
  // every visit looks for a new build (cached for the next visit), unless a look is
  // under way; then, once the page has started, the current build is checked and
  // builds no page uses are dropped
  looking ??= cacheBuild()
    .catch(() => {})
    .finally(() => {
      looking = null;
    });
  tidying ??= looking
    .then(() => new Promise((resolve) => setTimeout(resolve, REPAIR_AFTER_MS)))
    .then(async () => {
      await repair(await readCurrent()).catch(() => {});
      await prune().catch(() => {});
    })
    .finally(() => {
      tidying = null;
    });
  event.waitUntil(Promise.all([looking, tidying]));
});
