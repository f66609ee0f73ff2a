// "Teach it this drawing": one gradient step of the active model on the drawing
// alone, for the answer the person says it is (js/label.js), with the learning rate
// they choose (oneneuron.page.Page.teach: the model's own gradient and the trainer's
// SGD with momentum 0; a rate that is not one is refused by name and nothing
// changes). Shows which way each weight that reads the image moved (only those
// under the ink move), the drawing's numbers before → after, Undo (the weights back
// exactly), Undo every step (the weights it had before it was taught), and, when
// asked, the Python that took the step (updateRule, optimizer "sgd"). A taught model
// is the page's active model like any other: its card counts the steps, its
// download keeps them. Imported once the first answer is on screen.
//
// Performance marks (performance.getEntriesByName):
//   oneneuron:teach-start      Teach was pressed
//   oneneuron:teach-shown      the step's numbers are in the DOM
//   oneneuron:teach-to-shown   a measure between the two
//
// Test hooks: #lesson data-state (idle, teaching, taught, undone, refused) and
// data-steps (Python's count of the steps Undo can take back); each row of
// #lesson-rows data-q (dot, bias, z, p, loss) with data-before and data-after, as
// Python sent them.

import { $, element, setText, showRule } from "./dom.js";
import { aDigit, num, parse, signed, sub } from "./format.js";
import { canvas24, N, paintDiverging, paintTiles } from "./heatmap.js";

// What the pictures of a step show, by the kind of model.
const CAPTIONS = {
  one:
    "Orange weights went up, purple ones down. The gradient of each weight is (p − y) · x, so " +
    "every pixel under your ink moves by the same amount and the others, x = 0, not at all.",
  ten:
    "One row of weights a digit: the row of the answer you chose rises on your ink (orange), " +
    "the others fall (purple) in proportion to the probability each gave your drawing; rows " +
    "near 0 % barely move. Pixels without ink do not move.",
  hidden:
    "One tile a hidden neuron’s 576 weights: on your ink orange ones went up and purple ones " +
    "down; pale tiles barely moved. Backpropagation moved the ten output neurons’ weights too.",
};

export class Lesson {
  /**
   * label: js/label.js's DrawingLabel; onModel(model_info, models): the model changed;
   * offList(): a network's hidden neurons switched off (a step holds them at 0, as the
   * answer on screen does).
   */
  constructor({ api, pad, label, onModel, offList }) {
    Object.assign(this, { api, pad, label, onModel, offList });
    this.el = $("lesson");
    this.lr = $("teach-lr");
    this.buttons = { teach: $("teach"), undo: $("teach-undo"), reset: $("teach-reset") };
    this.message = $("teach-message");
    this.result = $("lesson-result");
    this.maps = $("lesson-maps");
    this.model = null;
    this.busy = false;
    this.ruleKind = null; // the kind whose Python is shown
    this.code = $("lesson-code");
    $("teach-form").addEventListener("submit", (e) => {
      e.preventDefault();
      if (!this.buttons.teach.disabled) this.teach();
    });
    this.lr.addEventListener("input", () => this.lr.removeAttribute("aria-invalid"));
    this.buttons.undo.addEventListener("click", () => this.undo(false));
    this.buttons.reset.addEventListener("click", () => this.undo(true));
    this.code.addEventListener("toggle", () => this.#rule());
    pad.addEventListener("change", () => this.#enable());
  }

  /** The active model (model_info): what Teach moves, and the steps Undo can take back. */
  setModel(model) {
    if (this.model && model.name !== this.model.name) this.result.hidden = true; // another's step
    this.model = model;
    this.el.dataset.steps = String(model.taught);
    this.#enable();
    this.#rule();
  }

  async teach() {
    performance.mark("oneneuron:teach-start");
    const { pad } = this;
    const pixels = pad.pixels();
    const label = this.label.value;
    const args = { pixels, width: pad.width, height: pad.height, label, lr: parse(this.lr.value) };
    if (this.model.kind === "hidden") args.off = this.offList();
    this.#state("teaching");
    try {
      const r = await this.api.call("teach", args, [pixels.buffer]);
      this.#showStep(r, label);
      performance.mark("oneneuron:teach-shown");
      performance.measure("oneneuron:teach-to-shown", { start: "oneneuron:teach-start", end: "oneneuron:teach-shown" });
      this.onModel(r.model, r.models);
      this.#paintStep(r.model, r.gradient, label);
    } catch (err) {
      this.#refused(err);
    }
  }

  /** Undo the last step (`all`: every step): the weights exactly as they were. */
  async undo(all) {
    this.#state("teaching");
    try {
      const r = await this.api.call("untaught", { all_steps: all });
      this.result.hidden = true;
      this.#state("undone", all
        ? "Every step undone: the weights are the ones it had before you taught it."
        : "Undone: the weights are exactly as they were before that step.");
      this.onModel(r.model, r.models);
    } catch (err) {
      this.#refused(err);
    }
  }

  #refused(err) {
    const field = err.field === "lr";
    if (field) {
      this.lr.setAttribute("aria-invalid", "true");
      this.lr.focus();
    }
    this.#state("refused", `Not taught: ${err.message}. The weights are as they were.`);
  }

  #state(state, text = null) {
    this.el.dataset.state = state;
    this.busy = state === "teaching";
    if (text !== null) this.message.textContent = text;
    this.#enable();
  }

  #enable() {
    const steps = this.model ? this.model.taught : 0;
    this.buttons.teach.disabled = this.busy || !this.model || this.pad.empty;
    this.buttons.undo.disabled = this.buttons.reset.disabled = this.busy || steps === 0;
  }

  // -- what a step did --------------------------------------------------------------------
  /** The numbers before → after, and what the step was. */
  #showStep(r, d) {
    const { before: b, after: a } = r;
    const kind = r.model.kind;
    const k = kind === "one" ? 0 : d;
    const s = kind === "one" ? "" : sub(d);
    const rows = [
      ["z", `z${s}`, (x) => x.z[k], 3],
      ["p", `p${s}`, (x) => x.p[k], 4],
      ["loss", "loss", (x) => x.loss, 3],
    ];
    // a network's output z is not a sum over the pixels: its w·x and b are not shown
    if (kind !== "hidden") rows.unshift(["dot", `w${s}·x`, (x) => x.dot[k], 3], ["bias", `b${s}`, (x) => x.bias[k], 3]);
    $("lesson-rows").replaceChildren(
      ...rows.map(([q, sym, of, digits]) => {
        const tr = element("tr");
        tr.dataset.q = q;
        tr.dataset.before = String(of(b));
        tr.dataset.after = String(of(a));
        const th = element("th");
        setText(th, sym);
        th.scope = "row";
        tr.append(th, element("td", "", num(of(b), digits)), element("td", "", num(of(a), digits)));
        tr.append(element("td", "", signed(of(a) - of(b), digits)));
        return tr;
      }),
    );
    const one = kind === "one";
    const answer = one && d !== r.model.target ? `not ${aDigit(r.model.target)}` : aDigit(d);
    this.result.hidden = false;
    this.el.dataset.steps = String(r.steps);
    this.#state(
      "taught",
      `One step towards “${answer}” with learning rate ${this.lr.value.trim()}: the loss on this drawing went ` +
        `from ${num(b.loss)} to ${num(a.loss)}. Steps you can undo: ${r.steps}.`,
    );
  }

  /** Which way each weight of the layer that reads the image moved: −gradient. */
  #paintStep(model, gradient, d) {
    const step = gradient.map((g) => -g);
    let scale = 0;
    for (const v of step) scale = Math.max(scale, Math.abs(v));
    scale ||= 1;
    const { kind } = model;
    const K = step.length / N;
    if (this.maps.dataset.kind !== kind || this.maps.children.length === 0) this.#layout(kind, K);
    if (kind === "hidden") paintTiles(this.maps.firstChild, step, K, scale, 1);
    else
      this.maps.querySelectorAll("canvas").forEach((c, k) => {
        paintDiverging(c, step, k * N, scale);
        c.closest(".lesson-row").classList.toggle("chosen", kind === "ten" && k === d);
      });
    $("lesson-caption").textContent = CAPTIONS[kind];
  }

  #layout(kind, K) {
    this.maps.dataset.kind = kind;
    if (kind === "hidden") {
      const c = document.createElement("canvas");
      c.setAttribute("role", "img");
      c.setAttribute("aria-label", `How the weights of the ${K} hidden neurons moved, one tile each`);
      this.maps.replaceChildren(c);
      return;
    }
    const rows = [];
    for (let k = 0; k < K; k++) {
      const frame = element("div", "grid-frame");
      const what = kind === "ten" ? `the neuron for ${k}` : "the neuron";
      frame.append(canvas24(`How the weights of ${what} moved: orange up, purple down`));
      const row = element("div", "lesson-row");
      row.append(frame);
      if (kind === "ten") row.append(element("span", "", String(k)));
      rows.push(row);
    }
    this.maps.replaceChildren(...rows);
  }

  /** The Python of a step for the active model's kind, once the person opens it. */
  async #rule() {
    const kind = this.model && this.model.kind;
    if (!this.code.open || !kind || kind === this.ruleKind) return;
    this.ruleKind = kind;
    try {
      showRule(await this.api.call("updateRule", { optimizer: "sgd", kind }), "lesson-rule");
    } catch {
      this.ruleKind = null; // asked again next time
    }
  }
}
