// The training panel's results: test accuracy, precision and recall or a confusion
// matrix, the gallery of mistakes and the inspector of one test image. DOM only;
// js/training.js decides what happens. Texts from Python go in with textContent.

import { $, button, fillDefinitions, setText } from "./dom.js";
import { aDigit, num, percent, signed, sub, whole as fmt } from "./format.js";
import { N, paintBinary, paintDiverging, thumbnail } from "./heatmap.js";
import { strongest, unitName } from "./units.js";

export class ResultsView {
  /** onInspect(index): a mistake was picked. */
  constructor(onInspect) {
    this.el = $("train-results");
    this.onInspect = onInspect;
  }

  /** Show a run's results; a generator: the caller lets a frame pass at each yield. */
  *show(e, model) {
    this.el.hidden = false;
    $("result-accuracy").textContent = (100 * e.accuracy).toFixed(2);
    $("result-accuracy-text").textContent =
      `right on the ${fmt(e.samples)} MNIST test images, which it never trained on.`;
    const dl = $("result-metrics");
    const rows = [];
    if (model.kind === "one") {
      const t = model.target;
      rows.push(["Precision", `${percent(e.precision)} %`, `of the images it calls ${aDigit(t)}, this many are.`]);
      rows.push(["Recall", `${percent(e.recall)} %`, `of the real ${t}s, it finds this many.`]);
    }
    rows.push(["Mistakes", fmt(e.wrong), `of ${fmt(e.samples)} test images.`]);
    fillDefinitions(
      dl,
      rows.map(([what, value, why]) => {
        const strong = document.createElement("strong");
        strong.textContent = value;
        return [what, strong, ` ${why}`];
      }),
    );
    $("confusion-wrap").hidden = model.kind === "one";
    if (model.kind !== "one") this.#confusion(e.confusion);
    $("inspector").hidden = true;
    yield* this.#mistakes(e, model);
  }

  hide() {
    this.el.hidden = true;
  }

  #confusion(cm) {
    const table = $("confusion");
    const caption = table.querySelector("caption");
    const head = document.createElement("tr");
    const corner = document.createElement("th");
    corner.scope = "col";
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = "true digit";
    corner.append(hidden);
    head.append(corner);
    for (let d = 0; d < 10; d++) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = String(d);
      th.title = `said ${d}`;
      head.append(th);
    }
    let worst = 1;
    for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) if (i !== j) worst = Math.max(worst, cm[i * 10 + j]);
    const rows = [];
    for (let i = 0; i < 10; i++) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = String(i);
      tr.append(th);
      let total = 0;
      for (let j = 0; j < 10; j++) total += cm[i * 10 + j];
      for (let j = 0; j < 10; j++) {
        const v = cm[i * 10 + j];
        const td = document.createElement("td");
        td.textContent = String(v);
        td.title = `${v} of ${total} ${i}s read as ${j}`;
        const alpha = i === j ? v / Math.max(1, total) : Math.sqrt(v / worst);
        // right answers in purple (share of the row), mistakes in orange (√ of the worst)
        const [rgb, base, span] = i === j ? ["84, 39, 136", 0.15, 0.75] : ["224, 130, 20", 0.08, 0.7];
        if (v) td.style.background = `rgba(${rgb}, ${(base + span * alpha).toFixed(3)})`;
        if (i === j && alpha > 0.5) td.classList.add("dark");
        tr.append(td);
      }
      rows.push(tr);
    }
    const thead = document.createElement("thead");
    thead.append(head);
    const tbody = document.createElement("tbody");
    tbody.append(...rows);
    table.replaceChildren(caption, thead, tbody);
  }

  *#mistakes(e, model) {
    const m = e.mistakes;
    const list = $("mistakes");
    const shown = m ? m.index.length : 0;
    $("mistakes-caption").textContent = shown
      ? `The first ${shown} of the ${fmt(e.wrong)} test images it gets wrong. Pick one to see why.`
      : "It gets every test image right.";
    list.replaceChildren();
    for (let i = 0; i < shown; i++) {
      // 12 thumbnails a frame: 24 made a 52–64 ms task on a 4× slower CPU
      if (i % 12 === 0) yield;
      const label = m.label[i];
      const said = m.predicted[i];
      const index = m.index[i];
      let text;
      let short;
      if (model.kind === "one") {
        const t = model.target;
        text =
          label === t
            ? `Test image ${index}: ${aDigit(t)} it missed`
            : `Test image ${index}: ${aDigit(label)} it took for ${aDigit(t)}`;
        short = label === t ? `${t} → no` : `${label} → ${t}`;
      } else {
        text = `Test image ${index}: ${aDigit(label)} read as ${said}`;
        short = `${label} → ${said}`;
      }
      const b = button("mistake", text, () => {
        for (const other of list.querySelectorAll("button")) other.setAttribute("aria-pressed", "false");
        b.setAttribute("aria-pressed", "true");
        this.onInspect(index);
      });
      b.setAttribute("aria-pressed", "false");
      b.dataset.index = String(index);
      const caption = document.createElement("span");
      caption.textContent = short;
      b.append(thumbnail(m.inputs.subarray(i * N, (i + 1) * N)), caption);
      const li = document.createElement("li");
      li.append(b);
      list.append(li);
    }
  }

  /**
   * A test image as the input: the image, w ⊙ x for the answer (and the truth); for a
   * hidden layer, of the hidden neurons that pushed each of them up the most.
   */
  inspect(r, model) {
    $("inspector").hidden = false;
    paintBinary($("inspect-input"), r.seen);
    $("inspect-input-caption").textContent = `Test image ${r.index}: ${aDigit(r.label)}; ${r.ink} squares of ink.`;
    const one = model.kind === "one";
    const said = one ? 0 : r.top;
    // the neuron whose w ⊙ x each map shows (as x is 0 or 1: its weights under the ink)
    const neuron = (d) => (model.kind === "hidden" ? strongest(model, r.hidden.h, d) : d);
    paintDiverging($("inspect-said"), model.weights, neuron(said) * N, model.scale, r.seen);
    const truthFigure = $("inspect-truth-figure");
    truthFigure.hidden = one;
    let text;
    if (model.kind === "hidden") {
      paintDiverging($("inspect-truth"), model.weights, neuron(r.label) * N, model.scale, r.seen);
      const push = (d) => {
        const k = neuron(d);
        return `${unitName(k)}, output h = ${num(r.hidden.h[k], 2)}, pushes ${d} up the most`;
      };
      setText($("inspect-said-caption"), `${push(said)}: z${sub(said)} = ${num(r.z[said])}.`);
      setText($("inspect-truth-caption"), `${push(r.label)}, the true digit: z${sub(r.label)} = ${num(r.z[r.label])}.`);
      text =
        `The network says ${said} (${percent(r.p[said])} %); the true digit ${r.label} gets ` +
        `${percent(r.p[r.label])} %. Each map is a hidden neuron's weights under the ink: ` +
        "compare what each one looks for with where the ink falls.";
    } else if (one) {
      const t = model.target;
      const p = r.p[0];
      setText($("inspect-said-caption"), `The neuron for ${t}: orange pushed towards ${t}, purple away.`);
      text =
        `w·x + b = ${num(r.dot[0])} ${signed(r.bias[0]).replace(/^([+−])/, "$1 ")} = ${num(r.z[0])}, ` +
        `σ(z) = ${percent(p)} %: the neuron says ${p >= 0.5 ? `it is ${aDigit(t)}` : `it is not ${aDigit(t)}`}, ` +
        `but it ${r.label === t ? "is" : `is ${aDigit(r.label)}`}.`;
    } else {
      paintDiverging($("inspect-truth"), model.weights, r.label * N, model.scale, r.seen);
      setText($("inspect-said-caption"), `The neuron for ${said}, which won: z${sub(said)} = ${num(r.z[said])}.`);
      setText($("inspect-truth-caption"), `The neuron for ${r.label}, the true digit: z${sub(r.label)} = ${num(r.z[r.label])}.`);
      text =
        `The ten neurons say ${said} (${percent(r.p[said])} %); the true digit ${r.label} gets ` +
        `${percent(r.p[r.label])} %: z${sub(said)} = ${num(r.z[said])} beat z${sub(r.label)} = ` +
        `${num(r.z[r.label])}. Compare where the ink falls on the two maps.`;
    }
    setText($("inspect-text"), text);
    $("inspector").scrollIntoView({ block: "nearest" });
  }
}
