// "Other people's handwriting": how each model the page holds reads MNIST's own test
// digits against digits by other hands, scanned another way (data/mnist.json's "sets":
// UCI optdigits and mfeat), side by side, so the columns show what a hidden layer
// buys and what it does not. Nothing is downloaded until the button is pressed, and
// the button waits for the first prediction; afterwards, each change of the models
// measures again, but only a model whose weights changed (a trained one, a file).
//
// Each model is measured by oneneuron.page.Page.handwriting (every image made into an
// input by that model's own preprocessing); a shipped model not held yet is loaded
// first without becoming the active one ("select" with activate false). The table
// and its words are js/handtable.js's, imported when there is a table to show.
//
// Test hooks on [data-testid=handwriting]: data-state (idle, loading, measuring, done,
// error), data-models (the models in the table, in the switch's order, space-separated)
// and data-model (the active one among them, whose misread digits are shown; "" if
// none).

import { $ } from "./dom.js";
import { modelKey } from "./models.js";

export class Handwriting {
  /** data: js/trainingdata.js's TrainingData, which downloads into the worker once. */
  constructor({ api, data }) {
    this.api = api;
    this.data = data;
    this.el = document.querySelector("[data-testid=handwriting]");
    this.button = $("hand-run");
    this.status = $("hand-status");
    this.bar = $("hand-progress");
    this.view = null; // js/handtable.js's HandTable, once imported
    this.measured = new Map(); // model name → {key: its weights in short, report}
    this.asked = false; // the button was pressed: measure every change of the models
    this.generation = 0;
    this.button.disabled = true;
    this.button.addEventListener("click", () => this.measure());
    this.#state("idle");
  }

  /** A prediction is on screen: the button may now download the sets. */
  enable() {
    if (!this.asked) this.button.disabled = false;
  }

  /** The active model changed (or a model came or went): measure, once asked for. */
  setModel() {
    if (this.asked) this.measure();
  }

  async measure() {
    const gen = ++this.generation;
    this.asked = true;
    this.button.disabled = true;
    this.#state("loading");
    this.bar.hidden = false;
    this.#progress(0, "Downloading the digits…");
    try {
      const sets = await this.#download(gen);
      if (gen !== this.generation) return;
      this.#state("measuring");
      const list = await this.api.call("models");
      const models = [];
      for (const [i, m] of list.entries()) {
        this.#progress(i / list.length, `Reading every digit with each model in turn: ${m.label}`);
        const report = await this.#report(m.name);
        if (gen !== this.generation) return;
        models.push({ ...m, report });
      }
      this.view ??= new (await import("./handtable.js")).HandTable();
      if (gen !== this.generation) return;
      this.view.show(models, sets);
      this.bar.hidden = true;
      this.status.textContent = "";
      this.#state("done", models);
    } catch (err) {
      if (gen !== this.generation) return;
      this.bar.hidden = true;
      this.status.textContent = `Could not measure them: ${err.message}. Press the button to try again.`;
      this.button.disabled = false;
      this.asked = false;
      this.#state("error");
    }
  }

  /** The raw test images and the other sets into the worker, with their progress; their names. */
  async #download(gen) {
    const sets = await this.data.setNames();
    const stages = ["test", ...sets.map((name) => `set-${name}`)];
    const stop = this.data.watch(() => {
      if (gen === this.generation) this.#progress(this.data.fraction(stages), this.data.describe(stages, "the digits"));
    });
    await Promise.all([this.data.test(), ...sets.map((name) => this.data.set(name))]).finally(stop);
    return sets;
  }

  /** Python's handwriting report of a model, measured again only when its weights changed. */
  async #report(name) {
    const { model } = await this.api.call("select", { name, activate: false }); // held, or loaded now
    const key = modelKey(model);
    const kept = this.measured.get(name);
    if (kept && kept.key === key) return kept.report;
    const report = await this.api.call("handwriting", { name });
    this.measured.set(name, { key, report });
    return report;
  }

  #progress(fraction, text) {
    this.bar.value = fraction;
    this.status.textContent = text;
  }

  // the results stay on screen (for the models they name) while the models are measured
  #state(state, models = null) {
    this.el.dataset.state = state;
    if (models !== null) {
      this.el.dataset.models = models.map((m) => m.name).join(" ");
      this.el.dataset.model = models.find((m) => m.active)?.name ?? "";
      this.el.hidden = false;
    }
  }
}
