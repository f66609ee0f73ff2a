// The MNIST images a training run reads: downloaded into the worker once per page
// (the worker keeps them; the service worker keeps the files for the next visit), and
// the download's progress in bytes. The worker posts {event: "progress", stage:
// "data-train" | "data-test", received, size} as the bytes arrive.

const SPLITS = ["train", "test"];
const BYTES_PER_IMAGE = 72; // 24×24 bits; only until the worker says the real size
const GUESS = { train: 60000 * BYTES_PER_IMAGE, test: 10000 * BYTES_PER_IMAGE };

export class TrainingData {
  constructor(api) {
    this.api = api;
    this.loaded = null; // a promise: both splits are in the worker
    this.bytes = Object.fromEntries(SPLITS.map((split) => [split, [0, GUESS[split]]])); // [received, size]
  }

  /** Both splits in the worker; a failed download is tried again at the next call. */
  load() {
    if (!this.loaded) {
      this.loaded = Promise.all(SPLITS.map((split) => this.api.call("loadData", { split })));
      this.loaded.catch(() => {
        this.loaded = null;
      });
    }
    return this.loaded;
  }

  /** Whether a worker event is this download's progress; if so, it is counted. */
  onProgress(e) {
    const split = e.event === "progress" && String(e.stage).startsWith("data-") ? e.stage.slice(5) : null;
    if (!Object.hasOwn(this.bytes, split ?? "")) return false;
    this.bytes[split] = [e.received, e.size];
    return true;
  }

  /** The share of the bytes received, 0 to 1. */
  fraction() {
    const [received, size] = this.#sum();
    return received / size;
  }

  /** The progress in words. */
  describe() {
    const [, size] = this.#sum();
    return `Downloading MNIST: ${Math.round(100 * this.fraction())} % of ${(size / 1e6).toFixed(1)} MB`;
  }

  #sum() {
    const all = Object.values(this.bytes);
    return [all.reduce((t, [r]) => t + r, 0), all.reduce((t, [, s]) => t + s, 0)];
  }
}
