// A training run in the page: the panel's states, what each button does, and the
// slices of training the worker posts.
//
//   idle, done, error ──Train──► loading ──────► running ◄──Resume──┐
//                     (settings checked,            │    └───Pause──► paused
//                      MNIST downloaded once)       │                  │ Step: one batch
//   a refused setting, a run that diverges ──► error    last batch ──► done (test metrics)
//
// The worker trains in slices and posts each one ({event: "train"}); this module
// applies them to the view. The settings are checked by Python before anything is
// downloaded or run. The parts with a job of their own: the MNIST download
// (js/trainingdata.js), the trained model, kept until Reset (js/trained.js), your
// drawings added to the next run (js/examples.js), and the panel's DOM
// (js/trainview.js, its results js/trainresults.js).
//
// Performance marks for benchmarks: oneneuron:train-start (the run is built, the
// first batch is next) and oneneuron:train-end (the last batch is done).

import { loadUPlot } from "./charts.js";
import { afterFrame, nextFrame } from "./dom.js";
import { Examples } from "./examples.js";
import { TrainedModel } from "./trained.js";
import { TrainingData } from "./trainingdata.js";
import { TrainingView } from "./trainview.js";

const MISTAKES = 48; // misclassified test images in the gallery

export class Training {
  constructor({ api, pad, onModel }) {
    this.api = api;
    this.view = new TrainingView({
      onTrain: () => this.train(),
      onPause: () => this.togglePause(),
      onStep: () => this.step(),
      onReset: () => this.reset(),
      onAddExample: (label) => this.examples.add(label),
      onClearExamples: () => this.examples.clear(),
      onInspect: (index) => this.trained.inspect(index),
      onRule: () => this.showRule(),
    });
    this.data = new TrainingData(api);
    this.defaults = Promise.resolve(); // the form's defaults from the shipped model
    this.trained = new TrainedModel({ api, view: this.view, onModel }); // onModel(model_info, models)
    this.examples = new Examples({ api, pad, view: this.view });
    this.state = "idle";
    this.run = null; // the progress of the run the worker holds, or null
    this.generation = 0; // moves on at each new run and Reset; late answers are ignored
    this.pausing = false;
    this.finishing = false;
  }

  /** Python is ready: show the update rule it runs. */
  ready() {
    this.showRule();
  }

  /** Draw the (empty) charts once the panel comes into view. */
  prepareCharts() {
    loadUPlot().then(() => this.view.charts.schedule(true), () => {});
  }

  /** A run is loading its data or training. */
  get busy() {
    return this.state === "loading" || this.state === "running";
  }

  // -- the buttons -------------------------------------------------------------------------
  train() {
    return this.#begin(false);
  }

  step() {
    if (this.state === "paused" && this.run) return this.#stepOnce(this.generation);
    if (this.busy) return null;
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
    const p = this.run;
    this.#set("paused", `Paused after batch ${p.step} of ${p.steps}. Resume, or Step one batch at a time.`);
  }

  async reset() {
    this.generation += 1;
    this.run = null;
    this.finishing = false;
    this.view.charts.clear();
    this.view.resetProgress();
    this.view.report.hide();
    this.view.layoutWeights(this.view.settings());
    this.trained.discard();
    this.#set("idle", "Reset: the trained model is gone. Choose the settings and press Train.");
    await this.api.call("trainCancel").catch(() => {});
    await this.trained.forget();
  }

  /**
   * Runs start only once ``promise`` has settled: the form's defaults that come from the
   * shipped ten neurons (the deskew switch), so an early Train uses them too.
   */
  awaitDefaults(promise) {
    this.defaults = promise.catch(() => {});
  }

  // -- a run -------------------------------------------------------------------------------
  async #begin(stepOnly) {
    const gen = ++this.generation;
    await this.defaults;
    if (gen !== this.generation) return;
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
      this.view.loading(this.data.fraction(), "Downloading MNIST (once; kept for the next runs)…");
      await this.data.load(settings.deskew); // the variant the deskew switch picks
      if (gen !== this.generation) return;
      const p = await this.api.call("trainStart", { settings });
      if (gen !== this.generation) return;
      this.run = p;
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
    } else if (this.data.onProgress(e) && this.state === "loading") {
      this.view.loading(this.data.fraction(), this.data.describe());
    }
  }

  #apply(out) {
    this.run = out;
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
      const res = await this.api.call("trainFinish", { name: this.trained.name, mistakes: MISTAKES });
      if (gen !== this.generation) return;
      this.run = null;
      this.trained.adopt(res);
      // the results a frame later, the gallery in pieces: no long task on the way
      await nextFrame();
      if (gen !== this.generation) return;
      for (const _ of this.view.report.show(res.evaluation, res.model)) {
        await nextFrame();
        if (gen !== this.generation) return;
      }
      this.view.status.dataset.testAccuracy = String(res.evaluation.accuracy);
      const acc = (100 * res.evaluation.accuracy).toFixed(2);
      const refused = await this.trained.save();
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

  // -- the update rule, the model kept from the last visit ---------------------------------
  /** The Python a run with the form's settings runs: its model's gradient, its optimizer's step. */
  async showRule() {
    const settings = this.view.settings();
    const args = { optimizer: settings.optimizer, kind: TrainingView.kindOf(settings) };
    try {
      this.view.setRule(await this.api.call("updateRule", args));
    } catch {
      // unknown optimizer in the form: the settings check will say so
    }
  }

  /** Bring back the model trained and the drawings added on an earlier visit, if kept. */
  restore() {
    return Promise.all([this.trained.restore(), this.examples.restore()]);
  }
}
