"""oneneuron.preprocess.Preprocess: the pipeline a model carries, its steps, its form
in weights files, and the stroke functions it uses."""

from __future__ import annotations

import hashlib
import itertools
import math

import numpy as np
import pytest

from oneneuron.deskew import deskew
from oneneuron.preprocess import (
    BOX,
    GRID,
    THRESHOLD,
    Preprocess,
    PreprocessError,
    to_input,
)
from oneneuron.strokes import normalise, stroke_width, thicken, thin

# sha256 of to_input(MNIST images) as the code before Preprocess made them (format-1
# behaviour): Preprocess() must keep every byte.
PLAIN_SHA256 = {
    "train": "5f9978fc949a72d12628ece84840d7db9804160f3515687245154765bce72b2a",
    "test": "19c0e0cf75a076be4b65c1f4128029461138a2aec81118164d62c03874ec2436",
}
PIPELINES = [
    Preprocess(),
    Preprocess(deskew=True),
    Preprocess(deskew=True, threshold=0.5, stroke=(4.0, 5.0)),
    Preprocess(threshold=0.2, box=14, stroke=(4.5, 4.6)),
]


def bar(lean: float = 0.0, size: int = 28) -> np.ndarray:
    """A stroke 20 rows tall, leaning right by ``lean`` pixels a row (uint8)."""
    img = np.zeros((size, size), np.uint8)
    for y in range(4, 24):
        x = round(14 - lean * (y - 14))
        img[y, x - 1 : x + 2] = 255
    return img


def drawings(n: int, seed: int = 0) -> list[np.ndarray]:
    """Random strokes on canvases of various sizes, uint8 or float, some empty."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        h, w = rng.integers(8, 300, 2)
        yy, xx = np.mgrid[0:h, 0:w] + 0.5
        img = np.zeros((h, w))
        for _ in range(rng.integers(0, 4)):
            (y0, y1), (x0, x1) = rng.uniform(0, h, 2), rng.uniform(0, w, 2)
            width = rng.uniform(0.5, max(h, w) / 8)
            t = np.clip(((yy - y0) * (y1 - y0) + (xx - x0) * (x1 - x0))
                        / max((y1 - y0) ** 2 + (x1 - x0) ** 2, 1e-9), 0, 1)  # fmt: skip
            d = np.hypot(yy - y0 - t * (y1 - y0), xx - x0 - t * (x1 - x0))
            img = np.maximum(img, np.clip(width / 2 + 0.5 - d, 0, 1))
        out.append(img if i % 2 else np.rint(img * 255).astype(np.uint8))
    return out


# -- Preprocess() is today's to_input, byte for byte -----------------------------------
@pytest.mark.cpython_only
@pytest.mark.parametrize("split", ["train", "test"])
def test_plain_pipeline_keeps_every_byte_of_format_1(mnist_images, split):
    images, _ = mnist_images[split]
    x = Preprocess().to_input(images)
    assert hashlib.sha256(x.tobytes()).hexdigest() == PLAIN_SHA256[split]
    np.testing.assert_array_equal(to_input(images[:500]), x[:500])


def test_deskew_runs_first_on_the_image_as_given(mnist_images):
    images = mnist_images["test"][0][:2000]
    for threshold in (THRESHOLD, 0.5):
        p = Preprocess(deskew=True, threshold=threshold)
        want = to_input(deskew(images), threshold=threshold)
        np.testing.assert_array_equal(p.to_input(images), want)
    floats = [d for d in drawings(12, seed=3) if d.dtype.kind == "f"]
    for d in floats:
        want = to_input(deskew(d))
        np.testing.assert_array_equal(Preprocess(deskew=True).to_input(d), want)


def test_deskew_makes_a_slanted_stroke_upright():
    upright = Preprocess().to_input(bar(0.0))
    slanted = bar(0.4)
    plain = int((Preprocess().to_input(slanted) != upright).sum())
    straight = int((Preprocess(deskew=True).to_input(slanted) != upright).sum())
    assert plain > 40 and straight * 4 < plain, (plain, straight)


@pytest.mark.parametrize("box", [2, 8, 12, 20, 24])
def test_box_is_the_longer_side_after_scaling(box):
    img = np.zeros((50, 40), np.uint8)
    img[5:45, 10:20] = 255  # 40 tall, 10 wide
    x = Preprocess(box=box).to_input(img)
    rows, cols = np.flatnonzero(x.any(axis=1)), np.flatnonzero(x.any(axis=0))
    assert rows[-1] - rows[0] + 1 == box
    assert cols[-1] - cols[0] + 1 == max(1, math.ceil(box / 4 - 1e-9))


def test_stroke_evening_is_the_last_step(mnist_images):
    images = mnist_images["test"][0][:1000]
    p = Preprocess(deskew=True, threshold=0.5, stroke=(4.0, 5.0))
    before = Preprocess(deskew=True, threshold=0.5).to_input(images)
    after = p.to_input(images)
    np.testing.assert_array_equal(after, normalise(before, 4.0, 5.0))
    grown = after.sum(axis=(1, 2)).astype(int) - before.sum(axis=(1, 2))
    assert (grown > 0).any() and (grown < 0).any() and (grown == 0).any()


# -- steps: what a person is shown is what the model reads -----------------------------
def _cases(mnist_images):
    return list(mnist_images["test"][0][:60]) + drawings(60, seed=1)


@pytest.mark.parametrize("p", PIPELINES, ids=lambda p: p.key())
def test_the_last_step_is_to_input(mnist_images, p):
    images = _cases(mnist_images)
    mnist = np.stack(images[:60])
    batch = p.to_input(mnist)  # a batch: the same code as one image at a time
    for i, img in enumerate(images):
        steps = p.steps(img)
        want = batch[i] if i < 60 else p.to_input(img)
        last = steps[-1]["image"]
        assert last.dtype == np.float32 and last.shape == (GRID, GRID)
        np.testing.assert_array_equal(last, want, err_msg=f"image {i}, {p.key()}")


@pytest.mark.parametrize("p", PIPELINES, ids=lambda p: p.key())
def test_steps_are_the_stages_in_the_order_they_run(p):
    img = np.zeros((280, 280), np.uint8)
    img[40:240, 120:160] = 255  # a bar on a page-sized canvas
    steps = p.steps(img)
    names = ["ink", "deskewed", "box", "scaled", "placed", "thresholded", "strokes"]
    want = [n for n in names if (n != "deskewed" or p.deskew)]
    want = [n for n in want if (n != "strokes" or p.stroke)]
    assert [s["step"] for s in steps] == want
    for s in steps:
        assert s["image"].dtype == np.float32 and s["image"].ndim == 2
        assert s["image"].min() >= 0 and s["image"].max() <= 1
    by = {s["step"]: s for s in steps}
    assert by["ink"]["image"].shape == (56, 56)  # 280 / 5: at most 64 px a side
    assert by["box"]["box"] == [8.0, 24.0, 48.0, 32.0]  # 40:240, 120:160 over 5
    assert max(by["scaled"]["image"].shape) == p.box
    placed, thresholded = by["placed"]["image"], by["thresholded"]["image"]
    assert placed.shape == thresholded.shape == (GRID, GRID)
    np.testing.assert_array_equal(placed >= p.threshold - 1e-6, thresholded == 1)


def test_steps_of_a_small_image_keep_its_pixels_and_box():
    img = bar(0.3)
    steps = {s["step"]: s for s in Preprocess(deskew=True).steps(img)}
    np.testing.assert_array_equal(steps["ink"]["image"], img / 255)
    np.testing.assert_allclose(steps["deskewed"]["image"], deskew(img) / 255)
    ys, xs = np.nonzero(deskew(img))
    want = [ys.min(), xs.min(), ys.max() + 1, xs.max() + 1]
    assert steps["box"]["box"] == [float(v) for v in want]


def test_steps_of_an_empty_drawing():
    steps = Preprocess(stroke=(3.0, 4.0)).steps(np.zeros((280, 280), np.uint8))
    by = {s["step"]: s for s in steps}
    assert by["box"]["box"] is None
    assert not any(s["image"].any() for s in steps)
    assert by["strokes"]["change"] == "kept"


def test_steps_take_one_image():
    with pytest.raises(ValueError, match=r"one image of shape \(H, W\)"):
        Preprocess().steps(np.zeros((2, 28, 28)))


# -- the stroke functions against a plain per-pixel reference --------------------------
def _neighbours(x, i, j):
    h, w = x.shape
    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        yield bool(0 <= i + di < h and 0 <= j + dj < w and x[i + di, j + dj])


def ref_width(x: np.ndarray) -> float:
    edges = sum(
        not n
        for i, j in itertools.product(*map(range, x.shape))
        if x[i, j]
        for n in _neighbours(x, i, j)
    )
    return 2 * int(x.sum()) / max(edges / 2, 1)


def ref_thicken(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x, bool)
    for i, j in itertools.product(*map(range, x.shape)):
        out[i, j] = bool(x[i, j]) or any(_neighbours(x, i, j))
    return out


def ref_thin(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x, bool)
    for i, j in itertools.product(*map(range, x.shape)):
        out[i, j] = bool(x[i, j]) and all(_neighbours(x, i, j))
    return out


def ref_normalise(x: np.ndarray, low: float, high: float) -> np.ndarray:
    width = ref_width(x)
    if width < low:
        return ref_thicken(x)
    if width > high:
        thinned = ref_thin(x)
        return thinned if thinned.sum() >= 0.5 * x.sum() else x.astype(bool)
    return x.astype(bool)


@pytest.fixture(scope="module")
def random_inputs() -> np.ndarray:
    """0/1 inputs [150, 24, 24]: noise of every density and solid blobs."""
    rng = np.random.default_rng(7)
    noise = rng.random((100, GRID, GRID)) < rng.uniform(0.02, 0.95, (100, 1, 1))
    blobs = np.zeros((50, GRID, GRID), bool)
    for b in blobs:
        y, x = rng.integers(0, GRID, 2)
        h, w = rng.integers(1, 14, 2)
        b[y : y + h, x : x + w] = True
    return np.concatenate([noise, blobs]).astype(np.uint8)


def test_stroke_width_is_the_reference(random_inputs):
    want = [ref_width(x) for x in random_inputs]
    np.testing.assert_allclose(stroke_width(random_inputs), want, rtol=1e-12)


def test_thicken_and_thin_are_the_reference(random_inputs):
    for x, a, b in zip(
        random_inputs, thicken(random_inputs), thin(random_inputs), strict=True
    ):
        np.testing.assert_array_equal(a, ref_thicken(x))
        np.testing.assert_array_equal(b, ref_thin(x))


@pytest.mark.parametrize(("low", "high"), [(2.0, 3.0), (3.5, 6.0), (1.0, 1.0)])
def test_normalise_is_the_reference(random_inputs, low, high):
    got = normalise(random_inputs, low, high)
    changed = kept_wide = 0
    for x, g in zip(random_inputs, got, strict=True):
        want = ref_normalise(x, low, high)
        np.testing.assert_array_equal(g, want)
        changed += int((want != x).any())
        kept_wide += int(ref_width(x) > high and not (want != x).any() and x.any())
    assert changed > 10  # the test exercises thickening and thinning
    if high <= 3.0:
        assert kept_wide > 0  # and the rule that never erases more than half


# -- the settings: one table, errors that name the field -------------------------------
def test_to_dict_from_dict_round_trip_and_key():
    for p in PIPELINES:
        d = p.to_dict()
        assert list(d) == ["deskew", "threshold", "grid", "box", "stroke"]
        assert Preprocess.from_dict(d) == p
    assert Preprocess().key() == "plain-t0.35-b20"
    p = Preprocess(deskew=True, threshold=0.5, stroke=[3.6, 5.1])
    assert p.stroke == (3.6, 5.1) and p.key() == "deskew-t0.5-b20-s3.6-5.1"
    assert p.to_dict()["stroke"] == {"low": 3.6, "high": 5.1}
    assert len({q.key() for q in PIPELINES}) == len(PIPELINES)
    assert Preprocess(threshold=1) == Preprocess(threshold=1.0)
    assert Preprocess().box == BOX


def test_describe_says_what_happens():
    text = Preprocess().describe()
    assert "20 px" in text and "35%" in text and "deskew" not in text
    text = Preprocess(deskew=True, threshold=0.5, box=16, stroke=(3.6, 5.1)).describe()
    assert text.startswith("The image is sheared upright (deskewed)")
    assert "16 px" in text and "50%" in text and "3.60" in text and "5.10" in text
    assert ". " not in text and text.endswith(".")  # one sentence


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"deskew": 1}, r"preprocess\.deskew must be true or false, got 1"),
        ({"threshold": 0}, r"preprocess\.threshold must be in \(0, 1\], got 0"),
        ({"threshold": float("nan")}, r"preprocess\.threshold must be in .*got nan"),
        ({"threshold": True}, r"preprocess\.threshold must be .*got true"),
        ({"box": 25}, r"preprocess\.box must be a whole number from 1 to 24, got 25"),
        ({"box": 12.0}, r"preprocess\.box must be a whole number .*got 12\.0"),
        ({"stroke": 3.0}, r"preprocess\.stroke must be null or a pair"),
        ({"stroke": (0, 3)}, r"preprocess\.stroke\.low must be .*got 0"),
        ({"stroke": (3, math.inf)}, r"preprocess\.stroke\.high must be .*got inf"),
        ({"stroke": (5, 3)}, r"preprocess\.stroke\.high must be ≥ stroke\.low \(5\)"),
    ],
)
def test_bad_settings_name_their_field(kwargs, match):
    with pytest.raises(PreprocessError, match=match) as info:
        Preprocess(**kwargs)
    field = match.split(" must")[0].replace("\\", "")
    assert info.value.field == field and str(info.value).startswith(field)


def test_from_dict_refuses_other_shapes():
    d = Preprocess().to_dict()
    with pytest.raises(ValueError, match=r"preprocess\.grid must be 24, got 28"):
        Preprocess.from_dict({**d, "grid": 28})
    with pytest.raises(ValueError, match=r"unknown field\(s\): colour"):
        Preprocess.from_dict({**d, "colour": "red"})
    with pytest.raises(ValueError, match=r"missing the field\(s\): box"):
        Preprocess.from_dict({k: v for k, v in d.items() if k != "box"})
    with pytest.raises(ValueError, match=r"preprocess\.stroke must be null or"):
        Preprocess.from_dict({**d, "stroke": [3, 5]})
    with pytest.raises(ValueError, match=r"preprocess must be an object"):
        Preprocess.from_dict([d])


def test_a_centre_half_way_between_offsets_rounds_one_way_whatever_the_last_bits():
    """The centre of mass is a BLAS sum: its last bits differ between CPython and
    Pyodide. MNIST test image 6394, deskewed, sits exactly half-way between two
    offsets; the two runtimes placed it one pixel apart before offsets were rounded
    to 9 decimals first (found by the Pyodide parity test)."""
    from oneneuron.preprocess import _offset

    n = 5
    start, stop, scale = np.full(n, 6.0), np.full(n, 26.0), np.ones(n)
    com = 6 + 8.5 + np.array([-2, -1, 0, 1, 2]) * 2e-15  # offset 12 − 8.5 = 3.5
    assert len(set(_offset(com, start, stop, scale).tolist())) == 1
