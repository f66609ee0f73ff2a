// "How the neuron sees your drawing": the stages by which the active model makes the
// drawing into its 24 × 24 input (oneneuron.page.Page.steps, the same code as
// predict's), as small pictures in the order the code runs them, each with Python's
// caption; Python's describe() says the whole pipeline in one sentence.
//
// The steps are asked for only once a prediction is on screen, the pen is up and no
// prediction is waiting: they never delay the live answer. One request in flight; an
// answer for ink that has changed since is dropped and asked for again.
//
// Test hooks on [data-testid=steps]: data-model (the model the pictures belong to, ""
// when none are shown), data-version (#pad's data-version of the drawing shown) and
// data-pending ("true" while steps are asked for), data-requests (steps asked for so
// far); each picture is a canvas with
// data-step (its key: ink, deskewed, box, scaled, placed, thresholded, strokes).

import { $, element } from "./dom.js";
import { paintGray } from "./heatmap.js";

const FRAME = 76; // CSS px of each picture's square frame

export class StepsView {
  constructor() {
    this.el = document.querySelector("[data-testid=steps]");
    this.describe = $("steps-describe");
    this.empty();
  }

  /** No drawing: no pictures. */
  empty() {
    this.el.replaceChildren(element("li", "steps-empty", "Draw a digit to see each step."));
    this.el.dataset.model = "";
    this.el.dataset.version = "";
  }

  /** The steps of the drawing at pad version `version` ({model, describe, steps}). */
  show(r, version) {
    const last = r.steps.length - 1;
    this.el.replaceChildren(...r.steps.map((s, i) => this.#picture(s, i === last)));
    this.describe.textContent = r.describe;
    this.el.dataset.model = r.model;
    this.el.dataset.version = String(version);
  }

  pending(on) {
    this.el.dataset.pending = String(on);
  }

  #picture(s, last) {
    const li = element("li", "steps-item");
    const frame = element("div", "steps-frame");
    const holder = element("div", "steps-holder");
    // s.frame: the side of the square it is shown in, in its own pixels (Python's)
    holder.style.width = `${(FRAME * s.width) / s.frame}px`;
    holder.style.height = `${(FRAME * s.height) / s.frame}px`;
    const canvas = document.createElement("canvas");
    canvas.width = s.width;
    canvas.height = s.height;
    canvas.dataset.step = s.step;
    canvas.setAttribute("aria-hidden", "true");
    paintGray(canvas, s.image);
    holder.append(canvas);
    if (s.step === "box" && s.box) holder.append(boxOutline(s.box, s.height, s.width));
    frame.append(holder);
    const caption = element("p", "steps-caption", s.caption);
    if (last) {
      li.classList.add("steps-seen");
      caption.append(": ", element("strong", "", "What the neuron sees"));
    }
    li.append(frame, caption);
    return li;
  }
}

/** The bounding box [top, left, bottom, right] (pixels of an h × w image) over the picture. */
function boxOutline([top, left, bottom, right], h, w) {
  const box = element("div", "steps-box");
  Object.assign(box.style, {
    top: `${(100 * top) / h}%`,
    left: `${(100 * left) / w}%`,
    height: `${(100 * (bottom - top)) / h}%`,
    width: `${(100 * (right - left)) / w}%`,
  });
  return box;
}

/**
 * Asks for the steps of the drawing on the pad when nothing more urgent is going on.
 * `busy()` says whether a prediction is in flight or waiting; `model()` names the
 * active model.
 */
export class Steps {
  constructor({ api, pad, busy, model }) {
    this.api = api;
    this.pad = pad;
    this.busy = busy;
    this.model = model;
    this.view = new StepsView();
    this.inFlight = false;
    this.again = false; // asked for while a request was in flight
    this.requests = 0;
    this.view.el.dataset.requests = "0";
  }

  /** A prediction for the pad as it is now is on screen: show its steps, when idle. */
  update() {
    const { pad, view } = this;
    if (pad.empty || pad.drawing || this.busy()) return;
    const m = this.model();
    if (view.el.dataset.version === String(pad.version) && view.el.dataset.model === m) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.#send();
  }

  clear() {
    this.view.empty();
  }

  async #send() {
    const { pad, view } = this;
    this.inFlight = true;
    this.again = false;
    this.requests += 1;
    view.el.dataset.requests = String(this.requests);
    view.pending(true);
    const version = pad.version;
    const pixels = pad.pixels();
    try {
      const r = await this.api.call("steps", { pixels, width: pad.width, height: pad.height }, [pixels.buffer]);
      // a newer stroke, a cleared pad or another model: these pictures are stale
      if (version === pad.version && !pad.empty && r.model === this.model()) view.show(r, version);
    } catch {
      // the prediction's own request reports a broken worker; the pictures stay as they were
    } finally {
      this.inFlight = false;
      view.pending(false);
      if (this.again || version !== pad.version) this.update();
    }
  }
}
