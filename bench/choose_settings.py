"""Choose the preprocessing threshold and the training settings on a validation split.

Never looks at the test set: trains on the first 50,000 MNIST training images and
scores on the last 10,000. Prints markdown tables (README quotes them).

    .venv/bin/python bench/choose_settings.py [--part threshold|training|all]
"""

from __future__ import annotations

import argparse
import itertools

from oneneuron import metrics, preprocess
from oneneuron.data import load_mnist
from oneneuron.train import TrainConfig, Trainer

N_FIT = 50_000


def _split(threshold: float):
    images, labels = load_mnist("train", progress=False)
    X = preprocess.to_input(images, threshold=threshold).reshape(len(images), -1)
    return X[:N_FIT], labels[:N_FIT], X[N_FIT:], labels[N_FIT:]


def _score(X, y, Xv, yv, **settings) -> dict:
    trainer = Trainer(X, y, TrainConfig(**settings))
    trainer.run()
    return metrics.evaluate(trainer.model, Xv, yv)


def thresholds() -> None:
    print(
        "| threshold | ink pixels | 6: accuracy | 6: ROC AUC | 6: F1 | ten: accuracy |"
    )
    print("|---|---|---|---|---|---|")
    for t in (0.15, 0.25, 0.35, 0.45, 0.55, 0.65):
        X, y, Xv, yv = _split(t)
        six = _score(X, y, Xv, yv, target=6)
        ten = _score(X, y, Xv, yv, target="all")
        print(
            f"| {t} | {X.mean():.3f} | {six['accuracy']:.4f} | {six['roc_auc']:.5f} "
            f"| {six['f1']:.4f} | {ten['accuracy']:.4f} |",
            flush=True,
        )


def training() -> None:
    X, y, Xv, yv = _split(preprocess.THRESHOLD)
    print("| target | lr | epochs | batch | l2 | accuracy | ROC AUC | F1 |")
    print("|---|---|---|---|---|---|---|---|")
    grid = itertools.product(
        (6, "all"), (0.003, 0.01), (5, 20), (128, 512), (0.0, 1e-4)
    )
    for target, lr, epochs, batch, l2 in grid:
        r = _score(
            X, y, Xv, yv, target=target, lr=lr, epochs=epochs, batch_size=batch, l2=l2
        )
        auc = f"{r['roc_auc']:.5f}" if "roc_auc" in r else "–"
        f1 = f"{r['f1']:.4f}" if "f1" in r else "–"
        print(
            f"| {target} | {lr} | {epochs} | {batch} | {l2} | {r['accuracy']:.4f} "
            f"| {auc} | {f1} |",
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", choices=("threshold", "training", "all"), default="all"
    )
    part = parser.parse_args().part
    if part in ("threshold", "all"):
        thresholds()
    if part in ("training", "all"):
        training()
