// The service worker's builds (loaded by sw.js with importScripts; the two share one
// global scope: PREFIX, META, the locks, the pins and the helpers are sw.js's): fetch a
// build's files checked against manifest.json, fill its cache whole or not at all,
// forget the builds and data files no page needs, and repair a kept build.

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
  if ((await readCurrent()) === version) return version;
  const filled = await exclusive(FILL_LOCK, async () => {
    if ((await readCurrent()) === version) return false; // another instance filled it
    const name = PREFIX + version;
    await caches.delete(name); // a half-filled cache from an interrupted attempt
    try {
      const cache = await caches.open(name);
      const files = Object.entries(manifest.files).filter(([path]) => !LAZY.test(path));
      for (const [path, { sha256 }] of files) await cache.put(at(path), await fetchChecked(path, sha256));
      await cache.put(at(MANIFEST), stored(text, response.headers)); // last: the cache is whole
    } catch (err) {
      manifests.delete(version);
      await caches.delete(name);
      throw err;
    }
    await exclusive(PINS_LOCK, async () => (await caches.open(META)).put("current", new Response(version)));
    return true;
  });
  if (filled) await prune();
  return version;
}

/** Forget the pages that have run and are gone, and every build and data file no page needs. */
async function prune() {
  await exclusive(FILL_LOCK, async () => {
    const keep = await exclusive(PINS_LOCK, async () => {
      const meta = await caches.open(META);
      const pins = await readPins(meta);
      const clients = await self.clients.matchAll({ includeUncontrolled: true, type: "all" });
      const live = new Set(clients.map((c) => c.id));
      for (const [id, pin] of pins) {
        if (live.has(id) || running.has(id)) pin.ran = true;
        if (live.has(id)) continue;
        // a client not running yet (its navigation or script answered, the browser not
        // listing it yet) keeps its pin; one given up on goes after UNBORN_MS
        if (pin.ran || Date.now() - pin.at > UNBORN_MS) {
          pins.delete(id);
          known.delete(id);
          running.delete(id);
        }
      }
      await savePins(meta, pins);
      return new Set([await readCurrent(meta), ...[...pins.values()].map((pin) => pin.version)]);
    });
    // no pin made from here on can name a build outside keep: a navigation takes the
    // current one, which only a fill (held off by this lock) changes
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
  });
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

