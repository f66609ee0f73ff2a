// The service worker: after a first visit the page works offline, reload included.
//
// manifest.json lists every file of the build with its sha256 and a version. On
// install, every file the page needs is fetched, checked against its sha256 and kept
// in one cache per version; requests are then answered from that cache first. The
// MNIST training data (megabytes) is not precached: it is kept when training first
// fetches it. On each visit the manifest is checked in the background; a new version
// is cached completely before it replaces the old one, so a page never mixes files of
// two builds.

const PREFIX = "oneneuron-build-";
const META = "oneneuron-meta"; // remembers which build is current
const DATA = "oneneuron-data"; // training data, cached on first use
const LAZY = /^data\/.+\.bin$/; // fetched only when training starts

const scope = new URL(self.registration.scope);
const relative = (url) => new URL(url, scope).pathname.slice(scope.pathname.length);
let checking = null;

async function currentBuild() {
  const meta = await caches.open(META);
  const r = await meta.match("current");
  return r ? r.text() : null;
}

// The cache of the current build, looked up once while this worker lives.
let current = null;
function currentCache() {
  current ??= currentBuild().then((v) => (v ? caches.open(PREFIX + v) : null));
  return current;
}

async function hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Cache the build the server has now, if it is not the current one; returns its version. */
async function cacheBuild() {
  const response = await fetch(new URL("manifest.json", scope), { cache: "no-cache" });
  if (!response.ok) throw new Error(`manifest.json: HTTP ${response.status}`);
  const manifest = await response.json();
  const version = String(manifest.version);
  if ((await currentBuild()) === version) return version;
  const name = PREFIX + version;
  await caches.delete(name); // a half-filled cache from an interrupted attempt
  const cache = await caches.open(name);
  const files = Object.entries(manifest.files).filter(([path]) => !LAZY.test(path));
  await Promise.all(
    files.map(async ([path, { sha256 }]) => {
      const url = new URL(path, scope);
      const r = await fetch(url, { cache: "no-cache" });
      if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
      const body = await r.arrayBuffer();
      if ((await hex(body)) !== sha256) throw new Error(`${path} does not match manifest.json`);
      // the body is decoded already: keep only the type, not the transfer encoding
      const headers = { "Content-Type": r.headers.get("Content-Type") || "application/octet-stream" };
      await cache.put(url, new Response(body, { headers }));
    }),
  );
  const meta = await caches.open(META);
  await meta.put("current", new Response(version));
  current = null;
  for (const key of await caches.keys()) {
    if (key.startsWith(PREFIX) && key !== name) await caches.delete(key);
  }
  return version;
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheBuild().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

async function respond(request) {
  const url = new URL(request.url);
  let path = relative(url);
  if (request.mode === "navigate" && (path === "" || path.endsWith("/"))) path += "index.html";
  if (LAZY.test(path)) {
    const data = await caches.open(DATA);
    const hit = await data.match(url, { ignoreSearch: true });
    if (hit) return hit;
    const r = await fetch(request);
    if (r.ok) await data.put(url, r.clone());
    return r;
  }
  const cache = await currentCache();
  const hit = cache && (await cache.match(new URL(path, scope), { ignoreSearch: true }));
  return hit || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || new URL(request.url).origin !== scope.origin) return;
  event.respondWith(respond(request));
  if (request.mode === "navigate" && !checking) {
    // a new build, if any, is cached for the next visit; offline, nothing happens
    checking = cacheBuild()
      .catch(() => {})
      .finally(() => {
        checking = null;
      });
    event.waitUntil(checking);
  }
});
