// A network's hidden neurons as people name them, and the one the answer leans on:
// what the answer card, the maps and the training results need of a hidden layer
// before (or without) its view, js/hidden.js, which loads only when a network is
// first shown.

import { stylesheet } from "./dom.js";

/** What stands for the view of the hidden neurons until it is loaded: nothing. */
export const NO_UNITS = { setModel() {}, show() {}, showUnit() {}, isOff: () => false, offList: () => [] };

/** The view of a network's hidden neurons (js/hidden.js: HiddenView), once it and its
 * stylesheet are loaded. */
export async function unitsView(handlers) {
  const [{ HiddenView }] = await Promise.all([
    import("./hidden.js"),
    stylesheet(new URL("../css/hidden.css", import.meta.url)),
  ]);
  return new HiddenView(handlers);
}

/** What a person calls hidden neuron k (counted from 0). */
export const unitName = (k) => `Hidden neuron ${k + 1}`;

/** The hidden neuron that pushes `digit` up the most: the largest W₂[digit, k]·h[k]. */
export function strongest(model, h, digit) {
  const H = model.hidden;
  const row = model.output.weights.subarray(digit * H, (digit + 1) * H);
  let best = 0;
  for (let k = 1; k < H; k++) if (row[k] * h[k] > row[best] * h[best]) best = k;
  return best;
}
