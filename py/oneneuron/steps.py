"""The steps of preprocessing as pictures a person reads: the page's "How the neuron
sees your drawing". Each stage runs the code :meth:`Preprocess.to_input` runs (the
same functions, on one image) and adds a picture and a caption; none of this runs
when no picture is asked for.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .checks import plain
from .images import ink, validate
from .preprocess import GRID, Frame, Preprocess, _resample, place
from .strokes import normalise, stroke_width

SHOW = 64  # larger images are area-downsampled to at most this side for showing
CHANGES = {
    "thickened": "Thin strokes thickened",
    "thinned": "Wide strokes thinned",
    "kept": "Strokes kept as they are",
}


def steps(p: Preprocess, image: Any) -> list[dict]:
    """The stages of ``p.to_input(image)`` for one image, in the order they run.

    Each stage is ``{"step": key, "caption": what a person reads, "image": float32
    2-D array 0–1, "frame": the side of the square it is shown in, ...}``: "ink"
    (the image; a side over 64 px is area-downsampled for showing, here and in the
    next two stages), "deskewed" (only with ``deskew``), "box" (the same with
    ``"box": [top, left, bottom, right]``, the ink's bounding box in the shown
    image's pixels, bottom and right exclusive; None when there is no ink),
    "scaled" (the box scaled so that its longer side is ``box`` px, with its
    ``scale``), "placed" (24×24 ink placed by its centre of mass), "thresholded"
    (24×24 0/1, with ``"threshold"``) and "strokes" (only with ``stroke``: with
    ``"stroke_width"`` before and ``"change"``: "thickened", "thinned" or "kept").
    The last image equals ``p.to_input(image)`` exactly.

    Examples
    --------
    >>> img = np.zeros((28, 28), np.uint8)
    >>> img[4:24, 12:16] = 255
    >>> steps(Preprocess(), img)[-1]["caption"]
    'Every square with at least 35 % ink becomes 1'
    """
    a = validate(image)
    if a.ndim != 2:
        raise ValueError(f"steps shows one image of shape (H, W), got shape {a.shape}")
    a = a[None]
    g = p.ink(a)  # deskewed, if p deskews
    shown = [_stage("ink", "Your ink, as drawn", _downsample(ink(a)[0]))]
    if p.deskew:
        shown.append(
            _stage("deskewed", "Sheared upright (deskewed)", _downsample(g[0]))
        )
    f = Frame(g)
    factor = _factor(*a.shape[1:])
    corners = [f.top[0], f.left[0], f.bottom[0], f.right[0]]
    box = None if f.empty[0] else [float(v) / factor for v in corners]
    shown.append(_stage("box", "The box around the ink", shown[-1]["image"], box=box))
    scale = f.scale(p.box)
    sides = np.array([f.bottom - f.top, f.right - f.left])[:, 0] * scale[0]
    size = np.ceil(sides - 1e-9).astype(int)
    zero = np.zeros(1)
    sy = _resample(f.top[:1], scale[:1], zero, np.arange(f.y0, f.y1), size[0])
    sx = _resample(f.left[:1], scale[:1], zero, np.arange(f.x0, f.x1), size[1])
    scaled = (sy @ f.window(g)[:1] @ sx.transpose(0, 2, 1))[0]
    caption = f"Scaled so its longer side is {p.box} px"
    shown.append(_stage("scaled", caption, scaled, scale=float(scale[0])))
    placed, empty = place(g, f, p.box)
    caption = f"Placed in the {GRID} × {GRID} grid by its centre of mass"
    shown.append(_stage("placed", caption, np.where(empty[0], 0.0, placed[0])))
    binary = p.threshold_ink(placed, empty)
    caption = f"Every square with at least {round(100 * p.threshold)} % ink becomes 1"
    shown.append(_stage("thresholded", caption, binary[0], threshold=p.threshold))
    if p.stroke is not None:
        even = normalise(binary, *p.stroke)
        grown = int(even.sum()) - int(binary.sum())
        change = "thickened" if grown > 0 else ("thinned" if grown < 0 else "kept")
        width = float(stroke_width(binary)[0])
        shown.append(
            _stage(
                "strokes", CHANGES[change], even[0], stroke_width=width, change=change
            )
        )
    return shown


def flat(p: Preprocess, image: Any) -> list[dict]:
    """:func:`steps` as the page receives them: each picture as float32 [h·w] with
    its ``height`` and ``width``, every other value a plain number or text."""
    out = []
    for stage in steps(p, image):
        picture = stage.pop("image")
        h, w = picture.shape
        extras = {k: plain(v) for k, v in stage.items()}
        out.append(
            {**extras, "image": picture.reshape(-1).copy(), "height": h, "width": w}
        )
    return out


def _stage(step: str, caption: str, image: np.ndarray, **extra: Any) -> dict:
    """One stage: its picture as float32 from 0 to 1, and ``frame``, the side of
    the square it is shown in, in its own pixels: the grid's for the stages on the
    grid (the scaled box too), the picture's longer side for the others."""
    picture = np.clip(np.asarray(image, np.float64), 0.0, 1.0).astype(np.float32)
    on_grid = step in ("scaled", "placed", "thresholded", "strokes")
    frame = GRID if on_grid else max(picture.shape)
    return {"step": step, "caption": caption, "image": picture, "frame": frame, **extra}


def _downsample(g: np.ndarray) -> np.ndarray:
    """A source-sized image, area-downsampled by a whole factor to a side ≤ SHOW."""
    h, w = g.shape
    f = _factor(h, w)
    if f == 1:
        return g
    padded = np.zeros((math.ceil(h / f) * f, math.ceil(w / f) * f))
    padded[:h, :w] = g
    return padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f).mean((1, 3))


def _factor(h: int, w: int) -> int:
    """The whole factor by which :func:`_downsample` shrinks an h × w image."""
    return max(1, math.ceil(max(h, w) / SHOW))
