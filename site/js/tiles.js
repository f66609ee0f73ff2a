// The hidden layer's tiles as they look (js/hidden.js has their buttons): one canvas
// under the grid of buttons, each tile drawn in its button's box: its neuron's
// weights (its 24 × 24 part of a sheet painted once a model, heatmap.js: paintTiles),
// a white veil of 0.75 × (1 − h) and a bar as long as its output h; a neuron switched
// off hatched, without a bar. A prediction redraws one canvas: drawn as 64 elements
// whose opacity and transform changed, the first answer after choosing the hidden
// layer was 55-85 ms of style, layout and paint (Chromium, 2 cores).
//
// Test hook: the canvas #unit-canvas, data-drawn (how many times it was drawn since
// its tiles last moved or resized; absent until they are laid out).

import { GRID, paintTiles, tileGrid } from "./heatmap.js";

const BAR = 4; // the bar's height, CSS px
const VEIL = 0.75; // an output of 0 leaves a quarter of the weights' colour
const TRACK = "rgb(255 255 255 / 0.85)";
const HATCH = "rgb(154 160 174 / 0.85)";

export class TileCanvas {
  /** grid: the buttons' container; off: the Set of neurons switched off (its owner's). */
  constructor(grid, off) {
    this.grid = grid;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "unit-canvas";
    this.canvas.id = "unit-canvas";
    this.canvas.setAttribute("aria-hidden", "true");
    this.sheet = document.createElement("canvas"); // never shown: GRID px a tile
    this.buttons = [];
    this.boxes = []; // each tile's inside (within its border), in canvas pixels
    this.h = null; // the outputs drawn
    this.off = off;
    // the boxes are read when the grid is laid out anew, never while drawing
    new ResizeObserver(() => this.#fit()).observe(grid);
  }

  /** The tiles' buttons, in order; their boxes are read at the next layout. */
  setButtons(buttons) {
    this.buttons = buttons;
    this.boxes = [];
    delete this.canvas.dataset.drawn;
    requestAnimationFrame(() => this.#fit()); // the grid's size may not change
  }

  /** A model's weights (count maps of 576, on this colour scale): on the next draw. */
  paint(weights, count, scale) {
    paintTiles(this.sheet, weights, count, scale);
  }

  /** Draw every tile lit by the outputs h (null: no drawing); without h, as before. */
  draw(h = this.h) {
    this.h = h;
    this.#draw();
  }

  #fit() {
    const { canvas, grid } = this;
    const dpr = window.devicePixelRatio || 1;
    const [cw, ch] = [grid.clientWidth, grid.clientHeight];
    if (!cw || !ch || !this.buttons.length) return; // hidden: drawn when shown
    const [w, h] = [Math.round(cw * dpr), Math.round(ch * dpr)];
    const [sx, sy] = [w / cw, h / ch];
    // every read before the canvas changes size, which makes the layout stale
    this.boxes = this.buttons.map((b) => ({
      x: (b.offsetLeft + b.clientLeft) * sx,
      y: (b.offsetTop + b.clientTop) * sy,
      w: b.clientWidth * sx,
      h: b.clientHeight * sy,
    }));
    this.px = sy; // one CSS px
    this.ink = getComputedStyle(grid).getPropertyValue("--ink").trim() || "#16181d";
    if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
    this.draws = 0;
    this.#draw();
  }

  #draw() {
    const { boxes, canvas, h, off } = this;
    if (!boxes.length) return;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.imageSmoothingEnabled = false;
    const { cols } = tileGrid(boxes.length);
    const bar = BAR * this.px;
    boxes.forEach((b, k) => {
      const v = h ? h[k] : null;
      const sx = (k % cols) * GRID;
      const sy = Math.floor(k / cols) * GRID;
      ctx.drawImage(this.sheet, sx, sy, GRID, GRID, b.x, b.y, b.w, b.h);
      if (off.has(k)) {
        this.#hatch(ctx, b);
      } else if (v !== null) {
        ctx.fillStyle = `rgb(255 255 255 / ${VEIL * (1 - v)})`;
        ctx.fillRect(b.x, b.y, b.w, b.h);
      }
      ctx.fillStyle = TRACK;
      ctx.fillRect(b.x, b.y + b.h - bar, b.w, bar);
      if (v !== null && !off.has(k)) {
        ctx.fillStyle = this.ink;
        ctx.fillRect(b.x, b.y + b.h - bar, b.w * v, bar);
      }
    });
    canvas.dataset.drawn = String(++this.draws);
  }

  // switched off: white at 85 %, grey stripes every 4 px
  #hatch(ctx, b) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(b.x, b.y, b.w, b.h);
    ctx.clip();
    ctx.fillStyle = TRACK;
    ctx.fillRect(b.x, b.y, b.w, b.h);
    ctx.strokeStyle = HATCH;
    ctx.lineWidth = this.px;
    ctx.beginPath();
    for (let d = -b.h; d < b.w; d += 4 * this.px) {
      ctx.moveTo(b.x + d, b.y + b.h);
      ctx.lineTo(b.x + d + b.h, b.y);
    }
    ctx.stroke();
    ctx.restore();
  }
}
