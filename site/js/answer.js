// The answer card: the probability (one neuron) or ten bars (ten neurons), and the
// arithmetic w·x + b = z, σ(z) = p with the actual numbers. DOM only.

import { $ } from "./dom.js";
import { aDigit, num, percent, signed, sub } from "./format.js";

export class AnswerView {
  constructor({ onPick }) {
    this.el = document.querySelector("[data-testid=prediction]");
    this.verdict = $("verdict");
    this.bigP = $("big-p");
    this.meter = $("meter-fill");
    this.bars = $("ten-bars");
    this.announcer = $("announce");
    this.math = {
      dot: $("m-dot"),
      bias: $("m-bias"),
      z: $("m-z"),
      squash: $("m-squash"),
      p: $("m-p"),
      fn: $("m-fn"),
      syms: document.querySelectorAll("#maths .sym"),
    };
    this.rows = [];
    this.renders = 0;
    for (let d = 0; d < 10; d++) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "bar-button";
      button.setAttribute("aria-pressed", "false");
      const span = (cls, text = "") => Object.assign(document.createElement("span"), { className: cls, textContent: text });
      const fill = span("bar-fill");
      const track = span("bar-track");
      const value = span("bar-value");
      track.append(fill);
      button.append(span("bar-digit", String(d)), track, value);
      button.addEventListener("click", () => onPick(d));
      li.append(button);
      this.bars.append(li);
      this.rows.push({ button, fill, value });
    }
  }

  /** Set the labels for a model: which digit one neuron is for, or ten neurons. */
  setModel(model) {
    const one = model.kind === "one";
    const t = one ? model.target : null;
    for (const el of document.querySelectorAll(".target-digit")) el.textContent = one ? String(t) : "the digit";
  }

  /** No drawing (or no model yet): every hook empty. */
  showEmpty(model, waiting = false) {
    this.#hooks("", "", waiting ? "waiting" : "empty");
    this.verdict.textContent = waiting
      ? "Getting the neuron ready…"
      : model && model.kind === "ten"
        ? "Draw a digit to ask the ten neurons."
        : `Draw a digit to ask the neuron.`;
    this.bigP.textContent = "–";
    this.meter.style.width = "0%";
    for (const r of this.rows) {
      r.fill.style.width = "0%";
      r.value.textContent = "";
      r.button.classList.remove("top");
    }
    for (const k of ["dot", "bias", "z", "squash", "p"]) this.math[k].textContent = "–";
    if (model) this.#symbols(model, model.kind === "one" ? model.target : null);
  }

  /**
   * Show a prediction. `pick` is the neuron whose arithmetic is shown (ten mode).
   * Returns the sentence for screen readers.
   */
  show(model, r, pick) {
    const one = model.kind === "one";
    const k = one ? 0 : pick;
    if (one) {
      const p = r.p[0];
      const yes = r.digit !== undefined && r.digit !== null;
      this.#hooks(yes ? String(r.digit) : "", String(r.probability), yes ? "yes" : "no");
      this.verdict.textContent = yes ? `Yes: it looks like ${aDigit(model.target)}` : `No: not ${aDigit(model.target)}`;
      this.bigP.textContent = percent(p);
      this.meter.style.width = `${(100 * p).toFixed(2)}%`;
    } else {
      this.#hooks(String(r.digit), String(r.probability), "top");
      r.p.forEach((p, d) => {
        const row = this.rows[d];
        row.fill.style.width = `${(100 * p).toFixed(2)}%`;
        row.value.textContent = `${percent(p)} %`;
        row.button.classList.toggle("top", d === r.top);
        row.button.setAttribute("aria-label", `digit ${d}: ${percent(p)} percent`);
      });
    }
    this.#symbols(model, one ? model.target : k);
    this.math.dot.textContent = num(r.dot[k]);
    this.math.bias.textContent = signed(r.bias[k]);
    this.math.z.textContent = num(r.z[k]);
    this.math.squash.textContent = one ? `σ(${num(r.z[k], 2)})` : `e^${num(r.z[k], 2)} / Σ e^z`;
    this.math.p.textContent = r.p[k].toFixed(4);
    return one
      ? `${r.digit != null ? `Looks like ${aDigit(model.target)}` : `Not ${aDigit(model.target)}`}: probability ${percent(r.p[0])} percent.`
      : `Most likely ${aDigit(r.top)}: ${percent(r.probability)} percent.`;
  }

  /** Mark the neuron shown in ten mode. */
  setPick(pick) {
    this.rows.forEach((r, d) => r.button.setAttribute("aria-pressed", String(d === pick)));
  }

  announce(text) {
    if (this.announcer.textContent !== text) this.announcer.textContent = text;
  }

  #symbols(model, k) {
    const [dot, bias, z, fn, p] = this.math.syms;
    if (model.kind === "one") {
      dot.textContent = "w·x";
      bias.textContent = "b";
      z.textContent = "z";
      fn.textContent = "σ(z)";
      p.textContent = "p";
    } else {
      dot.textContent = `w${sub(k)}·x`;
      bias.textContent = `b${sub(k)}`;
      z.textContent = `z${sub(k)}`;
      fn.textContent = `softmax(z)${sub(k)}`;
      p.textContent = `p${sub(k)}`;
    }
  }

  // The stable test hooks (DESIGN.md); data-render changes on every render, so an
  // observer sees each answer even when it equals the previous one.
  #hooks(digit, probability, state) {
    this.renders += 1;
    this.el.dataset.digit = digit;
    this.el.dataset.probability = probability;
    this.el.dataset.state = state;
    this.el.dataset.render = String(this.renders);
  }
}
