"""The article's middle on one drawing: its loss, and one gradient step on it.

The loss of a drawing for an answer is the cross-entropy the trainer minimises,
for this one input: −log p when the answer is the neuron's digit, −log(1 − p)
when it is not (one neuron), −log p_digit (ten, or a network). One step moves
every weight a little against its gradient on this drawing alone: the model's own
``step_terms`` (the gradient training uses) and the trainer's ``SGD.update`` with no
momentum (w ← w − lr·g). :class:`Lessons` keeps each model's weights before each
step, so Undo gives them back exactly.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .backend import to_numpy
from .model import N_INPUTS, Model


def drawing_loss(model: Model, x: np.ndarray, label: int, off: Any = ()) -> float:
    """The cross-entropy of one 0/1 input [576] for the answer ``label`` (a digit),
    computed in float64 from the model's weights (a network's hidden neurons
    ``off`` give 0).

    Examples
    --------
    >>> import math
    >>> from oneneuron.model import Neuron
    >>> m = Neuron(target=6).init_weights()  # p = 0.5 for every input
    >>> round(drawing_loss(m, np.zeros(576), 6), 6), round(math.log(2), 6)
    (0.693147, 0.693147)
    """
    xp = model.xp
    z = model.z_exact(np.asarray(x, np.float64).reshape(1, N_INPUTS), **_off(off))
    t = xp.astype(model.targets(model.labels([label])), xp.float64)
    return float(model.cross_entropy(z, t))


def step(
    model: Model, x: np.ndarray, label: int, lr: float, off: Any = ()
) -> np.ndarray:
    """One gradient step on one drawing, in place: the model's own gradient and the
    trainer's SGD (no momentum); a network's hidden neurons ``off`` give 0 and do not
    move. Returns the gradient of the layer that reads the image, float32 [K, 576]:
    zero wherever the drawing has no ink."""
    from .train import SGD, TrainConfig, TrainingDiverged  # not needed at a start

    config = TrainConfig(lr=lr, momentum=0.0).validate()  # the same checks as a run
    X = model.as_inputs(np.asarray(x).reshape(1, N_INPUTS))
    with warnings.catch_warnings():  # an overflow is refused below, in one line
        warnings.simplefilter("ignore", RuntimeWarning)
        _, grads, _ = model.step_terms(X, model.labels([label]), 0.0, **_off(off))
        params = SGD(config).update(model.params(), grads)
    xp = model.xp
    if not all(bool(xp.all(xp.isfinite(p))) for p in params):
        raise TrainingDiverged(
            f"a step of learning rate {lr:g} makes the weights overflow: try a "
            "smaller one; the weights are kept as they were"
        )
    model.set_params(params)
    return np.asarray(to_numpy(grads[0]), np.float32)


def _off(off: Any) -> dict[str, Any]:
    """The hidden neurons switched off, as a network's keyword (one or ten neurons
    have no hidden neurons to switch)."""
    return {"off": off} if off else {}


class Lessons:
    """The weights of each taught model before each step, newest last. A model is
    a page's entry ``{"model", "training", ...}``; its record counts the steps
    (``training["taught"]``, which the model card and its weights file show)."""

    def __init__(self) -> None:
        self._before: dict[str, list[list[Any]]] = {}

    def teach(
        self,
        name: str,
        entry: dict,
        x: np.ndarray,
        label: int,
        lr: float,
        off: Any = (),
    ) -> dict[str, Any]:
        """:func:`step` on the entry's model, remembering its weights: the
        ``gradient`` (float32 [K·576]) and the ``steps`` taught so far."""
        model = entry["model"]
        saved = [model.xp.asarray(to_numpy(p).copy()) for p in model.params()]
        gradient = step(model, x, label, lr, off)
        self._before.setdefault(name, []).append(saved)
        self._count(entry, self.steps(name))
        return {"gradient": gradient.reshape(-1), "steps": self.steps(name)}

    def undo(self, name: str, entry: dict, *, all_steps: bool = False) -> int:
        """Give the entry's model back its weights before its last step (before its
        first, with ``all_steps``); returns the steps still taken."""
        stack = self._before.get(name) or []
        if not stack:
            raise ValueError("there is no step to undo: teach it a drawing first")
        params = stack[0] if all_steps else stack[-1]
        del stack[0 if all_steps else -1 :]
        entry["model"].set_params(params)
        self._count(entry, len(stack))
        return len(stack)

    def steps(self, name: str) -> int:
        """How many steps ``name`` has been taught (and can undo)."""
        return len(self._before.get(name) or [])

    def forget(self, name: str) -> None:
        """Drop the saved weights of a model that is gone."""
        self._before.pop(name, None)

    @staticmethod
    def _count(entry: dict, steps: int) -> None:
        record = {k: v for k, v in entry["training"].items() if k != "taught"}
        entry["training"] = {**record, "taught": steps} if steps else record
