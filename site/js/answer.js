// The answer card: the probability (one neuron) or ten bars (ten neurons, a hidden
// layer's ten outputs), the arithmetic w·x + b = z, σ(z) = p with the actual
// numbers (of the neuron, of a digit's neuron, or of a hidden neuron: js/hidden.js),
// and the drawing's loss for the answer the person says it is. One neuron says yes
// when p ≥ t, the threshold (0.5, the model's own rule, until js/threshold.js moves
// it). DOM only.
//
// Test hooks: #loss-value data-loss (the loss, as Python sent it) and data-label (the
// answer it is for); the meter's data-threshold.

import { $, setText } from "./dom.js";
import { aDigit, num, percent, prob, signed, sub } from "./format.js";

export class AnswerView {
  constructor({ onPick }) {
    this.el = document.querySelector("[data-testid=prediction]");
    this.verdict = $("verdict");
    this.bigP = $("big-p");
    this.meter = $("meter-fill");
    this.mid = $("meter-mid");
    this.loss = { fn: $("loss-fn"), of: $("loss-of"), value: $("loss-value") };
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
    // a network's sums shown are a hidden neuron's, picked on its tile, not a bar's
    for (const r of this.rows) r.button.disabled = model.kind === "hidden";
  }

  /** No drawing (or no model yet): every hook empty; the symbols of neuron k. */
  showEmpty(model, waiting = false, k = 0) {
    this.#hooks("", "", waiting ? "waiting" : "empty");
    const ask = { ten: "the ten neurons", hidden: "the network" };
    this.verdict.textContent = waiting
      ? "Getting the neuron ready…"
      : `Draw a digit to ask ${(model && ask[model.kind]) || "the neuron"}.`;
    this.bigP.textContent = "–";
    this.meter.style.width = "0%";
    for (const r of this.rows) {
      r.fill.style.width = "0%";
      r.value.textContent = "";
      r.button.classList.remove("top");
    }
    for (const k of ["dot", "bias", "z", "squash", "p"]) this.math[k].textContent = "–";
    if (model) this.#symbols(model, model.kind === "one" ? model.target : k);
    this.#loss(model, null);
  }

  /** One neuron says yes from p ≥ t: the line on its meter. */
  setThreshold(t) {
    this.mid.style.left = `${(100 * t).toFixed(2)}%`;
    this.mid.parentElement.dataset.threshold = String(t);
  }

  /**
   * Show a prediction. `pick` is the neuron whose arithmetic is shown (a digit's, or
   * a network's hidden neuron, `off` when switched off); one neuron says yes when
   * p ≥ `threshold`. Returns the sentence for screen readers.
   */
  show(model, r, pick, off = false, threshold = 0.5) {
    const one = model.kind === "one";
    const k = one ? 0 : pick;
    const p = r.p[0];
    const yes = p >= threshold;
    if (one) {
      this.#hooks(yes ? String(model.target) : "", String(r.probability), yes ? "yes" : "no");
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
    const t = terms(model, r, k);
    this.math.dot.textContent = num(t.dot);
    this.math.bias.textContent = signed(t.bias);
    this.math.z.textContent = num(t.z);
    this.math.squash.textContent = model.kind === "ten" ? `e^${num(t.z, 2)} / Σ e^z` : `σ(${num(t.z, 2)})`;
    this.math.p.textContent = off ? "0 (off)" : t.out.toFixed(4);
    this.#loss(model, r);
    return one
      ? `${yes ? `Looks like ${aDigit(model.target)}` : `Not ${aDigit(model.target)}`}: probability ${percent(p)} percent.`
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
      setText(dot, "w·x");
      setText(bias, "b");
      setText(z, "z");
      setText(fn, "σ(z)");
      setText(p, "p");
    } else {
      const s = sub(model.kind === "hidden" ? k + 1 : k); // hidden neurons count from 1
      setText(dot, `w${s}·x`);
      setText(bias, `b${s}`);
      setText(z, `z${s}`);
      setText(fn, model.kind === "hidden" ? `σ(z${s})` : `softmax(z)${s}`);
      setText(p, model.kind === "hidden" ? `h${s}` : `p${s}`);
    }
  }

  // −log of the probability the model gives the answer the person chose (r.label)
  #loss(model, r) {
    const { fn, of, value } = this.loss;
    const d = r ? r.label : null;
    if (model && d !== null) {
      const one = model.kind === "one";
      setText(fn, one ? (d === model.target ? "−log p" : "−log(1 − p)") : `−log p${sub(d)}`);
    }
    const known = r !== null && Number.isFinite(r.loss);
    setText(of, known ? `−log ${prob(Math.exp(-r.loss))}` : "–");
    value.textContent = known ? num(r.loss) : "–";
    value.dataset.loss = known ? String(r.loss) : "";
    value.dataset.label = known ? String(d) : "";
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

/**
 * The terms of w·x + b = z and the output of neuron k: a digit's neuron, or a
 * network's hidden neuron k (its z and h from Python; w·x = z − b).
 */
function terms(model, r, k) {
  if (model.kind !== "hidden") return { dot: r.dot[k], bias: r.bias[k], z: r.z[k], out: r.p[k] };
  const z = r.hidden.z[k];
  const bias = model.bias[k];
  return { dot: z - bias, bias, z, out: r.hidden.h[k] };
}
