// The answer on screen, in every view that shows it: the answer card with its loss
// (js/answer.js), the maps (js/maps.js) and a network's hidden neurons (js/hidden.js,
// imported with its stylesheet when a network is first shown: until then, and for
// the other models, nothing stands in its place); which neuron is in view (the one
// picked to inspect, or the one the answer follows); and the threshold t from which
// one neuron says yes (js/threshold.js moves it). DOM only; js/live.js asks for the
// predictions.

import { AnswerView } from "./answer.js";
import { MapsView } from "./maps.js";
import { NO_UNITS, strongest, unitsView } from "./units.js";

export class Shown {
  /** onSwitch(): a network's hidden neuron went off or on; onError(message). */
  constructor({ onSwitch, onError }) {
    this.answer = new AnswerView({ onPick: (d) => this.pick(d) });
    this.maps = new MapsView({ onPick: (d) => this.pick(d) });
    this.hidden = NO_UNITS; // js/hidden.js's HiddenView, once a network was shown
    this.unitsLoading = null;
    this.onSwitch = onSwitch;
    this.onError = onError;
    this.model = null; // model_info of the active model
    this.result = null; // the prediction shown
    this.sentence = ""; // and how it reads to a screen reader
    this.pin = null; // the neuron picked to inspect (a digit, a hidden neuron), or null to follow the answer
    this.threshold = 0.5; // one neuron says yes when p ≥ this
    this.answer.showEmpty(null, true);
  }

  /** The active model: its labels, its weights; no answer of another model's. */
  setModel(model) {
    this.model = model;
    this.pin = null;
    this.result = null;
    document.body.dataset.mode = model.kind;
    this.answer.setModel(model);
    if (model.kind === "hidden" && this.hidden === NO_UNITS) this.#loadUnits();
    this.hidden.setModel(model);
    this.#showNeuron(this.#neuron());
  }

  /** Show a prediction; returns how it reads to a screen reader. */
  show(r) {
    this.result = r;
    const k = this.#neuron();
    this.#answer(k);
    this.maps.showSeen(r.seen, r.ink);
    this.#showNeuron(k);
    this.maps.showContributions(this.model, r, k);
    if (r.hidden) this.hidden.show(r.hidden.h);
    return this.sentence;
  }

  /** No drawing (`waiting`: nor a model that can answer yet). */
  showEmpty(waiting) {
    this.result = null;
    this.answer.showEmpty(this.model, waiting, this.#neuron());
    this.maps.showSeen(null, 0);
    this.maps.showContributions(this.model, null, 0);
    this.hidden.show(null);
    if (this.model) this.#showNeuron(this.#neuron());
  }

  /** One neuron says yes from p ≥ t: the answer shown follows. */
  setThreshold(t) {
    this.threshold = t;
    this.answer.setThreshold(t);
    if (this.result && this.model.kind === "one") this.#answer(0);
  }

  /** Inspect neuron d (a digit, a hidden neuron); picked again, follow the answer. */
  pick(d, toggle = true) {
    if (!this.model || this.model.kind === "one") return;
    if (toggle) this.pin = this.pin === d ? null : d;
    const k = this.#neuron();
    this.#showNeuron(k);
    if (this.result) {
      this.#answer(k);
      this.maps.showContributions(this.model, this.result, k);
    }
  }

  /** A network's hidden neurons switched off, for predict (counted from 0). */
  offList() {
    return this.hidden.offList();
  }

  #answer(k) {
    const { model, result } = this;
    this.sentence = this.answer.show(model, result, k, this.hidden.isOff(k), this.threshold);
  }

  /** Import the view of a network's hidden neurons, then show the model of now in it. */
  async #loadUnits() {
    this.unitsLoading ??= unitsView({
      onPick: (k) => this.pick(k),
      onSwitch: (k) => {
        if (k !== null) this.pin = k; // the neuron switched stays in view
        this.pick(null, false);
        this.onSwitch();
      },
    });
    try {
      this.hidden = await this.unitsLoading;
    } catch (err) {
      this.unitsLoading = null; // tried again when a network is next shown
      this.onError(`the view of the hidden neurons could not load (${err.message})`);
      return;
    }
    const { model, result } = this;
    if (!model || model.kind !== "hidden" || this.hidden.model === model) return;
    this.hidden.setModel(model);
    this.#showNeuron(this.#neuron());
    if (result) this.hidden.show(result.hidden.h);
  }

  /** Neuron k's weights, and which one it is: a digit's bar, a hidden neuron's view. */
  #showNeuron(k) {
    const { model, pin, result } = this;
    this.maps.showWeights(model, k);
    this.answer.setPick(model.kind === "ten" ? k : null);
    this.hidden.showUnit(k, { picked: pin !== null, top: result ? result.top : null });
  }

  /** The neuron whose weights and arithmetic are shown. */
  #neuron() {
    const { model: m, pin, result } = this;
    if (!m || m.kind === "one") return 0;
    if (pin !== null) return pin;
    if (m.kind === "hidden") return result ? strongest(m, result.hidden.h, result.top) : 0;
    return result ? result.top : 6;
  }
}
