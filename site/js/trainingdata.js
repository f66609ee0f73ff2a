// The data the worker reads, downloaded into it once per page (the worker keeps it;
// the service worker keeps the files for the next visit), and each download's
// progress in bytes. data/mnist.json says what there is: the training images, one
// file per preprocessing variant (picked by the deskew switch; only the one a run
// uses is fetched), the raw test images (training's evaluation and the handwriting
// panel share them) with their inputs packed for each training variant (a run's
// check and scores read those), and the foreign digit sets (the handwriting panel
// only).
// The worker posts {event: "progress", stage: "data-train" | "data-test" |
// "data-set-<name>", received, size} as the bytes arrive.

// Sizes until the worker says the real ones: only for the first progress bar.
const GUESS = { train: 60000 * 72, test: 10000 * (784 + 2 * 72) };

export class TrainingData {
  constructor(api) {
    this.api = api;
    this.promises = new Map(); // what → a promise: it is in the worker
    this.bytes = {}; // stage → [received, size]
    this.watchers = new Set();
  }

  /** The training images of one variant and the test images, for a run. */
  load(deskew = false) {
    return Promise.all([this.#once(`train-${deskew}`, "loadData", { split: "train", deskew }), this.test()]);
  }

  /** The raw test images. */
  test() {
    return this.#once("test", "loadData", { split: "test" });
  }

  /** The names of mnist.json's foreign digit sets, in its order. */
  setNames() {
    return this.#once("sets", "dataSets", {});
  }

  /** A foreign digit set of mnist.json's "sets". */
  set(name) {
    return this.#once(`set-${name}`, "loadSet", { name });
  }

  // Each download once; a failed one is tried again at the next call.
  #once(key, method, args) {
    if (!this.promises.has(key)) {
      const p = this.api.call(method, args);
      p.catch(() => this.promises.delete(key));
      this.promises.set(key, p);
    }
    return this.promises.get(key);
  }

  /** Call fn() after each progress event (until the returned function is called). */
  watch(fn) {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** Whether a worker event is a download's progress; if so, it is counted. */
  onProgress(e) {
    if (e.event !== "progress" || !String(e.stage).startsWith("data-")) return false;
    this.bytes[e.stage.slice(5)] = [e.received, e.size];
    for (const fn of this.watchers) fn();
    return true;
  }

  /** The share of the bytes received of these stages ("train", "test", "set-mfeat"), 0 to 1. */
  fraction(stages = ["train", "test"]) {
    const [received, size] = this.#sum(stages);
    return size ? received / size : 0;
  }

  /** The progress in words. */
  describe(stages = ["train", "test"], what = "MNIST") {
    const [, size] = this.#sum(stages);
    return `Downloading ${what}: ${Math.round(100 * this.fraction(stages))} % of ${(size / 1e6).toFixed(1)} MB`;
  }

  #sum(stages) {
    const all = stages.map((s) => this.bytes[s] ?? [0, GUESS[s] ?? 0]);
    return [all.reduce((t, [r]) => t + r, 0), all.reduce((t, [, s]) => t + s, 0)];
  }
}
