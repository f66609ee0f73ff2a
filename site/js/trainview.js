// The training panel's DOM: the settings form, the buttons, the status (the stable
// test hooks), the live weights, the charts, the update rule and your own examples;
// the results are js/trainresults.js's (view.report). DOM only; js/training.js
// decides what happens. Texts that come from Python or from files go in with
// textContent.

import { TrainingCharts } from "./charts.js";
import { $, showRule } from "./dom.js";
import { num, parse, whole as fmt } from "./format.js";
import { canvas24, N, paintDiverging, paintTiles, thumbnail } from "./heatmap.js";
import { ResultsView } from "./trainresults.js";

// The settings form: each input carries data-setting="<TrainConfig field>" (index.html),
// the one map from settings to fields; the target's option for a hidden layer says its
// size (data-hidden): target "all" and that many hidden neurons. Integers lose
// thousands separators ("60,000").
const settingFields = () => document.querySelectorAll("[data-setting]");
const INTEGERS = new Set(["batch_size", "epochs", "samples"]);


export class TrainingView {
  constructor(handlers) {
    this.form = $("train-form");
    this.status = $("train-status");
    this.message = $("train-message");
    this.bar = $("train-progress");
    this.numbers = $("train-numbers");
    this.buttons = { start: $("train-start"), pause: $("train-pause"), step: $("train-step"), reset: $("train-reset") };
    this.weightsGrid = $("train-weights-grid");
    this.weightsCaption = $("train-weights-caption");
    this.charts = new TrainingCharts({
      loss: $("chart-loss"),
      accuracy: $("chart-accuracy"),
      lossSummary: $("chart-loss-summary"),
      accuracySummary: $("chart-accuracy-summary"),
    });
    this.maps = [];
    this.kind = "one";
    this.target = 6;
    this.hidden = 0;

    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!this.buttons.start.disabled) handlers.onTrain();
    });
    this.form.addEventListener("input", (e) => {
      e.target.removeAttribute("aria-invalid");
      e.target.dataset.touched = "true"; // the person's choice: defaults no longer apply
    });
    // the update rule shown is the one the settings would run: the model's, the optimizer's
    for (const id of ["train-optimizer", "train-target"]) $(id).addEventListener("change", () => handlers.onRule());
    this.buttons.pause.addEventListener("click", () => handlers.onPause());
    this.buttons.step.addEventListener("click", () => handlers.onStep());
    this.buttons.reset.addEventListener("click", () => handlers.onReset());
    $("example-add").addEventListener("click", () => handlers.onAddExample(Number($("example-label").value)));
    $("example-clear").addEventListener("click", () => handlers.onClearExamples());
    this.report = new ResultsView(handlers.onInspect);
    this.layoutWeights({ target: 6 });
  }

  // -- settings --------------------------------------------------------------------------
  /** The form as TrainConfig settings (numbers where they parse; Python validates). */
  settings() {
    const out = {};
    for (const field of settingFields()) {
      const key = field.dataset.setting;
      const v = field.value;
      if (field.type === "checkbox") out[key] = field.checked;
      else if (key === "target" && field.selectedOptions[0]?.dataset.hidden) {
        out.target = "all";
        out.hidden = Number(field.selectedOptions[0].dataset.hidden);
      } else if (key === "target") out[key] = v === "all" ? "all" : Number(v);
      else if (key === "optimizer" || key === "schedule") out[key] = v;
      else out[key] = parse(v, INTEGERS.has(key));
    }
    return out;
  }

  /** The kind of model these settings train: "one", "ten" or "hidden" (as Python's). */
  static kindOf(settings) {
    return settings.hidden ? "hidden" : settings.target === "all" ? "ten" : "one";
  }

  /**
   * A switch's default (deskew: the shipped ten neurons' choice), unless the person has
   * changed it; the field is marked data-shipped once its default is known.
   */
  setDefault(setting, checked) {
    const field = [...settingFields()].find((f) => f.dataset.setting === setting);
    if (!field) return;
    if (!field.dataset.touched) field.checked = checked;
    field.dataset.shipped = String(checked);
  }

  /** Mark the input of a refused setting (err.field: a TrainConfig field); null if none. */
  markInvalid(setting) {
    const field = [...settingFields()].find((f) => f.dataset.setting === setting);
    if (!field) return null;
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-errormessage", "train-message");
    return field;
  }

  clearInvalid() {
    for (const field of settingFields()) field.removeAttribute("aria-invalid");
  }

  // -- state and progress ----------------------------------------------------------------
  /** The state (idle|loading|running|paused|done|error), its buttons and its message. */
  setState(state, message = null, { finishing = false } = {}) {
    this.status.dataset.state = state;
    if (message !== null) this.message.textContent = message;
    const b = this.buttons;
    const busy = state === "loading" || state === "running";
    b.start.disabled = busy;
    b.step.disabled = busy;
    b.pause.disabled = finishing || !(state === "running" || state === "paused");
    b.pause.textContent = state === "paused" ? "Resume" : "Pause";
    b.pause.setAttribute("aria-label", state === "paused" ? "Resume training" : "Pause training");
    if (state !== "done") delete this.status.dataset.testAccuracy;
  }

  loading(fraction, text) {
    this.bar.value = fraction;
    this.numbers.textContent = text;
  }

  /** A run's numbers: batches done, time, images a second; the hooks data-step etc. */
  progress(p) {
    const s = this.status.dataset;
    s.step = String(p.step);
    s.steps = String(p.steps);
    s.seconds = p.seconds.toFixed(3);
    s.samples = String(p.n_train);
    s.examples = String(p.examples);
    this.bar.value = p.steps ? p.step / p.steps : 0;
    const rate = p.seconds > 0 ? p.images_seen / p.seconds : 0;
    this.numbers.textContent =
      `Epoch ${p.epoch} of ${p.epochs} · batch ${fmt(p.step)} of ${fmt(p.steps)} · ` +
      `${fmt(p.images_seen)} images seen` +
      (p.step ? ` · ${fmt(rate)} images/s · ${p.seconds.toFixed(2)} s` : "");
  }

  resetProgress() {
    const s = this.status.dataset;
    s.step = "0";
    s.seconds = "0";
    for (const k of ["steps", "samples", "examples", "testAccuracy"]) delete s[k];
    this.bar.value = 0;
    this.numbers.textContent = "Nothing trained yet.";
  }

  /** A new run: empty charts, the live weights laid out for its neurons. */
  startRun(p, settings) {
    this.charts.clear(p.steps, p.batches);
    this.layoutWeights(settings);
    const h = p.held_out;
    $("held-out-what").textContent = !h
      ? "no held-out images (none loaded)"
      : h.source === "train"
        ? `the last ${fmt(h.count)} training images, which this run never trains on`
        : `the first ${fmt(h.count)} test images (all ${fmt(p.n_train - p.examples)} training images ` +
          "are in use); the check only draws the curve, nothing is chosen by it";
    this.report.hide();
    this.progress({ ...p, seconds: 0 });
  }

  // -- live weights ----------------------------------------------------------------------
  /** The live weights laid out for the model the settings train, blank. */
  layoutWeights(settings) {
    const kind = TrainingView.kindOf(settings);
    this.kind = kind;
    this.target = settings.target;
    this.hidden = settings.hidden || 0;
    this.weightsGrid.dataset.kind = kind;
    this.maps = [];
    if (kind === "hidden") {
      // every hidden neuron's weights as a tile of one canvas, repainted at each slice
      const c = document.createElement("canvas");
      c.setAttribute("role", "img");
      c.setAttribute("aria-label", `Weights of the ${this.hidden} hidden neurons, one tile each`);
      paintTiles(c, new Float32Array(this.hidden * N), this.hidden, 1, 1);
      this.maps.push(c);
      this.weightsGrid.replaceChildren(c);
      this.weightsCaption.textContent = "Small random numbers before the first batch.";
      return;
    }
    const n = kind === "ten" ? 10 : 1;
    const target = settings.target;
    const items = [];
    for (let k = 0; k < n; k++) {
      const digit = kind === "ten" ? k : target;
      const c = canvas24(`Weights of the neuron for ${digit}`);
      const frame = document.createElement("div");
      frame.className = "grid-frame";
      frame.append(c);
      const item = document.createElement("div");
      item.className = "train-weight";
      item.append(frame);
      if (kind === "ten") {
        const label = document.createElement("span");
        label.textContent = String(k);
        item.append(label);
      }
      paintDiverging(c, new Float32Array(N), 0, 1);
      items.push(item);
      this.maps.push(c);
    }
    this.weightsGrid.replaceChildren(...items);
    this.weightsCaption.textContent = "All zero before the first batch.";
  }

  showWeights(p) {
    if (this.kind === "hidden") {
      paintTiles(this.maps[0], p.weights, this.hidden, p.scale, 1);
      this.weightsCaption.textContent =
        `One tile a hidden neuron: orange raises its z, purple lowers it; colours end at ±${num(p.scale, 3)}.`;
      return;
    }
    this.maps.forEach((c, k) => paintDiverging(c, p.weights, k * N, p.scale));
    const towards = this.kind === "ten" ? "its digit" : String(this.target);
    const bias = this.kind === "ten" ? "" : `; bias b = ${num(p.bias[0])}`;
    this.weightsCaption.textContent =
      `Orange pushes towards ${towards}, purple away; colours end at ±${num(p.scale, 3)}${bias}.`;
  }

  // -- the update rule -------------------------------------------------------------------
  setRule(rule) {
    showRule(rule, "rule");
  }

  // -- your examples ---------------------------------------------------------------------
  /** The drawings added (`key`: kept by this browser, or null), and a note on them. */
  setExamples(examples, note = "") {
    const count = $("examples-count");
    const n = examples.length;
    const kept = examples.filter((e) => e.key !== null).length;
    const keeps =
      kept === n
        ? "this browser keeps them until you remove them"
        : `this browser keeps ${kept ? `${kept} of them until you remove them` : "none of them"}`;
    count.dataset.count = String(n);
    count.dataset.kept = String(kept);
    count.textContent =
      (n ? `${n} drawing${n === 1 ? "" : "s"} of yours will be in the next training run; ${keeps}.` : "No drawings added yet.") +
      (note ? ` ${note}` : "");
    $("example-clear").disabled = n === 0;
    const items = examples.map(({ seen, label }, i) => {
      const li = document.createElement("li");
      li.append(thumbnail(seen, `Your drawing ${i + 1}, labelled ${label}`));
      const span = document.createElement("span");
      span.textContent = String(label);
      span.setAttribute("aria-hidden", "true");
      li.append(span);
      return li;
    });
    $("examples-list").replaceChildren(...items);
  }

  examplesMessage(text) {
    $("examples-count").textContent = text;
  }
}
