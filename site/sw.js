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

const PREFIX = "oneneuron-build-";
const META = "oneneuron-meta"; // "current": the newest complete build; "clients": pins
const DATA = "oneneuron-data"; // training data, keyed by path and sha256
const MANIFEST = "manifest.json";
const LAZY = /^data\/.+\.bin$/; // fetched only when asked: a training run, the handwriting panel
const REPAIR_AFTER_MS = 3000; // the background check waits for the page to start

const scope = new URL(self.registration.scope);
const at = (path) => new URL(path, scope).href;
const relative = (url) => new URL(url, scope).pathname.slice(scope.pathname.length);
const dataKey = (path, sha256) => at(`${path}?sha256=${sha256}`);
let checking = null;

async function hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// -- what is kept ------------------------------------------------------------------------
let current = null; // a promise of the current build's version, or null
function currentVersion() {
  current ??= caches
    .open(META)
    .then((meta) => meta.match("current"))
    .then((r) => (r ? r.text() : null));
  return current;
}

const manifests = new Map(); // version → a promise of its manifest's files, or null
function filesOf(version) {
  if (!manifests.has(version)) {
    const files = caches
      .open(PREFIX + version)
      .then((cache) => cache.match(at(MANIFEST)))
      .then((r) => (r ? r.json().then((m) => m.files) : null));
    manifests.set(version, files);
  }
  return manifests.get(version);
}

let pins = null; // a promise of the Map client id → version
function clientBuilds() {
  pins ??= caches
    .open(META)
    .then((meta) => meta.match("clients"))
    .then(async (r) => new Map(Object.entries(r ? await r.json() : {})));
  return pins;
}

async function savePins(map) {
  try {
    await (await caches.open(META)).put("clients", new Response(JSON.stringify(Object.fromEntries(map))));
  } catch {
    // a full disk: the pins live as long as this worker
  }
}

/** The build that answers this fetch: the page's own, pinned at its navigation. */
async function buildOf(event) {
  const map = await clientBuilds();
  const { request, clientId, resultingClientId } = event;
  if (request.mode === "navigate") current = null; // another worker may have moved it on
  let version = request.mode === "navigate" ? await currentVersion() : map.get(clientId);
  if (!version) {
    version = await currentVersion(); // a page loaded before this worker controlled it
    if (version && clientId) map.set(clientId, version);
  }
  if (version && resultingClientId) map.set(resultingClientId, version); // a page, a worker
  if (version && (resultingClientId || !map.has(clientId))) await savePins(map);
  return version;
}

// -- fetching a build -------------------------------------------------------------------
/** A file of the build from the network, checked; its body and Content-Type. */
async function fetchChecked(path, sha256) {
  const r = await fetch(at(path), { cache: "no-cache" });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  const body = await r.arrayBuffer();
  if ((await hex(body)) !== sha256) throw new Error(`${path} does not match manifest.json`);
  return stored(body, r.headers);
}

// The body is decoded already: keep its type and policies, not the transfer encoding
// (the worker runs under the Content-Security-Policy of its own script's answer).
const KEPT_HEADERS = ["Content-Type", "Content-Security-Policy", "X-Content-Type-Options"];
function stored(body, from) {
  const headers = { "Content-Type": "application/octet-stream" };
  for (const name of KEPT_HEADERS) if (from.get(name)) headers[name] = from.get(name);
  return new Response(body, { headers });
}

/** Cache the build the server has now, if it is not the current one; returns its version. */
async function cacheBuild() {
  const response = await fetch(at(MANIFEST), { cache: "no-cache" });
  if (!response.ok) throw new Error(`manifest.json: HTTP ${response.status}`);
  const text = await response.text();
  const manifest = JSON.parse(text);
  const version = String(manifest.version);
  if ((await currentVersion()) === version) return version;
  const name = PREFIX + version;
  await caches.delete(name); // a half-filled cache from an interrupted attempt
  try {
    const cache = await caches.open(name);
    const files = Object.entries(manifest.files).filter(([path]) => !LAZY.test(path));
    await Promise.all(files.map(async ([path, { sha256 }]) => cache.put(at(path), await fetchChecked(path, sha256))));
    await cache.put(at(MANIFEST), stored(text, response.headers)); // last: the cache is whole
  } catch (err) {
    manifests.delete(version);
    await caches.delete(name);
    throw err;
  }
  await (await caches.open(META)).put("current", new Response(version));
  current = Promise.resolve(version);
  manifests.delete(version);
  await prune();
  return version;
}

/** Forget the pages that are gone, and every build and data file no page needs. */
async function prune() {
  const map = await clientBuilds();
  const live = new Set((await self.clients.matchAll({ includeUncontrolled: true, type: "all" })).map((c) => c.id));
  for (const id of map.keys()) if (!live.has(id)) map.delete(id);
  await savePins(map);
  const keep = new Set([await currentVersion(), ...map.values()]);
  for (const name of await caches.keys()) {
    if (name.startsWith(PREFIX) && !keep.has(name.slice(PREFIX.length))) {
      manifests.delete(name.slice(PREFIX.length));
      await caches.delete(name);
    }
  }
  const wanted = new Set();
  for (const version of keep) {
    const files = version && (await filesOf(version));
    for (const [path, { sha256 }] of Object.entries(files || {})) if (LAZY.test(path)) wanted.add(dataKey(path, sha256));
  }
  const data = await caches.open(DATA);
  for (const request of await data.keys()) if (!wanted.has(request.url)) await data.delete(request);
}

/** Check every file kept for a build against its manifest; fetch the bad or missing again. */
async function repair(version) {
  const files = await filesOf(version);
  if (!files) return;
  const cache = await caches.open(PREFIX + version);
  for (const [path, { sha256 }] of Object.entries(files)) {
    if (LAZY.test(path)) continue;
    const hit = await cache.match(at(path));
    if (hit && (await hex(await hit.arrayBuffer())) === sha256) continue;
    if (hit) await cache.delete(at(path));
    try {
      await cache.put(at(path), await fetchChecked(path, sha256));
    } catch {
      // offline, a full disk, or the server has moved on: answered from the network
    }
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheBuild().then(() => self.skipWaiting()));
});

// Pages already open (a first visit: loaded before this worker) stay on the build that
// was current when this worker took them over.
async function pinAll() {
  const [map, version] = await Promise.all([clientBuilds(), currentVersion()]);
  for (const c of await self.clients.matchAll({ includeUncontrolled: true, type: "all" })) {
    if (version && !map.has(c.id)) map.set(c.id, version);
  }
  await savePins(map);
}

self.addEventListener("activate", (event) => {
  event.waitUntil(
    self.clients
      .claim()
      .then(pinAll)
      .then(prune)
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
  if (request.mode === "navigate" && !checking) {
    // a new build, if any, is cached for the next visit; then, once the page has
    // started, the current build is checked and builds no page uses are dropped
    checking = (async () => {
      await cacheBuild().catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, REPAIR_AFTER_MS));
      await repair(await currentVersion()).catch(() => {});
      await prune().catch(() => {});
    })().finally(() => {
      checking = null;
    });
    event.waitUntil(checking);
  }
});
