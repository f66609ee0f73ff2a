"""One neuron, and a layer of ten, as array code that runs on any array namespace.

One neuron computes z = w·x + b and p = σ(z): the probability that the image shows
its target digit. Ten neurons compute one z per digit and a softmax turns them into
ten probabilities. Both learn by gradient descent on the cross-entropy, whose
gradient has the same form for both: (p − t) xᵀ, averaged over the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import get_namespace, matmul_t, namespace_name, t_matmul, to_numpy
from .card import model_label
from .preprocess import Preprocess

N_INPUTS = 576  # 24 × 24 pixels
DIGITS = tuple(range(10))


class NotFittedError(ValueError):
    """The model has no weights yet."""


class Model:
    """What every model shares: its settings, inputs in, answers and scores out.

    A model defines ``params``/``set_params``, ``z`` (its output neurons' z for a
    batch; ``z_exact`` in float64), ``proba``, ``targets``, ``cross_entropy``,
    ``decide``, ``truth`` and ``step_terms`` (one batch's loss and gradients).
    """

    classes_: tuple[int, ...]
    kind: str  # what the page calls this kind of model: "one", "ten" or "hidden"
    target: int | None = None  # one neuron: the digit it says yes to
    n_inputs: int = N_INPUTS  # inputs it reads: a 24×24 image's

    def __init__(
        self,
        *,
        backend: str = "numpy",
        dtype: str = "float32",
        preprocess: Preprocess | None = None,
    ) -> None:
        if preprocess is None:
            preprocess = Preprocess()
        if not isinstance(preprocess, Preprocess):
            raise ValueError(
                f"preprocess must be a Preprocess, got {type(preprocess).__name__}"
            )
        self.backend = backend
        self.dtype = dtype
        self.preprocess = preprocess  # how this model's inputs are made from images
        self.xp = get_namespace(backend)

    @property
    def float_dtype(self) -> Any:
        """This model's float dtype in its namespace (``xp.float32`` by default)."""
        return getattr(self.xp, self.dtype)

    @property
    def label(self) -> str:
        """What the page calls this model (:func:`model_label`)."""
        return model_label(self.kind, self.target)

    # -- prediction ------------------------------------------------------------------
    def to_input(self, images: Any) -> np.ndarray:
        """Images as this model reads them: ``self.preprocess.to_input(images)``.

        (H, W) → uint8 [24, 24], (N, H, W) → [N, 24, 24]; flatten to [N, 576]
        for :meth:`predict`.

        Examples
        --------
        >>> img = np.zeros((28, 28), np.uint8)
        >>> img[4:24, 12:16] = 255
        >>> Neuron(target=1).to_input(img).shape
        (24, 24)
        """
        return self.preprocess.to_input(images)

    def decision_function(self, X: Any) -> Any:
        """z = w·x + b of the output neurons: shape [N] for one neuron, else [N, 10]."""
        z = self.xp.astype(self.z_exact(X), self.float_dtype)
        return z[:, 0] if self.kind == "one" else z

    def predict_proba(self, X: Any) -> Any:
        """Probabilities: [N] (P(target)) for one neuron, [N, 10] for ten.

        Examples
        --------
        >>> m = Neuron(target=6).init_weights()
        >>> m.predict_proba(np.zeros((2, 576))).tolist()
        [0.5, 0.5]
        """
        p = self.xp.astype(self.proba(self.z_exact(X)), self.float_dtype)
        return p[:, 0] if self.kind == "one" else p

    def predict(self, X: Any) -> Any:
        """The answer for each input (:meth:`decide`). Shape [N]."""
        return self.decide(self.predict_proba(X))

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of :meth:`predict` against digit labels ``y``."""
        return self.accuracy(self.predict(X), self.truth(self.labels(y)))

    def accuracy(self, pred: Any, truth: Any) -> float:
        """The share of answers ``pred`` equal to ``truth`` (see :meth:`truth`)."""
        xp = self.xp
        return float(xp.mean(xp.astype(pred == truth, self.float_dtype)))

    def loss_accuracy(self, X: Any, y: Any) -> tuple[float, float]:
        """Mean cross-entropy and accuracy on (X, y) in this model's dtype, in one
        pass (the check drawn while training)."""
        y = self.labels(y)
        z = self.z(self.as_inputs(X))
        loss = float(self.cross_entropy(z, self.targets(y)))
        return loss, self.accuracy(self.decide(self.proba(z)), self.truth(y))

    # -- learning --------------------------------------------------------------------
    def loss_grad(self, X: Any, y: Any, *, l2: float = 0.0) -> tuple[Any, ...]:
        """Mean cross-entropy on (X, y) plus ``l2``/2·‖W‖² (every weight, no bias),
        and its gradient: (loss, dL/dp for each p of :meth:`params`, in order).

        ``y`` holds digit labels 0–9. For one neuron or ten: (loss, dL/dW [K, 576],
        dL/db [K]).
        """
        loss, grads, _ = self.step_terms(self.as_inputs(X), self.labels(y), l2)
        return (float(loss), *grads)

    # -- checks and conversions ------------------------------------------------------
    def as_inputs(self, X: Any, dtype: str | None = None) -> Any:
        """Validate inputs (shape [576] or [N, 576], numbers) and bring them to xp,
        in this model's float dtype or ``dtype``."""
        X = self._as_xp(X, "input", dtype=dtype)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            n = self.n_inputs
            raise ValueError(f"input must have shape [{n}] or [N, {n}], got {X.shape}")
        return X

    def labels(self, y: Any) -> Any:
        """Validate digit labels (shape [N], numbers) and bring them to xp as int64."""
        y = self._as_xp(y, "labels", dtype="int64")
        if y.ndim != 1:
            raise ValueError(f"labels must have shape [N], got {y.shape}")
        return y

    def _as_xp(self, a: Any, what: str, dtype: str | None = None) -> Any:
        """Bring ``a`` into this model's namespace and dtype, refusing non-numbers."""
        xp = self.xp
        dt = getattr(xp, dtype) if dtype else self.float_dtype
        if _namespace_of(a) == namespace_name(xp):
            if not _is_numeric(xp, a.dtype):
                raise ValueError(f"{what} must hold numbers, got dtype {a.dtype}")
            return a if a.dtype == dt else xp.astype(a, dt)
        try:
            host = np.asarray(a)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{what} must be an array of numbers: {exc}") from None
        if host.dtype.kind not in "biuf":
            raise ValueError(f"{what} must hold numbers, got dtype {host.dtype}")
        return xp.asarray(host.astype(dtype or self.dtype, copy=False))

    def _check_fitted(self) -> None:
        if any(p is None for p in self.params()):
            raise NotFittedError(
                f"{type(self).__name__} has no weights: call fit() or load_weights()"
            )


class Linear(Model):
    """A layer of ``units`` neurons reading ``n_inputs`` inputs: z = X Wᵀ + b, one
    row of W per neuron. What one neuron, ten and each layer of a network share."""

    units: int  # neurons in the layer: K

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.coef_: Any = None  # [K, n_inputs] weights, one row per neuron
        self.intercept_: Any = None  # [K] biases

    # -- weights ---------------------------------------------------------------------
    def init_weights(self, seed: int = 0) -> Linear:
        """All-zero weights (the loss is convex: zero is a fine start; ``seed`` is
        for models that start random)."""
        xp, k = self.xp, self.units
        self.coef_ = xp.zeros((k, self.n_inputs), dtype=self.float_dtype)
        self.intercept_ = xp.zeros((k,), dtype=self.float_dtype)
        return self

    def set_weights(self, coef: Any, intercept: Any) -> Linear:
        """Set weights from host arrays of shape [K, n_inputs] and [K] (a copy)."""
        k = self.units
        coef = np.array(coef, dtype=self.dtype).reshape(k, self.n_inputs)
        intercept = np.array(intercept, dtype=self.dtype).reshape(k)
        self.coef_ = self.xp.asarray(coef)
        self.intercept_ = self.xp.asarray(intercept)
        return self

    def weights_numpy(self) -> tuple[np.ndarray, np.ndarray]:
        """The weights as host numpy arrays (for JSON, pictures and comparisons)."""
        self._check_fitted()
        return to_numpy(self.coef_), to_numpy(self.intercept_)

    def input_layer(self) -> Linear:
        """The layer whose neurons read the image (its weights are 24×24 maps)."""
        return self

    def params(self) -> list[Any]:
        """What training moves: [W, b]."""
        return [self.coef_, self.intercept_]

    def set_params(self, params: list[Any]) -> None:
        """Take new [W, b] (arrays of this namespace, as :meth:`params` gives)."""
        self.coef_, self.intercept_ = params

    # -- the neurons' sums -----------------------------------------------------------
    def z(self, X: Any) -> Any:
        """z = X Wᵀ + b: [N, n_inputs] → [N, K], in this model's dtype."""
        self._check_fitted()
        return matmul_t(self.xp, X, self.coef_) + self.intercept_

    def z_exact(self, X: Any) -> Any:
        """z summed in float64: a float32 sum of 576 terms depends on the order the
        BLAS adds them in (CPython's OpenBLAS and Pyodide's numpy differ by ~1e-6);
        in float64 both round to the same float32."""
        self._check_fitted()
        xp = self.xp
        X = self.as_inputs(X, dtype="float64")
        coef = xp.astype(self.coef_, xp.float64)
        return X @ coef.T + xp.astype(self.intercept_, xp.float64)

    def explain(self, x: np.ndarray) -> dict[str, Any]:
        """A prediction for one 0/1 input [576] (host numpy), with every term.

        Returns ``seen`` (uint8 [576]), ``ink``, per neuron ``dot`` (w·x), ``bias``,
        ``z`` and ``p``; ``contributions`` (float32 [K·576], w ⊙ x); ``top`` (the
        most probable class), ``digit`` (the answer: one neuron's target or None;
        ten: the top digit) and ``probability`` (of the target, or of the top).
        """
        coef, intercept = (np.asarray(a, np.float32) for a in self.weights_numpy())
        xf = x.astype(np.float32)
        z = np.asarray(self.decision_function(xf[None]), np.float32).reshape(-1)
        proba = self.predict_proba(xf[None])
        answer = int(self.decide(proba)[0])  # the model's own rule: 0/1, or a digit
        p = np.asarray(proba, np.float32).reshape(-1)
        contributions = coef * xf
        if self.kind == "one":
            top, digit, probability = self.target, self.target if answer else None, p[0]
        else:
            top, digit, probability = answer, answer, p.max()
        return {
            "seen": x.astype(np.uint8),
            "ink": int(x.sum()),
            "dot": [float(v) for v in contributions.sum(axis=1, dtype=np.float32)],
            "bias": [float(v) for v in intercept],
            "z": [float(v) for v in z],
            "p": [float(v) for v in p],
            "contributions": contributions.reshape(-1),
            "top": top,
            "digit": digit,
            "probability": float(probability),
        }

    # -- learning --------------------------------------------------------------------
    def step_terms(self, X: Any, y: Any, l2: float) -> tuple[Any, list[Any], Any]:
        """Loss (a 0-d array), gradients [dL/dW, dL/db] and probabilities [N, K] for
        one batch.

        ``X`` is already in this model's namespace and dtype (:meth:`as_inputs`),
        ``y`` holds digit labels (:meth:`labels`); :meth:`loss_grad` checks both.
        """
        xp = self.xp
        z = self.z(X)
        t = self.targets(y)
        p = self.proba(z)
        n = X.shape[0]
        dz = (p - t) / n
        g_coef = t_matmul(xp, dz, X)  # dz.T @ X: each weight's share of the error
        g_int = xp.sum(dz, axis=0)
        loss = self.cross_entropy(z, t)
        if l2:
            g_coef = g_coef + l2 * self.coef_
            loss = loss + 0.5 * l2 * xp.sum(self.coef_ * self.coef_)
        return loss, [g_coef, g_int], p


class Neuron(Linear):
    """One neuron: p = σ(w·x + b) is the probability that x shows digit ``target``.

    Parameters
    ----------
    target : int
        The digit 0–9 this neuron says yes to.
    backend : str
        Array namespace: "numpy", "cupy" or "array_api_strict".
    dtype : str
        "float32" (training, shipped weights) or "float64" (gradient checks).
    preprocess : Preprocess or None
        How inputs are made from images (:meth:`to_input`); None: ``Preprocess()``.

    Examples
    --------
    >>> m = Neuron(target=6).init_weights()
    >>> m.classes_, m.kind, m.label
    ((6,), 'one', 'One neuron: is it a 6?')
    """

    kind = "one"
    units = 1

    def __init__(
        self,
        *,
        target: int = 6,
        backend: str = "numpy",
        dtype: str = "float32",
        preprocess: Preprocess | None = None,
    ):
        if not (isinstance(target, int) and 0 <= target <= 9):
            raise ValueError(f"target must be a digit 0–9, got {target!r}")
        super().__init__(backend=backend, dtype=dtype, preprocess=preprocess)
        self.target = target
        self.classes_ = (target,)

    def decide(self, p: Any) -> Any:
        """The answer for probabilities ``p`` ([N] or [N, 1]): 1 where p ≥ 0.5, else 0.

        Examples
        --------
        >>> Neuron(target=6).decide(np.array([0.2, 0.5, 0.9])).tolist()
        [0, 1, 1]
        """
        p = p[:, 0] if p.ndim == 2 else p
        return self.xp.astype(p >= 0.5, self.xp.int64)

    def truth(self, y: Any) -> Any:
        """What :meth:`decide` should answer for digit labels ``y``: 1 for target."""
        return self.xp.astype(y == self.target, self.xp.int64)

    def targets(self, y: Any) -> Any:
        """What p should be for digit labels ``y``: [N, 1], 1 for the target."""
        return self.xp.astype(y == self.target, self.float_dtype)[:, None]

    def proba(self, z: Any) -> Any:
        """σ(z): the neuron's probability."""
        return sigmoid(z, self.xp)

    def cross_entropy(self, z: Any, t: Any) -> Any:
        """Mean −[t log σ(z) + (1−t) log(1−σ(z))] = softplus(z) − t·z, stable."""
        return self.xp.mean(softplus(z, self.xp) - t * z)


class Layer(Linear):
    """Ten neurons, one per digit; a softmax turns their z into ten probabilities.

    Takes ``backend``, ``dtype`` and ``preprocess`` as :class:`Neuron` does, and
    ``n_inputs``: 576, or a hidden layer's H.

    Examples
    --------
    >>> m = Layer().init_weights()
    >>> m.predict_proba(np.zeros(576)).shape
    (1, 10)
    """

    kind = "ten"
    units = 10
    classes_ = DIGITS

    def __init__(self, *, n_inputs: int = N_INPUTS, **settings: Any):
        super().__init__(**settings)
        self.n_inputs = n_inputs  # 576, or a hidden layer's outputs

    def predict(self, X: Any) -> Any:
        """The most probable digit for each input. Shape [N]."""
        return self.decide(self.decision_function(X))  # argmax z = argmax softmax(z)

    def decide(self, p: Any) -> Any:
        """The answer for probabilities ``p`` [N, 10]: the most probable digit.

        Examples
        --------
        >>> Layer().decide(np.array([[0.1, 0.7] + [0.025] * 8])).tolist()
        [1]
        """
        return self.xp.argmax(p, axis=1)

    def truth(self, y: Any) -> Any:
        """What :meth:`decide` should answer for digit labels ``y``: the digit."""
        return y

    def targets(self, y: Any) -> Any:
        """What p should be for digit labels ``y``: one-hot rows [N, 10]."""
        xp = self.xp
        return xp.astype(y[:, None] == xp.arange(10)[None, :], self.float_dtype)

    def proba(self, z: Any) -> Any:
        """The softmax of the ten z: probabilities that add up to 1."""
        xp = self.xp
        e = xp.exp(z - xp.max(z, axis=1, keepdims=True))
        return e / xp.sum(e, axis=1, keepdims=True)

    def cross_entropy(self, z: Any, t: Any) -> Any:
        """Mean −log of the softmax's probability of the true digit, stable."""
        xp = self.xp
        m = xp.max(z, axis=1, keepdims=True)
        lse = m[:, 0] + xp.log(xp.sum(xp.exp(z - m), axis=1))
        return xp.mean(lse - xp.sum(t * z, axis=1))


def make_model(target: int | str, *, hidden: int = 0, **settings: Any) -> Model:
    """A :class:`Neuron` for a digit 0–9, a :class:`Layer` of ten for ``"all"``, or
    with ``hidden`` neurons a :class:`~oneneuron.network.Network` (``"all"`` only).
    ``settings``: backend, dtype, preprocess."""
    if hidden:
        from .network import Network

        return Network(hidden=hidden, **settings)
    if target == "all":
        return Layer(**settings)
    return Neuron(target=target, **settings)


def sigmoid(z: Any, xp: Any) -> Any:
    """σ(z) = 1/(1 + e^−z) without overflow: exp only ever sees −|z|."""
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(z: Any, xp: Any) -> Any:
    """log(1 + e^z) without overflow."""
    return xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))


def _namespace_of(a: Any) -> str:
    if isinstance(a, np.generic):  # a numpy scalar: a host value like a list
        return "host"  # (numpy 2.0's astype refuses scalars)
    module = type(a).__module__.split(".")[0]
    return "numpy" if isinstance(a, np.ndarray) else module


def _is_numeric(xp: Any, dtype: Any) -> bool:
    if hasattr(xp, "isdtype"):
        return xp.isdtype(dtype, ("bool", "integral", "real floating"))
    return np.dtype(dtype).kind in "biuf"
