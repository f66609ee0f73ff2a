// The model a training run made: the worker holds it under the name "trained" as the
// active model, its weights file is kept in localStorage until Reset (so a reload
// brings it back), and its test images can be inspected one at a time.

const STORE = "oneneuron.trained"; // {version, label, text}: the trained weights file
const NAME = "trained"; // the name the worker keeps the trained model under

// Why the trained model could not be kept, in a sentence's words.
const why = (err) => (err.name === "QuotaExceededError" ? "its storage is full" : err.message);

export class TrainedModel {
  /** onModel(model_info, models): the page shows that model as the active one. */
  constructor({ api, view, onModel }) {
    this.api = api;
    this.view = view;
    this.onModel = onModel;
    this.name = NAME;
    this.model = null; // model_info of the trained model, once there is one
  }

  /** A finished run's answer (trainFinish): its model becomes the active one. */
  adopt(res) {
    this.model = res.model;
    this.onModel(res.model, res.models);
  }

  /** Keep the trained model for the next visit; null, or why it could not be kept. */
  async save() {
    try {
      await this.#write(this.model.label);
      return null;
    } catch (err) {
      this.discard(); // not an older model in its place on reload
      return why(err);
    }
  }

  // The trained model's weights file, as Python exports it, into localStorage.
  async #write(label) {
    const text = await this.api.call("export", { name: NAME });
    localStorage.setItem(STORE, JSON.stringify({ version: 1, label, text }));
  }

  /**
   * A step taught to the trained model (or undone): its kept file follows, so that a
   * reload brings back the weights the page shows. Where it cannot be written, the
   * file kept before stays (the model as trained). Null, or why it was not kept.
   */
  async taught(model) {
    if (model.name !== NAME) return null;
    this.model = model;
    try {
      await this.#write(model.label);
      return null;
    } catch (err) {
      return why(err);
    }
  }

  /** Bring back the model trained on an earlier visit, if one was kept. */
  async restore() {
    let saved = null;
    try {
      saved = localStorage.getItem(STORE);
    } catch {
      return false; // storage is off: nothing was kept
    }
    if (saved === null) return false;
    try {
      saved = JSON.parse(saved);
    } catch {
      saved = null;
    }
    if (!saved || typeof saved.text !== "string") {
      this.discard(); // not what save writes: nothing to bring back
      return false;
    }
    try {
      const label = typeof saved.label === "string" ? saved.label : null;
      this.adopt(await this.api.call("loadWeights", { text: saved.text, name: NAME, label }));
      this.view.message.textContent = "The neuron you trained last time is back: this browser keeps it until Reset.";
      return true;
    } catch (err) {
      this.discard();
      this.view.message.textContent =
        `The model kept from last time could not be loaded (${err.message}); it was dropped.`;
      return false;
    }
  }

  /** The kept file goes, at once (Reset: a reload right after brings nothing back). */
  discard() {
    try {
      localStorage.removeItem(STORE);
    } catch {
      // storage is off altogether: nothing was kept
    }
  }

  /** Reset, after discard: the worker forgets the model, and another becomes the active one. */
  async forget() {
    // none held (no run finished yet): Python refuses, and nothing changes
    const res = await this.api.call("forget", { name: NAME }).catch(() => null);
    if (res && res.model) this.onModel(res.model, res.models);
    this.model = null;
  }

  /** One test image as the trained model reads it (the results' inspector). */
  async inspect(index) {
    if (!this.model) return;
    try {
      this.view.report.inspect(await this.api.call("inspect", { index, name: NAME }), this.model);
    } catch (err) {
      this.view.message.textContent = `Could not show that image: ${err.message}`;
    }
  }
}
