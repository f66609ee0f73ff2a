"""Browser results equal CPython's: the same inputs through the same package, in both.

CPython and Pyodide (one Node process for this module) run tests/pyodide/parity.py on
the same files: the 10,000 MNIST test images and synthetic drawings rendered like
the page's 280×280 canvas. ``to_input`` must give identical 0/1 inputs,
``predict_proba`` probabilities within 1e-6, one training gradient within float32
rounding of a float64 oracle, and a short fixed-seed training run the same loss
and accuracy. A failure names the function, the input and both values.
"""

from __future__ import annotations

import itertools
import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.pyodide

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PARITY = HERE / "parity.py"
CANVAS = 280  # the page's drawing canvas, in pixels
PROBA_TOL = 1e-6
LOSS_RTOL = 1e-4  # whole training runs: the loss, evaluated in float64
ACCURACY_TOL = 2 / 4000  # and the training accuracy: two of the 4000 images
TRAIN_SAMPLES = 4000  # the first MNIST test images, preprocessed by CPython

parity = runpy.run_path(str(PARITY))
# the float64 gradient oracle and its float32 rounding bound, from the package tests
_oracle = runpy.run_path(str(HERE.parent / "test_train.py"))
step_oracle, excess = _oracle["step_oracle"], _oracle["excess"]


# -- synthetic drawings ----------------------------------------------------------------
def render(strokes: list[np.ndarray], width: float) -> np.ndarray:
    """Canvas alpha (uint8 [280, 280]) of round-capped strokes with anti-aliased edges.

    Each stroke is an array of (x, y) points in canvas pixels; a pixel's coverage
    falls from 1 to 0 over one pixel at the stroke's edge, as a canvas draws it.
    """
    yy, xx = np.mgrid[0:CANVAS, 0:CANVAS] + 0.5
    dist = np.full((CANVAS, CANVAS), np.inf)
    for points in strokes:
        points = np.atleast_2d(np.asarray(points, np.float64))
        for a, b in [*itertools.pairwise(points), (points[0], points[0])]:
            ab = b - a
            denom = max(float(ab @ ab), 1e-12)
            t = np.clip(((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / denom, 0, 1)
            d = np.hypot(xx - (a[0] + t * ab[0]), yy - (a[1] + t * ab[1]))
            dist = np.minimum(dist, d)
    coverage = np.clip(width / 2 + 0.5 - dist, 0, 1)
    return np.rint(coverage * 255).astype(np.uint8)


def arc(cx, cy, rx, ry, start, stop, n=48) -> np.ndarray:
    t = np.radians(np.linspace(start, stop, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def drawings() -> dict[str, np.ndarray]:
    """Named drawings: digits as people draw them, edge cases, seeded scribbles."""
    six = np.r_[arc(150, 90, 60, 60, 200, 300)[::-1], arc(140, 180, 55, 55, 180, 540)]
    shapes = {  # name: (strokes, line width in canvas pixels)
        "six": ([six], 18),
        "six-small-corner": ([arc(40, 40, 15, 15, 0, 360), [[30, 10], [25, 40]]], 6),
        "one": ([[[140, 40], [140, 240]]], 20),
        "one-slanted": ([[[120, 230], [165, 45], [150, 60]]], 16),
        "seven": ([[[70, 50], [210, 50], [120, 240]]], 20),
        "zero": ([arc(140, 140, 60, 95, 0, 360)], 18),
        "eight": ([arc(140, 90, 45, 45, 0, 360), arc(140, 190, 55, 50, 0, 360)], 16),
        "four": ([[[170, 240], [170, 40], [60, 170], [220, 170]]], 18),
        "dash-wide": ([[[30, 140], [250, 140]]], 10),
        "dot": ([[[200, 70]]], 24),
        "hairline": ([[[60, 60], [220, 220]]], 1.5),
        "touching-edges": ([[[0, 0], [279, 279]], [[0, 279], [279, 0]]], 30),
        "full-canvas": ([[[-200, 140], [480, 140]]], 600),
    }
    out = {"empty": np.zeros((CANVAS, CANVAS), np.uint8)}
    for name, (strokes, width) in shapes.items():
        out[name] = render([np.asarray(s, np.float64) for s in strokes], width)
    rng = np.random.default_rng(2024)
    for i in range(24):  # random walks: anywhere, any thickness
        steps = rng.normal(0, 18, (rng.integers(3, 40), 2))
        start = rng.uniform(40, 240, 2)
        walk = np.clip(start + np.cumsum(steps, axis=0), -10, CANVAS + 10)
        out[f"scribble-{i}"] = render([walk], float(rng.uniform(2, 28)))
    return out


# -- both runtimes ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def case(tmp_path_factory) -> dict:
    """The folder both runtimes read (inputs.npz, the shipped weights) and the names
    of the prediction inputs, in order."""
    from oneneuron.data import load_mnist
    from oneneuron.preprocess import to_input

    work = tmp_path_factory.mktemp("parity")
    images, labels = load_mnist("test", progress=False)
    drawn = drawings()
    canvas = np.stack(list(drawn.values()))
    x_mnist = to_input(images).reshape(len(images), -1)
    x_drawn = to_input(canvas).reshape(len(canvas), -1)
    np.savez(
        work / "inputs.npz",
        mnist=images,
        drawings=canvas,
        predict_x=np.concatenate([x_mnist, x_drawn]),
        train_x=x_mnist[:TRAIN_SAMPLES],
        train_y=labels[:TRAIN_SAMPLES],
    )
    for name in parity["WEIGHTS"]:
        shutil.copyfile(ROOT / "site" / "weights" / name, work / name)
    mnist_names = [f"MNIST test image {i}" for i in range(len(images))]
    drawing_names = [f"drawing {name!r}" for name in drawn]
    return {
        "folder": work,
        "names": {
            "to_input/mnist": mnist_names,
            "to_input/drawings": drawing_names,
            "to_input/pipeline": mnist_names,
            "predict": mnist_names + drawing_names,
        },
    }


@pytest.fixture(scope="module")
def cpython(case) -> dict[str, np.ndarray]:
    return parity["compute"](case["folder"])


@pytest.fixture(scope="module")
def pyodide(case, pyodide_runner) -> dict[str, np.ndarray]:
    """The same computation inside Pyodide: one Node process for this module."""
    done = pyodide_runner("script", str(PARITY), str(case["folder"]))
    out = case["folder"] / "pyodide.npz"
    if done.returncode != 0 or not out.exists():
        pytest.fail(
            f"parity.py failed inside Pyodide (exit {done.returncode}):\n"
            + (done.stdout + done.stderr)[-6000:]
        )
    results = parity["load"](out)
    assert "emscripten" in str(results["runtime"]), results["runtime"]
    return results


def runtimes(cpython, pyodide) -> str:
    return f"CPython: {cpython['runtime']}; Pyodide: {pyodide['runtime']}"


def both(cpython, pyodide, key: str, step: str | None = None):
    """The values under ``key`` from each runtime; a step that raised fails here."""
    for runtime, results in (("CPython", cpython), ("Pyodide", pyodide)):
        error = results.get(f"error:{step or key}")
        if error is not None:
            pytest.fail(f"{key} raised under {runtime}:\n{error}", pytrace=False)
    return cpython[key], pyodide[key]


# -- the checks ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key", ["to_input/mnist", "to_input/drawings", "to_input/pipeline"]
)
def test_to_input_gives_identical_inputs(key, case, cpython, pyodide, pyodide_summary):
    """to_input, and a whole Preprocess pipeline (deskew, threshold 0.5, stroke
    evening: parity.PIPELINE) on the MNIST test images."""
    a, b = both(cpython, pyodide, key)
    if key == "to_input/pipeline":  # the pipeline is not the plain to_input
        plain = cpython["to_input/mnist"]
        assert (a != plain).any(axis=(1, 2)).mean() > 0.5
    names = case["names"][key]
    assert a.shape == b.shape == (len(names), 24, 24), (a.shape, b.shape)
    differs = np.flatnonzero((a != b).any(axis=(1, 2)))
    pyodide_summary.append(
        f"parity {key}: {len(names) - len(differs)} of {len(names)} inputs identical"
    )
    if len(differs):
        lines = []
        for i in differs[:5]:
            r, c = np.argwhere(a[i] != b[i])[0]
            lines.append(
                f"  {names[i]}: {int((a[i] != b[i]).sum())} pixel(s) differ, first at "
                f"row {r}, column {c}: CPython {a[i, r, c]}, Pyodide {b[i, r, c]} "
                f"(ink pixels: CPython {int(a[i].sum())}, Pyodide {int(b[i].sum())})"
            )
        pytest.fail(
            f"to_input differs on {len(differs)} of {len(names)} inputs "
            f"({key.split('/')[1]}):\n"
            + "\n".join(lines)
            + "\n"
            + runtimes(cpython, pyodide),
            pytrace=False,
        )


@pytest.mark.parametrize("weights", parity["WEIGHTS"])
def test_predict_proba_agrees_within_1e6(
    weights, case, cpython, pyodide, pyodide_summary
):
    key = f"predict_proba/{weights}"
    a, b = (v.astype(np.float64) for v in both(cpython, pyodide, key))
    names = case["names"]["predict"]
    assert a.shape == b.shape and a.shape[0] == len(names), (a.shape, b.shape)
    a2, b2 = a.reshape(len(names), -1), b.reshape(len(names), -1)
    diff = np.abs(a2 - b2)
    i, k = np.unravel_index(np.argmax(diff), diff.shape)
    where = names[i] + (f", digit {k}" if a2.shape[1] > 1 else "")
    pyodide_summary.append(
        f"parity {key}: max |Δ| = {diff.max():.1e} over {len(names)} inputs"
    )
    bad = int((diff > PROBA_TOL).any(axis=1).sum())
    if bad:
        pytest.fail(
            f"predict_proba ({weights}) differs by more than {PROBA_TOL} on {bad} of "
            f"{len(names)} inputs; the worst is {where}: CPython {a2[i, k]:.9f}, "
            f"Pyodide {b2[i, k]:.9f} (|Δ| = {diff[i, k]:.2e})\n"
            + runtimes(cpython, pyodide),
            pytrace=False,
        )


@pytest.mark.parametrize("weights", parity["WEIGHTS"])
def test_page_predict_agrees_on_drawings(
    weights, case, cpython, pyodide, pyodide_summary
):
    """What the worker calls for a drawing: canvas bytes in, "seen" and p out."""
    key = f"page.predict/{weights}"
    names = case["names"]["to_input/drawings"]
    seen_a, seen_b = both(cpython, pyodide, f"{key}/seen", key)
    p_a, p_b = (v.astype(np.float64) for v in both(cpython, pyodide, f"{key}/p", key))
    differs = np.flatnonzero((seen_a != seen_b).any(axis=1))
    if len(differs):
        i = differs[0]
        pytest.fail(
            f"Page.predict ({weights}) sees {names[i]} differently: "
            f"{int((seen_a[i] != seen_b[i]).sum())} of 576 inputs differ "
            f"(CPython {int(seen_a[i].sum())} on, Pyodide {int(seen_b[i].sum())} on); "
            f"{len(differs)} drawing(s) in all\n" + runtimes(cpython, pyodide),
            pytrace=False,
        )
    diff = np.abs(p_a - p_b)
    i, k = np.unravel_index(np.argmax(diff), diff.shape)
    pyodide_summary.append(
        f"parity {key}: max |Δp| = {diff.max():.1e} over {len(names)} drawings"
    )
    if diff[i, k] > PROBA_TOL:
        where = names[i] + (f", digit {k}" if p_a.shape[1] > 1 else "")
        pytest.fail(
            f"Page.predict ({weights}) gives p differing by more than {PROBA_TOL} "
            f"for {where}: CPython {p_a[i, k]:.9f}, Pyodide {p_b[i, k]:.9f} "
            f"(|Δ| = {diff[i, k]:.2e})\n" + runtimes(cpython, pyodide),
            pytrace=False,
        )


@pytest.mark.parametrize("run", [r for r in parity["TRAIN_RUNS"] if r != "hidden"])
def test_one_gradient_is_the_oracle_in_both(
    run, case, cpython, pyodide, pyodide_summary
):
    """A training step's sums, from the shipped weights: each runtime's float32
    gradient is within the float32 rounding bound of the float64 oracle (any
    summation order: CPython's BLAS, whichever kernel it picked, and Pyodide's
    einsum), so the two agree to twice that bound; a wrong product does not."""
    from oneneuron.weights import load_weights

    model = load_weights(case["folder"] / parity["GRADIENT_FROM"][run])
    target = "all" if len(model.classes_) > 1 else model.classes_[0]
    with np.load(case["folder"] / "inputs.npz") as f:
        n = parity["GRADIENT_BATCH"]
        X, y = f["train_x"][:n], f["train_y"][:n]
    want, bound = step_oracle(
        X, y, target, *model.weights_numpy(), parity["GRADIENT_L2"]
    )
    worst = 0.0
    for i, part in enumerate(("weights", "bias")):
        key = f"grad/{run}/{i}"
        for runtime, got in zip(
            ("CPython", "Pyodide"),
            both(cpython, pyodide, key, f"grad/{run}"),
            strict=True,
        ):
            off = excess(got, want[i], bound[i])
            at = np.unravel_index(np.argmax(off), off.shape)
            worst = max(worst, off[at])
            if off[at] > 1:
                pytest.fail(
                    f"the gradient ({run}, {part}) under {runtime} is off the float64 "
                    f"oracle at {at}: {got[at]:.9g} against {want[i][at]:.9g}, beyond "
                    f"float32 rounding ({bound[i][at]:.2e})\n"
                    + runtimes(cpython, pyodide),
                    pytrace=False,
                )
    pyodide_summary.append(
        f"parity gradient {run}: worst error {worst:.1e} of the float32 bound"
    )


def test_the_networks_gradient_is_its_float64_backpropagation_in_both(
    case, cpython, pyodide, pyodide_summary
):
    """Backpropagation through the shipped network in float32, in each runtime,
    against the same lines in float64 (the lines themselves are checked against
    finite differences in tests/test_network.py). float32 carries 24 bits: sums of
    576 terms of either order stay within 1e-4 of the largest gradient; a wrong
    product or a transposed weight would be off by about the gradient itself."""
    from oneneuron.network import Network
    from oneneuron.weights import load_weights

    shipped = load_weights(case["folder"] / parity["GRADIENT_FROM"]["hidden"])
    oracle = Network(hidden=shipped.hidden.units, dtype="float64")
    oracle.set_weights(shipped.weights_numpy())
    with np.load(case["folder"] / "inputs.npz") as f:
        n = parity["GRADIENT_BATCH"]
        X, y = f["train_x"][:n], f["train_y"][:n]
    _, *want = oracle.loss_grad(X, y, l2=parity["GRADIENT_L2"])
    worst = 0.0
    for i, w in enumerate(want):
        for runtime, got in zip(
            ("CPython", "Pyodide"),
            both(cpython, pyodide, f"grad/hidden/{i}", "grad/hidden"),
            strict=True,
        ):
            off = np.abs(got.astype(np.float64) - w).max() / np.abs(w).max()
            worst = max(worst, off)
            if off > 1e-4:
                pytest.fail(
                    f"the network's gradient (parameter {i}) under {runtime} is off "
                    f"its float64 backpropagation by {off:.1e} of the largest "
                    "gradient\n" + runtimes(cpython, pyodide),
                    pytrace=False,
                )
    pyodide_summary.append(
        f"parity gradient hidden: worst error {worst:.1e} of the largest gradient"
    )


@pytest.mark.parametrize("run", list(parity["TRAIN_RUNS"]))
def test_training_reaches_the_same_loss_and_accuracy(
    run, case, cpython, pyodide, pyodide_summary
):
    """A short fixed-seed Adam run in each runtime ends at the same training loss
    and accuracy.

    The weights themselves are not compared: each step's gradients differ by float32
    rounding (test above; CPython's depends on the BLAS kernel), and Adam's step
    m̂/(√v̂ + ε) has slope up to lr/ε in g near g = 0, so a weight whose gradient sits
    at rounding level can move by ±lr either way (seen: 1.7e-4 apart under
    OpenBLAS's Haswell kernels). Such a weight has ∂L/∂w ≈ 0, so the loss, smooth in
    the weights, moves only at second order (½·H·Δw², H ≤ ¼): the losses, both
    evaluated here in float64, must agree to LOSS_RTOL; accuracy to ACCURACY_TOL.
    """
    from oneneuron.model import make_model

    settings = parity["TRAIN_RUNS"][run]
    what = (
        f"Trainer (target {settings['target']!r}, seed {settings['seed']}, "
        f"{settings['epochs']} epochs of {TRAIN_SAMPLES} images, batch "
        f"{settings['batch_size']})"
    )
    with np.load(case["folder"] / "inputs.npz") as f:
        X, y = f["train_x"], f["train_y"]
    count = 4 if settings.get("hidden") else 2
    params = [
        both(cpython, pyodide, f"train/{run}/{i}", f"train/{run}") for i in range(count)
    ]
    results = {}
    for j, runtime in enumerate(("CPython", "Pyodide")):
        found = [np.asarray(p[j], np.float64) for p in params]
        model = make_model(
            settings["target"], hidden=settings.get("hidden", 0), dtype="float64"
        ).init_weights()
        model.set_params([model.xp.asarray(p) for p in found])
        results[runtime] = (model.loss_grad(X, y)[0], model.score(X, y))
    (loss_a, acc_a), (loss_b, acc_b) = results["CPython"], results["Pyodide"]
    pyodide_summary.append(
        f"parity training {run}: loss {loss_a:.6f} / {loss_b:.6f}, accuracy "
        f"{acc_a:.4f} / {acc_b:.4f} (CPython / Pyodide; {what})"
    )
    if abs(loss_a - loss_b) > LOSS_RTOL * loss_a or abs(acc_a - acc_b) > ACCURACY_TOL:
        pytest.fail(
            f"{what} ends differently: training loss CPython {loss_a:.9g}, Pyodide "
            f"{loss_b:.9g} (allowed rel {LOSS_RTOL}); accuracy {acc_a:.4f} against "
            f"{acc_b:.4f} (allowed {ACCURACY_TOL})\n" + runtimes(cpython, pyodide),
            pytrace=False,
        )
