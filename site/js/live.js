// The live prediction: asks for predictions while a person draws (throttled, one in
// flight) and once more when a stroke ends, with the answer the person says the
// drawing is (its loss), and hands the answers to the views (js/shown.js). Knows the
// active model.
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

import { Shown } from "./shown.js";
import { Steps } from "./steps.js";

// While drawing, at most one prediction in flight, and at most one per half frame (a
// frame's pointer moves come together; a whole frame would let the requests drift
// behind the moves): the answer to the last move is usually on screen before the pen
// lifts, and then the end of the stroke needs no new request (the ink did not change).
const LIVE_MS = 8;

export class Live {
  /**
   * onError(message): a prediction failed; onAnswer(): a prediction is on screen;
   * label(): the digit the person says the drawing is (predict's label: its loss).
   */
  constructor({ api, pad, label, onError, onAnswer = () => {} }) {
    this.api = api;
    this.pad = pad;
    this.label = label;
    this.onError = onError;
    this.onAnswer = onAnswer;
    this.shown = new Shown({ onSwitch: () => this.repredict(), onError });
    this.el = this.shown.answer.el;
    this.state = {
      ready: false,
      model: null, // model_info of the active model
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
    this.state.model = model;
    this.el.dataset.model = model.name;
    this.shown.setModel(model);
    if (this.pad.empty) this.#showEmpty();
  }

  /** The model changed (`announce`: say its new answer), or the answer the person
   * says the drawing is: predict the drawing again. */
  repredict(announce = true) {
    if (announce) this.flow.announce = this.pad.version;
    this.#request();
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
    const { flow, shown } = this;
    if (this.state.ready && this.#current()) {
      this.#answered();
      shown.answer.announce(shown.sentence);
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
    const args = { pixels, width: pad.width, height: pad.height, label: this.label() };
    if (state.model.kind === "hidden") args.off = this.shown.offList();
    try {
      const r = await this.api.call("predict", args, [pixels.buffer]);
      r.label = args.label; // the answer its loss is for
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
    if (this.#current()) this.steps.update();
  }

  /** Whether the answer on screen is the active model's, for the ink on the pad. */
  #current() {
    const s = this.state.shown;
    return this.shown.result !== null && s.version === this.pad.version && s.model === this.state.model.name;
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
    const { state, flow } = this;
    this.#shown(version, state.model.name, off);
    const sentence = this.shown.show(r);
    if (flow.strokeEnd && version >= flow.strokeEnd.version) {
      this.#answered();
      flow.announce = version;
    }
    if (version >= flow.announce) {
      flow.announce = Infinity;
      this.shown.answer.announce(sentence);
    }
    this.onAnswer();
  }

  #showEmpty() {
    const { state, flow, shown } = this;
    this.#shown(this.pad.version, state.model && state.model.name);
    shown.showEmpty(!state.ready);
    this.steps.clear();
    if (flow.strokeEnd) {
      flow.strokeEnd = null;
      shown.answer.announce("The pad is empty.");
    }
  }
}
