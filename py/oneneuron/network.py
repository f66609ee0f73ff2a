"""A hidden layer: H neurons, each exactly the page's neuron σ(w·x + b) over the 576
inputs, whose H outputs are the inputs of ten output neurons (a softmax), as in
micrograd's Neuron → Layer → MLP.

The layers are the package's own: :class:`Hidden` is a :class:`~oneneuron.model.Linear`
of H sigmoid neurons, the output a :class:`~oneneuron.model.Layer` of ten reading H
inputs. Backpropagation is :meth:`Network.step_terms`: the chain rule, one line a
step, with the shapes in comments. It uses only array-API calls, so the same lines
run on numpy, CuPy and array_api_strict.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .backend import t_matmul, to_numpy
from .card import model_label
from .checks import whole
from .model import DIGITS, N_INPUTS, Layer, Linear, Model, sigmoid

MAX_HIDDEN = 256  # hidden neurons at most (the page shows at most 64 as one grid)


class Hidden(Linear):
    """H neurons, each the page's neuron σ(w·x + b) with no digit of its own: their
    outputs σ(z) are the next layer's inputs."""

    kind = "hidden layer"

    def __init__(self, units: int, **settings: Any) -> None:
        super().__init__(**settings)
        self.units = units
        self.classes_ = ()

    def proba(self, z: Any) -> Any:
        """σ(z) of each neuron: [N, H]."""
        return sigmoid(z, self.xp)


class Network(Model):
    """H hidden sigmoid neurons feeding ten output neurons (softmax): which digit.

    Parameters
    ----------
    hidden : int
        H, the hidden neurons: 1 to 256.
    backend, dtype, preprocess
        As for :class:`~oneneuron.model.Neuron`.

    Examples
    --------
    >>> net = Network(hidden=4).init_weights(seed=0)
    >>> net.kind, net.label, [p.shape for p in net.params()]
    ('hidden', 'A hidden layer of 4 neurons: which digit?', [(4, 576), (4,), (10, 4), (10,)])
    >>> net.predict_proba(np.zeros((2, 576))).shape
    (2, 10)
    """  # noqa: E501

    kind = "hidden"
    classes_ = DIGITS

    def __init__(self, *, hidden: int, **settings: Any) -> None:
        hidden = whole(hidden, "hidden", 1, MAX_HIDDEN)
        super().__init__(**settings)
        layer = {"backend": self.backend, "dtype": self.dtype}
        self.hidden = Hidden(hidden, **layer)  # reads the 576 inputs
        self.output = Layer(n_inputs=hidden, **layer)  # reads the H hidden outputs

    @property
    def label(self) -> str:
        """What the page calls this model."""
        return model_label(self.kind, hidden=self.hidden.units)

    # -- parameters ------------------------------------------------------------------
    def init_weights(self, seed: int = 0) -> Network:
        """Weights small and random from ``seed``, uniform in ±1/√(inputs) (each
        hidden neuron starts near σ(0) = ½ and differs from the others), biases
        zero. The same seed gives the same network."""
        rng = np.random.default_rng([seed, 1])  # not the shuffling seed's stream
        for layer in (self.hidden, self.output):
            k, n = layer.units, layer.n_inputs
            bound = 1 / math.sqrt(n)
            layer.set_weights(rng.uniform(-bound, bound, (k, n)), np.zeros(k))
        return self

    def input_layer(self) -> Hidden:
        """The layer whose neurons read the image: the hidden one."""
        return self.hidden

    def params(self) -> list[Any]:
        """What training moves: [W₁ (H × 576), b₁ (H), W₂ (10 × H), b₂ (10)]."""
        return [*self.hidden.params(), *self.output.params()]

    def set_params(self, params: list[Any]) -> None:
        """Take new parameters, in the order of :meth:`params`."""
        self.hidden.set_params(params[:2])
        self.output.set_params(params[2:])

    def set_weights(self, layers: list[tuple[Any, Any]]) -> Network:
        """Set [(W₁, b₁), (W₂, b₂)] from host arrays (always a copy)."""
        (w1, b1), (w2, b2) = layers
        self.hidden.set_weights(w1, b1)
        self.output.set_weights(w2, b2)
        return self

    def weights_numpy(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(W₁, b₁), (W₂, b₂)] as host numpy arrays."""
        self._check_fitted()
        return [self.hidden.weights_numpy(), self.output.weights_numpy()]

    # -- prediction ------------------------------------------------------------------
    def z(self, X: Any) -> Any:
        """The ten output neurons' z for inputs X [N, 576], in this model's dtype."""
        return self.output.z(self.hidden.proba(self.hidden.z(X)))

    def z_exact(self, X: Any, off: Any = ()) -> Any:
        """The same in float64 (both layers), as CPython and Pyodide round alike;
        the hidden neurons ``off`` give 0."""
        h = self.hidden.proba(self.hidden.z_exact(X))
        return self.output.z_exact(h * self.kept(off, h.dtype) if off else h)

    def kept(self, off: Any, dtype: Any) -> Any:
        """Each hidden neuron's factor, [H]: 0 for those switched ``off`` (each one
        checked), 1 for the others."""
        H = self.hidden.units
        gone = {whole(k, "a hidden neuron", 0, H - 1) for k in off}
        factors = [0.0 if k in gone else 1.0 for k in range(H)]
        return self.xp.asarray(factors, dtype=dtype)

    def proba(self, z: Any) -> Any:
        return self.output.proba(z)

    def targets(self, y: Any) -> Any:
        return self.output.targets(y)

    def cross_entropy(self, z: Any, t: Any) -> Any:
        return self.output.cross_entropy(z, t)

    def decide(self, p: Any) -> Any:
        return self.output.decide(p)

    def truth(self, y: Any) -> Any:
        return self.output.truth(y)

    # -- learning --------------------------------------------------------------------
    def step_terms(
        self, X: Any, y: Any, l2: float, off: Any = ()
    ) -> tuple[Any, list[Any], Any]:
        """One batch by backpropagation: the loss, the gradient of every parameter
        (in the order of :meth:`params`) and the probabilities [N, 10].

        ``X`` [N, 576] is already in this model's namespace and dtype, ``y`` holds
        digit labels; :meth:`loss_grad` checks both. The hidden neurons ``off`` (the
        page's switches) give 0: neither their weights nor their column of W₂ move.
        """
        xp, n = self.xp, X.shape[0]
        w1, _, w2, _ = self.params()
        # forward: each layer's sums z, then its neurons' outputs
        h = self.hidden.proba(self.hidden.z(X))  # [N, H]   hidden outputs σ(z₁)
        if off:  # neurons switched off give 0, so no gradient reaches them
            h = h * self.kept(off, h.dtype)
        z = self.output.z(h)  # [N, 10]  output sums z₂ = h W₂ᵀ + b₂
        p = self.output.proba(z)  # [N, 10]  softmax
        t = self.output.targets(y)  # [N, 10]  one-hot digits
        # backward: dL/dz₂, then back through W₂ and σ to dL/dz₁ (the chain rule)
        dz = (p - t) / n  # [N, 10]  dL/dz₂ of the mean cross-entropy
        g_w2 = t_matmul(xp, dz, h)  # [10, H]  dz.T @ h
        g_b2 = xp.sum(dz, axis=0)  # [10]
        dh = dz @ w2  # [N, H]   dL/dh: each hidden output's share of the error
        dz1 = dh * h * (1 - h)  # [N, H]   dL/dz₁, as σ'(z) = σ(z)(1 − σ(z))
        g_w1 = t_matmul(xp, dz1, X)  # [H, 576] dz1.T @ X
        g_b1 = xp.sum(dz1, axis=0)  # [H]
        loss = self.output.cross_entropy(z, t)
        if l2:  # weight decay on both layers' weights, not the biases
            g_w1, g_w2 = g_w1 + l2 * w1, g_w2 + l2 * w2
            loss = loss + 0.5 * l2 * (xp.sum(w1 * w1) + xp.sum(w2 * w2))
        return loss, [g_w1, g_b1, g_w2, g_b2], p

    # -- the page's view -------------------------------------------------------------
    def explain(self, x: np.ndarray, off: Any = ()) -> dict[str, Any]:
        """A prediction for one 0/1 input [576] (host numpy), layer by layer.

        ``off``: hidden neurons switched off (their output held at 0). Returns
        ``seen``, ``ink``; ``hidden``: for each hidden neuron its ``z`` (w·x + b)
        and ``h`` (σ(z), 0 when off), float32 [H] each; the output neurons' ``z``
        and ``p`` (softmax), ``top``, ``digit`` (the top digit) and
        ``probability`` (its p), all in float64 before rounding to float32.
        """
        (w1, b1), (w2, b2) = (
            (w.astype(np.float64), b.astype(np.float64))
            for w, b in self.weights_numpy()
        )
        xf = np.asarray(x, np.float64).reshape(N_INPUTS)
        z1 = w1 @ xf + b1
        h = 1 / (1 + np.exp(-z1))
        h = h * to_numpy(self.kept(off, self.xp.float64)) if off else h
        z2 = w2 @ h + b2
        e = np.exp(z2 - z2.max())
        p = e / e.sum()
        top = int(np.argmax(p))
        return {
            "seen": np.asarray(x, np.uint8).reshape(N_INPUTS),
            "ink": int(xf.sum()),
            "hidden": {"z": z1.astype(np.float32), "h": h.astype(np.float32)},
            "z": [float(v) for v in z2.astype(np.float32)],
            "p": [float(v) for v in p.astype(np.float32)],
            "top": top,
            "digit": top,
            "probability": float(np.float32(p[top])),
        }
