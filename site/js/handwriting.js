// "Other people's handwriting": how the active model reads MNIST's own test digits
// against digits by other hands, scanned another way (UCI optdigits and mfeat), with a
// few of the digits it misreads. Nothing is downloaded until the button is pressed,
// and the button waits for the first prediction; afterwards the panel measures each
// model that becomes active (oneneuron.page.Page.handwriting: every image made into
// an input by that model's own preprocessing).
//
// Each set's title and its few words are Python's (oneneuron.pagedata.PAGE_SETS), in
// each row of the answer.
//
// Test hooks on [data-testid=handwriting]: data-model (the model measured, "" if
// none), data-state (idle, loading, measuring, done, error); one row a set with
// data-set (mnist, optdigits, mfeat) and data-accuracy (0–1, as Python gives it).

import { $, element } from "./dom.js";
import { aDigit, whole } from "./format.js";
import { grayThumbnail } from "./heatmap.js";

const SETS = ["optdigits", "mfeat"]; // data/mnist.json's "sets", in the order shown

export class Handwriting {
  /** data: js/trainingdata.js's TrainingData, which downloads into the worker once. */
  constructor({ api, data }) {
    this.api = api;
    this.data = data;
    this.el = document.querySelector("[data-testid=handwriting]");
    this.button = $("hand-run");
    this.status = $("hand-status");
    this.bar = $("hand-progress");
    this.table = $("hand-rows");
    this.f1Head = $("hand-f1-head");
    this.shift = $("hand-shift");
    this.mistakes = $("hand-mistakes");
    this.model = null; // model_info of the active model
    this.asked = false; // the button was pressed: measure every active model from now on
    this.generation = 0;
    this.button.disabled = true;
    this.button.addEventListener("click", () => this.measure());
    this.#state("idle");
  }

  /** A prediction is on screen: the button may now download the sets. */
  enable() {
    if (!this.asked) this.button.disabled = false;
  }

  /** The active model changed: measure it, once the sets were asked for. */
  setModel(model) {
    this.model = model;
    if (this.asked) this.measure();
  }

  async measure() {
    const gen = ++this.generation;
    this.asked = true;
    this.button.disabled = true;
    this.#state("loading");
    this.bar.hidden = false;
    this.#progress(0, "Downloading the digits…");
    try {
      await this.#download(gen);
      if (gen !== this.generation) return;
      this.#state("measuring");
      this.#progress(1, "Reading every digit with this model…");
      const r = await this.api.call("handwriting", this.model ? { name: this.model.name } : {});
      if (gen !== this.generation) return;
      this.#show(r);
      this.bar.hidden = true;
      this.status.textContent = "";
      this.#state("done", r.model);
    } catch (err) {
      if (gen !== this.generation) return;
      this.bar.hidden = true;
      this.status.textContent = `Could not measure it: ${err.message}. Press the button to try again.`;
      this.button.disabled = false;
      this.asked = false;
      this.#state("error");
    }
  }

  /** The raw test images and the other sets into the worker, with their progress. */
  #download(gen) {
    const stages = ["test", ...SETS.map((name) => `set-${name}`)];
    const stop = this.data.watch(() => {
      if (gen === this.generation) this.#progress(this.data.fraction(stages), this.data.describe(stages, "the digits"));
    });
    return Promise.all([this.data.test(), ...SETS.map((name) => this.data.set(name))]).finally(stop);
  }

  #progress(fraction, text) {
    this.bar.value = fraction;
    this.status.textContent = text;
  }

  // the results stay on screen (for the model they name) while another model is measured
  #state(state, model = null) {
    this.el.dataset.state = state;
    if (model !== null) {
      this.el.dataset.model = model;
      this.el.hidden = false;
    }
  }

  #show(r) {
    const one = r.kind === "one";
    this.f1Head.hidden = !one;
    if (one) this.f1Head.textContent = `F1 for ${r.target}`;
    // the order of SETS, whichever download finished first
    const order = (s) => (s.name === "mnist" ? -1 : SETS.indexOf(s.name) >>> 0);
    r.sets.sort((a, b) => order(a) - order(b));
    this.table.replaceChildren(...r.sets.map((s) => row(s, one)));
    this.shift.textContent = shiftSentence(r);
    this.mistakes.replaceChildren(...r.sets.filter((s) => s.mistakes && s.wrong).map((s) => gallery(s, r)));
  }
}

function row(s, one) {
  const tr = document.createElement("tr");
  tr.dataset.set = s.name;
  tr.dataset.accuracy = s.accuracy == null ? "" : String(s.accuracy);
  const name = element("th");
  name.scope = "row";
  const what = s.from === "file" ? "as its weights file says" : (s.what ?? "");
  name.append(element("span", "hand-name", s.title), element("span", "hand-what", what));
  const count = element("td", "", s.count == null ? "–" : whole(s.count));
  const fill = element("span", "hand-fill");
  fill.style.width = `${s.accuracy == null ? 0 : 100 * s.accuracy}%`;
  const bar = element("span", "hand-bar");
  bar.append(fill);
  const value = element("span", "hand-value", s.accuracy == null ? "–" : `${(100 * s.accuracy).toFixed(1)} %`);
  const acc = element("td", "hand-accuracy");
  acc.append(bar, value);
  tr.append(name, count, acc);
  if (one) tr.append(element("td", "", s.f1 == null ? "–" : s.f1.toFixed(3)));
  return tr;
}

/** Distribution shift in plain words, with this model's own numbers. */
function shiftSentence(r) {
  const mnist = r.sets.find((s) => s.name === "mnist");
  const others = r.sets.filter((s) => s.name !== "mnist" && s.accuracy != null);
  if (!mnist || mnist.accuracy == null || !others.length) return "";
  const pct = (a) => `${(100 * a).toFixed(1)} %`;
  const worst = others.reduce((a, b) => (b.accuracy < a.accuracy ? b : a));
  const drop = mnist.accuracy - worst.accuracy;
  const lead =
    drop > 0.005
      ? `Right ${pct(mnist.accuracy)} of the time on MNIST's own test digits, but only ${pct(worst.accuracy)} on ${worst.title}.`
      : `About as good on the other sets (${pct(worst.accuracy)} at worst) as on MNIST's own test digits (${pct(mnist.accuracy)}).`;
  return (
    `${lead} The model only ever saw MNIST: digits by one group of writers, scanned, sized and ` +
    "centred one way. Digits written by other people with other pens and scanned another way " +
    "look different in ways it never learned, and a test set like its training set cannot show " +
    "that: this is called distribution shift."
  );
}

/** Up to 8 misread digits of a set, as thumbnails with "a 4 read as a 9". */
function gallery(s, r) {
  const m = s.mistakes;
  const figure = element("figure", "hand-gallery");
  figure.dataset.set = s.name;
  const caption = element(
    "figcaption",
    "",
    `${s.title}: ${whole(s.wrong)} misread, the first ${m.label.length}`,
  );
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
