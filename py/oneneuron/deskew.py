"""Deskewing: shear each image so that its ink stands upright, as MNIST's own
preprocessing did (LeCun et al.); a model may ask for it (``Preprocess.deskew``).
"""

from __future__ import annotations

import numpy as np

from .images import ink, validate

CHUNK = 2048  # images per vectorised step: bounds memory at about 40 MB


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
    a = validate(images)
    single = a.ndim == 2
    if single:
        a = a[None]
    integer = a.dtype.kind in "biu"
    out = np.empty(a.shape, np.uint8 if integer else np.float64)
    for start in range(0, a.shape[0], CHUNK):
        stop = start + CHUNK
        sheared = shear(ink(a[start:stop]))
        out[start:stop] = np.rint(sheared * 255) if integer else sheared
    return out[0] if single else out


def shear(g: np.ndarray, levels: bool = False) -> np.ndarray:
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
