"""Turn a grayscale image of any size into the 24×24 binary input the neuron reads.

The same pipeline prepares the MNIST training images and the drawings on the page,
so training and drawing never disagree. It follows what MNIST itself did: take the
bounding box of the ink, scale it so that its longer side is 20 px (keeping the
aspect ratio, averaging areas so thin strokes are not lost), place it in the grid
by its centre of mass, then threshold to 0/1. Optionally the image is first
sheared upright (:func:`deskew`), and the strokes of the 0/1 input are evened out
(:func:`normalise`).

A :class:`Preprocess` holds these choices; it is part of a model (weights files
record it), and ``Preprocess()`` is the plain pipeline of format-1 weights files.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

GRID = 24  # the input is GRID × GRID pixels
BOX = 20  # the longer side of the ink's bounding box after scaling
THRESHOLD = 0.35  # ink level (0–1) at or above which a pixel is 1; chosen on validation
SHOW = 64  # steps(): larger images are area-downsampled to at most this side
_CHUNK = 2048  # images per vectorised step: bounds memory at about 40 MB
_FIELDS = ("deskew", "threshold", "grid", "box", "stroke")  # Preprocess.to_dict keys


class PreprocessError(ValueError):
    """A preprocessing setting is refused; ``field`` names it ("preprocess.box")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _number(v: Any) -> bool:
    real = isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
    return real and math.isfinite(v)


def _integer(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


# One table of constraints: field → (check, what it must be).
_RULES: dict[str, tuple[Any, str]] = {
    "deskew": (lambda v: isinstance(v, bool), "must be true or false"),
    "threshold": (lambda v: _number(v) and 0 < v <= 1, "must be in (0, 1]"),
    "grid": (lambda v: _integer(v) and v == GRID, f"must be {GRID}"),
    "box": (
        lambda v: _integer(v) and 1 <= v <= GRID,
        f"must be a whole number from 1 to {GRID}",
    ),
    "stroke.low": (
        lambda v: _number(v) and 0 < v <= GRID,
        f"must be a finite number in (0, {GRID}]",
    ),
    "stroke.high": (
        lambda v: _number(v) and 0 < v <= GRID,
        f"must be a finite number in (0, {GRID}]",
    ),
}


def _check(name: str, value: Any) -> None:
    check, rule = _RULES[name]
    if not check(value):
        raise PreprocessError(
            f"preprocess.{name}", f"preprocess.{name} {rule}, got {_show(value)}"
        )


@dataclass(frozen=True)
class Preprocess:
    """How a model's 24×24 binary input is made from a grayscale image.

    Parameters
    ----------
    deskew : bool
        Shear the image upright (:func:`deskew`) before the rest.
    threshold : float
        Ink level in (0, 1] at or above which a pixel of the input is 1.
    box : int
        The longer side of the ink's bounding box after scaling, 1 to 24 px.
    stroke : (low, high) or None
        Even out the strokes of the 24×24 binary input (:func:`normalise`):
        thicken those whose width (2·area/perimeter) is below ``low``, thin those
        above ``high``, never removing more than half a digit's ink. None: as drawn.
        ``0 < low ≤ high ≤ 24``.

    Examples
    --------
    >>> p = Preprocess(deskew=True, threshold=0.5)
    >>> p.key()
    'deskew-t0.5-b20'
    >>> Preprocess.from_dict(p.to_dict()) == p
    True
    >>> img = np.zeros((28, 28), np.uint8)
    >>> img[4:24, 12:16] = 255
    >>> bool((Preprocess().to_input(img) == to_input(img)).all())
    True
    """

    deskew: bool = False
    threshold: float = THRESHOLD
    box: int = BOX
    stroke: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _check("deskew", self.deskew)
        _check("threshold", self.threshold)
        _check("box", self.box)
        object.__setattr__(self, "threshold", float(self.threshold))
        object.__setattr__(self, "box", int(self.box))
        stroke = self.stroke
        if stroke is not None:
            pair = isinstance(stroke, (tuple, list, np.ndarray)) and len(stroke) == 2
            if not pair:
                raise PreprocessError(
                    "preprocess.stroke",
                    "preprocess.stroke must be null or a pair (low, high), "
                    f"got {_show(stroke)}",
                )
            low, high = stroke
            _check("stroke.low", low)
            _check("stroke.high", high)
            if low > high:
                raise PreprocessError(
                    "preprocess.stroke.high",
                    f"preprocess.stroke.high must be ≥ stroke.low ({_show(low)}), "
                    f"got {_show(high)}",
                )
            object.__setattr__(self, "stroke", (float(low), float(high)))

    def to_input(self, images: Any) -> np.ndarray:
        """One grayscale image or a batch → 24×24 binary inputs.

        Parameters
        ----------
        images : array of shape (H, W) or (N, H, W)
            Ink is bright: integers from 0 to 255 (MNIST, canvas alpha) or floats
            from 0 to 1. Any size of at least 1×1.

        Returns
        -------
        numpy.ndarray of uint8, shape (24, 24) or (N, 24, 24)
            Zeros and ones. An image with no ink gives all zeros.
        """
        a = _validate(images)
        single = a.ndim == 2
        if single:
            a = a[None]
        if a.shape[0] <= _CHUNK:  # bool 0/1 bytes read as uint8: no copy
            out = self._run(a).view(np.uint8)
            return out[0] if single else out
        out = np.empty((a.shape[0], GRID, GRID), np.uint8)
        for start in range(0, a.shape[0], _CHUNK):
            chunk = a[start : start + _CHUNK]
            out[start : start + _CHUNK] = self._run(chunk)
        return out[0] if single else out

    def steps(self, image: Any) -> list[dict]:
        """The stages of :meth:`to_input` for one image, in the order they run.

        Each stage is ``{"step": key, "image": float32 2-D array 0–1, ...}``:
        "ink" (the image; images with a side over 64 px are area-downsampled for
        showing, here and in the next two stages), "deskewed" (only with
        ``deskew``), "box" (the same with ``"box": [top, left, bottom, right]``,
        the ink's bounding box in the shown image's pixels, bottom and right
        exclusive; None when there is no ink), "scaled" (the box scaled so that
        its longer side is ``box`` px), "placed" (24×24 ink placed by its centre
        of mass), "thresholded" (24×24 0/1, with ``"threshold"``) and "strokes"
        (only with ``stroke``: with ``"stroke_width"`` before and ``"change"``:
        "thickened", "thinned" or "kept"). The last image equals
        ``to_input(image)`` exactly: both run the same code.

        Examples
        --------
        >>> img = np.zeros((28, 28), np.uint8)
        >>> img[4:24, 12:16] = 255
        >>> [s["step"] for s in Preprocess().steps(img)]
        ['ink', 'box', 'scaled', 'placed', 'thresholded']
        """
        a = _validate(image)
        if a.ndim != 2:
            raise ValueError(
                f"steps shows one image of shape (H, W), got shape {a.shape}"
            )
        trace: list[dict] = []
        self._run(a[None], trace)
        return trace

    def _run(self, a: np.ndarray, trace: list[dict] | None = None) -> np.ndarray:
        """The pipeline on a batch of validated images; ``trace`` collects stages."""
        g = _ink(a)
        if trace is not None:
            trace.append(_shown("ink", g[0]))
            trace[-1].pop("factor")
        if self.deskew:
            # Integer images: rounded to whole levels 0–255, as deskew() gives them.
            g = _shear(g, levels=a.dtype.kind in "biu")
            if trace is not None:
                trace.append(_shown("deskewed", g[0]))
                trace[-1].pop("factor")
        binary = _place(g, self.threshold, self.box, trace)
        if self.stroke is not None:
            before = binary
            binary = normalise(binary, *self.stroke)
            if trace is not None:
                grown = int(binary.sum()) - int(before.sum())
                trace.append(
                    {
                        "step": "strokes",
                        "image": binary[0].astype(np.float32),
                        "stroke_width": float(stroke_width(before)[0]),
                        "change": "thickened"
                        if grown > 0
                        else ("thinned" if grown < 0 else "kept"),
                    }
                )
        return binary

    def to_dict(self) -> dict:
        """The JSON form written in weights files (format 2's "preprocess").

        Examples
        --------
        >>> Preprocess().to_dict()
        {'deskew': False, 'threshold': 0.35, 'grid': 24, 'box': 20, 'stroke': None}
        """
        stroke = self.stroke
        return {
            "deskew": self.deskew,
            "threshold": self.threshold,
            "grid": GRID,
            "box": self.box,
            "stroke": None if stroke is None else {"low": stroke[0], "high": stroke[1]},
        }

    @classmethod
    def from_dict(cls, d: Any) -> Preprocess:
        """Read :meth:`to_dict`'s form, checking every field; errors name it.

        Examples
        --------
        >>> try:
        ...     Preprocess.from_dict({**Preprocess().to_dict(), "threshold": 2})
        ... except ValueError as e:
        ...     print(e)
        preprocess.threshold must be in (0, 1], got 2
        """
        if not isinstance(d, dict):
            raise PreprocessError(
                "preprocess",
                f"preprocess must be an object with {', '.join(_FIELDS)}, "
                f"got {_show(d)}",
            )
        missing = [k for k in _FIELDS if k not in d]
        if missing:
            raise PreprocessError(
                "preprocess",
                f"preprocess is missing the field(s): {', '.join(missing)}",
            )
        unknown = sorted(map(str, set(d) - set(_FIELDS)))
        if unknown:
            raise PreprocessError(
                "preprocess",
                f"preprocess has unknown field(s): {_clip(', '.join(unknown))}",
            )
        _check("grid", d["grid"])
        stroke = d["stroke"]
        if stroke is not None:
            if not (isinstance(stroke, dict) and set(stroke) == {"low", "high"}):
                raise PreprocessError(
                    "preprocess.stroke",
                    'preprocess.stroke must be null or {"low": number, "high": '
                    f"number}}, got {_show(stroke)}",
                )
            stroke = (stroke["low"], stroke["high"])
        return cls(
            deskew=d["deskew"], threshold=d["threshold"], box=d["box"], stroke=stroke
        )

    def key(self) -> str:
        """A short stable text id, e.g. "deskew-t0.5-b20-s3.6-5.1".

        Examples
        --------
        >>> Preprocess().key()
        'plain-t0.35-b20'
        """
        parts = ["deskew" if self.deskew else "plain", f"t{self.threshold:g}"]
        parts.append(f"b{self.box}")
        if self.stroke is not None:
            parts.append(f"s{self.stroke[0]:g}-{self.stroke[1]:g}")
        return "-".join(parts)

    def describe(self) -> str:
        """One sentence a person reads: what is done to an image, in order.

        Examples
        --------
        >>> Preprocess(deskew=True).describe()[:60]
        'The image is sheared upright (deskewed), then its ink is box'
        """
        first = (
            "The image is sheared upright (deskewed), then its ink"
            if self.deskew
            else "The ink"
        )
        text = (
            f"{first} is boxed, scaled so that its longer side is {self.box} px, "
            f"placed in the {GRID}×{GRID} grid by its centre of mass, and every pixel "
            f"with at least {self.threshold:.0%} ink becomes 1"
        )
        if self.stroke is not None:
            low, high = self.stroke
            text += (
                "; then its strokes are thickened where their width "
                f"(2·area/perimeter) is under {low:.2f} and thinned where over "
                f"{high:.2f}"
            )
        return text + "."


def to_input(images: np.ndarray, *, threshold: float = THRESHOLD) -> np.ndarray:
    """Preprocess one grayscale image or a batch into 24×24 binary inputs.

    The plain pipeline: ``Preprocess(threshold=threshold).to_input(images)``.

    Parameters
    ----------
    images : array of shape (H, W) or (N, H, W)
        Ink is bright: integers from 0 to 255 (MNIST, canvas alpha) or floats from
        0 to 1. Any size of at least 1×1.
    threshold : float
        Ink level, from 0 (exclusive) to 1, at or above which a pixel becomes 1.

    Returns
    -------
    numpy.ndarray of uint8, shape (24, 24) or (N, 24, 24)
        Zeros and ones. An image with no ink gives all zeros.

    Examples
    --------
    >>> img = np.zeros((28, 28), np.uint8)
    >>> img[4:24, 12:16] = 255  # a vertical bar: a "1"
    >>> x = to_input(img)
    >>> x.shape, int(x.sum()), int(x[:, 12].sum())
    ((24, 24), 80, 20)
    """
    return Preprocess(threshold=threshold).to_input(images)


def _validate(images: object) -> np.ndarray:
    """Check the input at the boundary (values are converted chunk by chunk later)."""
    a = np.asarray(images)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"image must hold numbers, got dtype {a.dtype}")
    if a.ndim not in (2, 3) or 0 in a.shape:
        raise ValueError(
            f"image must have shape (H, W) or (N, H, W) with H, W ≥ 1, got {a.shape}"
        )
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or a.min(initial=0) < 0 or a.max(initial=0) > 1:
            raise ValueError("a float image must hold finite values from 0 to 1")
    elif (
        a.dtype.kind in "iu"
        and a.dtype != np.uint8  # always in range: no need to look
        and (a.min(initial=0) < 0 or a.max(initial=0) > 255)
    ):
        raise ValueError("an integer image must hold values from 0 to 255")
    return a


def _ink(a: np.ndarray) -> np.ndarray:
    """Validated images as float64 ink levels in [0, 1]."""
    if a.dtype.kind in "iu":
        return a / 255.0  # float64, as astype(float64) / 255 but in one pass
    return a.astype(np.float64, copy=False)


def _place(
    g: np.ndarray, threshold: float, box: int, trace: list[dict] | None
) -> np.ndarray:
    """Box, scale, place by centre of mass, threshold: float images → 0/1 [n, 24, 24].

    With ``trace`` (one image), each stage is appended as :meth:`Preprocess.steps`
    describes.
    """
    _, h, w = g.shape
    # Ink levels are ≥ 0, so a row (column) holds ink exactly when its sum is > 0.
    per_row = g.sum(axis=2)  # [n, h]
    rows = per_row > 0
    empty = ~rows.any(axis=1)
    top = rows.argmax(axis=1)
    bottom = h - rows[:, ::-1].argmax(axis=1)
    # Below, only the rows y0:y1 and columns x0:x1 that hold ink in some image of
    # the batch (all of them when one is empty) are read: the rest are zero. Sums
    # that add term after term (the column sums here; the matrix products without
    # a BLAS, as in Pyodide, and OpenBLAS's kernels) are the same to the last bit
    # without zero terms. Pairwise sums along a row are not, so those see it whole.
    y0, y1 = int(top.min()), int(bottom.max())
    per_col = g[:, y0:y1].sum(axis=1)  # [n, w], row after row
    cols = per_col > 0
    left = cols.argmax(axis=1)
    right = w - cols[:, ::-1].argmax(axis=1)
    x0, x1 = int(left.min()), int(right.max())
    scale = box / np.maximum(bottom - top, right - left)  # [n]
    if trace is not None:
        # The image is the previous stage's (g unchanged): shown the same way.
        f = _factor(h, w)
        shown = {"step": "box", "image": trace[-1]["image"].copy()}
        corners = [top[0] / f, left[0] / f, bottom[0] / f, right[0] / f]
        shown["box"] = None if empty[0] else [float(v) for v in corners]
        trace.append(shown)
        size = np.ceil(np.array([bottom - top, right - left])[:, 0] * scale[0] - 1e-9)
        zero = np.zeros(1)
        sy = _resample(top[:1], scale[:1], zero, np.arange(y0, y1), int(size[0]))
        sx = _resample(left[:1], scale[:1], zero, np.arange(x0, x1), int(size[1]))
        scaled = (sy @ g[:1, y0:y1, x0:x1] @ sx.transpose(0, 2, 1))[0]
        trace.append(
            {"step": "scaled", "image": _image(scaled), "scale": float(scale[0])}
        )

    # Centre of mass in source pixels, then the integer offset that puts it at the
    # grid's centre, kept so that the whole scaled box stays inside the grid; rows
    # (index 0) and columns (index 1) together.
    mass = np.maximum(g.sum(axis=(1, 2)), 1e-12)
    com = np.array([per_row @ (np.arange(h) + 0.5), per_col @ (np.arange(w) + 0.5)])
    start, stop = np.array([top, left]), np.array([bottom, right])  # [2, n]
    offset = _offset(com / mass, start, stop, scale)
    src = np.arange(max(y1 - y0, x1 - x0)) + np.array([[[[y0]]], [[[x0]]]])
    weights = _resample(start, scale, offset, src)  # [2, n, GRID, ≥ y1 - y0, x1 - x0]
    wy, wx = weights[0, :, :, : y1 - y0], weights[1, :, :, : x1 - x0]
    # [n, GRID, GRID]: area-averaged ink
    ink = wy @ g[:, y0:y1, x0:x1] @ wx.transpose(0, 2, 1)
    # A tiny tolerance so that rounding in the averages (which differs between BLAS
    # builds, e.g. CPython and Pyodide) cannot flip a pixel that sits on the threshold.
    binary = ink >= threshold - 1e-9
    binary[empty] = False
    if trace is not None:
        placed = np.where(empty[0], 0.0, ink[0])
        trace.append({"step": "placed", "image": _image(placed)})
        trace.append(
            {
                "step": "thresholded",
                "image": binary[0].astype(np.float32),
                "threshold": threshold,
            }
        )
    return binary


def _offset(com: np.ndarray, start: np.ndarray, stop: np.ndarray, scale: np.ndarray):
    """Integer grid offset of the box so that the centre of mass lands mid-grid."""
    size = (stop - start) * scale
    # Rounded to 9 decimals first: the centre of mass is a sum whose last bits
    # depend on the order the BLAS adds in (CPython and Pyodide differ), and a
    # centre exactly half-way between two offsets (common: ink levels are k/255)
    # must round the same way in both.
    want = np.rint((GRID / 2 - (com - start) * scale).round(9))
    return np.clip(want, 0, np.maximum(GRID - np.ceil(size - 1e-9), 0))


def _resample(start, scale, offset, src, out: int = GRID) -> np.ndarray:
    """Area-weight matrices [..., out, len(src)] mapping the source pixels ``src``
    (indices on the last axis) of images ``start``/``scale``/``offset`` [..., n]
    onto ``out`` pixels."""
    s = scale[..., None, None]
    i = np.arange(out)[:, None]  # output pixel i covers [i, i + 1) in the grid
    lo = start[..., None, None] + (i - offset[..., None, None]) / s
    hi = lo + 1 / s
    overlap = np.minimum(hi, src + 1)  # source pixel y covers [y, y + 1)
    overlap -= np.maximum(lo, src)
    np.maximum(overlap, 0, out=overlap)
    overlap *= s
    return overlap


def _image(a: np.ndarray) -> np.ndarray:
    """A stage's picture: float32 from 0 to 1."""
    return np.clip(a, 0.0, 1.0).astype(np.float32)


def _shown(step: str, g: np.ndarray) -> dict:
    """A source-sized stage, area-downsampled by a whole factor to a side ≤ SHOW."""
    h, w = g.shape
    f = _factor(h, w)
    if f > 1:
        padded = np.zeros((math.ceil(h / f) * f, math.ceil(w / f) * f))
        padded[:h, :w] = g
        g = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f)
        g = g.mean(axis=(1, 3))
    return {"step": step, "image": _image(g), "factor": f}


def _factor(h: int, w: int) -> int:
    """The whole factor by which :func:`_shown` downsamples an h × w image."""
    return max(1, math.ceil(max(h, w) / SHOW))


def _show(v: Any) -> str:
    """A value as one short line of text for an error message."""
    try:
        text = json.dumps(v, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(v) if not isinstance(v, int) else "a very long integer"
    return _clip(text)


def _clip(text: str) -> str:
    """At most 60 characters of ``text`` (an error message stays one short line)."""
    return text if len(text) <= 60 else text[:57] + "…"


def deskew(images: np.ndarray) -> np.ndarray:
    """Shear each image so that its ink's principal axis is vertical (MNIST's step).

    From the image moments (ink as mass): the centre of mass (cy, cx), the variance
    of the rows ``mu02 = Σ I·(y − cy)²`` and the covariance
    ``mu11 = Σ I·(x − cx)(y − cy)``. The skew ``mu11 / mu02`` is how far the ink
    leans to the right per row down; each row y is moved left by
    ``skew · (y − cy)``, resampled by linear interpolation (ink shifted past an
    edge is lost, nothing wraps). The centre row stays where it is, and an image
    with no ink, or with ink on one row only, is returned unchanged.

    Parameters
    ----------
    images : array of shape (H, W) or (N, H, W)
        Ink is bright: integers from 0 to 255 or floats from 0 to 1, as for
        :func:`to_input`, which is meant to read the result.

    Returns
    -------
    numpy.ndarray of the input's shape
        uint8 from 0 to 255 for integer images (rounded), float64 from 0 to 1 for
        float images.

    Examples
    --------
    >>> img = np.zeros((28, 28), np.uint8)
    >>> for y in range(4, 24):  # a stroke leaning right by 1/2 pixel a row
    ...     img[y, 14 - (y - 14) // 2] = 255
    >>> straight = deskew(img)
    >>> sorted({int(x) for x in img.nonzero()[1]}) == list(range(10, 20))
    True
    >>> sorted({int(x) for x in straight.nonzero()[1]})  # upright: two columns
    [14, 15]
    """
    a = _validate(images)
    single = a.ndim == 2
    if single:
        a = a[None]
    integer = a.dtype.kind in "biu"
    out = np.empty(a.shape, np.uint8 if integer else np.float64)
    for start in range(0, a.shape[0], _CHUNK):
        stop = start + _CHUNK
        sheared = _shear(_ink(a[start:stop]))
        out[start:stop] = np.rint(sheared * 255) if integer else sheared
    return out[0] if single else out


def _shear(g: np.ndarray, levels: bool = False) -> np.ndarray:
    """Vectorised body of :func:`deskew` for a batch of float ink levels [n, h, w];
    ``levels``: rounded to whole levels k/255 (as an integer image keeps them)."""
    n, h, w = g.shape
    y = np.arange(h, dtype=np.float64)
    x = np.arange(w, dtype=np.float64)
    rows = g.sum(axis=2)  # [n, h]: ink per row
    out = np.zeros((n, h, w))
    inked = np.flatnonzero(rows.any(axis=0))
    if inked.size == 0:
        return out
    # Rows t:b hold all the ink of the batch; the others stay zero under the shear
    # and add nothing to the column sums (added row after row: the same bits).
    t, b = int(inked[0]), int(inked[-1]) + 1
    mass = rows.sum(axis=1)  # [n]
    safe = np.where(mass > 0, mass, 1.0)
    per_col = g[:, t:b].sum(axis=1)  # [n, w]
    cy = rows @ y / safe
    cx = per_col @ x / safe
    dy = y[None, :] - cy[:, None]  # [n, h]
    mu02 = (rows * dy**2).sum(axis=1)
    mu11 = ((g @ x - cx[:, None] * rows) * dy).sum(axis=1)  # Σ_y dy·Σ_x I·(x − cx)
    # Ink on a single row has no vertical extent to lean against: no shear.
    flat_ink = mu02 <= 1e-12 * safe
    skew = np.where(flat_ink, 0.0, mu11 / np.where(flat_ink, 1.0, mu02))
    # Output pixel (y, x) takes the source at (y, x + shift) with one shift per
    # row: whole pixels `step` plus a fraction `frac` for the linear interpolation.
    shift = (skew[:, None] * dy[:, t:b]).reshape(-1, 1)  # [n·(b − t), 1]
    step = np.floor(shift)
    frac = shift - step
    # Only output columns whose two source pixels can reach an inked column
    # (c0:c1) can be nonzero.
    inked = np.flatnonzero(per_col.any(axis=0))
    c0, c1 = int(inked[0]), int(inked[-1]) + 1
    lo = min(max(c0 - 1 - int(step.max()), 0), w)
    hi = max(min(c1 - int(step.min()), w), lo)
    # Two zero columns on each side stand for everything beyond the edges.
    padded = np.zeros((len(shift), w + 4))
    padded[:, 2 : w + 2] = g[:, t:b].reshape(-1, w)
    left = np.arange(lo, hi) + step.astype(np.int64)
    np.minimum(left, w, out=left)
    np.maximum(left, -2, out=left)
    left += 2 + (np.arange(len(shift)) * (w + 4))[:, None]
    flat = padded.ravel()
    sheared = flat[left] * (1 - frac) + flat[1:][left] * frac  # left, left + 1
    # Every value is ≥ 0 and at most 1 + 2⁻⁵² (a weighted mean of values ≤ 1), so
    # rounding to levels needs no clip first: it gives the same whole numbers.
    if levels:
        np.rint(sheared * 255, out=sheared)
        sheared /= 255.0
    else:
        np.clip(sheared, 0.0, 1.0, out=sheared)  # and -0.0 (from -0.0 ink) to 0.0
    out[:, t:b, lo:hi] = sheared.reshape(n, b - t, hi - lo)
    return out


def stroke_width(X: np.ndarray) -> np.ndarray:
    """Stroke width measure of binary inputs [N, H, W]: 2 · area / perimeter.

    The perimeter is half the number of pixel edges between ink and paper (the
    border counts as paper): for a long stroke that is about its length, so the
    measure is about twice the pen width in pixels. An input without ink gives 0.

    Examples
    --------
    >>> x = np.zeros((1, 24, 24), np.uint8)
    >>> x[0, 2:22, 10:13] = 1  # a bar 3 px wide, 20 long: 60 / 23 edges ⋅ 2
    >>> stroke_width(x).round(2).tolist()
    [5.22]
    """
    X = np.asarray(X, bool)
    return _width(_framed(X), X.sum(axis=(1, 2)))


def _framed(X: np.ndarray) -> np.ndarray:
    """Bool inputs [N, H, W] inside a one-pixel border of paper [N, H + 2, W + 2]."""
    n, h, w = X.shape
    p = np.zeros((n, h + 2, w + 2), bool)
    p[:, 1:-1, 1:-1] = X
    return p


def _width(p: np.ndarray, area: np.ndarray) -> np.ndarray:
    """:func:`stroke_width` of framed inputs ``p`` whose ink counts are ``area``."""
    edges = (p[:, 1:, :] != p[:, :-1, :]).sum(axis=(1, 2))
    edges = edges + (p[:, :, 1:] != p[:, :, :-1]).sum(axis=(1, 2))
    return 2 * area / np.maximum(edges / 2, 1)


def thicken(X: np.ndarray) -> np.ndarray:
    """Add every pixel 4-adjacent to ink (a one-pixel dilation) of inputs [N, H, W]."""
    X = np.asarray(X, bool)
    out = X.copy()
    out[:, 1:] |= X[:, :-1]
    out[:, :-1] |= X[:, 1:]
    out[:, :, 1:] |= X[:, :, :-1]
    out[:, :, :-1] |= X[:, :, 1:]
    return out


def thin(X: np.ndarray) -> np.ndarray:
    """Keep only ink whose four neighbours are all ink (a one-pixel erosion; the
    border counts as paper) of inputs [N, H, W]."""
    return _thin(_framed(np.asarray(X, bool)))


def _thin(p: np.ndarray) -> np.ndarray:
    """:func:`thin` of framed inputs ``p``."""
    c = p[:, 1:-1, 1:-1]
    return c & p[:, :-2, 1:-1] & p[:, 2:, 1:-1] & p[:, 1:-1, :-2] & p[:, 1:-1, 2:]


def normalise(X: np.ndarray, low: float, high: float) -> np.ndarray:
    """Even out stroke widths of binary inputs [N, H, W] (bool result).

    Inputs whose :func:`stroke_width` is below ``low`` are thickened, those above
    ``high`` thinned, unless thinning would remove more than half their ink (a
    digit is never erased); the rest are kept as they are.

    Examples
    --------
    >>> x = np.zeros((1, 24, 24), bool)
    >>> x[0, 2:22, 11] = True  # a hairline
    >>> int(normalise(x, 2.0, 4.0).sum())  # thickened to three columns and caps
    62
    """
    X = np.asarray(X, bool)
    p = _framed(X)
    area = X.sum(axis=(1, 2))
    width = _width(p, area)
    out = X.copy()
    narrow, wide = width < low, width > high
    if narrow.any():
        out[narrow] = thicken(X[narrow])
    if wide.any():
        thinned = _thin(p[wide])
        keep = thinned.sum(axis=(1, 2)) >= 0.5 * area[wide]
        out[np.flatnonzero(wide)[keep]] = thinned[keep]  # never erase a digit
    return out
