// Your own drawings, labelled and added to the next training run: the pad's pixels go
// to the worker, which keeps them as the 0/1 inputs it shows back (view.setExamples),
// and to this browser's storage (js/kept.js), which gives them back to the worker on
// the next visit, once Python is ready, until they are removed.

import { KeptDrawings } from "./kept.js";

export class Examples {
  constructor({ api, pad, view }) {
    this.api = api;
    this.pad = pad;
    this.view = view;
    this.added = []; // {seen, label, key} of the drawings added (key: kept under it, or null)
  }

  /** Add what is on the pad, labelled `label`, and keep it. */
  async add(label) {
    if (this.pad.empty) {
      this.view.examplesMessage("Draw a digit on the pad first, then add it.");
      return;
    }
    const drawing = { label, width: this.pad.width, height: this.pad.height, pixels: this.pad.pixels() };
    let added;
    try {
      added = await this.#give(drawing);
    } catch (err) {
      this.view.examplesMessage(`Not added: ${err.message}.`);
      return;
    }
    let refused = "";
    try {
      added.key = await KeptDrawings.keep(drawing);
    } catch (err) {
      refused = err.name === "QuotaExceededError" ? "its storage is full" : err.message;
    }
    this.view.setExamples(
      this.added,
      refused && `This browser could not keep this drawing for your next visit (${refused}): it is gone when you leave.`,
    );
  }

  /** Give the drawings kept on an earlier visit back to Python. */
  async restore() {
    const { drawings, dropped } = await KeptDrawings.load();
    for (const d of drawings) {
      try {
        (await this.#give(d)).key = d.key;
      } catch (err) {
        if (err.kind === "invalid") KeptDrawings.remove([d.key]); // Python refuses it: not a drawing
      }
    }
    if (!drawings.length && !dropped) return;
    const lost = dropped === 1 ? "A kept drawing" : `${dropped} kept drawings`;
    this.view.setExamples(this.added, dropped ? `${lost} could not be read and ${dropped === 1 ? "was" : "were"} dropped.` : "");
  }

  async clear() {
    await this.api.call("clearExamples").catch(() => {});
    KeptDrawings.remove();
    this.added = [];
    this.view.setExamples(this.added);
  }

  /** Add a drawing in the worker: its entry in `added`. */
  async #give({ label, width, height, pixels }) {
    const copy = pixels.slice(); // moved to the worker; the original is kept
    const r = await this.api.call("addExample", { pixels: copy, width, height, label }, [copy.buffer]);
    const entry = { seen: r.seen, label: r.label, key: null };
    this.added.push(entry);
    return entry;
  }
}
