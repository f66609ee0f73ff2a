// Numbers as the page writes them: a true minus sign, tabular digits, honest percents.

const SUB = "₀₁₂₃₄₅₆₇₈₉";
const SUP = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/** A number with a fixed number of decimals and a real minus sign: −1.234. */
export function num(v, decimals = 3) {
  if (!Number.isFinite(v)) return "–";
  const text = Math.abs(v).toFixed(decimals);
  const zero = Number(text) === 0;
  return (v < 0 && !zero ? "−" : "") + text;
}

/** A signed number: +1.234 or −1.234. */
export function signed(v, decimals = 3) {
  if (!Number.isFinite(v)) return "–";
  const text = num(v, decimals);
  return text.startsWith("−") || Number(Math.abs(v).toFixed(decimals)) === 0 ? text : `+${text}`;
}

/** A probability in percent, never rounding to a certainty it does not have. */
export function percent(p) {
  if (!Number.isFinite(p)) return "–";
  const v = p * 100;
  if (v > 0 && v < 0.05) return "<0.1";
  if (v < 100 && v >= 99.95) return ">99.9";
  return v.toFixed(1);
}

/** A probability to four decimals, or in powers of ten below 0.001: 0.0269, 3.2 × 10⁻⁵. */
export function prob(q) {
  if (!Number.isFinite(q)) return "–";
  if (q === 0 || q >= 0.001) return q.toFixed(4);
  const [m, e] = q.toExponential(1).split("e");
  return `${m} × 10${e.replace(/[-0-9]/g, (c) => SUP[c])}`;
}

/** A digit as a subscript: 3 → ₃. */
export function sub(d) {
  return String(d).replace(/[0-9]/g, (c) => SUB[Number(c)]);
}

/** A digit with its article, as a sentence says it: "a 6", "an 8". */
export function aDigit(d) {
  return `${Number(d) === 8 ? "an" : "a"} ${d}`;
}

/** A whole number with thousands separators: 60,000. */
export function whole(n) {
  return Math.round(n).toLocaleString("en");
}

/**
 * A field's text as a number when it reads as one (an integer's without thousands
 * separators: "60,000"); else the text, for Python to refuse by name.
 */
export function parse(text, integer = false) {
  const t = integer ? text.replace(/[,_\s]/g, "") : text.trim();
  if (t === "") return t;
  const n = Number(t);
  return Number.isNaN(n) && t.toLowerCase() !== "nan" ? t : n;
}
