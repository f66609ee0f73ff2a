"""oneneuron.preprocess.to_input: one function for MNIST and for drawings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oneneuron import deskew, preprocess, steps
from oneneuron.preprocess import BOX, GRID, Preprocess, to_input


def centre_of_mass(x: np.ndarray) -> tuple[float, float]:
    """Centre of mass of a 24×24 input, in pixel-centre coordinates (0.5 … 23.5)."""
    ys, xs = np.nonzero(x)
    return float(ys.mean() + 0.5), float(xs.mean() + 0.5)


def bbox(x: np.ndarray) -> tuple[int, int]:
    """Height and width of the ink's bounding box."""
    ys, xs = np.nonzero(x)
    return int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


def ring(size: int = 28) -> np.ndarray:
    """A hand-drawn-looking "0": an ellipse outline, uint8, ink bright."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    r = ((yy - size * 0.5) / (size * 0.36)) ** 2 + (
        (xx - size * 0.45) / (size * 0.22)
    ) ** 2
    return ((np.abs(r - 1) < 0.35) * 255).astype(np.uint8)


def test_single_and_batch_shapes():
    x = to_input(ring())
    assert x.shape == (GRID, GRID) and x.dtype == np.uint8
    assert set(np.unique(x).tolist()) == {0, 1}
    xs = to_input(np.stack([ring(), ring()[::-1]]))
    assert xs.shape == (2, GRID, GRID) and xs.dtype == np.uint8


def test_empty_image_gives_zeros():
    assert not to_input(np.zeros((28, 28), np.uint8)).any()
    assert not to_input(np.zeros((280, 200))).any()
    assert not to_input(np.zeros((28, 28)), threshold=1e-12).any()  # however low
    batch = to_input(np.stack([np.zeros((28, 28), np.uint8), ring()]))
    assert not batch[0].any()
    np.testing.assert_array_equal(batch[1], to_input(ring()))


def test_vertical_bar_is_20_tall_and_centred():
    img = np.zeros((28, 28), np.uint8)
    img[2:12, 3:5] = 255  # 10 tall, 2 wide, in a corner
    x = to_input(img)
    assert bbox(x) == (BOX, 4)  # longer side 20, aspect 5:1 kept
    assert int(x.sum()) == BOX * 4  # a solid bar stays solid
    cy, cx = centre_of_mass(x)
    assert abs(cy - GRID / 2) <= 0.5 and abs(cx - GRID / 2) <= 0.5


def test_horizontal_bar():
    img = np.zeros((100, 300), np.uint8)
    img[40:55, 30:255] = 200  # 15 tall, 225 wide: scaled by 20/225
    x = to_input(img)
    h, w = bbox(x)
    assert w == BOX and h in (1, 2)  # 15 · 20/225 = 1.33 px
    cy, cx = centre_of_mass(x)
    assert abs(cy - GRID / 2) <= 1 and abs(cx - GRID / 2) <= 0.5


@pytest.mark.parametrize("where", [(0, 0), (30, 5), (50, 50)])
def test_box_fills_20x20_in_the_middle_wherever_it_was(where):
    img = np.zeros((60, 60), np.uint8)
    top, left = where
    img[top : top + 10, left : left + 10] = 255
    x = to_input(img)
    want = np.zeros((GRID, GRID), np.uint8)
    want[2:22, 2:22] = 1  # 20×20, centre of mass at (12, 12)
    np.testing.assert_array_equal(x, want)


def test_one_pixel_becomes_the_box():
    img = np.zeros((5, 7), np.uint8)
    img[4, 6] = 255
    assert int(to_input(img).sum()) == BOX * BOX


def test_centre_of_mass_not_box_centre():
    # An "L" 20 tall and 10 wide with most ink on the left: centring the box would
    # put it at columns 7..16; centring the mass shifts it right.
    img = np.zeros((28, 28), np.uint8)
    img[4:24, 4:8] = 255  # the long vertical stroke
    img[20:24, 8:14] = 255  # the short foot
    x = to_input(img)
    assert bbox(x) == (BOX, 10)
    _, cx = centre_of_mass(x)
    assert abs(cx - GRID / 2) <= 0.5
    assert np.nonzero(x.any(axis=0))[0].min() >= 9


@pytest.mark.parametrize(("h", "w"), [(30, 15), (12, 16), (9, 27), (40, 40)])
def test_aspect_ratio_kept(h, w):
    img = np.zeros((64, 64), np.uint8)
    img[3 : 3 + h, 10 : 10 + w] = 255
    got_h, got_w = bbox(to_input(img))
    assert max(got_h, got_w) == BOX
    want_h, want_w = BOX * h / max(h, w), BOX * w / max(h, w)
    assert abs(got_h - want_h) <= 1 and abs(got_w - want_w) <= 1


def test_scale_invariance_synthetic():
    # The same drawing at 28×28 and blown up ×10 (each pixel a 10×10 block) covers
    # the same areas, so the input must be the same. Tolerance: 2 of 576 pixels
    # (rounding at the threshold); measured: 0.
    small = ring()
    big = np.kron(small, np.ones((10, 10), np.uint8))
    assert big.shape == (280, 280)
    assert int((to_input(small) != to_input(big)).sum()) <= 2


@pytest.mark.cpython_only
def test_scale_invariance_mnist(mnist_images):
    images = mnist_images["test"][0][:60]
    big = np.kron(images, np.ones((10, 10), np.uint8))
    diff = (to_input(images) != to_input(big)).sum(axis=(1, 2))
    assert diff.max() <= 2  # of 576; measured: 0 for every image


def test_thin_strokes_survive_downscaling():
    # A 1-px line on a 280-px canvas is 0.07 px after scaling; area averaging must
    # still give a visible stroke when the line is long and the threshold low.
    img = np.zeros((280, 280), np.uint8)
    img[20:260, 100:110] = 255  # 10 px wide stroke on a big canvas → 0.83 px
    x = to_input(img, threshold=0.3)
    assert bbox(x)[0] == BOX and x.sum() >= BOX


def test_dtypes_agree():
    u8 = ring()
    x = to_input(u8)
    np.testing.assert_array_equal(to_input(u8.astype(np.float64) / 255), x)
    np.testing.assert_array_equal(to_input(u8.astype(np.float32) / 255), x)
    np.testing.assert_array_equal(to_input(u8.astype(np.int64)), x)
    np.testing.assert_array_equal(to_input(u8 > 0), to_input((u8 > 0) * 255))


def test_threshold_is_monotone():
    img = np.random.default_rng(3).integers(0, 256, (28, 28)).astype(np.uint8)
    low, mid, high = (to_input(img, threshold=t) for t in (0.1, 0.5, 0.9))
    assert low.sum() > mid.sum() > high.sum()
    assert not (mid & ~low).any() and not (high & ~mid).any()


def test_batch_equals_loop(monkeypatch):
    rng = np.random.default_rng(7)
    imgs = np.zeros((11, 40, 30), np.uint8)
    for img in imgs[1:]:  # image 0 stays empty
        top, left = rng.integers(0, 25), rng.integers(0, 15)
        height, width = rng.integers(3, 15), rng.integers(2, 15)
        img[top : top + height, left : left + width] = rng.integers(50, 256)
        img[rng.integers(0, 40, 20), rng.integers(0, 30, 20)] = 255  # noise
    loop = np.stack([to_input(img) for img in imgs])
    monkeypatch.setattr(preprocess, "CHUNK", 4)  # several chunks, a ragged last one
    np.testing.assert_array_equal(to_input(imgs), loop)


def test_input_is_not_modified_and_may_be_read_only():
    img = ring()
    img.setflags(write=False)
    before = img.copy()
    to_input(img)
    np.testing.assert_array_equal(img, before)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("a drawing", "must hold numbers"),
        (np.array([["a", "b"], ["c", "d"]]), "must hold numbers"),
        (np.zeros((2, 2), complex), "must hold numbers"),
        ([[0, 1], [2]], None),  # ragged
        (np.zeros(28), r"shape \(H, W\) or \(N, H, W\)"),
        (np.zeros((1, 1, 28, 28)), r"shape \(H, W\) or \(N, H, W\)"),
        (np.zeros((0, 28)), r"H, W ≥ 1"),
        (np.full((2, 2), -1), "from 0 to 255"),
        (np.full((2, 2), 256), "from 0 to 255"),
        (np.full((2, 2), 1.5), "finite values from 0 to 1"),
        (np.full((2, 2), -0.1), "finite values from 0 to 1"),
        (np.array([[0.5, np.nan]]), "finite values from 0 to 1"),
        (np.array([[0.5, np.inf]]), "finite values from 0 to 1"),
    ],
)
def test_bad_images(bad, match):
    with pytest.raises(ValueError, match=match):
        to_input(bad)


@pytest.mark.parametrize("threshold", [0, -0.5, 1.01, float("nan"), "0.5", None, True])
def test_bad_threshold(threshold):
    with pytest.raises(ValueError, match="threshold must be in"):
        to_input(ring(), threshold=threshold)


@pytest.mark.cpython_only
def test_all_mnist_images(mnist_images, mnist_train, mnist_test):
    # All 70,000 preprocess (speed is the benchmark's business, not a test's).
    for (X, _), split in ((mnist_train, "train"), (mnist_test, "test")):
        images = mnist_images[split][0]
        assert X.shape == (len(images), GRID * GRID)
        assert set(np.unique(X).tolist()) == {0, 1}
        ink = X.sum(axis=1)
        assert ink.min() > 0  # every MNIST digit keeps some ink
        x = X.reshape(-1, GRID, GRID)
        longest = np.maximum(x.any(axis=2).sum(axis=1), x.any(axis=1).sum(axis=1))
        assert np.mean(longest >= BOX - 1) > 0.99  # longer side ≈ 20 px
        com_y = (x.sum(axis=2) * (np.arange(GRID) + 0.5)).sum(axis=1) / ink
        assert abs(com_y.mean() - GRID / 2) < 0.5


# -- canvases: a drawing alone must give what the whole-image computation gives ---
# One image alone is computed only where its ink is (rows and columns without ink
# are skipped); in a batch that also holds an empty image and a frame (ink on every
# row and column) nothing can be skipped, so the batch is the straightforward
# whole-image computation: the inputs must be the same.
CANVAS_PIPELINES = [
    Preprocess(),
    Preprocess(deskew=True),
    Preprocess(deskew=True, stroke=(4.576, 6.148)),  # six.json's
    Preprocess(deskew=True, stroke=(2.68, 7.87)),  # digits.json's
]


def frame(h: int, w: int) -> np.ndarray:
    """Ink on every row and every column: the border of the canvas."""
    img = np.zeros((h, w), np.uint8)
    img[[0, -1], :] = img[:, [0, -1]] = 255
    return img


def canvas_drawings(h: int, w: int) -> dict[str, np.ndarray]:
    """Drawings on an h × w canvas, uint8 ink: the edge cases of the skipping."""
    rng = np.random.default_rng(h * 1000 + w)
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    out = {"empty": np.zeros((h, w), np.uint8)}
    one_row = np.zeros((h, w), np.uint8)
    one_row[h // 3, w // 4 : w // 2] = 200
    out["one row"] = one_row
    dot = np.zeros((h, w), np.uint8)
    dot[h - 1, w - 1] = 255
    out["one pixel in a corner"] = dot
    for name, (y0, x0, y1, x1) in {
        "leaning, cut by the top and left edges": (-0.2, 0.1, 0.6, -0.1),
        "leaning, touching the bottom and right edges": (0.3, 0.5, 1.0, 1.0),
        "leaning hard, pushed off the left edge": (0.1, 0.02, 0.9, 0.4),
        "leaning back": (0.2, 0.7, 0.8, 0.35),
    }.items():
        img = np.zeros((h, w))
        for t in np.linspace(0, 1, 60):  # a stroke 5 px wide, anti-aliased
            d = np.hypot(yy - h * (y0 + t * (y1 - y0)), xx - w * (x0 + t * (x1 - x0)))
            img = np.maximum(img, np.clip(3.5 - d, 0, 1))
        out[name] = np.rint(img * 255).astype(np.uint8)
    out["leaning, touching the bottom and right edges"][-1, w // 2] = 255  # leftmost
    dots = (rng.random((h // 6 + 1, w // 6 + 1)) < 0.1) * rng.integers(90, 256)
    out["scattered dots"] = np.kron(dots, np.ones((6, 6)))[:h, :w].astype(np.uint8)
    ring_on_canvas = np.zeros((h, w), np.uint8)
    ring_on_canvas[h - 60 :, 7:67] = ring(60)  # a "0" in the bottom-left corner
    out["ring in a corner"] = ring_on_canvas
    return out


@pytest.mark.parametrize("shape", [(140, 140), (97, 131)])
@pytest.mark.parametrize("pipeline", CANVAS_PIPELINES, ids=lambda p: p.key())
def test_a_canvas_alone_equals_the_whole_image_computation(shape, pipeline):
    named = canvas_drawings(*shape)
    images = np.stack([np.zeros(shape, np.uint8), frame(*shape), *named.values()])
    whole = pipeline.to_input(images)[2:]
    whole_float = pipeline.to_input(images / 255.0)[2:]
    for (name, img), want, want_float in zip(
        named.items(), whole, whole_float, strict=True
    ):
        got = pipeline.to_input(img)
        np.testing.assert_array_equal(got, want, err_msg=name)
        np.testing.assert_array_equal(
            pipeline.to_input(img / 255.0), want_float, err_msg=name
        )
        # steps runs the same code: its last image is the input
        np.testing.assert_array_equal(pipeline.steps(img)[-1]["image"], want)
    assert not whole[0].any() and sum(bool(x.any()) for x in whole[1:]) >= 7


@pytest.mark.parametrize("shape", [(140, 140), (97, 131)])
def test_steps_box_is_the_inks_bounding_box_on_canvases(shape):
    # The "box" stage against np.nonzero of the deskewed image, in the shown
    # image's pixels; the "deskewed" stage is deskew()'s image, area-downsampled.
    f = math.ceil(max(shape) / steps.SHOW)
    for name, img in canvas_drawings(*shape).items():
        upright = deskew.deskew(img)
        stages = {s["step"]: s for s in Preprocess(deskew=True).steps(img)}
        ys, xs = np.nonzero(upright)
        want = None
        if len(ys):
            want = [ys.min() / f, xs.min() / f, (ys.max() + 1) / f, (xs.max() + 1) / f]
        assert stages["box"]["box"] == want, name
        np.testing.assert_array_equal(
            stages["box"]["image"], stages["deskewed"]["image"], err_msg=name
        )
        # as deskew() gives it (whole levels 0–255), area-downsampled
        padded = np.zeros((math.ceil(shape[0] / f) * f, math.ceil(shape[1] / f) * f))
        padded[: shape[0], : shape[1]] = upright / 255.0
        shown = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f)
        shown = shown.mean(axis=(1, 3)).astype(np.float32)
        np.testing.assert_array_equal(stages["deskewed"]["image"], shown, err_msg=name)
