// The training panel's DOM: the settings form, the buttons, the status (the stable
// test hooks), the live weights, the charts, the update rule, the results (test
// accuracy, precision and recall or a confusion matrix, the mistakes gallery and the
// inspector) and your own examples. DOM only; js/training.js decides what happens.
// Texts that come from Python or from files go in with textContent.

import { TrainingCharts } from "./charts.js";
import { num, percent, signed, sub } from "./format.js";
import { GRID, paintBinary, paintDiverging } from "./heatmap.js";

const $ = (id) => document.getElementById(id);
const N = GRID * GRID;

// The settings form: each input carries data-setting="<TrainConfig field>" (index.html),
// the one map from settings to fields. Integers lose thousands separators ("60,000").
const settingFields = () => document.querySelectorAll("[data-setting]");
const INTEGERS = new Set(["batch_size", "epochs", "samples"]);
const fmt = (n) => Math.round(n).toLocaleString("en");
const names = (d) => (d === 8 ? "an 8" : `a ${d}`);

/** A field's text as a number when it reads as one; else the text, for Python to refuse. */
function parse(text, integer) {
  const t = integer ? text.replace(/[,_\s]/g, "") : text.trim();
  if (t === "") return t;
  const n = Number(t);
  return Number.isNaN(n) && t.toLowerCase() !== "nan" ? t : n;
}

function button(className, label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.setAttribute("aria-label", label);
  b.title = label;
  b.addEventListener("click", onClick);
  return b;
}

// Thumbnails are images painted once on one scratch canvas: a page of canvases would
// each need a compositor resource, and committing dozens in one frame is a long task.
const scratch = document.createElement("canvas");
scratch.width = scratch.height = GRID;

function thumbnail(bits, label = null) {
  paintBinary(scratch, bits);
  const img = document.createElement("img");
  img.src = scratch.toDataURL();
  img.width = img.height = GRID;
  img.alt = label || "";
  if (!label) img.setAttribute("aria-hidden", "true");
  return img;
}

function canvas24(label = null) {
  const c = document.createElement("canvas");
  c.width = c.height = GRID;
  if (label) {
    c.setAttribute("role", "img");
    c.setAttribute("aria-label", label);
  } else {
    c.setAttribute("aria-hidden", "true");
  }
  return c;
}

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
    this.results = $("train-results");
    this.charts = new TrainingCharts({
      loss: $("chart-loss"),
      accuracy: $("chart-accuracy"),
      lossSummary: $("chart-loss-summary"),
      accuracySummary: $("chart-accuracy-summary"),
    });
    this.maps = [];
    this.kind = "one";
    this.target = 6;

    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!this.buttons.start.disabled) handlers.onTrain();
    });
    this.form.addEventListener("input", (e) => e.target.removeAttribute("aria-invalid"));
    $("train-optimizer").addEventListener("change", (e) => handlers.onOptimizer(e.target.value));
    this.buttons.pause.addEventListener("click", () => handlers.onPause());
    this.buttons.step.addEventListener("click", () => handlers.onStep());
    this.buttons.reset.addEventListener("click", () => handlers.onReset());
    $("example-add").addEventListener("click", () => handlers.onAddExample(Number($("example-label").value)));
    $("example-clear").addEventListener("click", () => handlers.onClearExamples());
    this.onInspect = handlers.onInspect;
    this.layoutWeights("one", 6);
  }

  // -- settings --------------------------------------------------------------------------
  /** The form as TrainConfig settings (numbers where they parse; Python validates). */
  settings() {
    const out = {};
    for (const field of settingFields()) {
      const key = field.dataset.setting;
      const v = field.value;
      if (key === "target") out[key] = v === "all" ? "all" : Number(v);
      else if (key === "optimizer" || key === "schedule") out[key] = v;
      else out[key] = parse(v, INTEGERS.has(key));
    }
    return out;
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
    this.layoutWeights(settings.target === "all" ? "ten" : "one", settings.target);
    const h = p.held_out;
    $("held-out-what").textContent = !h
      ? "no held-out images (none loaded)"
      : h.source === "train"
        ? `the last ${fmt(h.count)} training images, which this run never trains on`
        : `the first ${fmt(h.count)} test images (all ${fmt(p.n_train - p.examples)} training images ` +
          "are in use); the check only draws the curve, nothing is chosen by it";
    this.results.hidden = true;
    this.progress({ ...p, seconds: 0 });
  }

  // -- live weights ----------------------------------------------------------------------
  layoutWeights(kind, target) {
    this.kind = kind;
    this.target = target;
    const n = kind === "ten" ? 10 : 1;
    this.weightsGrid.dataset.kind = kind;
    this.maps = [];
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
    this.weightsVersion = 0;
  }

  showWeights(p) {
    this.maps.forEach((c, k) => paintDiverging(c, p.weights, k * N, p.scale));
    this.weightsVersion += 1;
    this.weightsGrid.dataset.version = String(this.weightsVersion);
    const towards = this.kind === "ten" ? "its digit" : String(this.target);
    const bias = this.kind === "ten" ? "" : `; bias b = ${num(p.bias[0])}`;
    this.weightsCaption.textContent =
      `Orange pushes towards ${towards}, purple away; colours end at ±${num(p.scale, 3)}${bias}.`;
  }

  // -- the update rule -------------------------------------------------------------------
  setRule(rule) {
    for (const key of ["gradient", "update"]) {
      const r = rule[key];
      $(`rule-${key}`).textContent = r.source.trimEnd();
      const where = $(`rule-${key}-where`);
      where.textContent = `${r.file}, line ${r.line}`;
      where.title = `${r.name} in ${r.path || r.file}`;
    }
  }

  // -- results ---------------------------------------------------------------------------
  /** Show a run's results; a generator: the caller lets a frame pass at each yield. */
  *showResults(e, model) {
    this.model = model;
    this.results.hidden = false;
    $("result-accuracy").textContent = (100 * e.accuracy).toFixed(2);
    $("result-accuracy-text").textContent =
      `right on the ${fmt(e.samples)} MNIST test images, which it never trained on.`;
    const dl = $("result-metrics");
    const rows = [];
    if (model.kind === "one") {
      const t = model.target;
      rows.push(["Precision", `${percent(e.precision)} %`, `of the images it calls ${names(t)}, this many are.`]);
      rows.push(["Recall", `${percent(e.recall)} %`, `of the real ${t}s, it finds this many.`]);
    }
    rows.push(["Mistakes", fmt(e.wrong), `of ${fmt(e.samples)} test images.`]);
    dl.replaceChildren(
      ...rows.flatMap(([what, value, why]) => {
        const dt = document.createElement("dt");
        dt.textContent = what;
        const dd = document.createElement("dd");
        const strong = document.createElement("strong");
        strong.textContent = value;
        dd.append(strong, ` ${why}`);
        return [dt, dd];
      }),
    );
    $("confusion-wrap").hidden = model.kind !== "ten";
    if (model.kind === "ten") this.#confusion(e.confusion);
    $("inspector").hidden = true;
    yield* this.#mistakes(e, model);
  }

  hideResults() {
    this.results.hidden = true;
  }

  #confusion(cm) {
    const table = $("confusion");
    const caption = table.querySelector("caption");
    const head = document.createElement("tr");
    const corner = document.createElement("th");
    corner.scope = "col";
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = "true digit";
    corner.append(hidden);
    head.append(corner);
    for (let d = 0; d < 10; d++) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = String(d);
      th.title = `said ${d}`;
      head.append(th);
    }
    let worst = 1;
    for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) if (i !== j) worst = Math.max(worst, cm[i * 10 + j]);
    const rows = [];
    for (let i = 0; i < 10; i++) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = String(i);
      tr.append(th);
      let total = 0;
      for (let j = 0; j < 10; j++) total += cm[i * 10 + j];
      for (let j = 0; j < 10; j++) {
        const v = cm[i * 10 + j];
        const td = document.createElement("td");
        td.textContent = String(v);
        td.title = `${v} of ${total} ${i}s read as ${j}`;
        const alpha = i === j ? v / Math.max(1, total) : Math.sqrt(v / worst);
        // right answers in purple (share of the row), mistakes in orange (√ of the worst)
        const [rgb, base, span] = i === j ? ["84, 39, 136", 0.15, 0.75] : ["224, 130, 20", 0.08, 0.7];
        if (v) td.style.background = `rgba(${rgb}, ${(base + span * alpha).toFixed(3)})`;
        if (i === j && alpha > 0.5) td.classList.add("dark");
        tr.append(td);
      }
      rows.push(tr);
    }
    const thead = document.createElement("thead");
    thead.append(head);
    const tbody = document.createElement("tbody");
    tbody.append(...rows);
    table.replaceChildren(caption, thead, tbody);
  }

  *#mistakes(e, model) {
    const m = e.mistakes;
    const list = $("mistakes");
    const shown = m ? m.index.length : 0;
    $("mistakes-caption").textContent = shown
      ? `The first ${shown} of the ${fmt(e.wrong)} test images it gets wrong. Pick one to see why.`
      : "It gets every test image right.";
    list.replaceChildren();
    for (let i = 0; i < shown; i++) {
      if (i % 24 === 0) yield;
      const label = m.label[i];
      const said = m.predicted[i];
      const index = m.index[i];
      let text;
      let short;
      if (model.kind === "one") {
        const t = model.target;
        text =
          label === t
            ? `Test image ${index}: ${names(t)} it missed`
            : `Test image ${index}: ${names(label)} it took for ${names(t)}`;
        short = label === t ? `${t} → no` : `${label} → ${t}`;
      } else {
        text = `Test image ${index}: ${names(label)} read as ${said}`;
        short = `${label} → ${said}`;
      }
      const b = button("mistake", text, () => {
        for (const other of list.querySelectorAll("button")) other.setAttribute("aria-pressed", "false");
        b.setAttribute("aria-pressed", "true");
        this.onInspect(index);
      });
      b.setAttribute("aria-pressed", "false");
      b.dataset.index = String(index);
      const caption = document.createElement("span");
      caption.textContent = short;
      b.append(thumbnail(m.inputs.subarray(i * N, (i + 1) * N)), caption);
      const li = document.createElement("li");
      li.append(b);
      list.append(li);
    }
  }

  /** A test image as the input: the image, w ⊙ x for the answer (and the truth). */
  showInspection(r, model) {
    $("inspector").hidden = false;
    paintBinary($("inspect-input"), r.seen);
    $("inspect-input-caption").textContent = `Test image ${r.index}: ${names(r.label)}; ${r.ink} squares of ink.`;
    const one = model.kind === "one";
    const said = one ? 0 : r.top;
    paintDiverging($("inspect-said"), r.contributions, said * N, model.scale, r.seen);
    const truthFigure = $("inspect-truth-figure");
    truthFigure.hidden = one;
    let text;
    if (one) {
      const t = model.target;
      const p = r.p[0];
      $("inspect-said-caption").textContent = `The neuron for ${t}: orange pushed towards ${t}, purple away.`;
      text =
        `w·x + b = ${num(r.dot[0])} ${signed(r.bias[0]).replace(/^([+−])/, "$1 ")} = ${num(r.z[0])}, ` +
        `σ(z) = ${percent(p)} %: the neuron says ${p >= 0.5 ? `it is ${names(t)}` : `it is not ${names(t)}`}, ` +
        `but it ${r.label === t ? "is" : `is ${names(r.label)}`}.`;
    } else {
      paintDiverging($("inspect-truth"), r.contributions, r.label * N, model.scale, r.seen);
      $("inspect-said-caption").textContent = `The neuron for ${said}, which won: z${sub(said)} = ${num(r.z[said])}.`;
      $("inspect-truth-caption").textContent =
        `The neuron for ${r.label}, the true digit: z${sub(r.label)} = ${num(r.z[r.label])}.`;
      text =
        `The ten neurons say ${said} (${percent(r.p[said])} %); the true digit ${r.label} gets ` +
        `${percent(r.p[r.label])} %: z${sub(said)} = ${num(r.z[said])} beat z${sub(r.label)} = ` +
        `${num(r.z[r.label])}. Compare where the ink falls on the two maps.`;
    }
    $("inspect-text").textContent = text;
    $("inspector").scrollIntoView({ block: "nearest" });
  }

  // -- your examples ---------------------------------------------------------------------
  setExamples(examples) {
    const count = $("examples-count");
    count.dataset.count = String(examples.length);
    count.textContent = examples.length
      ? `${examples.length} drawing${examples.length === 1 ? "" : "s"} of yours will be in the next training run.`
      : "No drawings added yet.";
    $("example-clear").disabled = examples.length === 0;
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
