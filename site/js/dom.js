// Small DOM helpers the page's modules share.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A promise that resolves at the next animation frame. */
export const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

/**
 * Fill a <dl> with one <dt>/<dd> pair per row: [term, ...content], where content is
 * text (set as text, never parsed as HTML) or nodes.
 */
export function fillDefinitions(dl, rows) {
  dl.replaceChildren(
    ...rows.flatMap(([term, ...content]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.append(...content.map((c) => (c instanceof Node ? c : String(c))));
      return [dt, dd];
    }),
  );
}

/** A button with a label for screen readers and a tooltip. */
export function button(className, label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.setAttribute("aria-label", label);
  b.title = label;
  b.addEventListener("click", onClick);
  return b;
}
