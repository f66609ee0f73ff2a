"""What the parity check computes, in CPython and inside Pyodide, from the same files.

Both runtimes run :func:`compute` on one folder: ``inputs.npz`` (images, the inputs
for prediction, a small training set) and the shipped weights files. CPython calls it
in-process; tests/pyodide/runner.mjs runs this file as ``__main__`` inside Pyodide
with the folder mounted at /io, and the results come back as ``pyodide.npz``.
Standard library and numpy only, so it runs in both.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import numpy as np

WEIGHTS = ("six.json", "digits.json", "hidden.json")
# Short training runs (Adam, fixed seed): 2 epochs of the 4000 images in train_x
# at batch 128, 64 steps.
TRAIN_RUNS = {
    "six": {"target": 6, "epochs": 2, "batch_size": 128, "seed": 7},
    "digits": {"target": "all", "epochs": 2, "batch_size": 128, "seed": 7},
    "hidden": {
        "target": "all",
        "hidden": 16,
        "epochs": 2,
        "batch_size": 128,
        "seed": 7,
    },
}

# One gradient (a training step's only sums) from the shipped weights, on the first
# GRADIENT_BATCH training images, with an l2 term.
GRADIENT_FROM = {"six": "six.json", "digits": "digits.json", "hidden": "hidden.json"}
GRADIENT_BATCH = 512
GRADIENT_L2 = 0.1
# A whole pipeline (issue #14) on the MNIST images: deskew, threshold, stroke evening
# (a band that both thickens and thins some of them).
PIPELINE = {"deskew": True, "threshold": 0.5, "stroke": (4.0, 5.0)}


def compute(folder: Path) -> dict[str, np.ndarray]:
    """Every value the two runtimes must agree on, as arrays keyed by name.

    A step that raises leaves its traceback under ``error:<key>`` instead, so that
    the other steps still run and the failure names the function that broke.
    """
    import oneneuron
    from oneneuron.train import TrainConfig, Trainer
    from oneneuron.weights import load_weights

    with np.load(folder / "inputs.npz") as f:
        inputs = {k: f[k] for k in f.files}
    out: dict[str, np.ndarray] = {}

    def attempt(key: str, step) -> None:
        try:
            out.update(step())
        except Exception:
            out[f"error:{key}"] = np.array(traceback.format_exc())

    for group in ("mnist", "drawings"):
        key = f"to_input/{group}"
        attempt(key, lambda key=key, g=group: {key: oneneuron.to_input(inputs[g])})

    def pipeline() -> dict[str, np.ndarray]:
        from oneneuron.preprocess import Preprocess

        return {"to_input/pipeline": Preprocess(**PIPELINE).to_input(inputs["mnist"])}

    attempt("to_input/pipeline", pipeline)
    # Predictions on the same 0/1 inputs in both runtimes (CPython's to_input), so a
    # difference here is the model's and not a preprocessing one.
    for name in WEIGHTS:
        key = f"predict_proba/{name}"
        attempt(
            key,
            lambda key=key, name=name: {
                key: load_weights(folder / name).predict_proba(inputs["predict_x"])
            },
        )

    def page_predict(name: str) -> dict[str, np.ndarray]:
        """The page's own path for a drawing: canvas bytes → Page.predict."""
        from oneneuron.page import Page

        page = Page()
        page.load_weights((folder / name).read_text(), name=name)
        answers = [page.predict(d.tobytes(), *d.shape) for d in inputs["drawings"]]
        return {
            f"page.predict/{name}/p": np.array([a["p"] for a in answers]),
            f"page.predict/{name}/seen": np.array([a["seen"] for a in answers]),
        }

    for name in WEIGHTS:
        attempt(f"page.predict/{name}", lambda name=name: page_predict(name))

    def train(run: str) -> dict[str, np.ndarray]:
        config = TrainConfig(**TRAIN_RUNS[run])
        trainer = Trainer(inputs["train_x"], inputs["train_y"], config)
        trainer.run()
        params = trainer.model.params()  # [W, b], or a network's [W₁, b₁, W₂, b₂]
        return {f"train/{run}/{i}": np.asarray(p) for i, p in enumerate(params)}

    for run in TRAIN_RUNS:
        attempt(f"train/{run}", lambda run=run: train(run))

    def gradient(run: str) -> dict[str, np.ndarray]:
        """One step's gradient, from the shipped weights, on the first batch."""
        model = load_weights(folder / GRADIENT_FROM[run])
        X, y = inputs["train_x"][:GRADIENT_BATCH], inputs["train_y"][:GRADIENT_BATCH]
        _, *grads = model.loss_grad(X, y, l2=GRADIENT_L2)
        return {f"grad/{run}/{i}": np.asarray(g) for i, g in enumerate(grads)}

    for run in TRAIN_RUNS:
        attempt(f"grad/{run}", lambda run=run: gradient(run))
    out["runtime"] = np.array(
        f"Python {sys.version.split()[0]} ({sys.platform}), numpy {np.__version__}"
    )
    return out


def save(results: dict[str, np.ndarray], path: Path) -> None:
    """Write results as .npz ("/" in keys is stored as "|")."""
    with path.open("wb") as f:
        np.savez(f, **{k.replace("/", "|"): v for k, v in results.items()})


def load(path: Path) -> dict[str, np.ndarray]:
    """Read what :func:`save` wrote."""
    with np.load(path) as f:
        return {k.replace("|", "/"): f[k] for k in f.files}


if __name__ == "__main__":  # inside Pyodide: runner.mjs script parity.py DIR
    io = Path(sys.argv[1])
    save(compute(io), io / "pyodide.npz")
