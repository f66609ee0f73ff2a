// Small DOM helpers the page's modules share.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A promise that resolves at the next animation frame. */
export const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

/**
 * A promise that resolves once the next frame has been rendered (a task after the
 * frame); at most 100 ms, since a hidden page has no frames.
 */
export const afterFrame = () =>
  new Promise((resolve) => {
    const late = setTimeout(resolve, 100);
    requestAnimationFrame(() => {
      clearTimeout(late);
      setTimeout(resolve, 0);
    });
  });

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

/** A new element with this class (optional) and text (optional, set as text). */
export function element(tag, className = "", text = null) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== null) el.textContent = text;
  return el;
}

// Unicode sub- and superscripts (format.js: sub, prob), as runs
const SCRIPTS = /([₀-₉]+|[⁰¹²³⁴-⁹⁻]+)/u;

/**
 * Set an element's text, its Unicode sub- and superscripts written as <sub> and <sup>
 * of plain digits ("z₆" → z<sub>6</sub>); nothing changes when the text is the same.
 * Many fonts (Arial, Georgia, Liberation) have no subscript digits, and the first
 * search for a font that has them (fontconfig on Linux) made showing the hidden layer
 * a 50-75 ms task; plain digits are in every font.
 */
export function setText(el, text) {
  if (el.scriptText === text) return;
  el.scriptText = text;
  el.replaceChildren(
    ...text
      .split(SCRIPTS)
      .map((part, i) => (i % 2 ? element(/[₀-₉]/u.test(part) ? "sub" : "sup", "", part.normalize("NFKC")) : part))
      .filter((part) => part !== ""),
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

/**
 * The Python that trains (oneneuron.train.rule_source: its gradient and its step, each
 * {name, file, line, source, path}) in the <code> elements #<prefix>-gradient and
 * #<prefix>-update, and where each lives in #<prefix>-gradient-where and so on.
 */
export function showRule(rule, prefix) {
  for (const key of ["gradient", "update"]) {
    const r = rule[key];
    $(`${prefix}-${key}`).textContent = r.source.trimEnd();
    const where = $(`${prefix}-${key}-where`);
    where.textContent = `${r.file}, line ${r.line}`;
    where.title = `${r.name} in ${r.path || r.file}`;
  }
}

const sheets = new Map(); // href → a promise: the stylesheet is in the page

/**
 * Add the stylesheet at `url` to the page, once; resolves when it has loaded, or
 * failed (what it styles then shows unstyled rather than not at all).
 */
export function stylesheet(url) {
  const href = String(url);
  if (!sheets.has(href)) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    sheets.set(
      href,
      new Promise((resolve) => {
        link.addEventListener("load", resolve, { once: true });
        link.addEventListener("error", resolve, { once: true });
      }),
    );
    document.head.append(link);
  }
  return sheets.get(href);
}
