// Your drawings in the training set, kept in this browser (localStorage) until they
// are removed, so a reload or another visit gives them back to Python. One entry a
// drawing, so a damaged one is dropped alone: "oneneuron.drawing.<n>" → {version,
// label, width, height, ink}, the ink being the pad's pixels (uint8 alpha, width ×
// height) deflated and in base64 (a drawing keeps in about 2 KB).

const PREFIX = "oneneuron.drawing.";
const VERSION = 1;

/** bytes → bytes through a (De)CompressionStream of "deflate-raw". */
async function through(stream, bytes) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

const toBase64 = (bytes) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** The keys of the kept drawings, oldest first. */
function keys() {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (key && key.startsWith(PREFIX)) out.push(key);
  }
  return out.sort((a, b) => Number(a.slice(PREFIX.length)) - Number(b.slice(PREFIX.length)));
}

/** A kept entry's drawing {label, width, height, pixels}; throws if it is not one. */
async function read(text) {
  const e = JSON.parse(text);
  const size = (v) => Number.isInteger(v) && v > 0 && v <= 1024;
  const ok = e && e.version === VERSION && Number.isInteger(e.label) && e.label >= 0 && e.label <= 9;
  if (!ok || !size(e.width) || !size(e.height) || typeof e.ink !== "string") throw new Error("not a drawing");
  const pixels = await through(new DecompressionStream("deflate-raw"), fromBase64(e.ink));
  if (pixels.length !== e.width * e.height) throw new Error("not a whole drawing");
  return { label: e.label, width: e.width, height: e.height, pixels };
}

export const KeptDrawings = {
  /**
   * The drawings kept ({key, label, width, height, pixels}, oldest first) and how many
   * were damaged (each dropped from storage). None when this browser keeps nothing.
   */
  async load() {
    const drawings = [];
    let dropped = 0;
    let all;
    try {
      all = keys();
    } catch {
      return { drawings, dropped }; // storage is off: nothing was kept
    }
    for (const key of all) {
      try {
        drawings.push({ key, ...(await read(localStorage.getItem(key))) });
      } catch {
        dropped += 1;
        localStorage.removeItem(key);
      }
    }
    return { drawings, dropped };
  },

  /** Keep a drawing; returns its key, or throws why it could not (QuotaExceededError). */
  async keep({ label, width, height, pixels }) {
    const ink = toBase64(await through(new CompressionStream("deflate-raw"), pixels));
    const last = keys().at(-1);
    const key = PREFIX + (last ? Number(last.slice(PREFIX.length)) + 1 : 1);
    localStorage.setItem(key, JSON.stringify({ version: VERSION, label, width, height, ink }));
    return key;
  },

  /** Forget the kept drawings (those of `only`, keys, or all). */
  remove(only = null) {
    try {
      for (const key of only ?? keys()) localStorage.removeItem(key);
    } catch {
      // storage is off: nothing was kept
    }
  },
};
