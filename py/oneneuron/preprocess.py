"""Turn a grayscale image of any size into the 24×24 binary input the neuron reads.

The same function prepares the MNIST training images and the drawings on the page,
so training and drawing never disagree. It follows what MNIST itself did: take the
bounding box of the ink, scale it so that its longer side is 20 px (keeping the
aspect ratio, averaging areas so thin strokes are not lost), place it in the grid
by its centre of mass, then threshold to 0/1.
"""

from __future__ import annotations

import numpy as np

GRID = 24  # the input is GRID × GRID pixels
BOX = 20  # the longer side of the ink's bounding box after scaling
THRESHOLD = 0.35  # ink level (0–1) at or above which a pixel is 1; chosen on validation
_CHUNK = 2048  # images per vectorised step: bounds memory at about 40 MB


def to_input(images: np.ndarray, *, threshold: float = THRESHOLD) -> np.ndarray:
    """Preprocess one grayscale image or a batch into 24×24 binary inputs.

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
    a = _validate(images, threshold)
    single = a.ndim == 2
    if single:
        a = a[None]
    out = np.empty((a.shape[0], GRID, GRID), np.uint8)
    for start in range(0, a.shape[0], _CHUNK):
        stop = start + _CHUNK
        out[start:stop] = _preprocess(_ink(a[start:stop]), threshold)
    return out[0] if single else out


def _validate(images: object, threshold: float) -> np.ndarray:
    """Check the input at the boundary (values are converted chunk by chunk later)."""
    ok = isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
    if not (ok and 0 < threshold <= 1):
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
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
    elif a.dtype.kind in "iu" and (a.min(initial=0) < 0 or a.max(initial=0) > 255):
        raise ValueError("an integer image must hold values from 0 to 255")
    return a


def _ink(a: np.ndarray) -> np.ndarray:
    """Validated images as float64 ink levels in [0, 1]."""
    if a.dtype.kind in "iu":
        return a.astype(np.float64) / 255.0
    return a.astype(np.float64, copy=False)


def _preprocess(g: np.ndarray, threshold: float) -> np.ndarray:
    """Vectorised body of :func:`to_input` for a batch of float images."""
    _, h, w = g.shape
    rows = (g > 0).any(axis=2)  # [n, h]: which rows hold ink
    cols = (g > 0).any(axis=1)  # [n, w]
    empty = ~rows.any(axis=1)
    top = rows.argmax(axis=1)
    bottom = h - rows[:, ::-1].argmax(axis=1)
    left = cols.argmax(axis=1)
    right = w - cols[:, ::-1].argmax(axis=1)
    scale = BOX / np.maximum(bottom - top, right - left)  # [n]

    # Centre of mass in source pixels, then the integer offset that puts it at the
    # grid's centre, kept so that the whole scaled box stays inside the grid.
    mass = np.maximum(g.sum(axis=(1, 2)), 1e-12)
    com_y = g.sum(axis=2) @ (np.arange(h) + 0.5) / mass
    com_x = g.sum(axis=1) @ (np.arange(w) + 0.5) / mass
    off_y = _offset(com_y, top, bottom, scale)
    off_x = _offset(com_x, left, right, scale)

    wy = _resample(top, scale, off_y, h)  # [n, GRID, h]
    wx = _resample(left, scale, off_x, w)  # [n, GRID, w]
    ink = wy @ g @ wx.transpose(0, 2, 1)  # [n, GRID, GRID], area-averaged ink
    # A tiny tolerance so that rounding in the averages (which differs between BLAS
    # builds, e.g. CPython and Pyodide) cannot flip a pixel that sits on the threshold.
    binary = ink >= threshold - 1e-9
    binary[empty] = False
    return binary


def _offset(com: np.ndarray, start: np.ndarray, stop: np.ndarray, scale: np.ndarray):
    """Integer grid offset of the box so that the centre of mass lands mid-grid."""
    size = (stop - start) * scale
    want = np.rint(GRID / 2 - (com - start) * scale)
    return np.clip(want, 0, np.maximum(GRID - np.ceil(size - 1e-9), 0))


def _resample(start, scale, offset, size: int) -> np.ndarray:
    """Area-weight matrices mapping ``size`` source pixels onto the GRID, per image."""
    i = np.arange(GRID)[None, :, None]  # output pixel i covers [i, i + 1) in the grid
    lo = start[:, None, None] + (i - offset[:, None, None]) / scale[:, None, None]
    hi = lo + 1 / scale[:, None, None]
    src = np.arange(size)[None, None, :]  # source pixel y covers [y, y + 1)
    overlap = np.minimum(hi, src + 1) - np.maximum(lo, src)
    return np.clip(overlap, 0, None) * scale[:, None, None]


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
    a = _validate(images, THRESHOLD)
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


def _shear(g: np.ndarray) -> np.ndarray:
    """Vectorised body of :func:`deskew` for a batch of float ink levels [n, h, w]."""
    n, h, w = g.shape
    y = np.arange(h, dtype=np.float64)
    x = np.arange(w, dtype=np.float64)
    rows = g.sum(axis=2)  # [n, h]: ink per row
    mass = rows.sum(axis=1)  # [n]
    safe = np.where(mass > 0, mass, 1.0)
    cy = rows @ y / safe
    cx = g.sum(axis=1) @ x / safe
    dy = y[None, :] - cy[:, None]  # [n, h]
    mu02 = np.sum(rows * dy**2, axis=1)
    mu11 = np.sum((g @ x - cx[:, None] * rows) * dy, axis=1)  # Σ_y dy·Σ_x I·(x − cx)
    # Ink on a single row has no vertical extent to lean against: no shear.
    flat_ink = mu02 <= 1e-12 * safe
    skew = np.where(flat_ink, 0.0, mu11 / np.where(flat_ink, 1.0, mu02))
    # Output pixel (y, x) takes the source at (y, x + shift) with one shift per
    # row: whole pixels `step` plus a fraction `frac` for the linear interpolation.
    shift = (skew[:, None] * dy).reshape(n * h, 1)
    step = np.floor(shift)
    frac = shift - step
    # Two zero columns on each side stand for everything beyond the edges.
    padded = np.zeros((n * h, w + 4))
    padded[:, 2 : w + 2] = g.reshape(n * h, w)
    left = np.clip(np.arange(w)[None, :] + step.astype(np.int64), -2, w) + 2
    left += (np.arange(n * h) * (w + 4))[:, None]
    flat = padded.ravel()
    out = flat[left] * (1 - frac) + flat[left + 1] * frac
    return np.clip(out, 0.0, 1.0).reshape(n, h, w)
