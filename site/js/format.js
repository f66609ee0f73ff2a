// Numbers as the page writes them: a true minus sign, tabular digits, honest percents.

const SUB = "₀₁₂₃₄₅₆₇₈₉";

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
