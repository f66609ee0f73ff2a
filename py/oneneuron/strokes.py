"""Stroke evening: thicken thin strokes and thin thick ones on the 24×24 binary
input, so that a pen's width matters less (``Preprocess.stroke``). The width of a
stroke is measured as 2 · area / perimeter.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

STROKE_BAND = (0.25, 0.75)  # the band kept as drawn: the middle half of the widths


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


def even_strokes(
    pipeline: Any, X: np.ndarray, band: tuple[float, float] = STROKE_BAND
) -> Any:
    """``pipeline`` (a Preprocess) with the stroke band (low, high) of inputs X
    [N, 576] made without stroke evening: the ``band`` quantiles of their widths."""
    widths = stroke_width(X.reshape(len(X), 24, 24))
    low, high = (float(v) for v in np.quantile(widths, band))
    return replace(pipeline, stroke=(low, high))


def apply_strokes(X: np.ndarray, pipeline: Any) -> np.ndarray:
    """Inputs X [N, 576] made by ``pipeline`` without its stroke step, with it:
    exactly ``pipeline.to_input`` of the images, whose last step it is."""
    even = normalise(X.reshape(len(X), 24, 24), *pipeline.stroke)
    return even.reshape(len(X), -1).astype(np.uint8)


def augment(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Binary inputs X [N, 576] and labels y, followed by each input thickened and
    each thinned (where thinning keeps at least half its ink, as :func:`normalise`
    does): the same digits as other pens would write them.

    Examples
    --------
    >>> X = np.zeros((2, 576), np.uint8)
    >>> X[:, 200:203] = 1
    >>> Xa, ya = augment(X, np.array([1, 7]))
    >>> Xa.shape, ya.tolist()
    ((4, 576), [1, 7, 1, 7])
    """
    images = np.asarray(X, bool).reshape(len(X), 24, 24)
    thinned = thin(images)
    kept = thinned.sum(axis=(1, 2)) >= 0.5 * images.sum(axis=(1, 2))
    out = np.concatenate([images, thicken(images), thinned[kept]])
    labels = np.concatenate([y, y, np.asarray(y)[kept]])
    return out.reshape(len(out), -1).astype(np.asarray(X).dtype), labels
