// The digit the person says the drawing is ("This drawing is a …"): one value, which
// every select that asks it shows (beside the answer, where a drawing is added to the
// training set). A change in any of them is the change of all, and a "change" event.

export class DrawingLabel extends EventTarget {
  constructor(selects) {
    super();
    this.selects = selects;
    this.value = Number(selects[0].value);
    for (const s of selects) {
      s.value = String(this.value);
      s.addEventListener("change", () => this.set(Number(s.value)));
    }
  }

  /** The drawing is digit d. */
  set(d) {
    if (d === this.value) return;
    this.value = d;
    for (const s of this.selects) s.value = String(d);
    this.dispatchEvent(new Event("change"));
  }
}
