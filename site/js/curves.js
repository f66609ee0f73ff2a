// The threshold's two curves (js/threshold.js), drawn with uPlot once a model: the ROC
// curve (the share of the digit found against the share of the other digits called
// it, one point a t) and the precision–recall curve. A dot on each marks the t of the
// slider; moving it moves the dots, never draws the curves again. DOM only.

import { element } from "./dom.js";

const HEIGHT = 220;
const AXIS = { stroke: "#5b6170", grid: { stroke: "#eceef3" }, labelSize: 18 };

/** The shares of a count at a t ({tp, fn, fp, tn}): NaN where nothing is counted. */
export const rates = (c) => ({
  recall: c.tp / (c.tp + c.fn),
  precision: c.tp / (c.tp + c.fp),
  falseAlarms: c.fp / (c.fp + c.tn),
  accuracy: (c.tp + c.tn) / (c.tp + c.fn + c.fp + c.tn),
});

export class Curves {
  constructor(boxes) {
    this.boxes = boxes; // {roc, pr}: the charts' boxes
    this.plots = null;
    this.dots = {};
    this.last = null; // the counts marked
  }

  /** Draw a model's curves from its Scores (js/threshold.js). */
  show(uPlot, scores) {
    const roc = [[0], [0]]; // before the first t: nothing called a digit
    const pr = [[], []];
    for (const c of scores.steps()) {
      const r = rates(c);
      roc[0].push(r.falseAlarms);
      roc[1].push(r.recall);
      pr[0].push(r.recall);
      pr[1].push(r.precision);
    }
    if (!this.plots) this.#create(uPlot);
    this.plots.roc.setData([roc[0], roc[1], roc[0]]);
    this.plots.pr.setData(pr);
    for (const box of Object.values(this.boxes)) box.dataset.points = String(pr[0].length);
  }

  /** Move the dots to the counts at t. */
  mark(c) {
    this.last = c;
    if (!this.plots) return;
    const r = rates(c);
    this.#dot("roc", r.falseAlarms, r.recall);
    this.#dot("pr", r.recall, r.precision);
  }

  #dot(name, x, y) {
    const plot = this.plots[name];
    const dot = this.dots[name];
    dot.hidden = !Number.isFinite(x) || !Number.isFinite(y);
    if (dot.hidden) return;
    dot.style.transform = `translate(${plot.valToPos(x, "x").toFixed(1)}px, ${plot.valToPos(y, "y").toFixed(1)}px)`;
  }

  #create(uPlot) {
    const unit = () => [0, 1];
    const make = (name, xLabel, yLabel, chance) => {
      const box = this.boxes[name];
      const series = [{}, { stroke: "#542788", width: 2, points: { show: false } }];
      if (chance) series.push({ stroke: "#b9bdc8", width: 1, dash: [4, 4], points: { show: false } });
      const plot = new uPlot(
        {
          width: Math.max(200, box.clientWidth),
          height: HEIGHT,
          scales: { x: { time: false, range: unit }, y: { range: unit } },
          series,
          axes: [
            { ...AXIS, label: xLabel, size: 36 },
            { ...AXIS, label: yLabel, size: 44 },
          ],
          cursor: { show: false },
          legend: { show: false }, // the caption says it in words
        },
        chance ? [[], [], []] : [[], []],
        box,
      );
      plot.root.setAttribute("aria-hidden", "true"); // the box is the labelled image
      const dot = element("span", "curve-dot");
      plot.over.append(dot);
      this.dots[name] = dot;
      return plot;
    };
    this.plots = {
      roc: make("roc", "false alarms: share of the other digits", "found: share of the digit", true),
      pr: make("pr", "recall", "precision", false),
    };
    new ResizeObserver(() => {
      for (const [name, plot] of Object.entries(this.plots)) {
        const w = Math.max(200, this.boxes[name].clientWidth);
        if (w !== plot.width) plot.setSize({ width: w, height: HEIGHT });
      }
      if (this.last) this.mark(this.last);
    }).observe(this.boxes.roc);
  }
}
