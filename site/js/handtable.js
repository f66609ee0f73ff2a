// The results of "Other people's handwriting" (js/handwriting.js measures them): one
// row a set of digits, one column a model, each cell the share of the set the model
// reads right (one neuron: and its F1 for its digit); what the numbers say in words;
// and a few digits the active model misreads. DOM only. Each set's title and words
// are Python's (oneneuron.pagedata.PAGE_SETS), in every report; model labels too.
//
// Test hooks: tr[data-set] (mnist, then data/mnist.json's sets in its order), each
// with one td[data-model] a model: data-accuracy (0–1, as Python gives it) and, for
// one neuron, data-f1; figure[data-set] for the galleries of misread digits.

import { $, element } from "./dom.js";
import { aDigit, whole } from "./format.js";
import { grayThumbnail } from "./heatmap.js";

const pct = (a) => `${(100 * a).toFixed(1)} %`;

export class HandTable {
  constructor() {
    this.head = $("hand-head");
    this.body = $("hand-rows");
    this.f1Note = $("hand-f1-note");
    this.shift = $("hand-shift");
    this.mistakesTitle = $("hand-mistakes-title");
    this.mistakes = $("hand-mistakes");
  }

  /**
   * models: [{name, label, active, report}] in the switch's order, each report
   * Python's handwriting answer; sets: the names of mnist.json's sets, in order.
   */
  show(models, sets) {
    const th = (text, scope = "col") => Object.assign(element("th", "", text), { scope });
    this.head.replaceChildren(
      th("Digits"),
      th("How many"),
      ...models.map((m) => Object.assign(th(m.label), { className: "hand-model" })),
    );
    const rows = ["mnist", ...sets].map((name) => models.map((m) => m.report.sets.find((s) => s.name === name)));
    this.body.replaceChildren(...rows.filter((of) => of.some(Boolean)).map((of) => row(of, models)));
    this.f1Note.hidden = !models.some((m) => m.report.kind === "one");
    this.shift.textContent = shiftSentence(models);
    const active = models.find((m) => m.active);
    const misread = active ? active.report.sets.filter((s) => s.mistakes && s.wrong) : [];
    this.mistakesTitle.textContent = misread.length ? `Some digits misread by “${active.label}”, the model that answers your drawings:` : "";
    this.mistakes.replaceChildren(...misread.map((s) => gallery(s, active.report)));
  }
}

/** A set's row: its title and words, its size, and one cell a model (of: their reports of it). */
function row(of, models) {
  const s = of.find(Boolean);
  const tr = element("tr");
  tr.dataset.set = s.name;
  const name = element("th");
  name.scope = "row";
  name.append(element("span", "hand-name", s.title), element("span", "hand-what", s.what ?? ""));
  tr.append(name, element("td", "", s.count == null ? "–" : whole(s.count)));
  of.forEach((set, i) => tr.append(cell(set, models[i])));
  return tr;
}

function cell(s, m) {
  const td = element("td", "hand-cell");
  td.dataset.model = m.name;
  const accuracy = s ? s.accuracy : null;
  td.dataset.accuracy = accuracy == null ? "" : String(accuracy);
  const fill = element("span", "hand-fill");
  fill.style.width = `${accuracy == null ? 0 : 100 * accuracy}%`;
  const bar = element("span", "hand-bar");
  bar.setAttribute("aria-hidden", "true");
  bar.append(fill);
  td.append(bar, element("span", "hand-value", accuracy == null ? "–" : pct(accuracy)));
  if (m.report.kind === "one") {
    const f1 = s ? s.f1 : null;
    td.dataset.f1 = f1 == null ? "" : String(f1);
    td.append(element("span", "hand-f1", `F1 for ${m.report.target}: ${f1 == null ? "–" : f1.toFixed(3)}`));
  }
  return td;
}

/**
 * What the table says, with its own numbers: what a hidden layer buys over ten
 * neurons alone (on MNIST, and on the other set it reads worst), whether every model
 * reads other hands worse than MNIST's own, and distribution shift in plain words.
 */
function shiftSentence(models) {
  const read = models
    .filter((m) => m.report.kind !== "one") // one neuron answers another question
    .map((m) => {
      const sets = m.report.sets.filter((s) => s.accuracy != null);
      const mnist = sets.find((s) => s.name === "mnist");
      const others = sets.filter((s) => s.name !== "mnist");
      if (!mnist || !others.length) return null;
      return { kind: m.report.kind, mnist, others, worst: others.reduce((a, b) => (b.accuracy < a.accuracy ? b : a)) };
    })
    .filter(Boolean);
  if (!read.length) return "";
  const drop = read.every(({ mnist, worst }) => mnist.accuracy - worst.accuracy > 0.005);
  const net = read.find((r) => r.kind === "hidden");
  const flat = read.find((r) => r.kind === "ten");
  const there = net && flat ? flat.others.find((s) => s.name === net.worst.name) : null;
  const points = (a, b) => `${(100 * (a - b)).toFixed(1)} points`;
  let text = drop ? "Every model here reads other people's digits worse than MNIST's own." : "";
  if (there && net.mnist.accuracy > flat.mnist.accuracy && net.worst.accuracy > there.accuracy) {
    text =
      `Over ten neurons alone, the hidden layer buys ${points(net.mnist.accuracy, flat.mnist.accuracy)} on ` +
      `MNIST's own test digits and ${points(net.worst.accuracy, there.accuracy)} on ${net.worst.title}` +
      (drop ? `, but not what MNIST never showed it: ${text.charAt(0).toLowerCase()}${text.slice(1)}` : ".");
  }
  return (
    `${text} The models only ever saw MNIST: digits by one group of writers, scanned, sized and ` +
    "centred one way. Digits written by other people with other pens and scanned another way " +
    "look different in ways no model here learned, and a test set like its training set cannot " +
    "show that: this is called distribution shift."
  ).trim();
}

/** Up to 8 misread digits of a set, as thumbnails with "a 4 read as a 9". */
function gallery(s, r) {
  const m = s.mistakes;
  const figure = element("figure", "hand-gallery");
  figure.dataset.set = s.name;
  const caption = element("figcaption", "", `${s.title}: ${whole(s.wrong)} misread, the first ${m.label.length}`);
  const list = element("ul", "hand-thumbs");
  const size = m.height * m.width;
  for (let i = 0; i < m.label.length; i++) {
    const said = readAs(m.label[i], m.predicted[i], r);
    const img = grayThumbnail(m.images.subarray(i * size, (i + 1) * size), m.height, m.width);
    img.alt = said;
    const li = element("li");
    li.append(img, element("span", "", said));
    list.append(li);
  }
  figure.append(caption, list);
  return figure;
}

/** "a 4 read as a 9"; for one neuron, "a 6 read as not a 6" or "a 3 read as a 6". */
function readAs(label, predicted, r) {
  if (r.kind === "one") {
    return predicted ? `${aDigit(label)} read as ${aDigit(r.target)}` : `${aDigit(label)} read as not ${aDigit(r.target)}`;
  }
  return `${aDigit(label)} read as ${aDigit(predicted)}`;
}
