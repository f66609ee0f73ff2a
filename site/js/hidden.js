// A hidden layer in "What the neuron has learned": each of a network's H hidden
// neurons as a tile of its 24 × 24 weights, in the heatmaps' colours, lit by its
// output σ(z) on the drawing, and the view of one neuron: its weights and w ⊙ x
// (js/maps.js), its sums (js/answer.js), how it pushes each of the ten output neurons,
// and a switch that holds its output at 0 (predict's `off`). DOM only; js/live.js
// decides which neuron is shown and asks for the predictions.
//
// The tiles are buttons over one canvas that draws them (js/tiles.js): a prediction
// redraws the canvas and, where it changed, sets a tile's name.
//
// People count the hidden neurons from 1 ("Hidden neuron 12"); data-unit and `off`
// count from 0, as Python does. Test hooks: .unit buttons with data-unit, data-h (the
// output on screen, "" when there is none) and data-off; #unit-grid data-shown (the
// neuron whose view is shown) and data-off (the neurons switched off, by data-unit).

import { $, element } from "./dom.js";
import { signed } from "./format.js";
import { tileGrid } from "./heatmap.js";
import { TileCanvas } from "./tiles.js";
import { unitName } from "./units.js";

export class HiddenView {
  /** onPick(k): a tile was chosen; onSwitch(k): neuron k went off or on (null: all on). */
  constructor({ onPick, onSwitch }) {
    this.box = $("units");
    this.grid = $("unit-grid");
    this.detail = $("unit-detail");
    this.title = $("unit-title");
    this.offButton = $("unit-off");
    this.onButton = $("units-on");
    this.offText = $("units-off");
    this.model = null; // model_info of the network shown, or null
    this.pushed = null; // the model whose neuron `shown` the view shows
    this.tiles = []; // {el, h, name} per hidden neuron
    this.off = new Set(); // the neurons switched off
    this.look = new TileCanvas(this.grid, this.off);
    this.shown = 0; // the neuron whose view is shown
    this.focus = 0; // the tile in the tab order (one tile: arrows move between them)
    this.pushes = [];
    const list = $("push-bars");
    for (let d = 0; d < 10; d++) {
      const fill = element("span", "push-fill");
      const track = element("span", "push-track");
      track.append(fill);
      track.setAttribute("aria-hidden", "true");
      const value = element("span", "push-value");
      const li = element("li");
      li.append(element("span", "push-digit", String(d)), track, value);
      list.append(li);
      this.pushes.push({ fill, value });
    }
    this.grid.addEventListener("click", (e) => {
      const tile = e.target.closest(".unit");
      if (!tile) return;
      this.#rove(Number(tile.dataset.unit));
      onPick(Number(tile.dataset.unit));
    });
    this.grid.addEventListener("keydown", (e) => this.#key(e));
    this.offButton.addEventListener("click", () => {
      const k = this.shown;
      if (!this.off.delete(k)) this.off.add(k);
      this.#offChanged();
      onSwitch(k);
    });
    this.onButton.addEventListener("click", () => {
      this.off.clear();
      this.#offChanged();
      onSwitch(null);
    });
  }

  /** A new active model: a network's tiles, painted once a model; any other kind hides them. */
  setModel(model) {
    const network = model.kind === "hidden";
    // the same network taught a step (or undone) keeps its switches; another starts all on
    const same = network && this.model?.name === model.name && this.tiles.length === model.hidden;
    this.box.hidden = this.detail.hidden = !network;
    this.model = network ? model : null;
    if (!same) this.off.clear();
    if (!network) return;
    const H = model.hidden;
    if (this.tiles.length !== H) this.#build(H);
    this.look.paint(model.weights, H, model.scale);
    this.show(null);
    this.#offChanged(); // draws the tiles
  }

  /** The neurons switched off, for predict (counted from 0). */
  offList() {
    return [...this.off].sort((a, b) => a - b);
  }

  isOff(k) {
    return this.model !== null && this.off.has(k);
  }

  /** Each tile lit by its neuron's output h (float32 [H]); null: no drawing. */
  show(h) {
    let changed = false;
    for (let k = 0; k < this.tiles.length; k++) {
      const t = this.tiles[k];
      const v = h ? h[k] : null;
      if (v === t.h) continue;
      changed = true;
      t.h = v;
      t.el.dataset.h = v === null ? "" : String(v);
      this.#name(k);
    }
    if (changed) this.look.draw(h);
  }

  /**
   * The view of neuron k: why it is shown (picked, or the one that pushes the answer
   * `top` up the most; null: no answer), its pushes on the ten outputs, its switch.
   */
  showUnit(k, { picked = false, top = null } = {}) {
    const { model } = this;
    if (!model) return;
    const title = picked
      ? `${unitName(k)}, picked: pick it again to follow the answer`
      : `${unitName(k)}${top === null ? "" : `, the one that pushes ${top} up the most on your drawing`}`;
    if (this.title.textContent !== title) this.title.textContent = title;
    if (this.pushed === model && this.shown === k) return; // each prediction: nothing more
    this.pushed = model;
    this.tiles[this.shown].el.setAttribute("aria-pressed", "false");
    this.shown = k;
    this.tiles[k].el.setAttribute("aria-pressed", "true");
    this.grid.dataset.shown = String(k);
    const H = model.hidden;
    const { weights, scale } = model.output;
    this.pushes.forEach((p, d) => {
      const w = weights[d * H + k];
      const half = 50 * Math.min(1, Math.abs(w) / scale);
      p.fill.style.width = `${half}%`;
      p.fill.style.left = `${w < 0 ? 50 - half : 50}%`;
      p.fill.classList.toggle("down", w < 0);
      p.value.textContent = signed(w, 2);
    });
    this.#offButton();
  }

  // -- the tiles ----------------------------------------------------------------------
  #build(H) {
    const { cols } = tileGrid(H);
    this.grid.style.setProperty("--cols", String(cols));
    this.grid.setAttribute("aria-label", `The ${H} hidden neurons`);
    this.tiles = [];
    for (let k = 0; k < H; k++) {
      const el = document.createElement("button");
      el.type = "button";
      el.className = "unit";
      el.dataset.unit = String(k);
      el.tabIndex = k === 0 ? 0 : -1;
      el.setAttribute("aria-pressed", "false");
      this.tiles.push({ el, h: undefined, name: "" });
    }
    const buttons = this.tiles.map((t) => t.el);
    this.grid.replaceChildren(this.look.canvas, ...buttons);
    this.look.setButtons(buttons);
    this.focus = 0;
    this.shown = 0;
  }

  // a tile's name for screen readers: "Hidden neuron 12: output 0.83", and off or not
  #name(k) {
    const t = this.tiles[k];
    const out = t.h === null || t.h === undefined ? "" : `: output ${t.h.toFixed(2)}`;
    const name = `${unitName(k)}${out}${this.off.has(k) ? ", switched off" : ""}`;
    if (name !== t.name) t.el.setAttribute("aria-label", (t.name = name));
  }

  #offChanged() {
    this.tiles.forEach((t, k) => {
      t.el.dataset.off = String(this.off.has(k));
      this.#name(k);
    });
    this.grid.dataset.off = this.offList().join(" ");
    this.look.draw();
    const n = this.off.size;
    this.onButton.disabled = n === 0;
    this.offText.textContent = n
      ? `${n} hidden neuron${n === 1 ? " is" : "s are"} switched off: ${n === 1 ? "its output is" : "their outputs are"} held at 0.`
      : "Every hidden neuron is on.";
    this.#offButton();
  }

  #offButton() {
    const k = this.shown;
    const name = unitName(k).toLowerCase();
    this.offButton.textContent = this.off.has(k) ? `Switch ${name} back on` : `Switch ${name} off`;
  }

  // arrow keys move between the tiles (one tile is in the tab order); Enter or Space picks
  #key(e) {
    const tile = e.target.closest(".unit");
    if (!tile) return;
    const { cols } = tileGrid(this.tiles.length);
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols, Home: -Infinity, End: Infinity };
    if (!(e.key in moves)) return;
    e.preventDefault();
    const k = Math.max(0, Math.min(this.tiles.length - 1, Number(tile.dataset.unit) + moves[e.key]));
    this.#rove(k);
    this.tiles[k].el.focus();
  }

  #rove(k) {
    this.tiles[this.focus].el.tabIndex = -1;
    this.focus = k;
    this.tiles[k].el.tabIndex = 0;
  }
}
