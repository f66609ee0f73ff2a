// "Where it says yes: the threshold" (one neuron): a slider for t, from which the
// neuron says yes when p ≥ t (the answer card follows it: js/shown.js), and, once
// asked for, MNIST's 10,000 test digits at that t: the four counts, precision,
// recall and accuracy, the ROC curve (its AUC is Python's) and the precision–recall
// curve, each with a dot at t. The test set's probabilities come from Python once a
// model (oneneuron.page.Page.scores); the counts at any t are two binary searches in
// them, sorted once. Imported once the first answer is on screen; uPlot (js/charts.js)
// once the counts are first asked for. DOM only, but for the counting.
//
// Performance marks (performance.getEntriesByName): oneneuron:threshold-input (a move
// of the slider), oneneuron:threshold-shown (its answer, counts and dots are in the
// DOM) and the measure oneneuron:threshold-redraw between them.
//
// Test hooks: #threshold-card data-state (idle, loading, measured, error); the results'
// data-model; each count cell's data-count (tp, fn, fp, tn) and data-value;
// #threshold-metrics strong[data-metric] (precision, recall, accuracy) data-value;
// #roc-auc data-auc.

import { loadUPlot } from "./charts.js";
import { $, element, fillDefinitions } from "./dom.js";
import { aDigit, percent, whole } from "./format.js";
import { Curves, rates } from "./curves.js";
import { modelKey } from "./models.js";

// The metrics shown at t: [key of rates(), what, why in words for digit d].
const METRICS = [
  ["precision", "Precision", (d) => `of the digits it calls ${aDigit(d)}, this many are.`],
  ["recall", "Recall", (d) => `of the real ${d}s, it finds this many.`],
  ["accuracy", "Accuracy", () => "of all the test digits it answers right."],
];
const COUNTS = (d) => ({ tp: `${d}s found`, fn: `${d}s missed`, fp: "false alarms", tn: "the rest" });

/** The count of values below t in `sorted` (ascending): a binary search. */
function below(sorted, t) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A one-neuron model's test probabilities, sorted once: its counts at any t. */
export class Scores {
  constructor(p, truth) {
    const pos = [];
    const neg = [];
    for (let i = 0; i < p.length; i++) (truth[i] ? pos : neg).push(p[i]);
    this.pos = Float32Array.from(pos).sort();
    this.neg = Float32Array.from(neg).sort();
    this.all = Float32Array.from(p).sort();
  }

  /** The answers at t (yes when p ≥ t): found, missed, false alarms, the rest. */
  at(t) {
    const fn = below(this.pos, t);
    const tn = below(this.neg, t);
    return { tp: this.pos.length - fn, fn, fp: this.neg.length - tn, tn };
  }

  /** The counts at every t that changes them, from the highest p down. */
  *steps() {
    const all = this.all;
    for (let i = all.length - 1; i >= 0; i--) if (i === all.length - 1 || all[i] !== all[i + 1]) yield this.at(all[i]);
  }
}

export class Threshold {
  /** data: js/trainingdata.js's TrainingData; onThreshold(t): the answer follows t. */
  constructor({ api, data, onThreshold }) {
    Object.assign(this, { api, data, onThreshold });
    this.el = $("threshold-card");
    this.slider = $("threshold");
    this.output = $("threshold-value");
    this.status = $("threshold-status");
    this.results = $("threshold-results");
    this.button = $("threshold-run");
    this.model = null; // the one-neuron model shown
    this.scores = null; // its Scores, once measured
    this.asked = false; // measured once: measure each new model too
    this.generation = 0;
    this.cells = Object.fromEntries(
      Object.keys(COUNTS(6)).map((k) => [k, this.results.querySelector(`[data-count=${k}]`)]),
    );
    this.metrics = {};
    this.curves = new Curves({ roc: $("chart-roc"), pr: $("chart-pr") });
    this.slider.addEventListener("input", () => this.#input());
    this.button.addEventListener("click", () => this.measure());
    this.button.disabled = false; // the page's own HTML has it off until this module runs
    this.#input();
  }

  /** The active model: a one-neuron model's counts are measured again once asked for. */
  setModel(model) {
    if (model.kind !== "one") return;
    const same = this.model && modelKey(model) === modelKey(this.model);
    this.model = model;
    if (same) return;
    this.scores = null;
    this.results.hidden = true;
    this.#input();
    if (this.asked) this.measure();
    else this.#state("idle");
  }

  async measure() {
    const model = this.model;
    if (!model) return;
    const gen = ++this.generation;
    this.asked = true;
    this.button.disabled = true;
    this.#state("loading", "Getting MNIST’s test digits…");
    const stop = this.data.watch(() => {
      this.status.textContent = this.data.describe(["test"], "MNIST’s test digits");
    });
    try {
      await this.data.test();
      stop();
      this.#state("loading", `Reading the 10,000 test digits with ${model.label}…`);
      const r = await this.api.call("scores", { name: model.name });
      const uPlot = await loadUPlot();
      if (gen !== this.generation) return;
      this.scores = new Scores(r.p, r.truth);
      this.#labels(r.target);
      this.results.dataset.model = r.model;
      this.results.hidden = false;
      this.curves.show(uPlot, this.scores);
      $("roc-auc").textContent = `(area under it, AUC: ${r.auc.toFixed(4)}; the dot: this t)`;
      $("roc-auc").dataset.auc = String(r.auc);
      this.#state("measured", "");
      this.button.parentElement.hidden = true; // each new model is measured on its own now
      this.#input();
    } catch (err) {
      stop();
      if (gen === this.generation) this.#state("error", `Could not measure it: ${err.message}.`);
    } finally {
      if (gen === this.generation) this.button.disabled = false;
    }
  }

  // a move of the slider: the answer, the counts and the dots at the new t
  #input() {
    performance.mark("oneneuron:threshold-input");
    const t = Number(this.slider.value);
    this.onThreshold(t);
    this.output.textContent = t.toFixed(2);
    let text = t.toFixed(2);
    if (this.scores) {
      const c = this.scores.at(t);
      for (const [k, cell] of Object.entries(this.cells)) {
        cell.dataset.value = String(c[k]);
        cell.firstChild.textContent = whole(c[k]);
      }
      const r = rates(c);
      for (const [key] of METRICS) {
        const v = r[key];
        this.metrics[key].dataset.value = String(v);
        this.metrics[key].textContent = Number.isFinite(v) ? `${percent(v)} %` : "–";
      }
      this.curves.mark(c);
      text += `: finds ${whole(c.tp)} of ${whole(c.tp + c.fn)}, ${whole(c.fp)} false alarm${c.fp === 1 ? "" : "s"}`;
    }
    this.slider.setAttribute("aria-valuetext", text);
    performance.mark("oneneuron:threshold-shown");
    performance.measure("oneneuron:threshold-redraw", {
      start: "oneneuron:threshold-input",
      end: "oneneuron:threshold-shown",
    });
  }

  /** The words for the model's digit: the rows, the counts, the metrics. */
  #labels(d) {
    $("counts-pos").textContent = aDigit(d);
    $("counts-neg").textContent = `not ${aDigit(d)}`;
    const names = COUNTS(d);
    for (const [k, cell] of Object.entries(this.cells)) cell.replaceChildren(element("strong"), element("span", "", names[k]));
    fillDefinitions(
      $("threshold-metrics"),
      METRICS.map(([key, what, why]) => {
        const strong = element("strong");
        strong.dataset.metric = key;
        this.metrics[key] = strong;
        return [what, strong, ` ${why(d)}`];
      }),
    );
  }

  #state(state, text = null) {
    this.el.dataset.state = state;
    if (text !== null) this.status.textContent = text;
  }
}
