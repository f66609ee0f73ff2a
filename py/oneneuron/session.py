"""The page's training panel: its data, your drawings, the run and its checks.

A :class:`TrainingSession` holds the packed MNIST splits once they are downloaded,
the drawings a person added with a label, and at most one run in progress: a
:class:`~oneneuron.train.Trainer` that the page drives in slices of a few batches.
After every slice it can measure the model on a held-out set, never trained on:
the last training images when the run leaves at least :data:`CHECK_SIZE` of them
unused, else the first test images (the check only draws a curve; nothing is chosen
by it, so the test accuracy reported at the end stays honest).

Like the rest of the maths, nothing here knows about JavaScript or the DOM.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .model import N_INPUTS, Layer, Neuron
from .train import SettingError, TrainConfig, Trainer, TrainingDiverged

CHECK_SIZE = 2000  # images in the held-out check drawn while training
MAX_MISTAKES = 60  # misclassified test images returned at most


class TrainingSession:
    """Data, added drawings and the run in progress.

    Examples
    --------
    >>> from oneneuron.data import pack_inputs
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((300, 576)) < 0.2).astype(np.uint8)
    >>> y = rng.integers(0, 10, 300).astype(np.uint8)
    >>> s = TrainingSession()
    >>> s.set_data("train", pack_inputs(X), y.tobytes())
    {'split': 'train', 'count': 300}
    >>> s.start({"samples": 200, "batch_size": 100, "epochs": 2})["steps"]
    4
    >>> r = s.run(max_batches=3)
    >>> r["step"], r["images_seen"], r["history"]["step"].tolist()
    (3, 300, [1, 2, 3])
    """

    def __init__(self) -> None:
        self.data: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # split → X, y
        self.examples: list[tuple[np.ndarray, int]] = []  # drawings added to train
        self.trainer: Trainer | None = None
        self._history: dict[str, list[float]] = {}
        self._held_out: tuple[np.ndarray, np.ndarray, str] | None = None
        self._used_examples = 0

    # -- data --------------------------------------------------------------------------
    def set_data(self, split: str, images: Any, labels: Any) -> dict[str, Any]:
        """Keep a packed MNIST split: 72 bytes (bits) an image, 1 byte a label."""
        from .data import unpack_inputs  # here, not on top: the page starts faster

        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        X = unpack_inputs(images)
        y = np.frombuffer(bytes(labels), np.uint8)
        if len(y) != len(X):
            raise ValueError(f"{split}: {len(X)} images but {len(y)} labels")
        if y.size and y.max() > 9:
            raise ValueError(f"{split}: labels must be digits 0–9, got {int(y.max())}")
        self.data[split] = (X, y)
        return {"split": split, "count": len(y)}

    def add_example(self, x: np.ndarray, label: Any) -> dict[str, Any]:
        """Add a 0/1 input [576] with its digit to the next training runs."""
        if not (isinstance(label, int) and not isinstance(label, bool)):
            raise ValueError(f"label must be a digit 0–9, got {label!r}")
        if not 0 <= label <= 9:
            raise ValueError(f"label must be a digit 0–9, got {label!r}")
        x = np.asarray(x, np.uint8).reshape(N_INPUTS)
        if not x.any():
            raise ValueError("the drawing is empty: draw a digit first")
        self.examples.append((x.copy(), label))
        return {"examples": len(self.examples), "seen": x.copy(), "label": label}

    def clear_examples(self) -> dict[str, Any]:
        """Forget the added drawings."""
        self.examples.clear()
        return {"examples": 0}

    # -- a run -------------------------------------------------------------------------
    @staticmethod
    def config(settings: dict[str, Any] | None) -> TrainConfig:
        """Validate settings (TrainConfig's table, plus what the page allows).

        Raises :class:`~oneneuron.train.SettingError` naming the bad setting."""
        config = TrainConfig.from_dict(dict(settings or {}))
        if config.backend != "numpy":
            raise SettingError(
                "backend", f"the page trains with numpy, got {config.backend!r}"
            )
        return config

    def check_settings(self, settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """Validate settings before anything is downloaded or run; returns them
        complete (defaults filled in)."""
        return self.config(settings).to_dict()

    def start(self, settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """Validate the settings and prepare a run; no batch runs yet.

        ``samples`` takes the first so many training images (0: all); the added
        drawings come after them. Returns :meth:`progress`.
        """
        config = self.config(settings)
        if "train" not in self.data:
            raise ValueError("the training images are not loaded yet")
        X_all, y_all = self.data["train"]
        n = config.samples or len(y_all)
        if n > len(y_all):
            raise SettingError(
                "samples",
                f"samples must be at most {len(y_all):,} (the training images), "
                f"got {n:,}",
            )
        X, y = X_all[:n], y_all[:n]
        if self.examples:
            X = np.concatenate([X, np.stack([x for x, _ in self.examples])])
            y = np.concatenate([y, np.array([t for _, t in self.examples], np.uint8)])
        config.samples = 0  # the slice is taken; the examples must stay in
        self._held_out = self._held_out_set(n)
        self._history = {"step": [], "loss": [], "accuracy": []}
        self._used_examples = len(self.examples)
        self.trainer = Trainer(X, y, config, callback=self._record)
        return self.progress()

    def _held_out_set(self, used: int) -> tuple[np.ndarray, np.ndarray, str] | None:
        """Images the run never trains on: unused training images, else test ones."""
        X, y = self.data["train"]
        if len(y) - used >= CHECK_SIZE:
            X, y, source = X[-CHECK_SIZE:], y[-CHECK_SIZE:], "train"
        elif "test" in self.data:
            X, y = self.data["test"]
            X, y, source = X[:CHECK_SIZE], y[:CHECK_SIZE], "test"
        else:
            return None
        return X.astype(np.float32), y.astype(np.int64), source

    def run(
        self,
        max_batches: int | None = None,
        max_seconds: float | None = None,
        *,
        check: bool = False,
    ) -> dict[str, Any]:
        """Run batches until ``max_batches`` are done, ``max_seconds`` have passed (at
        least one batch either way) or the run is over.

        Returns :meth:`progress`, the batches' loss and accuracy since the last call
        (``history``), the weights now, and with ``check`` (and always after the last
        batch) the held-out loss and accuracy and the seconds they took. Raises
        :class:`~oneneuron.train.TrainingDiverged` (a ValueError) when the loss stops
        being finite; the run is then dropped.
        """
        trainer = self.running()
        self._history = {"step": [], "loss": [], "accuracy": []}
        batches = None if max_batches is None else max(1, int(max_batches))
        try:
            trainer.run(max_batches=batches, max_seconds=max_seconds)
        except TrainingDiverged:
            self.trainer = None
            raise
        out = self.progress()
        h = self._history
        out["history"] = {
            "step": np.asarray(h["step"], np.int32),
            "loss": np.asarray(h["loss"], np.float32),
            "accuracy": np.asarray(h["accuracy"], np.float32),
        }
        coef, intercept = trainer.model.weights_numpy()
        out["weights"] = np.asarray(coef, np.float32).reshape(-1).copy()
        out["bias"] = [float(b) for b in intercept]
        if (check or trainer.done) and self._held_out is not None:
            start = time.perf_counter()
            out["check"] = self.check(trainer.model)
            out["check"]["seconds"] = time.perf_counter() - start
        return out

    def check(self, model: Neuron | Layer) -> dict[str, float]:
        """Cross-entropy and accuracy on the held-out set (float32, one product)."""
        assert self._held_out is not None
        X, y, _ = self._held_out
        loss, accuracy = model.loss_accuracy(X, y)
        return {"loss": loss, "accuracy": accuracy}

    def progress(self) -> dict[str, Any]:
        """Where the run stands: batches done of all, epoch, images seen."""
        t = self.running()
        held = None
        if self._held_out is not None:
            held = {"source": self._held_out[2], "count": len(self._held_out[1])}
        return {
            "step": t.step,
            "steps": t.steps,
            "batches": t.batches,
            "epoch": t.epoch,
            "epochs": t.config.epochs,
            "n_train": t.n,
            "examples": self._used_examples,
            "images_seen": t.images_seen,
            "done": t.done,
            "held_out": held,
        }

    def finish(self) -> tuple[Neuron | Layer, dict[str, Any]]:
        """End the run: its model and the record kept in the weights file."""
        trainer = self.running()
        record = {**trainer.config.to_dict(), "samples": trainer.n, "in": "the page"}
        record["steps"] = trainer.step
        record["examples"] = self._used_examples
        self.trainer = None
        return trainer.model, record

    def cancel(self) -> None:
        """Drop the run in progress, if any."""
        self.trainer = None

    def running(self) -> Trainer:
        if self.trainer is None:
            raise ValueError("no training run is in progress: start one first")
        return self.trainer

    def _record(self, p: Any) -> None:
        self._history["step"].append(p.step)
        self._history["loss"].append(p.loss)
        self._history["accuracy"].append(p.accuracy)

    # -- after a run -------------------------------------------------------------------
    def test_set(self) -> tuple[np.ndarray, np.ndarray]:
        if "test" not in self.data:
            raise ValueError("the test images are not loaded yet")
        return self.data["test"]

    def evaluate(self, model: Neuron | Layer, mistakes: int = 0) -> dict[str, Any]:
        """Test metrics of ``model`` and up to ``mistakes`` images it gets wrong.

        One neuron: accuracy, precision, recall, F1, ROC AUC. Ten: accuracy and the
        confusion matrix (int32 [100], row = true digit). ``mistakes`` holds, in test
        order, each wrong image's index, label, answer, probability of that answer
        and 0/1 input (uint8 [k·576]); ``wrong`` counts them all.
        """
        from . import metrics

        X, y = self.test_set()
        out = metrics.evaluate(model, X, y)
        if "confusion" in out:
            out["confusion"] = np.asarray(out["confusion"], np.int32).reshape(-1)
        truth, pred, p = metrics.answers(model, X, y)
        # the probability of the answer given: P(target) or 1 − it; the top of ten
        sure = np.where(pred == 1, p, 1 - p) if p.ndim == 1 else p.max(axis=1)
        wrong = np.flatnonzero(pred != truth)
        out["wrong"] = len(wrong)
        if mistakes:
            pick = wrong[: min(int(mistakes), MAX_MISTAKES)]
            out["mistakes"] = {
                "index": pick.astype(np.int32),
                "label": y[pick].astype(np.int32),
                "predicted": pred[pick].astype(np.int32),
                "probability": sure[pick].astype(np.float32),
                "inputs": X[pick].reshape(-1).astype(np.uint8),
            }
        return out

    def test_image(self, index: Any) -> tuple[np.ndarray, int]:
        """A test image's 0/1 input [576] and its label."""
        X, y = self.test_set()
        if not (isinstance(index, int) and not isinstance(index, bool)):
            raise ValueError(f"index must be a whole number, got {index!r}")
        if not 0 <= index < len(y):
            raise ValueError(f"index must be 0–{len(y) - 1}, got {index}")
        return X[index], int(y[index])
