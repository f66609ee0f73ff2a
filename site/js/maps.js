// "What the neuron sees" and "What the neuron has learned": the 0/1 input, the
// weights heatmap, the contribution map w ⊙ x, the legend and, with ten neurons, the
// digit picker; with a hidden layer, of the hidden neuron shown (js/hidden.js). DOM
// only; the colours are heatmap.js's.

import { GRID, N, paintBinary, paintDiverging, paintLegend } from "./heatmap.js";
import { $, setText } from "./dom.js";
import { num, signed, sub } from "./format.js";
import { unitName } from "./units.js";

export class MapsView {
  constructor({ onPick }) {
    this.seen = $("seen");
    this.inkCount = $("ink-count");
    this.weights = $("weights-map");
    this.contrib = $("contrib-map");
    this.weightsCaption = $("weights-caption");
    this.picker = $("digit-picker");
    this.legendMin = $("legend-min");
    this.legendMax = $("legend-max");
    this.buttons = [];
    this.painted = { model: null, k: -1 }; // the weights on screen
    for (let d = 0; d < 10; d++) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "digit-button";
      b.textContent = String(d);
      b.setAttribute("aria-pressed", "false");
      b.setAttribute("aria-label", `Show the neuron for ${d}`);
      b.addEventListener("click", () => onPick(d));
      this.picker.append(b);
      this.buttons.push(b);
    }
    paintLegend($("legend"));
    paintBinary(this.seen, null);
    paintDiverging(this.contrib, new Float32Array(N), 0, 1, new Uint8Array(N));
  }

  /** The 0/1 input (null: nothing drawn). */
  showSeen(bits, ink) {
    paintBinary(this.seen, bits);
    this.seen.dataset.ink = String(ink);
    this.seen.setAttribute(
      "aria-label",
      ink ? `The ${GRID} by ${GRID} input: ${ink} of ${N} squares are ink` : `The ${GRID} by ${GRID} input: empty`,
    );
    this.inkCount.textContent = ink ? `${ink} of ${N} squares are ink, so ${ink} weights count.` : "";
  }

  /** The weights of neuron k (a digit's, a hidden one's), on the model's colour scale. */
  showWeights(model, k) {
    if (this.painted.model === model && this.painted.k === k) return;
    if (this.painted.model !== model) {
      // weights beyond the scale (any neuron's) get its end colours: the legend says so
      const beyond = model.weights.some((w) => Math.abs(w) > model.scale);
      this.legendMin.textContent = (beyond ? "≤ " : "") + num(-model.scale, 2);
      this.legendMax.textContent = (beyond ? "≥ " : "") + signed(model.scale, 2);
    }
    this.painted = { model, k };
    paintDiverging(this.weights, model.weights, k * N, model.scale);
    const { kind } = model;
    const digit = kind === "one" ? model.target : k;
    if (kind === "hidden") {
      setText(this.weightsCaption, `Of ${unitName(k).toLowerCase()}; bias b${sub(k + 1)} = ${num(model.bias[k])}.`);
      this.weights.setAttribute("aria-label", `Weights of ${unitName(k).toLowerCase()}: orange raises its z, purple lowers it`);
    } else {
      setText(
        this.weightsCaption,
        kind === "one"
          ? `One per pixel; bias b = ${num(model.bias[0])}.`
          : `Of the neuron for ${digit}; bias b${sub(digit)} = ${num(model.bias[k])}.`,
      );
      this.weights.setAttribute("aria-label", `Weights of the neuron for ${digit}: orange pushes towards ${digit}, purple away`);
      for (const el of document.querySelectorAll(".neuron-digit")) el.textContent = String(digit);
    }
    this.picker.hidden = kind !== "ten";
    this.buttons.forEach((b, d) => b.setAttribute("aria-pressed", String(kind === "ten" && d === k)));
  }

  /** w ⊙ x of neuron k: as x is 0 or 1, its weights where there is ink, pale elsewhere. */
  showContributions(model, result, k) {
    if (!result) {
      paintDiverging(this.contrib, new Float32Array(N), 0, 1, new Uint8Array(N));
      return;
    }
    paintDiverging(this.contrib, model.weights, k * N, model.scale, result.seen);
  }
}
