// The drawing pad: Pointer Events (mouse, touch, pen) and the keyboard draw strokes;
// strokes are kept as points so Undo can redraw all but the last one.
//
// Every stroke is drawn twice: on the visible canvas (#pad), sharp at the screen's
// resolution, and on the input canvas (#pad-input, hidden), a fixed 140 × 140 (MNIST's
// 28 × 28 times five) whatever the screen. The neuron's preprocessing receives the
// input canvas's ink (its alpha channel) from pixels(): small enough that Python turns
// it into the 24 × 24 input in about a millisecond. Events: "change" with detail
// {final} (final: a stroke ended, or Undo / Clear), so the page can predict live and
// once more at the end; `version` tells whether the pixels changed since a prediction
// was asked for (the end of a stroke adds no ink).

const BRUSH = 0.082; // brush width as a fraction of the pad: strokes like MNIST's
const INK = "#16181d";
const KEY_STEP = 1 / 28; // one MNIST pixel per arrow key press

// One canvas of the pad, drawn in pad units (0–1) whatever its size in pixels.
class Surface {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.base = null;
  }

  resize(width, height) {
    this.canvas.width = width;
    this.canvas.height = height;
  }

  save() {
    this.base = this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }

  restore() {
    if (this.base) this.ctx.putImageData(this.base, 0, 0);
  }

  clear() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Draw one stroke given in pad units (0–1). */
  stroke(points) {
    const { ctx } = this;
    const w = this.canvas.width;
    const h = this.canvas.height;
    ctx.fillStyle = ctx.strokeStyle = INK;
    if (points.length === 1) {
      ctx.beginPath();
      ctx.arc(points[0].x * w, points[0].y * h, (BRUSH * w) / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    ctx.lineWidth = BRUSH * w;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(points[0].x * w, points[0].y * h);
    for (let i = 1; i < points.length; i++) ctx.lineTo(points[i].x * w, points[i].y * h);
    ctx.stroke();
  }
}

export class Pad extends EventTarget {
  constructor(canvas, input, { cursor = null } = {}) {
    super();
    this.canvas = canvas;
    this.view = new Surface(canvas);
    this.input = new Surface(input);
    this.width = input.width;
    this.height = input.height;
    this.strokes = [];
    this.current = null; // the stroke being drawn, or null
    this.version = 0; // changes with every change of the pixels, and only then
    this.pointerId = null;
    this.rect = null; // the pad's box on screen, for the stroke being drawn (#point)
    this.cursor = cursor;
    this.key = { x: 0.5, y: 0.5, down: false };
    this.#fit();
    new ResizeObserver(() => this.#fit()).observe(canvas);
    this.#listen();
    this.#placeCursor();
  }

  get empty() {
    return this.strokes.length === 0 && this.current === null;
  }

  get drawing() {
    return this.current !== null;
  }

  /** The ink (alpha) of the input canvas, row by row: a Uint8Array of width × height. */
  pixels() {
    const rgba = this.input.ctx.getImageData(0, 0, this.width, this.height).data;
    const out = new Uint8Array(this.width * this.height);
    for (let i = 0, j = 3; i < out.length; i++, j += 4) out[i] = rgba[j];
    return out;
  }

  clear() {
    this.#finish(false);
    this.strokes = [];
    this.#redraw();
    this.#changed(true);
  }

  undo() {
    this.#finish(false);
    if (this.strokes.length === 0) return false;
    this.strokes.pop();
    this.#redraw();
    this.#changed(true);
    return true;
  }

  // -- drawing --------------------------------------------------------------------------
  #layers() {
    return [this.view, this.input];
  }

  #begin(point) {
    for (const l of this.#layers()) l.save();
    this.current = [point];
    this.#drawCurrent();
    this.#changed(false);
  }

  #extend(points) {
    if (!this.current) return;
    const before = this.current.length;
    let last = this.current[before - 1];
    for (const p of points) {
      if (Math.abs(p.x - last.x) + Math.abs(p.y - last.y) >= 0.002) {
        this.current.push(p);
        last = p;
      }
    }
    if (this.current.length === before) return; // the pen did not move
    this.#drawCurrent();
    this.#changed(false);
  }

  #finish(notify = true) {
    if (!this.current) return;
    this.strokes.push(this.current);
    this.current = null;
    for (const l of this.#layers()) l.base = null;
    this.key.down = false;
    this.#placeCursor();
    if (notify) this.#changed(true, false); // lifting the pen adds no ink
  }

  #drawCurrent() {
    for (const l of this.#layers()) {
      l.restore();
      l.stroke(this.current);
    }
  }

  #redraw() {
    for (const l of this.#layers()) {
      l.clear();
      for (const s of this.strokes) l.stroke(s);
      if (this.current) {
        l.save();
        l.stroke(this.current);
      }
    }
  }

  // The visible canvas follows its size on screen and the screen's pixel density.
  #fit() {
    const r = (this.rect = this.canvas.getBoundingClientRect());
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr));
    const h = Math.max(1, Math.round(r.height * dpr));
    if (w === this.canvas.width && h === this.canvas.height) return;
    this.view.resize(w, h);
    this.view.clear();
    for (const s of this.strokes) this.view.stroke(s);
    if (this.current) {
      this.view.save();
      this.view.stroke(this.current);
    }
  }

  #changed(final, inked = true) {
    if (inked) this.version++;
    this.canvas.parentElement?.classList.toggle("has-ink", !this.empty);
    this.canvas.dataset.version = String(this.version); // test hooks (DESIGN.md)
    this.canvas.dataset.empty = String(this.empty);
    this.dispatchEvent(new CustomEvent("change", { detail: { final } }));
  }

  // -- input ----------------------------------------------------------------------------
  // the pad's box is read once a stroke, and again after a scroll or resize: read on
  // every pointer event, it made each one wait for the layout of what last changed
  #point(e) {
    const r = (this.rect ??= this.canvas.getBoundingClientRect());
    return { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height };
  }

  #listen() {
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => {
      if (this.pointerId !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
      e.preventDefault();
      this.pointerId = e.pointerId;
      c.setPointerCapture?.(e.pointerId);
      this.rect = null;
      this.#finish(false);
      this.#begin(this.#point(e));
    });
    c.addEventListener("pointermove", (e) => {
      if (e.pointerId !== this.pointerId) return;
      const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      this.#extend((events.length ? events : [e]).map((ev) => this.#point(ev)));
    });
    const end = (e) => {
      if (e.pointerId !== this.pointerId) return;
      this.pointerId = null;
      this.#finish(true);
    };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    c.addEventListener("lostpointercapture", end);
    const moved = () => (this.rect = null);
    addEventListener("scroll", moved, { capture: true, passive: true });
    addEventListener("resize", moved, { passive: true });

    // Keyboard drawing: arrows move the brush, Space or Enter puts it down / lifts it.
    c.addEventListener("keydown", (e) => this.#key(e));
    c.addEventListener("blur", () => {
      if (this.key.down) this.#finish(true);
    });
  }

  #key(e) {
    const step = (e.shiftKey ? 3 : 1) * KEY_STEP;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const k = this.key;
    if (e.key in moves) {
      e.preventDefault();
      const [dx, dy] = moves[e.key];
      k.x = Math.min(1, Math.max(0, k.x + dx * step));
      k.y = Math.min(1, Math.max(0, k.y + dy * step));
      this.#placeCursor();
      if (k.down) this.#extend([{ x: k.x, y: k.y }]);
    } else if (e.key === " " || e.key === "Enter") {
      e.preventDefault();
      if (k.down) {
        this.#finish(true);
      } else {
        this.#finish(false);
        k.down = true;
        this.#begin({ x: k.x, y: k.y });
        this.#placeCursor();
      }
    } else if (e.key === "Escape" && k.down) {
      this.#finish(true);
    }
  }

  #placeCursor() {
    if (!this.cursor) return;
    this.cursor.style.left = `${100 * this.key.x}%`;
    this.cursor.style.top = `${100 * this.key.y}%`;
    this.cursor.classList.toggle("down", this.key.down);
  }
}
