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
from .preprocess import Preprocess

N_INPUTS = 576  # 24 × 24 pixels
DIGITS = tuple(range(10))


class NotFittedError(ValueError):
    """The model has no weights yet."""


class _Linear:
    """What one neuron and ten share: z = X Wᵀ + b, shapes, checks, gradient form."""

    classes_: tuple[int, ...]
    kind: str  # what the page calls this kind of model: "one" or "ten"
    target: int | None = None  # one neuron: the digit it says yes to

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
        self.coef_: Any = None  # [K, 576] weights, one row per neuron
        self.intercept_: Any = None  # [K] biases

    # -- weights ---------------------------------------------------------------------
    def init_weights(self) -> _Linear:
        """Start from all-zero weights (the loss is convex, so zero is a fine start)."""
        xp, k = self.xp, len(self.classes_)
        self.coef_ = xp.zeros((k, N_INPUTS), dtype=self.float_dtype)
        self.intercept_ = xp.zeros((k,), dtype=self.float_dtype)
        return self

    def set_weights(self, coef: Any, intercept: Any) -> _Linear:
        """Set weights from host arrays of shape [K, 576] and [K] (always a copy)."""
        k = len(self.classes_)
        coef = np.array(coef, dtype=self.dtype).reshape(k, N_INPUTS)
        intercept = np.array(intercept, dtype=self.dtype).reshape(k)
        self.coef_ = self.xp.asarray(coef)
        self.intercept_ = self.xp.asarray(intercept)
        return self

    def weights_numpy(self) -> tuple[np.ndarray, np.ndarray]:
        """The weights as host numpy arrays (for JSON, pictures and comparisons)."""
        self._check_fitted()
        return to_numpy(self.coef_), to_numpy(self.intercept_)

    @property
    def float_dtype(self) -> Any:
        """This model's float dtype in its namespace (``xp.float32`` by default)."""
        return getattr(self.xp, self.dtype)

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
        """z = w·x + b for each input: shape [N] for one neuron, [N, 10] for ten."""
        z = self.xp.astype(self._z_exact(X), self.float_dtype)
        return z[:, 0] if self.kind == "one" else z

    def predict_proba(self, X: Any) -> Any:
        """Probabilities: [N] (P(target)) for one neuron, [N, 10] for ten.

        Examples
        --------
        >>> m = Neuron(target=6).init_weights()
        >>> m.predict_proba(np.zeros((2, 576))).tolist()
        [0.5, 0.5]
        """
        p = self.xp.astype(self._proba(self._z_exact(X)), self.float_dtype)
        return p[:, 0] if self.kind == "one" else p

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of :meth:`predict` against digit labels ``y``."""
        return self.accuracy(self.predict(X), self.truth(self.labels(y)))

    def accuracy(self, pred: Any, truth: Any) -> float:
        """The share of answers ``pred`` equal to ``truth`` (see :meth:`truth`)."""
        xp = self.xp
        return float(xp.mean(xp.astype(pred == truth, self.float_dtype)))

    def loss_accuracy(self, X: Any, y: Any) -> tuple[float, float]:
        """Mean cross-entropy and accuracy on (X, y), in this model's dtype (one
        product, as fast as a check drawn while training must be)."""
        y = self.labels(y)
        z = self._z(self.as_inputs(X))
        loss = float(self._loss(z, self._targets(y)))
        return loss, self.accuracy(self.decide(self._proba(z)), self.truth(y))

    def _z(self, X: Any) -> Any:
        self._check_fitted()
        return matmul_t(self.xp, X, self.coef_) + self.intercept_  # X @ W.T + b

    def _z_exact(self, X: Any) -> Any:
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

        Returns ``seen`` (uint8 [576]), ``ink`` (inputs on), per neuron ``dot``
        (w·x), ``bias`` (b), ``z`` (w·x + b) and ``p``; ``contributions`` (float32
        [K·576], w ⊙ x: the weights under the ink); ``top`` (the most probable
        class), ``digit`` (the answer: one neuron's target when it says yes, else
        None; ten: the top digit) and ``probability`` (one neuron: P(target);
        ten: the top probability).
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
    def loss_grad(self, X: Any, y: Any, *, l2: float = 0.0) -> tuple[float, Any, Any]:
        """Mean cross-entropy on (X, y) plus ``l2``/2·‖W‖², and its gradient.

        ``y`` holds digit labels 0–9. Returns (loss, dL/dW of shape [K, 576], dL/db
        of shape [K]).
        """
        loss, g_coef, g_int, _ = self.step_terms(self.as_inputs(X), self.labels(y), l2)
        return float(loss), g_coef, g_int

    def step_terms(self, X: Any, y: Any, l2: float) -> tuple[Any, Any, Any, Any]:
        """Loss (a 0-d array), gradients and probabilities [N, K] for one batch.

        ``X`` is already in this model's namespace and dtype (:meth:`as_inputs`),
        ``y`` holds digit labels (:meth:`labels`); :meth:`loss_grad` checks both.
        """
        xp = self.xp
        z = self._z(X)
        t = self._targets(y)
        p = self._proba(z)
        n = X.shape[0]
        dz = (p - t) / n
        g_coef = t_matmul(xp, dz, X)  # dz.T @ X: each weight's share of the error
        g_int = xp.sum(dz, axis=0)
        loss = self._loss(z, t)
        if l2:
            g_coef = g_coef + l2 * self.coef_
            loss = loss + 0.5 * l2 * xp.sum(self.coef_ * self.coef_)
        return loss, g_coef, g_int, p

    # -- checks and conversions ------------------------------------------------------
    def as_inputs(self, X: Any, dtype: str | None = None) -> Any:
        """Validate inputs (shape [576] or [N, 576], numbers) and bring them to xp.

        They become this model's float dtype, or ``dtype`` when given.
        """
        X = self._as_xp(X, "input", dtype=dtype)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != N_INPUTS:
            raise ValueError(f"input must have shape [576] or [N, 576], got {X.shape}")
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
        if self.coef_ is None:
            raise NotFittedError(
                f"{type(self).__name__} has no weights: call fit() or load_weights()"
            )


class Neuron(_Linear):
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

    @property
    def label(self) -> str:
        """What the page calls this model (:func:`model_label`)."""
        return model_label(self.kind, self.target)

    def predict(self, X: Any) -> Any:
        """1 where p ≥ 0.5 (the image shows the target digit), else 0. Shape [N]."""
        return self.decide(self.predict_proba(X))

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

    def _targets(self, y: Any) -> Any:
        return self.xp.astype(y == self.target, self.float_dtype)[:, None]

    def _proba(self, z: Any) -> Any:
        return sigmoid(z, self.xp)

    def _loss(self, z: Any, t: Any) -> Any:
        # −[t log σ(z) + (1−t) log(1−σ(z))] = softplus(z) − t·z, stable for any z
        return self.xp.mean(softplus(z, self.xp) - t * z)


class Layer(_Linear):
    """Ten neurons, one per digit; a softmax turns their z into ten probabilities.

    Takes ``backend``, ``dtype`` and ``preprocess`` as :class:`Neuron` does.

    Examples
    --------
    >>> m = Layer().init_weights()
    >>> m.predict_proba(np.zeros(576)).shape
    (1, 10)
    """

    kind = "ten"
    label = property(lambda self: model_label(self.kind))

    def __init__(
        self,
        *,
        backend: str = "numpy",
        dtype: str = "float32",
        preprocess: Preprocess | None = None,
    ):
        super().__init__(backend=backend, dtype=dtype, preprocess=preprocess)
        self.classes_ = DIGITS

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

    def _targets(self, y: Any) -> Any:
        xp = self.xp
        return xp.astype(y[:, None] == xp.arange(10)[None, :], self.float_dtype)

    def _proba(self, z: Any) -> Any:
        xp = self.xp
        e = xp.exp(z - xp.max(z, axis=1, keepdims=True))
        return e / xp.sum(e, axis=1, keepdims=True)

    def _loss(self, z: Any, t: Any) -> Any:
        xp = self.xp
        m = xp.max(z, axis=1, keepdims=True)
        lse = m[:, 0] + xp.log(xp.sum(xp.exp(z - m), axis=1))
        return xp.mean(lse - xp.sum(t * z, axis=1))


def make_model(
    target: int | str,
    *,
    backend: str = "numpy",
    dtype: str = "float32",
    preprocess: Preprocess | None = None,
):
    """A :class:`Neuron` for a digit 0–9, or a :class:`Layer` of ten for ``"all"``."""
    if target == "all":
        return Layer(backend=backend, dtype=dtype, preprocess=preprocess)
    return Neuron(target=target, backend=backend, dtype=dtype, preprocess=preprocess)


def model_label(kind: str, target: int | None = None) -> str:
    """What the page calls a model of this kind, before and after it is loaded.

    Examples
    --------
    >>> model_label("one", 6), model_label("ten")
    ('One neuron: is it a 6?', 'Ten neurons: which digit?')
    """
    if kind == "one":
        return f"One neuron: is it a {target}?"
    return "Ten neurons: which digit?"


def colour_scale(coef: np.ndarray) -> float:
    """The |w| that gets the strongest colour: the 99th percentile of |w|, so that a
    few large weights do not wash out the rest (larger ones get the same colour).

    Examples
    --------
    >>> colour_scale(np.array([[0.0, -2.0, 1.0]]))
    1.98
    >>> colour_scale(np.zeros((1, 576)))
    1.0
    """
    scale = float(np.quantile(np.abs(np.asarray(coef, np.float64)), 0.99))
    return scale if scale > 0 else 1.0


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
