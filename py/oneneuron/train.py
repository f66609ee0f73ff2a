"""Minibatch gradient descent for one neuron or ten, in slices the page can drive.

The loop is plain: shuffle, take a batch, compute the gradient, let the optimizer
move the weights a little against it. :class:`Trainer` runs it a given number of
batches at a time, so the page can train in slices between drawing frames, pause,
resume and step; :func:`fit` runs it to the end for the CLI.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from .backend import BACKENDS, to_numpy
from .checks import is_integer, is_number
from .model import make_model
from .network import MAX_HIDDEN
from .preprocess import Preprocess

SCHEDULES = ("constant", "cosine")


@dataclass
class TrainConfig:
    """Everything that decides a training run (all recorded in the weights file)."""

    target: int | str = 6  # the digit 0–9 for one neuron, or "all" for ten neurons
    hidden: int = 0  # "all": hidden sigmoid neurons feeding the ten (0: none)
    optimizer: str = "adam"  # "adam", or "sgd" (with momentum)
    lr: float = 0.01  # learning rate: how far each step moves the weights
    schedule: str = "constant"  # lr over the run: "constant", or "cosine" (to 0)
    momentum: float = 0.9  # sgd: how much of the previous step carries over (0 = none)
    beta1: float = 0.9  # adam: decay of the running mean of gradients
    beta2: float = 0.999  # adam: decay of the running mean of squared gradients
    l2: float = 0.0  # weight decay: adds l2/2·‖w‖² to the loss (0 = off)
    epochs: int = 5  # passes over the training set
    batch_size: int = 512  # images per gradient step
    seed: int = 0  # shuffling seed: same seed, same backend → identical weights
    backend: str = "numpy"  # array namespace: "numpy", "cupy" or "array_api_strict"
    samples: int = 0  # use only the first this many training images (0 = all)
    # each training input also comes thickened and thinned (strokes.augment): other
    # pens' strokes, seen in training; recorded, not applied to the test images
    augment: bool = False
    # one neuron: each image of its digit counts this many times an epoch, and at the
    # end the bias is lowered by log(this), which puts back the digit's true share
    # (the ranking of images, and so the ROC AUC, is the weights'); 1 = off
    target_repeat: int = 1

    def validate(self) -> TrainConfig:
        """Check every setting against ``_RULES``; raise SettingError at the first."""
        for name, (check, rule) in _RULES.items():
            value = getattr(self, name)
            if not check(value):
                what = name.replace("_", " ")
                raise SettingError(name, f"{what} {rule}, got {value!r}")
        if self.target == "all" and self.target_repeat != 1:
            raise SettingError(
                "target_repeat", "target repeat is for one neuron: ten neurons need 1"
            )
        if self.hidden and self.target != "all":
            raise SettingError(
                "hidden",
                "a hidden layer feeds ten output neurons: use target all, or hidden 0",
            )
        return self

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a dict, refusing keys that are not settings."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingError(
                unknown[0], f"unknown training setting(s): {', '.join(unknown)}"
            )
        return cls(**values).validate()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SGD:
    """Gradient descent with momentum: v ← μv + g; w ← w − lr·v."""

    def __init__(self, config: TrainConfig) -> None:
        self.lr, self.momentum = config.lr, config.momentum
        self.velocity: list[Any] | None = None

    def update(self, params: list[Any], grads: list[Any]) -> list[Any]:
        if self.velocity is None:
            self.velocity = [g * 0.0 for g in grads]
        self.velocity = [
            self.momentum * v + g for v, g in zip(self.velocity, grads, strict=True)
        ]
        return [p - self.lr * v for p, v in zip(params, self.velocity, strict=True)]


class Adam:
    """Adam: steps scaled by running means of the gradient and of its square."""

    def __init__(self, config: TrainConfig, eps: float = 1e-8) -> None:
        self.lr, self.beta1, self.beta2 = config.lr, config.beta1, config.beta2
        self.eps = eps
        self.t = 0
        self.m: list[Any] | None = None
        self.v: list[Any] | None = None

    def update(self, params: list[Any], grads: list[Any]) -> list[Any]:
        if self.m is None or self.v is None:
            self.m = [g * 0.0 for g in grads]
            self.v = [g * 0.0 for g in grads]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        self.m = [b1 * m + (1 - b1) * g for m, g in zip(self.m, grads, strict=True)]
        self.v = [b2 * v + (1 - b2) * g * g for v, g in zip(self.v, grads, strict=True)]
        step = self.lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        return [
            p - step * m / (v**0.5 + self.eps)
            for p, m, v in zip(params, self.m, self.v, strict=True)
        ]


# The optimizers by name (TrainConfig.optimizer), each made from the run's config.
OPTIMIZERS = {"adam": Adam, "sgd": SGD}


# One table of constraints: setting → (check, what it must be).
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "target": (
        lambda v: v == "all" or (is_integer(v) and 0 <= v <= 9),
        "must be a digit 0–9 or 'all'",
    ),
    "optimizer": (lambda v: v in OPTIMIZERS, "must be one of " + ", ".join(OPTIMIZERS)),
    "lr": (lambda v: is_number(v) and v > 0, "must be a finite number > 0"),
    "schedule": (lambda v: v in SCHEDULES, "must be one of " + ", ".join(SCHEDULES)),
    "momentum": (lambda v: is_number(v) and 0 <= v < 1, "must be in [0, 1)"),
    "beta1": (lambda v: is_number(v) and 0 <= v < 1, "must be in [0, 1)"),
    "beta2": (lambda v: is_number(v) and 0 <= v < 1, "must be in [0, 1)"),
    "l2": (lambda v: is_number(v) and v >= 0, "must be a finite number ≥ 0"),
    "epochs": (
        lambda v: is_integer(v) and 1 <= v <= 1000,
        "must be a whole number from 1 to 1000",
    ),
    "batch_size": (lambda v: is_integer(v) and v >= 1, "must be a whole number ≥ 1"),
    "seed": (
        lambda v: is_integer(v) and 0 <= v < 2**32,
        "must be a whole number from 0 to 2³²−1",
    ),
    "backend": (
        lambda v: v in BACKENDS,
        "must be " + ", ".join(BACKENDS[:-1]) + " or " + BACKENDS[-1],
    ),
    "samples": (
        lambda v: is_integer(v) and v >= 0,
        "must be a whole number ≥ 0 (0 = all)",
    ),
    "hidden": (
        lambda v: is_integer(v) and 0 <= v <= MAX_HIDDEN,
        f"must be a whole number from 1 to {MAX_HIDDEN} (or 0: no hidden layer)",
    ),
    "augment": (lambda v: isinstance(v, bool), "must be true or false"),
    "target_repeat": (
        lambda v: is_integer(v) and 1 <= v <= 10,
        "must be a whole number from 1 to 10",
    ),
}


class SettingError(ValueError):
    """A training setting is refused; ``field`` names it (a TrainConfig field), so
    a form can mark its input without reading the message.

    Examples
    --------
    >>> e = SettingError("batch_size", "batch size must be a whole number ≥ 1, got 0")
    >>> e.field
    'batch_size'
    """

    kind = "setting"  # as the page receives it (checks.error_data)

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite: the steps were too large."""

    kind = "diverged"  # as the page receives it (checks.error_data)


@dataclass
class Progress:
    """What the trainer reports after each batch (the CLI's bar, the page's charts)."""

    epoch: int  # 1-based epoch of the batch just done
    batch: int  # 1-based batch within that epoch
    batches: int  # batches per epoch
    step: int  # batches done in all
    steps: int  # batches in the whole run
    images_seen: int  # images trained on in all, repeats counted
    loss: float  # mean loss on this batch, before the step
    accuracy: float  # accuracy on this batch, before the step


class Trainer:
    """Train a model on (X, y) batch by batch; it can stop and go on at any batch.

    Parameters
    ----------
    X : array [N, 576] of 0/1 inputs (any namespace; moved to the config's backend)
    y : array [N] of digit labels 0–9
    config : TrainConfig
    callback : called with a :class:`Progress` after every batch
    preprocess : Preprocess or None
        How X was made from images; it becomes the model's ``preprocess`` (and is
        written in its weights file). The trainer does not apply it: make X with it
        first (``preprocess.to_input(images)``). None: ``Preprocess()``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((64, 576)) < 0.2).astype(np.float32)
    >>> y = rng.integers(0, 10, 64)
    >>> t = Trainer(X, y, TrainConfig(epochs=2, batch_size=16))
    >>> t.run(max_batches=3), t.step, t.steps
    (False, 3, 8)
    >>> t.run(), t.step
    (True, 8)
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        config: TrainConfig,
        *,
        callback: Callable[[Progress], None] | None = None,
        preprocess: Preprocess | None = None,
    ) -> None:
        self.config = config.validate()
        self.model = make_model(
            config.target,
            hidden=config.hidden,
            backend=config.backend,
            preprocess=preprocess,
        ).init_weights(config.seed)
        self.xp = self.model.xp
        # 0/1 images stay one byte each and become floats a batch at a time: shuffling
        # moves 4× fewer bytes, and no 138 MB float copy of MNIST is ever made.
        compact = isinstance(X, np.ndarray) and X.dtype in (np.uint8, np.bool_)
        X = self.model.as_inputs(X, dtype="uint8" if compact else None)
        y = self.model.labels(y)
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")
        if config.samples:
            X, y = X[: config.samples], y[: config.samples]
        if X.shape[0] == 0:
            raise ValueError("there are no training images")
        self.n = int(X.shape[0])  # the images; augmented copies come after them
        if config.augment:
            from .strokes import augment

            xp = self.xp
            Xa, ya = augment(to_numpy(X), to_numpy(y))
            X = xp.asarray(Xa) if compact else xp.astype(xp.asarray(Xa), X.dtype)
            y = xp.asarray(ya)
        self.X, self.y = X, y
        # an epoch's rows: each image once, the target digit's target_repeat times
        # (as if they were in X that often)
        # (np.intp, as a permutation is: 32 bits under Pyodide, which take() needs)
        extra = np.zeros(0, np.intp)
        if config.target_repeat > 1:
            positive = np.flatnonzero(to_numpy(y) == config.target)
            extra = np.tile(positive, config.target_repeat - 1)
        rows = np.arange(X.shape[0], dtype=np.intp)
        self._rows = np.concatenate([rows, extra])
        self.per_epoch = len(self._rows)
        self.batch_size = min(config.batch_size, self.per_epoch)
        self.batches = math.ceil(self.per_epoch / self.batch_size)
        self.steps = self.batches * config.epochs
        self.step = 0
        self.callback = callback
        self._rng = np.random.default_rng(config.seed)
        self._order: Any = None
        self.optimizer = OPTIMIZERS[config.optimizer](config)

    @property
    def done(self) -> bool:
        return self.step >= self.steps

    @property
    def epoch(self) -> int:
        """The 1-based epoch of the last batch done (1 before the first)."""
        return max(self.step - 1, 0) // self.batches + 1

    @property
    def images_seen(self) -> int:
        """Images trained on so far, counting each epoch's again."""
        epochs_done, batch = divmod(self.step, self.batches)
        return epochs_done * self.per_epoch + min(
            batch * self.batch_size, self.per_epoch
        )

    def run(
        self, max_batches: int | None = None, max_seconds: float | None = None
    ) -> bool:
        """Run up to ``max_batches`` batches (all that remain by default), stopping
        early once ``max_seconds`` have passed (after at least one batch).

        Returns True when the whole run is done. Raises :class:`TrainingDiverged` if the
        loss stops being finite; the model then holds the last finite weights.
        """
        todo = self.steps - self.step if max_batches is None else max_batches
        deadline = None if max_seconds is None else time.perf_counter() + max_seconds
        for _ in range(max(0, min(todo, self.steps - self.step))):
            self._one_batch()
            if deadline is not None and time.perf_counter() >= deadline:
                break
        return self.done

    def _one_batch(self) -> None:
        xp, m, cfg = self.xp, self.model, self.config
        epoch, b = divmod(self.step, self.batches)
        if b == 0:  # a new epoch: a new shuffle, the same on every backend
            order = self._rng.permutation(self.per_epoch)
            self._order = xp.asarray(self._rows[order])
        # clamp the stop: an out-of-bounds slice is not in the array API standard
        stop = min((b + 1) * self.batch_size, self.per_epoch)
        idx = self._order[b * self.batch_size : stop]
        X = xp.astype(xp.take(self.X, idx, axis=0), m.float_dtype, copy=False)
        y = xp.take(self.y, idx, axis=0)
        if cfg.schedule == "cosine":  # large steps first, then ever finer ones
            progress = self.step / self.steps
            self.optimizer.lr = cfg.lr * 0.5 * (1 + math.cos(math.pi * progress))
        with warnings.catch_warnings():
            # overflow is caught below and reported as TrainingDiverged, in one line
            warnings.simplefilter("ignore", RuntimeWarning)
            loss, grads, p = m.step_terms(X, y, cfg.l2)
            loss = float(loss)
            params = self.optimizer.update(m.params(), grads)
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"training diverged at epoch {epoch + 1}, batch {b + 1}: the loss "
                f"became {loss}; the steps are too large, try a smaller learning rate "
                f"(lr = {cfg.lr})"
            )
        accuracy = m.accuracy(m.decide(p), m.truth(y))
        if not all(bool(xp.all(xp.isfinite(a))) for a in params):
            raise TrainingDiverged(
                f"training diverged at epoch {epoch + 1}, batch {b + 1}: the weights "
                f"overflowed; try a smaller learning rate (lr = {cfg.lr})"
            )
        m.set_params(params)
        self.step += 1
        if self.done and cfg.target_repeat > 1:  # the digit's true share, put back
            m.intercept_ = m.intercept_ - math.log(cfg.target_repeat)
        if self.callback is not None:
            self.callback(
                Progress(
                    epoch=self.epoch,
                    batch=b + 1,
                    batches=self.batches,
                    step=self.step,
                    steps=self.steps,
                    images_seen=self.images_seen,
                    loss=loss,
                    accuracy=accuracy,
                )
            )


def rule_source(model: Any, optimizer: str = "adam") -> dict[str, dict[str, Any]]:
    """The Python that trains ``model`` (a model or its class), read from the package
    as it runs: its gradient (``step_terms``) and the optimizer's step (``update``).

    Each is ``{"name": qualified name, "file": module file, "line": first line,
    "source": the dedented source, "path": the file's path}``.

    Examples
    --------
    >>> from oneneuron.model import Neuron
    >>> rule_source(Neuron, "sgd")["update"]["name"]
    'oneneuron.train.SGD.update'
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}"
        )
    return {
        "gradient": _source(model.step_terms),
        "update": _source(OPTIMIZERS[optimizer].update),
    }


def _source(fn: Any) -> dict[str, Any]:
    """Where a function lives and its source, as the package holds it right now."""
    import inspect
    import textwrap

    lines, first = inspect.getsourcelines(fn)
    module = inspect.getmodule(fn)
    return {
        "name": f"{fn.__module__}.{fn.__qualname__}",
        "file": f"{fn.__module__.replace('.', '/')}.py",
        "line": first,
        "source": textwrap.dedent("".join(lines)),
        "path": getattr(module, "__file__", None),
    }


def fit(
    X: Any,
    y: Any,
    config: TrainConfig,
    *,
    callback: Callable[[Progress], None] | None = None,
    preprocess: Preprocess | None = None,
):
    """Train a fresh model to the end and return it.

    ``preprocess`` is how X was made from images (see :class:`Trainer`): X must
    already have been made with it; the model records it.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((200, 576)) < 0.2).astype(np.float32)
    >>> y = np.where(X[:, 0] > 0, 6, 1)  # "a 6" exactly when pixel 0 is on
    >>> m = fit(X, y, TrainConfig(target=6, lr=0.1, epochs=20, batch_size=50))
    >>> m.score(X, y)
    1.0
    """
    trainer = Trainer(X, y, config, callback=callback, preprocess=preprocess)
    trainer.run()
    return trainer.model
