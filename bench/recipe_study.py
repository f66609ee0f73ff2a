"""How well do MNIST-trained neurons read other people's handwriting? (issue #14)

Trains with the package's own trainer, settings as the shipped weights (build.py's
TRAIN_RUNS), on the first 50,000 MNIST training images, and scores each recipe on
the last 10,000 (MNIST validation) and on two foreign sets: UCI optdigits (its
training part, rows 0–3822) and UCI mfeat-pix. The MNIST test set is not looked at.
Prints one markdown table: recipe → ten neurons' accuracy and the one neuron's F1
for 6 on each set.

    .venv/bin/python bench/recipe_study.py [--quick]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # small matrix products: one thread is fastest

import argparse  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402

from oneneuron import metrics, preprocess  # noqa: E402
from oneneuron.data import load_mnist  # noqa: E402
from oneneuron.digitsets import load_digitset  # noqa: E402
from oneneuron.train import TrainConfig, fit  # noqa: E402

N_FIT = 50_000
# As build.py's TRAIN_RUNS (six.json, digits.json).
SIX = {"target": 6, "optimizer": "adam", "lr": 0.01, "schedule": "constant",
       "epochs": 5, "batch_size": 128, "l2": 1e-4}  # fmt: skip
TEN = {"target": "all", "optimizer": "adam", "lr": 0.01, "schedule": "cosine",
       "epochs": 5, "batch_size": 512, "l2": 0.0}  # fmt: skip


@dataclass(frozen=True)
class Recipe:
    """One way to turn images into inputs and train on them."""

    name: str
    deskew: bool = False  # deskew the 28×28 image before to_input
    threshold: float = preprocess.THRESHOLD  # to_input's ink threshold
    # the 24×24 input's strokes: "none", "thicken", "normalise" (thicken narrow ones,
    # thin wide ones, to MNIST's middle half of widths) or "thin" (wide ones only)
    stroke: str = "none"
    ten: dict = field(default_factory=dict)  # changes to TEN
    six: dict = field(default_factory=dict)  # changes to SIX


RECIPES = [
    Recipe("plain (as shipped)"),
    Recipe("deskew", deskew=True),
    Recipe("deskew, threshold 0.2", deskew=True, threshold=0.2),
    Recipe("deskew, threshold 0.5", deskew=True, threshold=0.5),
    Recipe("deskew, thicken strokes", deskew=True, stroke="thicken"),
    Recipe("deskew, normalise strokes", deskew=True, stroke="normalise"),
    Recipe("deskew, thin wide strokes", deskew=True, stroke="thin"),
    Recipe(
        "deskew, threshold 0.5, normalise",
        deskew=True,
        threshold=0.5,
        stroke="normalise",
    ),
    Recipe("deskew, L2 1e-4 (ten)", deskew=True, ten={"l2": 1e-4}),
    Recipe("deskew, L2 1e-3", deskew=True, ten={"l2": 1e-3}, six={"l2": 1e-3}),
]
QUICK = RECIPES[:2]


def stroke_width(X: np.ndarray) -> np.ndarray:
    """Mean stroke width of binary inputs [N, 24, 24]: 2 · area / perimeter."""
    X = X.astype(bool)
    p = np.pad(X, ((0, 0), (1, 1), (1, 1)))
    edges = (p[:, 1:, :] != p[:, :-1, :]).sum(axis=(1, 2))
    edges = edges + (p[:, :, 1:] != p[:, :, :-1]).sum(axis=(1, 2))
    return 2 * X.sum(axis=(1, 2)) / np.maximum(edges / 2, 1)


def thicken(X: np.ndarray) -> np.ndarray:
    """Add every pixel 4-adjacent to ink (a one-pixel dilation)."""
    X = X.astype(bool)
    out = X.copy()
    out[:, 1:] |= X[:, :-1]
    out[:, :-1] |= X[:, 1:]
    out[:, :, 1:] |= X[:, :, :-1]
    out[:, :, :-1] |= X[:, :, 1:]
    return out


def thin(X: np.ndarray) -> np.ndarray:
    """Keep only ink whose four neighbours are all ink (a one-pixel erosion)."""
    p = np.pad(X.astype(bool), ((0, 0), (1, 1), (1, 1)))
    c = p[:, 1:-1, 1:-1]
    return c & p[:, :-2, 1:-1] & p[:, 2:, 1:-1] & p[:, 1:-1, :-2] & p[:, 1:-1, 2:]


def normalise(X: np.ndarray, low: float, high: float) -> np.ndarray:
    """Thicken strokes narrower than ``low``, thin those wider than ``high``."""
    X = X.astype(bool)
    width = stroke_width(X)
    out = X.copy()
    narrow, wide = width < low, width > high
    out[narrow] = thicken(X[narrow])
    thinned = thin(X[wide])
    keep = thinned.sum(axis=(1, 2)) >= 0.5 * X[wide].sum(axis=(1, 2))
    out[np.flatnonzero(wide)[keep]] = thinned[keep]  # never erase a digit
    return out


def inputs(images: dict, recipe: Recipe, cache: dict, width_band) -> dict:
    """Each set as the neuron reads it under ``recipe``: name → X [N, 576]."""
    key = (recipe.deskew, recipe.threshold)
    if key not in cache:
        cache[key] = {}
        for name, im in images.items():
            im = preprocess.deskew(im) if recipe.deskew else im
            cache[key][name] = preprocess.to_input(im, threshold=recipe.threshold)
    out = {}
    for name, X in cache[key].items():
        if recipe.stroke == "thicken":
            X = thicken(X)
        elif recipe.stroke == "normalise":
            X = normalise(X, *width_band)
        elif recipe.stroke == "thin":
            X = normalise(X, 0.0, width_band[1])
        out[name] = X.reshape(len(X), -1).astype(np.uint8)
    return out


def study(recipes: list[Recipe]) -> None:
    t0 = time.perf_counter()
    train, train_labels = load_mnist("train", progress=False)
    images = {"fit": train[:N_FIT], "val": train[N_FIT:]}
    labels = {"fit": train_labels[:N_FIT], "val": train_labels[N_FIT:]}
    for name in ("optdigits", "mfeat"):
        images[name], labels[name] = load_digitset(name)
    print(f"data loaded in {time.perf_counter() - t0:.1f} s", flush=True)

    cache: dict = {}
    plain = inputs(images, Recipe("plain"), cache, None)
    widths = {name: stroke_width(X.reshape(-1, 24, 24)) for name, X in plain.items()}
    print(
        "stroke width (2·area/perimeter, px of the 24×24 input), median: "
        + ", ".join(f"{n} {np.median(w):.2f}" for n, w in widths.items()),
        flush=True,
    )
    band = tuple(np.quantile(widths["fit"], [0.25, 0.75]))  # MNIST's middle half

    sets = ("val", "optdigits", "mfeat")
    print()
    print(
        "| recipe | ten: MNIST val | ten: optdigits | ten: mfeat "
        "| six F1: MNIST val | six F1: optdigits | six F1: mfeat | six AUC: MNIST val |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for recipe in recipes:
        t = time.perf_counter()
        X = inputs(images, recipe, cache, band)
        ten = fit(X["fit"], labels["fit"], TrainConfig(**{**TEN, **recipe.ten}))
        six = fit(X["fit"], labels["fit"], TrainConfig(**{**SIX, **recipe.six}))
        acc = [metrics.evaluate(ten, X[s], labels[s])["accuracy"] for s in sets]
        r6 = [metrics.evaluate(six, X[s], labels[s]) for s in sets]
        cells = [f"{a:.2%}" for a in acc] + [f"{r['f1']:.3f}" for r in r6]
        cells.append(f"{r6[0]['roc_auc']:.4f}")
        print(f"| {recipe.name} | " + " | ".join(cells) + " |", flush=True)
        print(f"<!-- {recipe.name}: {time.perf_counter() - t:.1f} s -->", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="plain and deskew only")
    args = parser.parse_args()
    study(QUICK if args.quick else RECIPES)


if __name__ == "__main__":
    main()
