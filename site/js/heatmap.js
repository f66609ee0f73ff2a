// 24 × 24 maps drawn on canvases: the input the neuron sees, its weights, and the
// contribution of each pixel (w ⊙ x). Weights use a diverging, colour-blind-safe
// colormap (ColorBrewer PuOr, 11 classes): purple for weights that push away from
// the digit, white for zero, orange for weights that push towards it.

export const GRID = 24;
export const N = GRID * GRID; // the neuron's inputs (576), one per square of the grid

// ColorBrewer PuOr, from most negative (purple) to most positive (orange).
const STOPS = [
  "#2d004b", "#542788", "#8073ac", "#b2abd2", "#d8daeb", "#f7f7f7",
  "#fee0b6", "#fdb863", "#e08214", "#b35806", "#7f3b08",
].map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));

const GUTTER = [226, 228, 236, 255]; // between tiles: the cards' lines (base.css --line)

// 511 entries: index 255 is zero, 0 is −scale, 510 is +scale.
const LUT = (() => {
  const lut = new Uint8ClampedArray(511 * 3);
  for (let i = 0; i < 511; i++) {
    const t = (i / 510) * (STOPS.length - 1);
    const k = Math.min(STOPS.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = STOPS[k][c] + f * (STOPS[k + 1][c] - STOPS[k][c]);
  }
  return lut;
})();

function imageOf(canvas) {
  const ctx = canvas.getContext("2d");
  if (!canvas._image) canvas._image = ctx.createImageData(GRID, GRID);
  return { ctx, image: canvas._image };
}

/** Pixel j (an index into RGBA data d) in the colour of value v on this scale. */
function diverging(d, j, v, scale) {
  const k = Math.round(255 + 255 * Math.max(-1, Math.min(1, v / scale))) * 3;
  d[j] = LUT[k];
  d[j + 1] = LUT[k + 1];
  d[j + 2] = LUT[k + 2];
  d[j + 3] = 255;
}

/**
 * Paint N values (from values[offset]) with the diverging colormap.
 * Where mask is given and mask[i] is 0, the pixel is left pale: not part of the sum.
 */
export function paintDiverging(canvas, values, offset, scale, mask = null) {
  const { ctx, image } = imageOf(canvas);
  const d = image.data;
  for (let i = 0; i < N; i++) {
    const j = i * 4;
    if (mask && !mask[i]) {
      d[j] = d[j + 1] = d[j + 2] = 250;
      d[j + 3] = 255;
      continue;
    }
    diverging(d, j, values[offset + i], scale);
  }
  ctx.putImageData(image, 0, 0);
}

/** The grid that `count` tiles are shown in: as square as it goes, row by row. */
export function tileGrid(count) {
  const cols = Math.max(1, Math.ceil(Math.sqrt(count)));
  return { cols, rows: Math.max(1, Math.ceil(count / cols)) };
}

/**
 * Paint `count` maps of N values each (a layer's weights, neuron after neuron) on
 * one canvas, as the tiles of tileGrid(count), `gap` px of paper between them: one
 * canvas, however many neurons (many canvases cost a compositor resource each).
 */
export function paintTiles(canvas, values, count, scale, gap = 0) {
  const { cols, rows } = tileGrid(count);
  const w = cols * (GRID + gap) - gap;
  const h = rows * (GRID + gap) - gap;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  const d = image.data;
  d.set(GUTTER); // between the tiles: one pixel, copied in doubling runs
  for (let n = 4; n < d.length; n *= 2) d.copyWithin(n, 0, Math.min(n, d.length - n));
  for (let k = 0, i = 0; k < count; k++) {
    const x0 = (k % cols) * (GRID + gap);
    const y0 = Math.floor(k / cols) * (GRID + gap);
    for (let y = y0; y < y0 + GRID; y++) {
      for (let j = (y * w + x0) * 4, end = j + 4 * GRID; j < end; j += 4) diverging(d, j, values[i++], scale);
    }
  }
  ctx.putImageData(image, 0, 0);
}

/** Paint a 0/1 input: ink black on white paper. */
export function paintBinary(canvas, bits) {
  const { ctx, image } = imageOf(canvas);
  const d = image.data;
  for (let i = 0; i < N; i++) {
    const v = bits && bits[i] ? 22 : 255;
    const j = i * 4;
    d[j] = d[j + 1] = d[j + 2] = v;
    d[j + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

/** Paint ink levels from 0 to `full` (any size of canvas): ink dark on white paper,
 * as the 0/1 grids are. */
export function paintGray(canvas, values, full = 1) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(canvas.width, canvas.height);
  const d = image.data;
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(255 - 233 * Math.min(1, Math.max(0, values[i] / full)));
    d[4 * i] = d[4 * i + 1] = d[4 * i + 2] = v;
    d[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

/** Paint the colormap's legend: a horizontal gradient from −scale to +scale. */
export function paintLegend(canvas) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  const image = ctx.createImageData(w, 1);
  for (let x = 0; x < w; x++) {
    const k = Math.round((x / (w - 1)) * 510) * 3;
    image.data.set([LUT[k], LUT[k + 1], LUT[k + 2], 255], x * 4);
  }
  for (let y = 0; y < canvas.height; y++) ctx.putImageData(image, 0, y);
}

// Thumbnails are images painted once on one scratch canvas: a page of canvases would
// each need a compositor resource, and committing dozens in one frame is a long task.
const scratch = document.createElement("canvas");

/** What paint(canvas) draws on an h × w canvas, as an <img>. */
function asImage(h, w, paint) {
  if (scratch.width !== w || scratch.height !== h) {
    scratch.width = w; // each painter writes every pixel: no need to clear it
    scratch.height = h;
  }
  paint(scratch);
  const img = document.createElement("img");
  img.src = scratch.toDataURL();
  img.width = w;
  img.height = h;
  return img;
}

/** A 24×24 image of 0/1 bits, as an <img> (decorative without a label). */
export function thumbnail(bits, label = null) {
  const img = asImage(GRID, GRID, (c) => paintBinary(c, bits));
  img.alt = label || "";
  if (!label) img.setAttribute("aria-hidden", "true");
  return img;
}

/** A raw h × w image (uint8 ink levels, ink bright) as an <img>: ink dark on paper. */
export function grayThumbnail(pixels, h, w) {
  return asImage(h, w, (c) => paintGray(c, pixels, 255));
}

/** A 24×24 canvas for a heatmap, labelled as an image or hidden. */
export function canvas24(label = null) {
  const c = document.createElement("canvas");
  c.width = c.height = GRID;
  if (label) {
    c.setAttribute("role", "img");
    c.setAttribute("aria-label", label);
  } else {
    c.setAttribute("aria-hidden", "true");
  }
  return c;
}
