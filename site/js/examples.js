// Your own drawings, labelled and added to the next training run: the pad's pixels go
// to the worker, which keeps them as the 0/1 inputs it shows back (view.setExamples).

export class Examples {
  constructor({ api, pad, view }) {
    this.api = api;
    this.pad = pad;
    this.view = view;
    this.added = []; // {seen, label} of the drawings added
  }

  /** Add what is on the pad, labelled `label`. */
  async add(label) {
    if (this.pad.empty) {
      this.view.examplesMessage("Draw a digit on the pad first, then add it.");
      return;
    }
    const pixels = this.pad.pixels();
    try {
      const r = await this.api.call(
        "addExample",
        { pixels, width: this.pad.width, height: this.pad.height, label },
        [pixels.buffer],
      );
      this.added.push({ seen: r.seen, label: r.label });
      this.view.setExamples(this.added);
    } catch (err) {
      this.view.examplesMessage(`Not added: ${err.message}.`);
    }
  }

  async clear() {
    await this.api.call("clearExamples").catch(() => {});
    this.added = [];
    this.view.setExamples(this.added);
  }
}
