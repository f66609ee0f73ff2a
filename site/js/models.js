// The model switch, the model card, and loading / saving weights files (picker, drag
// and drop, download). DOM only. Labels and file names may come from a file a person
// loaded: they are set with textContent, never parsed as HTML.

import { $, fillDefinitions } from "./dom.js";

/** A model's weights in short (model_info): two models with the same key answer alike. */
export const modelKey = (model) =>
  JSON.stringify([model.name, model.label, model.scale, model.bias, model.output?.bias ?? null]);

export class ModelsView {
  constructor({ onSelect, onImport, onExport }) {
    this.switch = $("model-switch");
    this.card = $("model-card");
    this.messageEl = $("model-message");
    this.exportButton = $("export");
    this.input = $("import");
    this.names = [];
    this.onSelect = onSelect;

    this.switch.addEventListener("change", (e) => {
      if (e.target.name === "model") onSelect(e.target.value);
    });
    this.exportButton.addEventListener("click", () => onExport());
    this.input.addEventListener("change", () => {
      const file = this.input.files && this.input.files[0];
      this.input.value = ""; // choosing the same file again still reports a change
      if (file) onImport(file);
    });
    this.#dropTarget(onImport);
  }

  enable(on) {
    this.exportButton.disabled = !on;
    this.input.disabled = !on;
    for (const r of this.switch.querySelectorAll("input")) r.disabled = !on;
  }

  /** The switch: one option per model held by the worker. */
  setModels(models) {
    const names = models.map((m) => `${m.name}\u0000${m.label}`);
    if (names.join("\u0001") !== this.names.join("\u0001")) {
      this.names = names;
      const legend = this.switch.querySelector("legend");
      this.switch.replaceChildren(legend);
      for (const m of models) {
        const label = document.createElement("label");
        label.className = "switch-option";
        const input = document.createElement("input");
        input.type = "radio";
        input.name = "model";
        input.value = m.name;
        const text = document.createElement("span");
        text.textContent = m.label;
        label.append(input, text);
        this.switch.append(label);
      }
    }
    for (const m of models) {
      const input = [...this.switch.querySelectorAll("input")].find((i) => i.value === m.name);
      if (input) input.checked = m.active;
    }
  }

  /** The card: where the weights came from and how well they do. */
  setCard(model) {
    const rows = [["Model", model.label], ...model.summary];
    fillDefinitions(this.card, rows);
  }

  message(text, kind = "error") {
    this.messageEl.dataset.kind = kind;
    this.messageEl.textContent = text;
  }

  /** Offer text as a file download. */
  download(text, filename) {
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  #dropTarget(onImport) {
    const body = document.body;
    let depth = 0;
    const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
    document.addEventListener("dragenter", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth += 1;
      body.classList.add("dragging");
    });
    document.addEventListener("dragover", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = this.input.disabled ? "none" : "copy";
    });
    document.addEventListener("dragleave", (e) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) body.classList.remove("dragging");
    });
    document.addEventListener("drop", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      body.classList.remove("dragging");
      const file = e.dataTransfer.files[0];
      if (file && !this.input.disabled) onImport(file);
    });
  }
}
