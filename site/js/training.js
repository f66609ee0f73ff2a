// Training in the page: the panel's states and what each button does.
//
//   idle, done, error ──Train──► loading ──────► running ◄──Resume──┐
//                     (settings checked,            │    └───Pause──► paused
//                      MNIST downloaded once)       │                  │ Step: one batch
//   a refused setting, a run that diverges ──► error    last batch ──► done (test metrics)
//
// The worker trains in slices and posts each one ({event: "train"}); this module
// applies them to the view. The settings are checked by Python before anything is
// downloaded or run. The trained model becomes the active one, and its weights file
// is kept in localStorage until Reset, so a reload brings it back.
//
// Performance marks for benchmarks: oneneuron:train-start (the run is built, the
// first batch is next) and oneneuron:train-end (the last batch is done).

import { loadUPlot } from "./charts.js";
import { TrainingView } from "./trainview.js";
import { nextFrame } from "./dom.js";

const STORE = "oneneuron.trained"; // {version, label, text}: the trained weights file
const TRAINED = "trained"; // the name the worker keeps the trained model under
const MISTAKES = 48; // misclassified test images in the gallery
const DATA_BYTES = { train: 60000 * 72, test: 10000 * 72 }; // until the worker says
// After the next frame has been rendered (at most 100 ms: a hidden page has no frames).
const afterFrame = () =>
  new Promise((resolve) => {
    const late = setTimeout(resolve, 100);
    requestAnimationFrame(() => {
      clearTimeout(late);
      setTimeout(resolve, 0);
    });
  });

export class Training {
  constructor({ api, pad, onModel }) {
    this.api = api;
    this.pad = pad;
    this.onModel = onModel; // (model_info, models) → the page shows it as active
    this.view = new TrainingView({
      onTrain: () => this.train(),
      onPause: () => this.togglePause(),
      onStep: () => this.step(),
      onReset: () => this.reset(),
      onAddExample: (label) => this.addExample(label),
      onClearExamples: () => this.clearExamples(),
      onInspect: (index) => this.inspect(index),
      onOptimizer: (name) => this.showRule(name),
    });
    this.state = "idle";
    this.run = null; // the run the worker holds: {settings, progress}, or null
    this.generation = 0; // moves on at each new run and Reset; late answers are ignored
    this.data = null; // a promise: both MNIST splits are in the worker
    this.bytes = { train: [0, DATA_BYTES.train], test: [0, DATA_BYTES.test] };
    this.examples = []; // {seen, label} of the drawings added
    this.model = null; // model_info of the trained model, once there is one
    this.pausing = false;
    this.finishing = false;
  }

  /** Python is ready: show the update rule it runs. */
  ready() {
    this.showRule(this.view.settings().optimizer);
  }

  /** Draw the (empty) charts once the panel comes into view. */
  prepareCharts() {
    loadUPlot().then(() => this.view.charts.schedule(true), () => {});
  }

  // -- the buttons -------------------------------------------------------------------------
  train() {
    return this.#begin(false);
  }

  step() {
    if (this.state === "paused" && this.run) return this.#stepOnce(this.generation);
    if (this.state === "loading" || this.state === "running") return null;
    return this.#begin(true);
  }

  async togglePause() {
    if (this.state === "paused" && this.run) {
      this.#set("running", "Training…");
      await this.#call("trainResume");
      return;
    }
    if (this.state !== "running" || this.pausing || this.finishing || !this.run) return;
    const gen = this.generation;
    this.pausing = true;
    this.view.buttons.pause.disabled = true;
    this.view.message.textContent = "Pausing after this slice…";
    try {
      await this.api.call("trainPause"); // answered after the last slice's event
    } finally {
      this.pausing = false;
    }
    if (gen !== this.generation || this.finishing || !this.run) return;
    const p = this.run.progress;
    this.#set("paused", `Paused after batch ${p.step} of ${p.steps}. Resume, or Step one batch at a time.`);
  }

  async reset() {
    this.generation += 1;
    this.run = null;
    this.finishing = false;
    this.view.charts.clear();
    this.view.resetProgress();
    this.view.report.hide();
    const target = this.view.settings().target;
    this.view.layoutWeights(target === "all" ? "ten" : "one", target);
    try {
      localStorage.removeItem(STORE);
    } catch {
      // storage may be off; nothing was kept then
    }
    this.#set("idle", "Reset: the trained model is gone. Choose the settings and press Train.");
    await this.api.call("trainCancel").catch(() => {});
    const list = await this.api.call("models").catch(() => []);
    if (list.some((m) => m.name === TRAINED)) {
      const models = await this.api.call("forget", { name: TRAINED });
      this.onModel(await this.api.call("modelInfo", {}), models);
    }
    this.model = null;
  }

  // -- a run -------------------------------------------------------------------------------
  async #begin(stepOnly) {
    const gen = ++this.generation;
    const settings = this.view.settings();
    this.view.clearInvalid();
    this.view.report.hide();
    if (this.run) {
      this.run = null;
      this.api.call("trainCancel").catch(() => {});
    }
    this.view.resetProgress();
    this.#set("loading", "Checking the settings…");
    try {
      await this.api.call("checkSettings", { settings });
    } catch (err) {
      if (gen === this.generation && !this.#refuse(err)) this.#fail(`Could not train: ${err.message}`);
      return;
    }
    try {
      if (gen !== this.generation) return;
      this.#set("loading", "Getting the MNIST images…");
      this.view.loading(this.#fraction(), "Downloading MNIST (once; kept for the next runs)…");
      await this.#data();
      if (gen !== this.generation) return;
      const p = await this.api.call("trainStart", { settings });
      if (gen !== this.generation) return;
      this.run = { settings, progress: p };
      this.view.startRun(p, settings);
      this.view.status.dataset.seconds = p.seconds.toFixed(3);
      // the panel laid out for the run before the first batch, not while batches run
      await afterFrame();
      if (gen !== this.generation) return;
      performance.mark("oneneuron:train-start");
      if (stepOnly) {
        await this.#stepOnce(gen);
      } else {
        this.#set("running", "Training…");
        await this.api.call("trainResume");
      }
    } catch (err) {
      // a setting only the data can check (samples) is refused like the others
      if (gen !== this.generation) return;
      if (!this.#refuse(err)) this.#fail(`Could not train: ${err.message}`);
    }
  }

  async #stepOnce(gen) {
    try {
      const out = await this.api.call("trainStep");
      if (gen !== this.generation || !this.run) return;
      this.#apply(out);
      if (out.done) {
        this.#finish();
        return;
      }
      this.#set("paused", `Paused after batch ${out.step} of ${out.steps}: Step again, or Resume.`);
    } catch (err) {
      if (gen === this.generation) this.#stopped(err);
    }
  }

  /** Events from the worker: a slice of training, a run that diverged, data loading. */
  onEvent(e) {
    if (e.event === "train") {
      if (!this.run || this.state !== "running") return; // a dropped run's last slice
      this.#apply(e);
      if (e.done) this.#finish();
    } else if (e.event === "train-error") {
      if (this.run && this.state === "running") this.#stopped(e.error, e.seconds);
    } else if (e.event === "progress" && String(e.stage).startsWith("data-")) {
      this.bytes[e.stage.slice(5)] = [e.received, e.size];
      if (this.state === "loading") {
        const total = this.bytes.train[1] + this.bytes.test[1];
        const done = Math.round(100 * this.#fraction());
        this.view.loading(this.#fraction(), `Downloading MNIST: ${done} % of ${(total / 1e6).toFixed(1)} MB`);
      }
    }
  }

  #apply(out) {
    this.run.progress = out;
    this.view.progress(out);
    this.view.showWeights(out);
    this.view.charts.add(out.history, out.check);
  }

  async #finish() {
    const gen = this.generation;
    this.finishing = true;
    performance.mark("oneneuron:train-end");
    this.#set("running", "Trained. Measuring it on the 10,000 test images…", { finishing: true });
    try {
      const res = await this.api.call("trainFinish", { name: TRAINED, mistakes: MISTAKES });
      if (gen !== this.generation) return;
      this.run = null;
      this.model = res.model;
      this.onModel(res.model, res.models);
      // the results a frame later, the gallery in pieces: no long task on the way
      await nextFrame();
      if (gen !== this.generation) return;
      for (const _ of this.view.report.show(res.evaluation, res.model)) {
        await nextFrame();
        if (gen !== this.generation) return;
      }
      this.view.status.dataset.testAccuracy = String(res.evaluation.accuracy);
      const acc = (100 * res.evaluation.accuracy).toFixed(2);
      const refused = await this.#save(res.model);
      if (gen !== this.generation) return;
      const kept = refused
        ? ` This browser could not keep it for your next visit (${refused}): it is gone when you leave.`
        : " This browser keeps it until Reset.";
      this.#set(
        "done",
        `Done: ${acc} % right on the 10,000 test images. The model you trained now answers your drawings.${kept}`,
      );
    } catch (err) {
      if (gen === this.generation) this.#fail(`Could not finish: ${err.message}`);
    } finally {
      this.finishing = false;
    }
  }

  /** Refuse a run because of a setting (err.kind "setting"); false for other errors. */
  #refuse(err) {
    if (err.kind !== "setting") return false;
    const field = this.view.markInvalid(err.field);
    this.run = null;
    this.#set("error", `Not started: ${err.message}.`);
    if (field) field.focus();
    return true;
  }

  /** A run that stopped on an error ({kind, message}), after `seconds` of training. */
  #stopped(error, seconds) {
    this.run = null;
    if (seconds !== undefined) this.view.status.dataset.seconds = seconds.toFixed(3);
    const text = error.message.charAt(0).toUpperCase() + error.message.slice(1);
    const why =
      error.kind === "diverged"
        ? " With steps this large, every update overshoots and the weights grow until the numbers " +
          "no longer fit."
        : "";
    this.#set("error", `Stopped. ${text}.${why}`);
  }

  #fail(message) {
    this.run = null;
    this.#set("error", message);
  }

  #set(state, message = null, options = {}) {
    this.state = state;
    this.view.setState(state, message, options);
  }

  #call(method, args = {}) {
    return this.api.call(method, args).catch((err) => this.#fail(err.message));
  }

  // -- data, the rule, examples, inspection -------------------------------------------------
  #data() {
    if (!this.data) {
      this.data = Promise.all(["train", "test"].map((split) => this.api.call("loadData", { split })));
      this.data.catch(() => {
        this.data = null; // try again next time
      });
    }
    return this.data;
  }

  #fraction() {
    const { train, test } = this.bytes;
    return (train[0] + test[0]) / (train[1] + test[1]);
  }

  async showRule(optimizer) {
    try {
      this.view.setRule(await this.api.call("updateRule", { optimizer }));
    } catch {
      // unknown optimizer in the form: the settings check will say so
    }
  }

  async addExample(label) {
    if (this.pad.empty) {
      this.view.examplesMessage("Draw a digit on the pad first, then add it.");
      return;
    }
    const pixels = this.pad.pixels();
    try {
      const r = await this.api.call(
        "addExample",
        { pixels, width: this.pad.width, height: this.pad.height, label },
        [pixels.buffer],
      );
      this.examples.push({ seen: r.seen, label: r.label });
      this.view.setExamples(this.examples);
    } catch (err) {
      this.view.examplesMessage(`Not added: ${err.message}.`);
    }
  }

  async clearExamples() {
    await this.api.call("clearExamples").catch(() => {});
    this.examples = [];
    this.view.setExamples(this.examples);
  }

  async inspect(index) {
    if (!this.model) return;
    try {
      this.view.report.inspect(await this.api.call("inspect", { index, name: TRAINED }), this.model);
    } catch (err) {
      this.view.message.textContent = `Could not show that image: ${err.message}`;
    }
  }

  // -- kept across reloads ------------------------------------------------------------------
  /** Keep the trained model for the next visit; null, or why it could not be kept. */
  async #save(model) {
    try {
      const text = await this.api.call("export", { name: TRAINED });
      localStorage.setItem(STORE, JSON.stringify({ version: 1, label: model.label, text }));
      return null;
    } catch (err) {
      try {
        localStorage.removeItem(STORE); // not an older model in its place on reload
      } catch {
        // storage is off altogether
      }
      return err.name === "QuotaExceededError" ? "its storage is full" : err.message;
    }
  }

  /** Bring back the model trained on an earlier visit, if one was kept. */
  async restore() {
    let saved = null;
    try {
      saved = localStorage.getItem(STORE);
    } catch {
      return false; // storage is off: nothing was kept
    }
    if (saved === null) return false;
    try {
      saved = JSON.parse(saved);
    } catch {
      saved = null;
    }
    if (!saved || typeof saved.text !== "string") {
      localStorage.removeItem(STORE); // not what #save writes: nothing to bring back
      return false;
    }
    try {
      const label = typeof saved.label === "string" ? saved.label : null;
      const res = await this.api.call("loadModel", { text: saved.text, name: TRAINED, label });
      this.model = res.model;
      this.onModel(res.model, res.models);
      this.view.message.textContent = "The neuron you trained last time is back: this browser keeps it until Reset.";
      return true;
    } catch (err) {
      localStorage.removeItem(STORE);
      this.view.message.textContent =
        `The model kept from last time could not be loaded (${err.message}); it was dropped.`;
      return false;
    }
  }
}
