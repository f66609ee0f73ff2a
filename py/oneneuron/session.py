"""The page's training panel: its data, your drawings, the run and its checks.

A :class:`TrainingSession` holds what the page downloaded (data/mnist.json): the
training images as packed inputs, one variant per preprocessing (plain, deskewed),
and the raw 28×28 test images, from which any model's inputs are made with that
model's own preprocessing (:class:`~oneneuron.pagedata.ImageSet`). It keeps the
drawings a person added with a label as raw canvas images, so that each run makes
them into inputs the way it makes its training images. At most one run is in progress: a
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

from . import metrics
from .card import colour_scale
from .checks import is_integer, plain, show
from .model import N_INPUTS, Layer, Neuron
from .pagedata import ImageSet, read_labels, read_packed, read_preprocess
from .preprocess import Preprocess
from .train import SettingError, TrainConfig, Trainer, TrainingDiverged

CHECK_SIZE = 2000  # images in the held-out check drawn while training
MAX_MISTAKES = 60  # misclassified test images returned at most
TRAINED_HERE = "page"  # the record's "trained_in" for a run of the page
NOT_METRICS = ("wrong", "mistakes")  # evaluation keys not kept in a weights file


class TrainingSession:
    """Data, added drawings and the run in progress.

    Examples
    --------
    >>> from oneneuron.pagedata import pack_inputs
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((300, 576)) < 0.2).astype(np.uint8)
    >>> y = rng.integers(0, 10, 300).astype(np.uint8)
    >>> s = TrainingSession()
    >>> s.set_data("train", pack_inputs(X), y.tobytes())["count"]
    300
    >>> s.start({"samples": 200, "batch_size": 100, "epochs": 2})["steps"]
    4
    >>> r = s.run(max_batches=3)
    >>> r["step"], r["images_seen"], r["history"]["step"].tolist()
    (3, 300, [1, 2, 3])
    """

    def __init__(self) -> None:
        # Preprocess.key() → (its Preprocess, inputs uint8 [N, 576], labels uint8 [N])
        self.train: dict[str, tuple[Preprocess, np.ndarray, np.ndarray]] = {}
        self.test: ImageSet | None = None  # the raw MNIST test images
        self.examples: list[tuple[np.ndarray, int]] = []  # raw drawings and digits
        self.trainer: Trainer | None = None
        self._history: dict[str, list[float]] = {}
        self._held_out: tuple[np.ndarray, np.ndarray, str] | None = None
        self._used_examples = 0

    # -- data --------------------------------------------------------------------------
    def set_data(
        self,
        split: str,
        images: Any,
        labels: Any,
        preprocess: Any = None,
        inputs: Any = None,
    ) -> dict[str, Any]:
        """Keep a split of data/mnist.json (the page's ``loadData`` request).

        Parameters
        ----------
        split : "train" or "test"
        images : bytes-like
            "train": one variant's packed inputs, 72 bytes (576 bits) an image.
            "test": the raw 28×28 uint8 images, 784 bytes an image.
        labels : bytes-like, one byte (a digit) an image
        preprocess : dict or Preprocess, "train" only
            How that variant's inputs were made (its ``preprocess`` entry in
            mnist.json; None: ``Preprocess()``). A variant replaces the one held
            with the same deskew setting, by which a run picks its variant.
        inputs : list of {"preprocess": dict, "images": bytes-like}, "test" only
            The test images' inputs, packed, as each of these preprocessings made
            them (mnist.json's test "variants"): a model with one of them is
            checked and scored without making 10,000 inputs again.

        Returns
        -------
        dict: ``split``, ``count`` (images) and, for "train", ``preprocess`` (the
        variant's key); for "test", ``inputs`` (the keys of the packed inputs).
        """
        from .pagedata import unpack_inputs

        if split == "test":
            if preprocess is not None:
                raise ValueError(
                    "the test images are raw 28×28 images, made into inputs by "
                    f"each model's own preprocessing: give no preprocess, got "
                    f"{preprocess!r}"
                )
            test = ImageSet.from_bytes(images, labels, name="test")
            keys = []
            for entry in inputs or []:
                p, X = read_packed(entry)
                test.keep(p, X)
                keys.append(p.key())
            self.test = test
            return {"split": split, "count": len(test), "inputs": keys}
        if split != "train":
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if inputs is not None:
            raise ValueError("inputs are for the test split only")
        p = read_preprocess(preprocess)
        X = unpack_inputs(images)
        y = read_labels(labels, split)
        if len(y) != len(X):
            raise ValueError(f"{split}: {len(X)} images but {len(y)} labels")
        self.train = {k: v for k, v in self.train.items() if v[0].deskew != p.deskew}
        self.train[p.key()] = (p, X, y)
        return {"split": split, "count": len(y), "preprocess": p.key()}

    def add_example(
        self, image: np.ndarray, label: Any, preprocess: Preprocess
    ) -> dict[str, Any]:
        """Add a drawing (uint8 [H, W] ink levels) with its digit to the next runs.

        The drawing is kept as it is; each run makes it into an input with its own
        preprocessing. Returns the number of drawings added so far, the label and
        ``seen``: the 0/1 input [576] that ``preprocess`` (the model's on the page)
        makes of it now.
        """
        if not (is_integer(label) and 0 <= label <= 9):
            raise ValueError(f"label must be a digit 0–9, got {show(label)}")
        image = np.asarray(image, np.uint8)
        x = preprocess.to_input(image).reshape(N_INPUTS)
        if not x.any():
            raise ValueError("the drawing is empty: draw a digit first")
        self.examples.append((image.copy(), label))
        return {"examples": len(self.examples), "seen": x, "label": label}

    def clear_examples(self) -> dict[str, Any]:
        """Forget the added drawings."""
        self.examples.clear()
        return {"examples": 0}

    # -- a run -------------------------------------------------------------------------
    @staticmethod
    def config(settings: dict[str, Any] | None) -> tuple[TrainConfig, bool]:
        """Validate settings: TrainConfig's table, plus the page's own ``deskew``
        (bool: train on the deskewed variant). Returns the config and deskew.

        Raises :class:`~oneneuron.train.SettingError` naming the bad setting."""
        values = dict(settings or {})
        deskew = values.pop("deskew", False)
        config = TrainConfig.from_dict(values)
        if config.backend != "numpy":
            raise SettingError(
                "backend", f"the page trains with numpy, got {config.backend!r}"
            )
        if not isinstance(deskew, bool):
            raise SettingError(
                "deskew", f"deskew must be true or false, got {deskew!r}"
            )
        return config, deskew

    def check_settings(self, settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """Validate settings before anything is downloaded or run; returns them
        complete (defaults filled in, ``deskew`` too)."""
        config, deskew = self.config(settings)
        return {**config.to_dict(), "deskew": deskew}

    def start(self, settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """Validate the settings and prepare a run; no batch runs yet.

        ``samples`` takes the first so many training images (0: all) of the
        variant ``deskew`` picks; the added drawings come after them, made into
        inputs by that variant's preprocessing, which the trained model keeps.
        Returns :meth:`progress`.
        """
        config, deskew = self.config(settings)
        if not self.train:
            raise ValueError("the training images are not loaded yet")
        preprocess, X_all, y_all = self._variant(deskew)
        n = config.samples or len(y_all)
        if n > len(y_all):
            raise SettingError(
                "samples",
                f"samples must be at most {len(y_all):,} (the training images), "
                f"got {n:,}",
            )
        X, y = X_all[:n], y_all[:n]
        if self.examples:
            mine = [preprocess.to_input(image) for image, _ in self.examples]
            X = np.concatenate([X, np.stack(mine).reshape(len(mine), N_INPUTS)])
            y = np.concatenate([y, np.array([t for _, t in self.examples], np.uint8)])
        config.samples = 0  # the slice is taken; the examples must stay in
        self._held_out = self._held_out_set(X_all, y_all, n, preprocess)
        self._history = {"step": [], "loss": [], "accuracy": []}
        self._used_examples = len(self.examples)
        self.trainer = Trainer(
            X, y, config, callback=self._record, preprocess=preprocess
        )
        return self.progress()

    def _variant(self, deskew: bool) -> tuple[Preprocess, np.ndarray, np.ndarray]:
        """The training variant with this deskew setting; SettingError if none."""
        for variant in self.train.values():
            if variant[0].deskew == deskew:
                return variant
        on = "on" if deskew else "off"
        raise SettingError(
            "deskew",
            f"deskew is {on}, but the training images made with deskewing {on} are "
            f"not loaded: load the variant in data/mnist.json whose preprocess has "
            f"deskew {str(deskew).lower()} first",
        )

    def _held_out_set(
        self, X: np.ndarray, y: np.ndarray, used: int, preprocess: Preprocess
    ) -> tuple[np.ndarray, np.ndarray, str] | None:
        """Images the run never trains on, as its preprocessing makes them: unused
        training images, else test ones."""
        if len(y) - used >= CHECK_SIZE:
            X, y, source = X[-CHECK_SIZE:], y[-CHECK_SIZE:], "train"
        elif self.test is not None:
            X = self.test.inputs(preprocess)[:CHECK_SIZE]
            y, source = self.test.labels[:CHECK_SIZE], "test"
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
        (``history``), the weights now (with their colour ``scale``), and with
        ``check`` (and always after the last batch) the held-out loss and accuracy
        and the seconds they took. Raises
        :class:`~oneneuron.train.TrainingDiverged` (a ValueError) when the loss stops
        being finite; the run is then dropped (the page's models are untouched).
        """
        trainer = self._run()
        self._history = {"step": [], "loss": [], "accuracy": []}
        batches = None if max_batches is None else max(1, int(max_batches))
        try:
            trainer.run(max_batches=batches, max_seconds=max_seconds)
        except TrainingDiverged as exc:
            self.trainer = None
            raise TrainingDiverged(f"{exc}; the previous model is kept") from None
        out = self.progress()
        h = self._history
        out["history"] = {
            "step": np.asarray(h["step"], np.int32),
            "loss": np.asarray(h["loss"], np.float32),
            "accuracy": np.asarray(h["accuracy"], np.float32),
        }
        coef, intercept = trainer.model.input_layer().weights_numpy()
        out["weights"] = np.asarray(coef, np.float32).reshape(-1).copy()
        out["bias"] = [float(b) for b in intercept]
        out["scale"] = colour_scale(coef)
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
        t = self._run()
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

    def finish(self, mistakes: int = 0) -> tuple[Any, dict, dict, dict | None]:
        """End the run: its model (with the run's preprocessing), the record and
        the test metrics kept in its weights file, and :meth:`evaluate` with up to
        ``mistakes`` mistakes (no metrics and None when the test images are not
        loaded)."""
        trainer = self._run()
        record = {**trainer.config.to_dict(), "samples": trainer.n}
        record["trained_in"] = TRAINED_HERE
        record["steps"] = trainer.step
        record["examples"] = self._used_examples
        self.trainer = None
        model, result, evaluation = trainer.model, {}, None
        if self.test is not None:
            evaluation = self.evaluate(model, mistakes)
            kept = {k: v for k, v in evaluation.items() if k not in NOT_METRICS}
            if "confusion" in kept:  # 10×10 in the file, as the CLI writes it
                kept["confusion"] = np.asarray(kept["confusion"]).reshape(10, 10)
            result = {f"test_{k}": plain(v) for k, v in kept.items()}
        return model, record, result, evaluation

    def cancel(self) -> None:
        """Drop the run in progress, if any."""
        self.trainer = None

    def _run(self) -> Trainer:
        """The run in progress; ValueError if there is none."""
        if self.trainer is None:
            raise ValueError("no training run is in progress: start one first")
        return self.trainer

    def _record(self, p: Any) -> None:
        self._history["step"].append(p.step)
        self._history["loss"].append(p.loss)
        self._history["accuracy"].append(p.accuracy)

    # -- after a run -------------------------------------------------------------------
    def test_set(self) -> ImageSet:
        """The raw test images; ValueError if they are not loaded."""
        if self.test is None:
            raise ValueError("the test images are not loaded yet")
        return self.test

    def evaluate(self, model: Neuron | Layer, mistakes: int = 0) -> dict[str, Any]:
        """Test metrics of ``model`` on the test images made into inputs by its own
        preprocessing, and up to ``mistakes`` images it gets wrong.

        :func:`oneneuron.metrics.evaluate` with ``wrong``; the confusion matrix of
        ten is int32 [100] (row = true digit); ``mistakes``, when asked for, also
        holds each wrong image's 0/1 input (uint8 [k·576]).
        """
        test = self.test_set()
        X, y = test.inputs(model.preprocess), test.labels
        wanted = min(int(mistakes), MAX_MISTAKES)
        out = metrics.evaluate(model, X, y, mistakes=wanted)
        if "confusion" in out:
            out["confusion"] = np.asarray(out["confusion"], np.int32).reshape(-1)
        if wanted:
            m = out["mistakes"]
            m["inputs"] = X[m["index"]].reshape(-1).astype(np.uint8)
        else:
            del out["mistakes"]
        return out

    def test_image(self, index: Any, preprocess: Preprocess) -> tuple[np.ndarray, int]:
        """A test image's 0/1 input [576], made by ``preprocess``, and its label."""
        test = self.test_set()
        i = test.index(index)
        return test.inputs(preprocess)[i], int(test.labels[i])
