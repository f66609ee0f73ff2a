"""Turn a grayscale image of any size into the 24×24 binary input the neuron reads.

The same pipeline prepares the MNIST training images and the drawings on the page,
so training and drawing never disagree. It follows what MNIST itself did: take the
bounding box of the ink, scale it so that its longer side is 20 px (keeping the
aspect ratio, averaging areas so thin strokes are not lost), place it in the grid
by its centre of mass, then threshold to 0/1. Optionally the image is first
sheared upright (deskew.py), and the strokes of the 0/1 input are evened out
(strokes.py). The pictures of each step for a person are steps.py's.

A :class:`Preprocess` holds these choices; it is part of a model (weights files
record it), and ``Preprocess()`` is the plain pipeline of format-1 weights files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .checks import clip, is_integer, is_number, show
from .deskew import CHUNK, shear
from .images import ink, validate
from .strokes import normalise

GRID = 24  # the input is GRID × GRID pixels
BOX = 20  # the longer side of the ink's bounding box after scaling
THRESHOLD = 0.35  # ink level (0–1) at or above which a pixel is 1; chosen on validation
_FIELDS = ("deskew", "threshold", "grid", "box", "stroke")  # Preprocess.to_dict keys


class PreprocessError(ValueError):
    """A preprocessing setting is refused; ``field`` names it ("preprocess.box")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# One table of constraints: field → (check, what it must be).
_RULES: dict[str, tuple[Any, str]] = {
    "deskew": (lambda v: isinstance(v, bool), "must be true or false"),
    "threshold": (lambda v: is_number(v) and 0 < v <= 1, "must be in (0, 1]"),
    "grid": (lambda v: is_integer(v) and v == GRID, f"must be {GRID}"),
    "box": (
        lambda v: is_integer(v) and 1 <= v <= GRID,
        f"must be a whole number from 1 to {GRID}",
    ),
    "stroke.low": (
        lambda v: is_number(v) and 0 < v <= GRID,
        f"must be a finite number in (0, {GRID}]",
    ),
    "stroke.high": (
        lambda v: is_number(v) and 0 < v <= GRID,
        f"must be a finite number in (0, {GRID}]",
    ),
}


def _check(name: str, value: Any) -> None:
    check, rule = _RULES[name]
    if not check(value):
        raise PreprocessError(
            f"preprocess.{name}", f"preprocess.{name} {rule}, got {show(value)}"
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
                    f"got {show(stroke)}",
                )
            low, high = stroke
            _check("stroke.low", low)
            _check("stroke.high", high)
            if low > high:
                raise PreprocessError(
                    "preprocess.stroke.high",
                    f"preprocess.stroke.high must be ≥ stroke.low ({show(low)}), "
                    f"got {show(high)}",
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
        a = validate(images)
        single = a.ndim == 2
        if single:
            a = a[None]
        if a.shape[0] <= CHUNK:  # bool 0/1 bytes read as uint8: no copy
            out = self._run(a).view(np.uint8)
            return out[0] if single else out
        out = np.empty((a.shape[0], GRID, GRID), np.uint8)
        for start in range(0, a.shape[0], CHUNK):
            chunk = a[start : start + CHUNK]
            out[start : start + CHUNK] = self._run(chunk)
        return out[0] if single else out

    def steps(self, image: Any) -> list[dict]:
        """The stages of :meth:`to_input` for one image, in the order they run, as
        pictures for a person with a caption each (:func:`oneneuron.steps.steps`).
        The last picture equals ``to_input(image)`` exactly: both run the same code.

        Examples
        --------
        >>> img = np.zeros((28, 28), np.uint8)
        >>> img[4:24, 12:16] = 255
        >>> [s["step"] for s in Preprocess().steps(img)]
        ['ink', 'box', 'scaled', 'placed', 'thresholded']
        """
        from .steps import steps

        return steps(self, image)

    def _run(self, a: np.ndarray) -> np.ndarray:
        """The pipeline on a batch of validated images: bool [n, 24, 24]."""
        g = self.ink(a)
        binary = self.threshold_ink(*place(g, Frame(g), self.box))
        if self.stroke is not None:
            binary = normalise(binary, *self.stroke)
        return binary

    def ink(self, a: np.ndarray) -> np.ndarray:
        """Validated images [n, h, w] as float ink levels, deskewed if asked for.
        Integer images are deskewed to whole levels 0–255, as deskew() gives them."""
        g = ink(a)
        return shear(g, levels=a.dtype.kind in "biu") if self.deskew else g

    def threshold_ink(self, placed: np.ndarray, empty: np.ndarray) -> np.ndarray:
        """Placed ink levels [n, 24, 24] → 0/1 (images without ink: all 0)."""
        # A tiny tolerance so that rounding in the averages (which differs between
        # BLAS builds, e.g. CPython and Pyodide) cannot flip a pixel on the threshold.
        binary = placed >= self.threshold - 1e-9
        binary[empty] = False
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
                f"got {show(d)}",
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
                f"preprocess has unknown field(s): {clip(', '.join(unknown))}",
            )
        _check("grid", d["grid"])
        stroke = d["stroke"]
        if stroke is not None:
            if not (isinstance(stroke, dict) and set(stroke) == {"low", "high"}):
                raise PreprocessError(
                    "preprocess.stroke",
                    'preprocess.stroke must be null or {"low": number, "high": '
                    f"number}}, got {show(stroke)}",
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


class Frame:
    """Where the ink is in a batch of images [n, h, w] of ink levels: each image's
    bounding box (top, bottom, left, right: [n], bottom and right exclusive), its
    row and column sums, and the rows y0:y1 and columns x0:x1 that hold ink in some
    image of the batch (all of them when one image is empty)."""

    def __init__(self, g: np.ndarray) -> None:
        _, h, w = g.shape
        # Ink levels are ≥ 0, so a row (column) holds ink exactly when its sum is > 0.
        self.per_row = g.sum(axis=2)  # [n, h]
        rows = self.per_row > 0
        self.empty = ~rows.any(axis=1)
        self.top = rows.argmax(axis=1)
        self.bottom = h - rows[:, ::-1].argmax(axis=1)
        # Below, only the rows y0:y1 and columns x0:x1 are read: the rest are zero.
        # Sums that add term after term (the column sums here; the matrix products
        # without a BLAS, as in Pyodide, and OpenBLAS's kernels) are the same to the
        # last bit without zero terms. Pairwise sums along a row are not, so those
        # see it whole.
        self.y0, self.y1 = int(self.top.min()), int(self.bottom.max())
        self.per_col = g[:, self.y0 : self.y1].sum(axis=1)  # [n, w], row after row
        cols = self.per_col > 0
        self.left = cols.argmax(axis=1)
        self.right = w - cols[:, ::-1].argmax(axis=1)
        self.x0, self.x1 = int(self.left.min()), int(self.right.max())

    def scale(self, box: int) -> np.ndarray:
        """Grid pixels per source pixel: the longer side of each box becomes ``box``."""
        return box / np.maximum(self.bottom - self.top, self.right - self.left)

    def window(self, g: np.ndarray) -> np.ndarray:
        """The part of ``g`` that holds ink: [n, y1 − y0, x1 − x0]."""
        return g[:, self.y0 : self.y1, self.x0 : self.x1]


def place(g: np.ndarray, f: Frame, box: int) -> tuple[np.ndarray, np.ndarray]:
    """Scale each box so its longer side is ``box`` px, place it by its centre of
    mass: area-averaged ink levels [n, 24, 24], and which images are empty [n]."""
    _, h, w = g.shape
    scale = f.scale(box)
    # Centre of mass in source pixels, then the integer offset that puts it at the
    # grid's centre, kept so that the whole scaled box stays inside the grid; rows
    # (index 0) and columns (index 1) together.
    mass = np.maximum(g.sum(axis=(1, 2)), 1e-12)
    com = np.array([f.per_row @ (np.arange(h) + 0.5), f.per_col @ (np.arange(w) + 0.5)])
    start = np.array([f.top, f.left])  # [2, n]
    stop = np.array([f.bottom, f.right])
    offset = _offset(com / mass, start, stop, scale)
    ny, nx = f.y1 - f.y0, f.x1 - f.x0
    src = np.arange(max(ny, nx)) + np.array([[[[f.y0]]], [[[f.x0]]]])
    weights = _resample(start, scale, offset, src)  # [2, n, GRID, ≥ ny, nx]
    wy, wx = weights[0, :, :, :ny], weights[1, :, :, :nx]
    return wy @ f.window(g) @ wx.transpose(0, 2, 1), f.empty


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
