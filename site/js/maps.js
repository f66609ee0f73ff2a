// "What the neuron sees" and "What the neuron has learned": the 0/1 input, the
// weights heatmap, the contribution map w ⊙ x, the legend and, with ten neurons, the
// digit picker. DOM only; the colours are heatmap.js's.

import { GRID, N, paintBinary, paintDiverging, paintLegend } from "./heatmap.js";
import { $ } from "./dom.js";
import { num, signed } from "./format.js";

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

  /** The weights of neuron k, on the model's colour scale. */
  showWeights(model, k) {
    paintDiverging(this.weights, model.weights, k * N, model.scale);
    // weights beyond the scale (any neuron's) get its end colours: the legend says so
    const beyond = model.weights.some((w) => Math.abs(w) > model.scale);
    this.legendMin.textContent = (beyond ? "≤ " : "") + num(-model.scale, 2);
    this.legendMax.textContent = (beyond ? "≥ " : "") + signed(model.scale, 2);
    const one = model.kind === "one";
    const digit = one ? model.target : k;
    this.weightsCaption.textContent = one
      ? `One per pixel; bias b = ${num(model.bias[0])}.`
      : `Of the neuron for ${digit}; bias b${"₀₁₂₃₄₅₆₇₈₉"[digit]} = ${num(model.bias[k])}.`;
    this.weights.setAttribute("aria-label", `Weights of the neuron for ${digit}: orange pushes towards ${digit}, purple away`);
    for (const el of document.querySelectorAll(".neuron-digit")) el.textContent = String(digit);
    this.picker.hidden = one;
    this.buttons.forEach((b, d) => b.setAttribute("aria-pressed", String(!one && d === k)));
  }

  /** w ⊙ x of neuron k: the weights where there is ink, pale elsewhere. */
  showContributions(model, result, k) {
    if (!result) {
      paintDiverging(this.contrib, new Float32Array(N), 0, 1, new Uint8Array(N));
      return;
    }
    paintDiverging(this.contrib, result.contributions, k * N, model.scale, result.seen);
  }
}
