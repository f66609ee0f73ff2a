// The live prediction: asks for predictions while a person draws (throttled, one in
// flight) and once more when a stroke ends, and hands the answers to the answer card
// and the maps. Knows the active model and the neuron picked to inspect.
//
// Performance marks for benchmarks (performance.getEntriesByName):
//   oneneuron:stroke-end             a stroke ended (pointer up, Undo, keyboard)
//   oneneuron:prediction             that stroke's prediction is in the DOM
//   oneneuron:stroke-to-prediction   a measure between the two
//
// Test hooks on [data-testid=prediction] (DESIGN.md): data-model (the active model),
// data-shown-model and data-shown-version (the model and pad version, #pad's
// data-version, of the answer on screen), data-shown-off (a network's hidden neurons
// switched off in it, as predict's `off`), data-pending ("true" while a prediction is
// asked for) and data-requests (predictions asked for so far).
//
// Once a prediction is on screen, the pen is up and no prediction is waiting, the
// steps of the drawing's preprocessing are asked for (js/steps.js).
//
// A network's view (js/hidden.js and css/hidden.css) loads when a network is first
// shown: until then, and for the other models, nothing stands in its place.

import { AnswerView } from "./answer.js";
import { MapsView } from "./maps.js";
import { Steps } from "./steps.js";
import { NO_UNITS, strongest, unitsView } from "./units.js";

// While drawing, at most one prediction in flight, and at most one per half frame (a
// frame's pointer moves come together; a whole frame would let the requests drift
// behind the moves): the answer to the last move is usually on screen before the pen
// lifts, and then the end of the stroke needs no new request (the ink did not change).
const LIVE_MS = 8;

export class Live {
  /** onError(message): a prediction failed; onAnswer(): a prediction is on screen. */
  constructor({ api, pad, onError, onAnswer = () => {} }) {
    this.api = api;
    this.pad = pad;
    this.onError = onError;
    this.onAnswer = onAnswer;
    this.answer = new AnswerView({ onPick: (d) => this.pick(d) });
    this.maps = new MapsView({ onPick: (d) => this.pick(d) });
    this.hidden = NO_UNITS; // js/hidden.js's HiddenView, once a network was shown
    this.unitsLoading = null;
    this.el = this.answer.el;
    this.state = {
      ready: false,
      model: null, // model_info of the active model
      result: null, // the last prediction shown
      sentence: "", // and how it reads to a screen reader
      pin: null, // the neuron picked to inspect (a digit, a hidden neuron), or null to follow the answer
      shown: null, // {version, model}: the pad version and model of the answer on screen
    };
    this.flow = {
      inFlight: false,
      queued: false,
      timer: 0,
      lastSent: 0,
      requests: 0,
      sent: -1, // the pad version of the request in flight
      floor: 0, // results of pad versions below this are stale (the pad was cleared)
      strokeEnd: null, // {version, n}: the stroke whose prediction is awaited
      strokes: 0,
      announce: Infinity, // announce the first answer for a pad version at least this
    };
    this.steps = new Steps({
      api,
      pad,
      busy: () => this.flow.inFlight || this.flow.queued,
      model: () => this.state.model && this.state.model.name,
    });
    this.answer.showEmpty(null, true);
    pad.addEventListener("change", ({ detail }) => this.#changed(detail.final));
  }

  get model() {
    return this.state.model;
  }

  /** Python is ready (true) or stopped (false). */
  setReady(ready) {
    this.state.ready = ready;
    if (ready && !this.pad.empty) this.#request();
  }

  /** The active model changed: its labels, its weights, and an empty answer if no ink. */
  setModel(model) {
    const state = this.state;
    state.model = model;
    state.pin = null;
    state.result = null; // another model's answer: its numbers are not this one's
    document.body.dataset.mode = model.kind;
    this.el.dataset.model = model.name;
    this.answer.setModel(model);
    if (model.kind === "hidden" && this.hidden === NO_UNITS) this.#loadUnits();
    this.hidden.setModel(model);
    this.#showNeuron(this.#neuron());
    if (this.pad.empty) this.#showEmpty();
  }

  /** The model changed: predict the drawing again and announce the new answer. */
  repredict() {
    this.flow.announce = this.pad.version;
    this.#request();
  }

  /** Inspect neuron d (a digit, a hidden neuron); picked again, follow the answer. */
  pick(d, toggle = true) {
    const state = this.state;
    if (!state.model || state.model.kind === "one") return;
    if (toggle) state.pin = state.pin === d ? null : d;
    const k = this.#neuron();
    this.#showNeuron(k);
    if (state.result) {
      state.sentence = this.answer.show(state.model, state.result, k, this.hidden.isOff(k));
      this.maps.showContributions(state.model, state.result, k);
    }
  }

  /** Import the view of a network's hidden neurons, then show the model of now in it. */
  async #loadUnits() {
    this.unitsLoading ??= unitsView({
      onPick: (k) => this.pick(k),
      onSwitch: (k) => {
        if (k !== null) this.state.pin = k; // the neuron switched stays in view
        this.pick(null, false);
        this.repredict();
      },
    });
    try {
      this.hidden = await this.unitsLoading;
    } catch (err) {
      this.unitsLoading = null; // tried again when a network is next shown
      this.onError(`the view of the hidden neurons could not load (${err.message})`);
      return;
    }
    const { model, result } = this.state;
    if (!model || model.kind !== "hidden" || this.hidden.model === model) return;
    this.hidden.setModel(model);
    this.#showNeuron(this.#neuron());
    if (result) this.hidden.show(result.hidden.h);
  }

  /** Neuron k's weights, and which one it is: a digit's bar, a hidden neuron's view. */
  #showNeuron(k) {
    const { model, pin, result } = this.state;
    this.maps.showWeights(model, k);
    this.answer.setPick(model.kind === "ten" ? k : null);
    this.hidden.showUnit(k, { picked: pin !== null, top: result ? result.top : null });
  }

  #changed(final) {
    const { pad, flow } = this;
    if (final) {
      flow.strokes += 1;
      flow.strokeEnd = { version: pad.version, n: flow.strokes };
      performance.mark("oneneuron:stroke-end", { detail: { stroke: flow.strokes } });
    }
    if (pad.empty) {
      flow.floor = pad.version;
      this.#showEmpty();
      return;
    }
    if (final) this.#ended();
    else this.#live();
  }

  /** A stroke ended: predict it, unless the answer for this ink is shown or coming. */
  #ended() {
    const { state, flow, pad } = this;
    const s = state.shown;
    if (state.ready && state.result && s.version === pad.version && s.model === state.model.name) {
      this.#answered();
      this.answer.announce(state.sentence);
      this.steps.update();
    } else if (!(flow.inFlight && flow.sent === pad.version && !flow.queued)) {
      this.#request();
    }
  }

  /** The prediction for the stroke that ended is in the DOM. */
  #answered() {
    const detail = { stroke: this.flow.strokeEnd.n };
    this.flow.strokeEnd = null;
    performance.mark("oneneuron:prediction", { detail });
    performance.measure("oneneuron:stroke-to-prediction", {
      start: "oneneuron:stroke-end",
      end: "oneneuron:prediction",
      detail,
    });
  }

  #live() {
    const flow = this.flow;
    const wait = flow.lastSent + LIVE_MS - performance.now();
    if (wait <= 0) this.#request();
    else if (!flow.timer) {
      flow.timer = setTimeout(() => {
        flow.timer = 0;
        if (this.pad.drawing) this.#request();
      }, wait);
    }
  }

  /** Ask for a prediction of the pad as it is now; one request in flight at a time. */
  #request() {
    if (!this.state.ready || this.pad.empty) return;
    if (this.flow.inFlight) {
      this.flow.queued = true;
      this.#pending();
      return;
    }
    this.#send();
  }

  async #send() {
    const { flow, pad, state } = this;
    flow.inFlight = true;
    flow.lastSent = performance.now();
    flow.requests += 1;
    this.#pending();
    const version = (flow.sent = pad.version);
    const pixels = pad.pixels();
    const args = { pixels, width: pad.width, height: pad.height };
    if (state.model.kind === "hidden") args.off = this.hidden.offList();
    try {
      const r = await this.api.call("predict", args, [pixels.buffer]);
      if (version >= flow.floor && !pad.empty && r.model === state.model.name) this.#show(r, version, args.off);
    } catch (err) {
      this.onError(err.message);
    } finally {
      flow.inFlight = false;
      if (flow.queued) {
        flow.queued = false;
        this.#send();
      } else {
        this.#pending();
        this.#idle();
      }
    }
  }

  /** No prediction is waiting: if the answer on screen is for the ink, show its steps. */
  #idle() {
    const { state, pad } = this;
    const s = state.shown;
    if (state.result && s.version === pad.version && s.model === state.model.name) this.steps.update();
  }

  #pending() {
    const flow = this.flow;
    this.el.dataset.pending = String(flow.inFlight || flow.queued);
    this.el.dataset.requests = String(flow.requests);
  }

  #shown(version, model, off = []) {
    this.state.shown = { version, model };
    this.el.dataset.shownVersion = String(version);
    this.el.dataset.shownModel = model ?? "";
    this.el.dataset.shownOff = off.join(" ");
  }

  #show(r, version, off) {
    const { state, flow, answer, maps } = this;
    state.result = r;
    this.#shown(version, state.model.name, off);
    const k = this.#neuron();
    const sentence = (state.sentence = answer.show(state.model, r, k, this.hidden.isOff(k)));
    maps.showSeen(r.seen, r.ink);
    this.#showNeuron(k);
    maps.showContributions(state.model, r, k);
    if (r.hidden) this.hidden.show(r.hidden.h);
    if (flow.strokeEnd && version >= flow.strokeEnd.version) {
      this.#answered();
      flow.announce = version;
    }
    if (version >= flow.announce) {
      flow.announce = Infinity;
      answer.announce(sentence);
    }
    this.onAnswer();
  }

  #showEmpty() {
    const { state, flow, answer, maps } = this;
    state.result = null;
    this.#shown(this.pad.version, state.model && state.model.name);
    answer.showEmpty(state.model, !state.ready, this.#neuron());
    maps.showSeen(null, 0);
    maps.showContributions(state.model, null, 0);
    this.hidden.show(null);
    this.steps.clear();
    if (state.model) this.#showNeuron(this.#neuron());
    if (flow.strokeEnd) {
      flow.strokeEnd = null;
      answer.announce("The pad is empty.");
    }
  }

  /** The neuron whose weights and arithmetic are shown. */
  #neuron() {
    const { model: m, pin, result } = this.state;
    if (!m || m.kind === "one") return 0;
    if (pin !== null) return pin;
    if (m.kind === "hidden") return result ? strongest(m, result.hidden.h, result.top) : 0;
    return result ? result.top : 6;
  }
}
