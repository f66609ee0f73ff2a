"""deskew.deskew: shear each image upright, checked against a plain oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oneneuron.deskew import deskew


def moments(img: np.ndarray) -> tuple[float, float, float, float]:
    """Centre of mass (cy, cx), mu11 and mu02 of a float image, pixel by pixel."""
    h, w = img.shape
    mass = sy = sx = 0.0
    for y in range(h):
        for x in range(w):
            mass += img[y, x]
            sy += y * img[y, x]
            sx += x * img[y, x]
    cy, cx = sy / mass, sx / mass
    mu11 = mu02 = 0.0
    for y in range(h):
        for x in range(w):
            mu11 += (x - cx) * (y - cy) * img[y, x]
            mu02 += (y - cy) ** 2 * img[y, x]
    return cy, cx, mu11, mu02


def deskew_oracle(img: np.ndarray) -> np.ndarray:
    """The definition, one pixel at a time: out(y, x) = in(y, x + skew·(y − cy))."""
    h, w = img.shape
    cy, _, mu11, mu02 = moments(img)
    skew = mu11 / mu02
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            src = x + skew * (y - cy)
            left = math.floor(src)
            frac = src - left
            for k, weight in ((left, 1 - frac), (left + 1, frac)):
                if 0 <= k < w:
                    out[y, x] += weight * img[y, k]
    return out


def strokes(seed: int, n: int = 1, size: int = 28) -> np.ndarray:
    """Float images of a few slanted, anti-aliased strokes, like handwriting."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size))
    yy, xx = np.mgrid[:size, :size]
    for img in images:
        for _ in range(3):
            y0, y1 = sorted(rng.uniform(0.15 * size, 0.85 * size, 2))
            x0, x1 = rng.uniform(0.25 * size, 0.75 * size, 2)
            for t in np.linspace(0, 1, 40):
                y, x = y0 + t * (y1 - y0), x0 + t * (x1 - x0)
                img += np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 1.5)
        img /= img.max()
    return images


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_the_oracle(seed):
    img = strokes(seed)[0]
    assert abs(moments(img)[2]) > 1  # the test image does lean
    np.testing.assert_allclose(deskew(img), deskew_oracle(img), atol=1e-12)


def test_uint8_images_give_the_oracle_rounded():
    img = np.rint(strokes(4)[0] * 255).astype(np.uint8)
    want = np.rint(deskew_oracle(img / 255.0) * 255)
    got = deskew(img)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("lean", [-0.6, -0.25, 0.3, 0.7])
def test_a_sheared_bar_becomes_vertical(lean):
    # A bar 2 px wide, 18 rows tall, whose column moves by `lean` pixels per row.
    img = np.zeros((28, 28))
    for y in range(5, 23):
        x = 13 + lean * (y - 14)
        left = math.floor(x)
        img[y, left] += 1 - (x - left)
        img[y, left + 1] += 1
        img[y, left + 2] += x - left
    _, _, mu11, mu02 = moments(img)
    assert mu11 / mu02 == pytest.approx(lean, abs=0.02)
    out = deskew(img)
    _, _, mu11, mu02 = moments(out)
    assert abs(mu11 / mu02) < 1e-3
    assert out.sum() == pytest.approx(img.sum())  # nothing fell off the edges
    # Upright: every row's ink sits in the same columns as the centre row's.
    cols = {tuple(np.flatnonzero(row > 1e-9)) for row in out[5:23]}
    assert all(max(c) - min(c) <= 3 for c in cols)


def test_ink_pushed_past_an_edge_is_lost_not_wrapped():
    img = np.zeros((28, 28))
    img[np.arange(28), np.arange(28)] = 1.0  # leans by a whole pixel a row
    img[0, 27] = img[27, 0] = img[1, 0] = img[26, 27] = 0.6  # far off the axis
    out = deskew(img)
    np.testing.assert_allclose(out, deskew_oracle(img), atol=1e-12)
    assert out.sum() < img.sum() - 1


def test_an_upright_image_is_unchanged():
    img = np.zeros((28, 28), np.uint8)
    img[4:24, 12:15] = [100, 255, 100]
    np.testing.assert_array_equal(deskew(img), img)


def test_a_batch_is_the_images_one_by_one():
    # More than one chunk of the vectorised loop (2048 images a chunk).
    images = np.rint(np.tile(strokes(5, n=7, size=12), (300, 1, 1)) * 255)
    images = images.astype(np.uint8)
    images[[0, 2047, 2048]] = 0
    batch = deskew(images)
    assert batch.shape == images.shape and batch.dtype == np.uint8
    for i in [0, 1, 2, 3, 4, 5, 6, 2046, 2047, 2048, 2049, 2099]:
        np.testing.assert_array_equal(batch[i], deskew(images[i]))
    assert all(not np.array_equal(batch[i], images[i]) for i in range(1, 7))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_blank_stays_blank(dtype):
    out = deskew(np.zeros((3, 28, 28), dtype))
    assert out.shape == (3, 28, 28) and not out.any()


def test_ink_on_one_row_is_left_alone():
    img = np.zeros((28, 28))
    img[10, 3:20] = 0.8
    np.testing.assert_array_equal(deskew(img), img)


def test_float_in_float64_out():
    img = strokes(6)[0].astype(np.float32)
    out = deskew(img)
    assert out.dtype == np.float64 and out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (np.array([["a", "b"]]), "must hold numbers"),
        (np.zeros(28), r"shape \(H, W\) or \(N, H, W\).*got \(28,\)"),
        (np.zeros((1, 1, 28, 28)), r"got \(1, 1, 28, 28\)"),
        (np.zeros((0, 28, 28)), r"got \(0, 28, 28\)"),
        (np.full((28, 28), 1.5), "float image must hold finite values from 0 to 1"),
        (np.full((28, 28), np.nan), "float image must hold finite values"),
        (np.full((28, 28), 300), "integer image must hold values from 0 to 255"),
        (np.full((28, 28), -1), "integer image must hold values from 0 to 255"),
    ],
)
def test_bad_images_are_refused(images, match):
    with pytest.raises(ValueError, match=match):
        deskew(images)


def canvas_images(h: int, w: int) -> list[np.ndarray]:
    """Float drawings on an h × w canvas: strokes that lean, touch the edges or are
    pushed past them, a single pixel, and ink spread over a few rows only."""
    yy, xx = np.mgrid[:h, :w]
    out = []
    for y0, x0, y1, x1 in [
        (0.0, 0.1, 1.0, 0.9),  # leaning, top to bottom row
        (0.4, 0.6, 1.0, 1.0),  # down to the bottom-right corner
        (0.3, 0.9, 0.7, 0.5),  # leaning back, in the middle
    ]:
        img = np.zeros((h, w))
        for t in np.linspace(0, 1, 50):
            y, x = (h - 1) * (y0 + t * (y1 - y0)), (w - 1) * (x0 + t * (x1 - x0))
            d = np.hypot(yy - y, xx - x)
            img = np.maximum(img, np.clip(2.5 - d, 0, 1))  # 5 px wide, anti-aliased
        out.append(img)
    out[0][-12:, :6] = 1.0  # bottom-left: the shear pushes it off the left edge
    out[1][-1, w // 2] = 0.3  # the leftmost ink, on the row that moves the most
    dot = np.zeros((h, w))
    dot[-1, 0] = 0.7
    out.append(dot)
    rows = np.zeros((h, w))
    rows[h // 2, 5:40] = 0.6  # two rows of ink, far apart horizontally
    rows[h // 2 + 1, w - 30 : w - 2] = 1.0
    out.append(rows)
    return out


def deskew_whole(img: np.ndarray) -> np.ndarray:
    """deskew of one float image computed on the whole image, every row and column
    (deskew skips those that hold no ink): the same operations, so the same bits."""
    h, w = img.shape
    g = img.astype(np.float64)
    y, x = np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64)
    rows = g.sum(axis=1)[None]  # [1, h], the shapes deskew's matrix products see
    mass = rows.sum(axis=1)
    safe = np.where(mass > 0, mass, 1.0)
    cy = rows @ y / safe
    cx = g.sum(axis=0)[None] @ x / safe
    dy = y[None, :] - cy[:, None]
    mu02 = np.sum(rows * dy**2, axis=1)
    mu11 = np.sum((g[None] @ x - cx[:, None] * rows) * dy, axis=1)
    flat_ink = mu02 <= 1e-12 * safe
    skew = np.where(flat_ink, 0.0, mu11 / np.where(flat_ink, 1.0, mu02))
    shift = (skew[:, None] * dy).reshape(h, 1)
    step = np.floor(shift)
    frac = shift - step
    padded = np.zeros((h, w + 4))
    padded[:, 2 : w + 2] = g
    left = np.clip(np.arange(w)[None, :] + step.astype(np.int64), -2, w) + 2
    row = np.arange(h)[:, None]
    out = padded[row, left] * (1 - frac) + padded[row, left + 1] * frac
    return np.clip(out, 0.0, 1.0)


@pytest.mark.parametrize("shape", [(140, 140), (97, 131)])
def test_a_canvas_matches_the_oracle_and_the_whole_image(shape):
    # Only the rows and columns that hold (or can receive) ink are computed; the
    # result must be the whole-image computation's to the last bit, and the oracle's.
    images = canvas_images(*shape)
    for img in images:
        got = deskew(img)
        np.testing.assert_array_equal(got, deskew_whole(img))
        flat = (img.sum(axis=1) > 0).sum() == 1  # ink on one row: left alone
        want = img if flat else deskew_oracle(img)
        np.testing.assert_allclose(got, want, atol=1e-12)
        levels = np.rint(img * 255).astype(np.uint8)
        want = np.rint(deskew_whole(levels / 255.0) * 255)
        np.testing.assert_array_equal(deskew(levels), want)
        np.testing.assert_array_equal(deskew(levels[None])[0], want)
    assert deskew(images[0]).sum() < images[0].sum() - 1  # ink pushed off an edge


@pytest.mark.parametrize("shape", [(140, 140), (97, 131)])
def test_canvas_edge_cases_are_left_alone(shape):
    empty = np.zeros(shape, np.uint8)
    np.testing.assert_array_equal(deskew(empty), empty)
    one_row = np.zeros(shape, np.uint8)
    one_row[0, :] = 255  # ink on one row, the top one, from edge to edge
    np.testing.assert_array_equal(deskew(one_row), one_row)
    one_row = np.zeros(shape)
    one_row[-1, 3:9] = 0.25  # the bottom one
    np.testing.assert_array_equal(deskew(one_row), one_row)
