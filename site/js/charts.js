// The loss and accuracy charts of a training run, drawn with uPlot (vendored from
// npm into dist/vendor/uplot). uPlot is imported on first use, so the page's first
// prediction never waits for it. Points arrive a slice at a time and are drawn at
// most once per animation frame, one chart a frame; a long run is averaged into at
// most MAX_POINTS points, so a frame stays cheap however many batches there are.
// DOM only.

import { num } from "./format.js";
import { nextFrame } from "./dom.js";

const MAX_POINTS = 1500; // batch points per chart, at most (plus one per check)
const CHARTS = ["loss", "accuracy"];
const COLOURS = { batch: "#e08214", check: "#542788" }; // PuOr, as the heatmaps
const HEIGHT = 180;
const lossText = (v) => (Math.abs(v) >= 1e4 ? v.toExponential(1).replace("-", "−") : num(v, 3));

let uPlotModule = null;

/** Import uPlot and its stylesheet once; resolves to the uPlot class. */
export function loadUPlot() {
  if (!uPlotModule) {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = new URL("../vendor/uplot/uPlot.min.css", import.meta.url).href;
    document.head.append(css);
    // the module is evaluated in a task of its own, charts are made a frame later
    uPlotModule = import("../vendor/uplot/uPlot.esm.js").then(async (m) => {
      await nextFrame();
      return m.default;
    });
  }
  return uPlotModule;
}

export class TrainingCharts {
  constructor({ loss, accuracy, lossSummary, accuracySummary }) {
    this.boxes = { loss, accuracy };
    this.summaries = { loss: lossSummary, accuracy: accuracySummary };
    this.plots = null;
    this.wanted = false; // draw (and import uPlot) only once the panel is wanted
    this.frame = 0;
    this.renders = 0; // how many times a chart was drawn (tests watch it)
    this.version = 0; // of the data; each chart's drawn one, and the one drawn next
    this.drawn = { loss: -1, accuracy: -1 };
    this.next = "loss";
    this.clear();
  }

  /** Start empty for a run of `steps` batches, `batches` a epoch. */
  clear(steps = 1, batches = 1) {
    this.batches = batches;
    this.every = Math.max(1, Math.ceil(steps / MAX_POINTS));
    this.data = { x: [], loss: [], accuracy: [], checkLoss: [], checkAccuracy: [] };
    this.bucket = { n: 0, loss: 0, accuracy: 0, step: 0 };
    this.last = { loss: null, accuracy: null, checkLoss: null, checkAccuracy: null };
    this.version += 1;
    this.schedule();
  }

  get points() {
    return this.data.x.length;
  }

  /** Add a slice: its batches' history {step, loss, accuracy} and the check, if any. */
  add(history, check) {
    const { step, loss, accuracy } = history;
    for (let i = 0; i < step.length; i++) {
      const b = this.bucket;
      b.n += 1;
      b.loss += loss[i];
      b.accuracy += accuracy[i];
      b.step = step[i];
      this.last.loss = loss[i];
      this.last.accuracy = accuracy[i];
      if (b.n >= this.every) this.#flush(null);
    }
    if (this.bucket.n) this.#flush(check || null);
    else if (check && this.points) {
      this.data.checkLoss[this.points - 1] = check.loss;
      this.data.checkAccuracy[this.points - 1] = check.accuracy;
    }
    if (check) {
      this.last.checkLoss = check.loss;
      this.last.checkAccuracy = check.accuracy;
    }
    this.version += 1;
    this.schedule(true);
  }

  #flush(check) {
    const b = this.bucket;
    const d = this.data;
    d.x.push(b.step / this.batches);
    d.loss.push(b.loss / b.n);
    d.accuracy.push(b.accuracy / b.n);
    d.checkLoss.push(check ? check.loss : null);
    d.checkAccuracy.push(check ? check.accuracy : null);
    this.bucket = { n: 0, loss: 0, accuracy: 0, step: b.step };
  }

  /** Draw at the next animation frame (once, however many slices came). */
  schedule(want = false) {
    this.wanted ||= want;
    if (this.frame || !this.wanted) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  // One chart a frame, the one drawn longer ago; the other follows in the next frame.
  // uPlot redraws a chart whole: both in one frame made a task of over 50 ms on a slow
  // machine while training.
  async render() {
    if (!this.plots) {
      if (!this.creating) this.creating = this.#create();
      await this.creating;
    }
    const stale = CHARTS.filter((k) => this.drawn[k] !== this.version);
    if (!stale.length) return;
    const k = stale.includes(this.next) ? this.next : stale[0];
    this.next = k === "loss" ? "accuracy" : "loss";
    this.drawn[k] = this.version;
    const d = this.data;
    const l = this.last;
    const text = (what, batch, check, fmt) =>
      batch === null
        ? ""
        : `Last batch: ${what} ${fmt(batch)}` + (check === null ? "." : `; held-out check: ${fmt(check)}.`);
    if (k === "loss") {
      this.plots.loss.setData([d.x, d.loss, d.checkLoss]);
      this.summaries.loss.textContent = text("loss", l.loss, l.checkLoss, lossText);
    } else {
      this.plots.accuracy.setData([d.x, d.accuracy, d.checkAccuracy]);
      const pct = (v) => `${(100 * v).toFixed(1)} %`;
      this.summaries.accuracy.textContent = text("accuracy", l.accuracy, l.checkAccuracy, pct);
    }
    this.renders += 1;
    const box = this.boxes[k];
    box.dataset.renders = String(this.renders); // test hooks: the drawings and their points
    box.dataset.points = String(d.x.length);
    if (stale.length > 1) this.schedule();
  }

  async #create() {
    const uPlot = await loadUPlot();
    const make = (box, range, value, ticks = null) => {
      const opts = {
        width: Math.max(200, box.clientWidth),
        height: HEIGHT,
        scales: { x: { time: false, range: (u, lo, hi) => [0, Math.max(hi || 0, 1e-9)] }, y: { range } },
        series: [
          { label: "epoch", value: (u, v) => (v == null ? "–" : v.toFixed(2)) },
          { label: "training batches", stroke: COLOURS.batch, width: 1.25, value, points: { show: false } },
          {
            label: "held-out check",
            stroke: COLOURS.check,
            width: 2,
            value,
            spanGaps: true,
            points: { show: true, size: 5, fill: COLOURS.check },
          },
        ],
        axes: [
          { label: "epoch", labelSize: 18, size: 32, stroke: "#5b6170", grid: { stroke: "#eceef3" } },
          { size: 50, stroke: "#5b6170", grid: { stroke: "#eceef3" }, ...(ticks ? { values: ticks } : {}) },
        ],
        cursor: { drag: { x: false, y: false } },
        legend: { show: false }, // the key and the summary below say it in words
      };
      const plot = new uPlot(opts, [[], [], []], box);
      plot.root.setAttribute("aria-hidden", "true"); // the box is the labelled image
      return plot;
    };
    const lossRange = (u, lo, hi) => [0, Math.max(hi || 0, 0.1) * 1.05];
    const accRange = (u, lo, hi) => [Math.max(0, Math.min(lo ?? 0.5, 0.9) - 0.02), 1];
    // one chart a frame: the main thread never holds on for both at once
    const loss = make(this.boxes.loss, lossRange, (u, v) => (v == null ? "–" : lossText(v)));
    await nextFrame();
    this.plots = {
      loss,
      accuracy: make(
        this.boxes.accuracy,
        accRange,
        (u, v) => (v == null ? "–" : `${(100 * v).toFixed(1)} %`),
        (u, ticks) => ticks.map((v) => `${+(100 * v).toFixed(1)} %`),
      ),
    };
    const fit = () => {
      for (const [k, plot] of Object.entries(this.plots)) {
        const w = Math.max(200, this.boxes[k].clientWidth);
        if (w !== plot.width) plot.setSize({ width: w, height: HEIGHT });
      }
    };
    new ResizeObserver(fit).observe(this.boxes.loss);
  }
}
