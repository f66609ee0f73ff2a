"""Choose each model's recipe by measurement (issue #14): MNIST validation and
digits by other hands, never MNIST test.

Trains with the package's own trainer on the first 50,000 MNIST training images and
scores each recipe on the last 10,000 (MNIST validation; ``--fold 2`` swaps in the
first 10,000 and trains on the rest) and on two foreign sets: UCI
optdigits (its training part, rows 0–3822, all that ``load_digitset`` reads) and UCI
mfeat-pix. The MNIST test set is not looked at. A recipe is the shipped pipeline's
own settings (``Preprocess``: deskew, threshold, box, stroke band) plus training
settings for the ten neurons and for the one neuron (target 6); the training
settings start from the shipped ones (build.py's TRAIN_RUNS).

A stroke band is given as two quantiles of the stroke widths of the 50,000 training
inputs made without it (as ``oneneuron train --strokes even`` does with the quartiles
0.25, 0.75); the table shows the band in pixels. Every recipe runs once per seed
(``--seeds``, the shuffling seed); a cell is the mean, and ``±`` half the range
from the lowest to the highest seed.

Inputs are cached under ``--cache`` (one .npy per pipeline and set), so a recipe
costs only its training once its pipeline has been seen. Prints one markdown table.

    .venv/bin/python bench/recipe_study.py [--quick | --six-auc | --hidden] [--fold 1|2]
                                           [--seeds 0 1 2] [--cache DIR]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # small matrix products: one thread is fastest

import argparse  # noqa: E402
import hashlib  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field, replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from oneneuron import deskew, metrics, preprocess, strokes  # noqa: E402
from oneneuron import images as image_input  # noqa: E402
from oneneuron.data import load_mnist  # noqa: E402
from oneneuron.digitsets import load_digitset  # noqa: E402
from oneneuron.preprocess import BOX, THRESHOLD, Preprocess  # noqa: E402
from oneneuron.strokes import augment, normalise, stroke_width  # noqa: E402
from oneneuron.train import TrainConfig, fit  # noqa: E402

N_FIT = 50_000
# As build.py's TRAIN_RUNS (six.json, digits.json).
SIX = {"target": 6, "optimizer": "adam", "lr": 0.01, "schedule": "constant",
       "epochs": 5, "batch_size": 128, "l2": 1e-4}  # fmt: skip
TEN = {"target": "all", "optimizer": "adam", "lr": 0.01, "schedule": "cosine",
       "epochs": 5, "batch_size": 512, "l2": 0.0}  # fmt: skip
COS10 = {"schedule": "cosine", "epochs": 10}  # the one neuron without end-of-run noise


@dataclass(frozen=True)
class Recipe:
    """One way to turn images into inputs and train on them."""

    name: str
    deskew: bool = True
    threshold: float = THRESHOLD
    box: int = BOX
    band: tuple[float, float] | None = None  # stroke band: quantiles of MNIST's widths
    ten: dict = field(default_factory=dict)  # changes to TEN
    six: dict = field(default_factory=dict)  # changes to SIX
    net: dict = field(default_factory=dict)  # changes to NET (--hidden)
    # Not expressible as a Preprocess or TrainConfig (measured for the record):
    augment: bool = False  # train on the inputs plus thickened and thinned copies
    sixes: float = 1.0  # share of the 6s the one neuron trains on (2: each twice;
    # TrainConfig.target_repeat does that, and then corrects the bias for it)


R = Recipe
RECIPES = [
    R("plain (as shipped)", deskew=False),
    R("deskew"),
    R("deskew, threshold 0.2", threshold=0.2),
    R("deskew, threshold 0.5", threshold=0.5),
    R("deskew, box 18", box=18),
    R("deskew, box 22", box=22),
    R("deskew, L2 1e-3", ten={"l2": 1e-3}, six={"l2": 1e-3}),
    R("deskew, 20 epochs", ten={"epochs": 20}, six={"epochs": 20}),
    R("deskew, augmented with thickened and thinned copies", augment=True),
    R("deskew, strokes 25–75 % (--strokes even)", band=(0.25, 0.75)),
    R("deskew, thin only above 75 %", band=(0.0, 0.75)),
    R("deskew, threshold 0.5, strokes 25–75 %", threshold=0.5, band=(0.25, 0.75)),
    R("deskew, threshold 0.45, strokes 5–95 %", threshold=0.45, band=(0.05, 0.95)),
    R("deskew, threshold 0.5, strokes 1–99 %", threshold=0.5, band=(0.01, 0.99)),
    R("deskew, threshold 0.4, strokes 1–99 %", threshold=0.4, band=(0.01, 0.99)),
    R("deskew, strokes 0.5–99.5 %", band=(0.005, 0.995)),
    BAND_1_99 := R("deskew, strokes 1–99 %", band=(0.01, 0.99)),
    B256 := R("deskew, ten: batch 256", ten={"batch_size": 256}),
    TEN_RECIPE := R("deskew, strokes 1–99 %, ten: batch 256", band=(0.01, 0.99),
                    ten={"batch_size": 256}),
    R("deskew, strokes 2–98 %", band=(0.02, 0.98)),
    PEAK := R("deskew, threshold 0.4, box 21, strokes 5–95 %", threshold=0.4, box=21,
              band=(0.05, 0.95)),
    R("deskew, strokes 50–90 %", band=(0.5, 0.9)),
    R("deskew, strokes 50–90 %, six: cosine, 10 epochs", band=(0.5, 0.9), six=COS10),
    SIX_RECIPE := R("deskew, strokes 50–90 %, six: cosine, 20 epochs",
                    band=(0.5, 0.9), six={**COS10, "epochs": 20}),
    R("deskew, threshold 0.4, strokes 50–90 %, six: cosine, 10 epochs",
      threshold=0.4, band=(0.5, 0.9), six=COS10),
    R("deskew, box 21, strokes 50–90 %, six: cosine, 10 epochs", box=21,
      band=(0.5, 0.9), six=COS10),
    R("deskew, strokes 50–90 %, six: cosine, 10 epochs, half the 6s",
      band=(0.5, 0.9), six=COS10, sixes=0.5),
    R("deskew, strokes 25–75 %, six: cosine, 20 epochs", band=(0.25, 0.75),
      six={**COS10, "epochs": 20}),
    R("deskew, strokes 25–75 %, six: twice the 6s", band=(0.25, 0.75), sixes=2.0),
]  # fmt: skip
# The shipped recipe, deskew, the two chosen and their steps, fold 1's peak.
QUICK = [RECIPES[0], RECIPES[1], B256, BAND_1_99, TEN_RECIPE, PEAK, SIX_RECIPE]
# The one neuron's ranking (ROC AUC) under a change of writers (--six-auc): MNIST's
# validation digits share their writers with the training digits, MNIST test's do
# not, so its AUC is read on the foreign sets too. Variations of SIX_RECIPE.
SIX20 = {**COS10, "epochs": 20}
SIX_AUC = [
    RECIPES[0],
    SIX_RECIPE,
    R("deskew, strokes 50–90 %, six: cosine, 20 epochs, L2 3e-4", band=(0.5, 0.9),
      six={**SIX20, "l2": 3e-4}),
    R("deskew, strokes 50–90 %, six: cosine, 20 epochs, L2 1e-3", band=(0.5, 0.9),
      six={**SIX20, "l2": 1e-3}),
    R("deskew, strokes 50–90 %, six: cosine, 40 epochs", band=(0.5, 0.9),
      six={**SIX20, "epochs": 40}),
    R("deskew, strokes 50–90 %, six: cosine, 20 epochs, batch 64", band=(0.5, 0.9),
      six={**SIX20, "batch_size": 64}),
    R("deskew, strokes 50–90 %, six: cosine, 20 epochs, lr 0.003", band=(0.5, 0.9),
      six={**SIX20, "lr": 0.003}),
    R("deskew, strokes 25–90 %, six: cosine, 20 epochs", band=(0.25, 0.9), six=SIX20),
    R("deskew, strokes 50–95 %, six: cosine, 20 epochs", band=(0.5, 0.95), six=SIX20),
    R("deskew, strokes 40–80 %, six: cosine, 20 epochs", band=(0.4, 0.8), six=SIX20),
    R("deskew, threshold 0.45, strokes 50–90 %, six: cosine, 20 epochs",
      threshold=0.45, band=(0.5, 0.9), six=SIX20),
    R("deskew, box 22, strokes 50–90 %, six: cosine, 20 epochs", box=22,
      band=(0.5, 0.9), six=SIX20),
    R("deskew, strokes 50–90 %, six: cosine, 20 epochs, each 6 twice",
      band=(0.5, 0.9), six={**SIX20, "target_repeat": 2}),
    R("deskew, strokes 50–90 %, six: cosine, 20 epochs, each 6 three times",
      band=(0.5, 0.9), six={**SIX20, "target_repeat": 3}),
]  # fmt: skip


# The hidden layer (issue #22, --hidden): H sigmoid neurons feeding the ten, on the
# shipped ten neurons' preprocessing unless a recipe says otherwise.
NET = {"target": "all", "hidden": 64, "optimizer": "adam", "lr": 0.01,
       "schedule": "cosine", "epochs": 10, "batch_size": 128, "l2": 0.0}  # fmt: skip
TEN_PIPE = {"band": (0.01, 0.99)}
HIDDEN = [
    R("H 64, 5 epochs", **TEN_PIPE, net={"epochs": 5}),
    R("H 64, 10 epochs", **TEN_PIPE),
    R("H 64, 20 epochs", **TEN_PIPE, net={"epochs": 20}),
    R("H 32, 10 epochs", **TEN_PIPE, net={"hidden": 32}),
    R("H 64, 10 epochs, L2 1e-4", **TEN_PIPE, net={"l2": 1e-4}),
    R("H 64, 10 epochs, lr 0.003", **TEN_PIPE, net={"lr": 0.003}),
    R("H 64, 10 epochs, batch 64", **TEN_PIPE, net={"batch_size": 64}),
    AUG := R("H 64, 10 epochs, augmented (thickened, thinned)", **TEN_PIPE,
             net={"augment": True}),
    R("H 64, 10 epochs, augmented, L2 1e-4", **TEN_PIPE,
      net={"augment": True, "l2": 1e-4}),
    R("H 64, 10 epochs, augmented, batch 64", **TEN_PIPE,
      net={"augment": True, "batch_size": 64}),
    R("H 64, 20 epochs, augmented", **TEN_PIPE, net={"augment": True, "epochs": 20}),
    R("H 64, 15 epochs, augmented, L2 1e-4", **TEN_PIPE,
      net={"augment": True, "l2": 1e-4, "epochs": 15}),
    R("H 48, 10 epochs, augmented", **TEN_PIPE, net={"augment": True, "hidden": 48}),
    R("H 64, 10 epochs, strokes 25–75 %", band=(0.25, 0.75)),
    R("H 64, 10 epochs, plain pipeline", deskew=False),
    R("H 64, 10 epochs, threshold 0.4, box 21, strokes 5–95 %", threshold=0.4,
      box=21, band=(0.05, 0.95)),
]  # fmt: skip


def load_images() -> tuple[dict, dict]:
    """Images and labels: MNIST train and the two foreign sets (not MNIST test)."""
    images, labels = {}, {}
    images["train"], labels["train"] = load_mnist("train", progress=False)
    for name in ("optdigits", "mfeat"):
        images[name], labels[name] = load_digitset(name)
    return images, labels


def split(sets: dict, fold: int) -> dict:
    """Split MNIST's "train" into "fit" (50,000) and "val" (10,000): fold 1
    validates on the last 10,000 training images, fold 2 on the first 10,000."""
    out = {k: v for k, v in sets.items() if k != "train"}
    n = len(sets["train"]) - N_FIT
    cut = N_FIT if fold == 1 else n
    first, second = sets["train"][:cut], sets["train"][cut:]
    out["fit"], out["val"] = (first, second) if fold == 1 else (second, first)
    return out


def inputs(
    images: dict, recipe: Recipe, cache: Path, fold: int
) -> tuple[Preprocess, dict]:
    """The recipe's pipeline (its band in pixels) and each set as the neuron reads
    it: name → X [N, 24, 24] bool."""
    pipeline = Preprocess(
        deskew=recipe.deskew, threshold=recipe.threshold, box=recipe.box
    )
    made = {}
    for name, im in images.items():
        path = cache / f"{pipeline.key()}-{name}.npy"
        if not path.exists():
            np.save(path, pipeline.to_input(im))
        made[name] = np.load(path).astype(bool)
    base = split(made, fold)
    if recipe.band is None:
        return pipeline, base
    low, high = (float(v) for v in np.quantile(stroke_width(base["fit"]), recipe.band))
    low = max(low, 0.01)  # Preprocess needs low > 0; no digit's strokes are that thin
    pipeline = replace(pipeline, stroke=(low, high))
    out = {name: normalise(X, low, high) for name, X in base.items()}
    # Evening the cached inputs is exactly the pipeline's own last step.
    if not np.array_equal(pipeline.to_input(images["mfeat"][:200]), out["mfeat"][:200]):
        raise RuntimeError(f"cached inputs differ from {pipeline.key()}: clear {cache}")
    return pipeline, out


def training_set(X: np.ndarray, y: np.ndarray, recipe: Recipe, *, six: bool):
    """The fit inputs [N, 576] and labels one model trains on under ``recipe``."""
    if recipe.augment:  # as TrainConfig(augment=True) does
        Xa, y = augment(X.reshape(len(X), -1), y)
        X = Xa.reshape(len(Xa), *X.shape[1:])
    if six and recipe.sixes != 1.0:
        sixes = np.flatnonzero(y == 6)
        if recipe.sixes < 1:
            drop = np.random.default_rng(0).random(len(sixes)) >= recipe.sixes
            keep = np.ones(len(y), bool)
            keep[sixes[drop]] = False
            X, y = X[keep], y[keep]
        else:
            extra = np.tile(sixes, round(recipe.sixes) - 1)
            X, y = np.concatenate([X, X[extra]]), np.concatenate([y, y[extra]])
    return X.reshape(len(X), -1).astype(np.uint8), y


def measure_net(recipe: Recipe, X: dict, labels: dict, seed: int) -> list[float]:
    """One seed's row for the hidden layer: accuracy (%) on MNIST val, optdigits,
    mfeat, and the seconds its training took."""
    flat = {name: x.reshape(len(x), -1).astype(np.uint8) for name, x in X.items()}
    Xt, yt = training_set(X["fit"], labels["fit"], recipe, six=False)
    t = time.perf_counter()
    net = fit(Xt, yt, TrainConfig(**{**NET, **recipe.net, "seed": seed}))
    seconds = time.perf_counter() - t
    sets = ("val", "optdigits", "mfeat")
    acc = [100 * metrics.evaluate(net, flat[s], labels[s])["accuracy"] for s in sets]
    return [*acc, seconds]


def measure(
    recipe: Recipe, X: dict, labels: dict, seed: int, *, ten: bool = True
) -> list[float]:
    """One seed's row: ten accuracy ×3 (%), six F1 ×3, six AUC ×3, six accuracy
    on MNIST val (%). ``ten=False``: the one neuron only (the ten's cells NaN)."""
    flat = {name: x.reshape(len(x), -1).astype(np.uint8) for name, x in X.items()}
    sets = ("val", "optdigits", "mfeat")
    acc = [float("nan")] * 3
    if ten:
        Xt, yt = training_set(X["fit"], labels["fit"], recipe, six=False)
        layer = fit(Xt, yt, TrainConfig(**{**TEN, **recipe.ten, "seed": seed}))
        acc = [
            100 * metrics.evaluate(layer, flat[s], labels[s])["accuracy"] for s in sets
        ]
    Xs, ys = training_set(X["fit"], labels["fit"], recipe, six=True)
    six = fit(Xs, ys, TrainConfig(**{**SIX, **recipe.six, "seed": seed}))
    r6 = [metrics.evaluate(six, flat[s], labels[s]) for s in sets]
    auc = [r["roc_auc"] for r in r6]
    return acc + [r["f1"] for r in r6] + auc + [100 * r6[0]["accuracy"]]


def cell(values: np.ndarray, digits: int, percent: bool) -> str:
    if np.isnan(values).all():
        return "—"
    mean = f"{values.mean():.{digits}f}" + ("%" if percent else "")
    if len(values) == 1:
        return mean
    return f"{mean} ±{(values.max() - values.min()) / 2:.{digits}f}"


def study(
    recipes: list[Recipe],
    seeds: list[int],
    cache: Path,
    fold: int,
    ten: bool = True,
    hidden: bool = False,
) -> None:
    t0 = time.perf_counter()
    # Cached inputs belong to this version of the preprocessing code and no other.
    modules = (preprocess, deskew, strokes, image_input)
    sources = [Path(m.__file__).read_bytes() for m in modules]
    code = hashlib.sha256(b"".join(sources)).hexdigest()[:12]
    cache = cache / code
    cache.mkdir(parents=True, exist_ok=True)
    images, all_labels = load_images()
    labels = split(all_labels, fold)
    print(
        f"data loaded in {time.perf_counter() - t0:.1f} s; fold {fold}, seeds {seeds}",
        flush=True,
    )
    print()
    if hidden:
        print("| recipe | stroke band (px) | MNIST val | optdigits | mfeat | seconds |")
        print("|---|---|---|---|---|---|")
        for recipe in recipes:
            pipeline, X = inputs(images, recipe, cache, fold)
            rows = np.array([measure_net(recipe, X, labels, s) for s in seeds])
            band = (
                "as drawn"
                if pipeline.stroke is None
                else "{:.2f}–{:.2f}".format(*pipeline.stroke)
            )
            formats = [(2, True)] * 3 + [(1, False)]
            cells = [cell(rows[:, j], *f) for j, f in enumerate(formats)]
            print(f"| {recipe.name} | {band} | " + " | ".join(cells) + " |", flush=True)
        return
    print(
        "| recipe | stroke band (px) | ten: MNIST val | ten: optdigits | ten: mfeat "
        "| six F1: MNIST val | six F1: optdigits | six F1: mfeat "
        "| six AUC: MNIST val | six AUC: optdigits | six AUC: mfeat "
        "| six acc: MNIST val |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    formats = [(2, True)] * 3 + [(3, False)] * 3 + [(4, False)] * 3 + [(2, True)]
    for recipe in recipes:
        t = time.perf_counter()
        pipeline, X = inputs(images, recipe, cache, fold)
        rows = np.array([measure(recipe, X, labels, s, ten=ten) for s in seeds])
        band = (
            "as drawn"
            if pipeline.stroke is None
            else "{:.2f}–{:.2f}".format(*pipeline.stroke)
        )
        cells = [cell(rows[:, j], *f) for j, f in enumerate(formats)]
        print(f"| {recipe.name} | {band} | " + " | ".join(cells) + " |", flush=True)
        print(f"<!-- {pipeline.key()}: {time.perf_counter() - t:.1f} s -->", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="plain, deskew and the chosen recipes"
    )
    parser.add_argument(
        "--six-auc",
        action="store_true",
        help="variations of the one neuron's recipe, for its AUC under new writers",
    )
    parser.add_argument(
        "--hidden",
        action="store_true",
        help="the hidden layer's recipes (H sigmoid neurons feeding the ten)",
    )
    parser.add_argument(
        "--only", default="", help="only the recipes whose name holds this text"
    )
    parser.add_argument(
        "--fold",
        type=int,
        choices=(1, 2),
        default=1,
        help="validate on the last (1) or the first (2) 10,000 training images",
    )
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], help="shuffling seeds"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "oneneuron-recipe-study",
        help="folder for the preprocessed inputs (default: %(default)s)",
    )
    args = parser.parse_args()
    recipes = SIX_AUC if args.six_auc else QUICK if args.quick else RECIPES
    recipes = HIDDEN if args.hidden else recipes
    if args.only:
        recipes = [r for r in recipes if args.only in r.name]
    study(recipes, args.seeds, args.cache, args.fold, not args.six_auc, args.hidden)


if __name__ == "__main__":
    main()
