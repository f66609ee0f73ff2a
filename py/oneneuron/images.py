"""How an image enters the package: an array checked at the boundary, or a file.

An image is grayscale with bright ink: integers 0–255 (MNIST, a canvas's alpha) or
floats 0–1, of any size. :func:`validate` checks an array once, :func:`ink` turns it
into float ink levels; :func:`read_image` reads a picture file (the CLI's
``predict``), whatever its bit depth, into the same uint8 form.
"""

from __future__ import annotations

import io
import sys
from typing import Any

import numpy as np

from .checks import whole

# What read_image reads: the formats, the largest file and the largest side in pixels
# (the page's canvas limit too; 4096 × 4096 is 16 Mpx, about 0.2 GB while read).
IMAGE_FORMATS = ("PNG", "PPM", "BMP", "JPEG")  # Pillow's names; PPM covers PGM, PBM
MAX_IMAGE_BYTES = 64 * 2**20
MAX_IMAGE_SIDE = 4096
# The full range of Pillow's deeper modes: 16-bit PNGs and PGMs (whatever their
# maxval, Pillow scales it to 16 bits) read as "I;16…" or "I" with levels 0–65535,
# float images as "F" with levels 0–1.
FULL_RANGE = {"I": 65535, "F": 1.0}


def validate(images: object) -> np.ndarray:
    """Check an image or a batch at the boundary: (H, W) or (N, H, W), numbers,
    integers 0–255 or floats 0–1. Returns it as an array (values are converted
    chunk by chunk later)."""
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


def ink(a: np.ndarray) -> np.ndarray:
    """Validated images as float64 ink levels in [0, 1]."""
    if a.dtype.kind in "iu":
        return a / 255.0  # float64, as astype(float64) / 255 but in one pass
    return a.astype(np.float64, copy=False)


def from_canvas(pixels: Any, height: int, width: int) -> np.ndarray:
    """A canvas's ink levels (its alpha: bytes-like, row by row) as a uint8
    [height, width] image, checked."""
    height = whole(height, "height", 1, MAX_IMAGE_SIDE)
    width = whole(width, "width", 1, MAX_IMAGE_SIDE)
    try:
        flat = np.frombuffer(pixels, np.uint8)
    except TypeError:
        flat = np.asarray(pixels, np.uint8).reshape(-1)
    if flat.size != height * width:
        raise ValueError(
            f"pixels must hold height × width = {height * width} values, "
            f"got {flat.size}"
        )
    return flat.reshape(height, width)


def read_image(source: str) -> np.ndarray:
    """An image file (or '-' for stdin) as uint8 grayscale with bright ink.

    A transparent image's alpha channel is the ink; otherwise the gray levels are,
    inverted when the paper (the border of the image) is light. 16-bit images are
    scaled by their format's full range (:data:`FULL_RANGE`), so a 16-bit copy of
    an 8-bit picture reads exactly as the picture. The size is checked from the
    header, before any pixel is decoded.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    name = "standard input" if source == "-" else source
    try:
        if source == "-":
            raw = sys.stdin.buffer.read(MAX_IMAGE_BYTES + 1)
        else:
            with open(source, "rb") as f:
                raw = f.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read image {name}: {exc.strerror or exc}") from None
    if not raw:
        raise ValueError(f"image {name} is empty")
    if len(raw) > MAX_IMAGE_BYTES:
        raise ValueError(
            f"image {name} is over {MAX_IMAGE_BYTES // 2**20} MiB: "
            "a picture of a digit needs far less (scale it down)"
        )
    limit = f"over the limit of {MAX_IMAGE_SIDE} × {MAX_IMAGE_SIDE} pixels"
    unreadable = f"cannot read image {name}: not a PNG, PGM/PPM, BMP or JPEG file"
    errors = (UnidentifiedImageError, OSError, SyntaxError, ValueError)
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 Mpx (and fails from 179 Mpx); we stop far sooner.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw), formats=IMAGE_FORMATS)  # header only
    except Image.DecompressionBombError:
        raise ValueError(f"image {name} is {limit}: scale it down") from None
    except errors as exc:
        raise ValueError(f"{unreadable} ({exc})") from None
    with img:
        width, height = img.size
        if max(width, height) > MAX_IMAGE_SIDE:
            raise ValueError(
                f"image {name} is {width} × {height} pixels, {limit}: scale it down"
            )
        try:
            return _gray(img)
        except errors as exc:
            raise ValueError(f"{unreadable} ({exc})") from None


def _gray(img: Any) -> np.ndarray:
    """A Pillow image, not yet decoded, as uint8 ink levels (bright ink)."""
    deep = FULL_RANGE.get(img.mode.split(";")[0])
    if deep is not None:
        # Deeper than 8 bits: levels out of the format's full range, as 8 bits would
        # hold them (converting to "L" would clip every level above 255 to white).
        levels = np.nan_to_num(np.asarray(img, np.float64), nan=0, posinf=0, neginf=0)
        levels = np.clip(levels, 0, deep)
        gray = np.rint(levels * (255 / deep)).astype(np.uint8)
    else:
        img.load()
        has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        if has_alpha:
            alpha = np.asarray(img.convert("RGBA").getchannel("A"))
            if alpha.min() < 255:
                return alpha
        gray = np.asarray(img.convert("L"))
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 255 - gray if border.mean() > 127 else gray
