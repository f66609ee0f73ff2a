"""oneneuron.network: a hidden layer of neurons feeding ten, trained by backpropagation.

The gradients are checked against central finite differences in float64, the same
lines under array_api_strict (and CuPy where there is a GPU) against numpy, and the
weights file against its own reader.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from oneneuron import weights
from oneneuron.backend import to_numpy
from oneneuron.model import make_model
from oneneuron.network import MAX_HIDDEN, Network
from oneneuron.train import SettingError, TrainConfig, Trainer

from .conftest import BACKENDS, _available


def problem(seed: int = 0, n: int = 16):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, 576)) < 0.25).astype(np.float64)
    y = rng.integers(0, 10, n)
    return X, y, rng


def random_network(rng, hidden: int = 5, dtype: str = "float64", backend="numpy"):
    net = Network(hidden=hidden, dtype=dtype, backend=backend)
    return net.set_weights(
        [
            (rng.normal(0, 0.2, (hidden, 576)), rng.normal(0, 0.5, hidden)),
            (rng.normal(0, 1.0, (10, hidden)), rng.normal(0, 0.5, 10)),
        ]
    )


# -- backpropagation against finite differences (float64) ------------------------------
@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_backpropagation_matches_finite_differences(l2):
    X, y, rng = problem()
    net = random_network(rng)
    loss, *grads = net.loss_grad(X, y, l2=l2)
    params = [to_numpy(p).copy() for p in net.params()]
    eps = 1e-6

    def loss_at(i, idx, delta):
        moved = [p.copy() for p in params]
        moved[i][idx] += delta
        net.set_params([net.xp.asarray(p) for p in moved])
        return net.loss_grad(X, y, l2=l2)[0]

    rng_idx = np.random.default_rng(1)
    for i, p in enumerate(params):
        every = list(np.ndindex(p.shape))
        picked = [every[j] for j in rng_idx.choice(len(every), min(40, len(every)))]
        for idx in picked:
            fd = (loss_at(i, idx, eps) - loss_at(i, idx, -eps)) / (2 * eps)
            # a wrong factor or sign would be off by far more than 1e-7
            assert grads[i][idx] == pytest.approx(fd, abs=1e-7), (i, idx)
    net.set_params([net.xp.asarray(p) for p in params])
    assert net.loss_grad(X, y, l2=l2)[0] == loss
    assert min(np.abs(g).max() for g in grads) > 1e-4  # no vacuous zeros


def _pair(backend: str):
    """A problem, and the same network on numpy and on ``backend``."""
    backend = _available(backend)
    X, y, _ = problem(2)
    ours = random_network(np.random.default_rng(3))
    return X, y, ours, random_network(np.random.default_rng(3), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_lines_run_on_every_backend(backend):
    X, y, ours, theirs = _pair(backend)
    want = ours.loss_grad(X, y, l2=0.01)
    got = theirs.loss_grad(X, y, l2=0.01)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    for g, w in zip(got[1:], want[1:], strict=True):
        np.testing.assert_allclose(to_numpy(g), w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        to_numpy(theirs.predict_proba(X)), ours.predict_proba(X), rtol=1e-12
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_neurons_switched_off_take_no_gradient_on_every_backend(backend):
    X, y, ours, theirs = _pair(backend)
    off = [0, 2]
    _, want, _ = ours.step_terms(ours.as_inputs(X), ours.labels(y), 0.0, off=off)
    _, got, _ = theirs.step_terms(theirs.as_inputs(X), theirs.labels(y), 0.0, off=off)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(to_numpy(g), to_numpy(w), rtol=1e-10, atol=1e-12)
    w1, b1, w2, _ = (to_numpy(g) for g in want)
    assert not w1[off].any() and not b1[off].any() and not w2[:, off].any()
    assert w1[1].any() and w2[:, 1].any()  # the others do move


def test_probabilities_are_the_formula():
    X, _, rng = problem(4)
    net = random_network(rng)
    (w1, b1), (w2, b2) = net.weights_numpy()
    h = 1 / (1 + np.exp(-(X @ w1.T + b1)))
    z = h @ w2.T + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(net.predict_proba(X), p, rtol=1e-12)
    np.testing.assert_array_equal(net.predict(X), p.argmax(axis=1))
    explained = net.explain(X[0])
    np.testing.assert_allclose(explained["hidden"]["h"], h[0], rtol=1e-6)
    assert explained["p"] == pytest.approx(p[0].tolist(), rel=1e-6)
    assert explained["digit"] == explained["top"] == int(p[0].argmax())


def test_a_unit_switched_off_holds_its_output_at_zero():
    X, _, rng = problem(5)
    net = random_network(rng, hidden=4)
    (w1, b1), (w2, b2) = net.weights_numpy()
    h = 1 / (1 + np.exp(-(X[0] @ w1.T + b1)))
    h[[1, 3]] = 0
    z = w2 @ h + b2
    got = net.explain(X[0], off=[1, 3])
    assert got["hidden"]["h"][[1, 3]].tolist() == [0, 0]
    assert got["z"] == pytest.approx(z.tolist(), rel=1e-6)


# -- starting, training, the same seed ------------------------------------------------
def test_hidden_weights_start_small_random_and_from_the_seed():
    a = Network(hidden=8).init_weights(seed=7)
    b = Network(hidden=8).init_weights(seed=7)
    c = Network(hidden=8).init_weights(seed=8)
    for p, q in zip(a.params(), b.params(), strict=True):
        np.testing.assert_array_equal(p, q)
    w1, b1, w2, b2 = a.params()
    assert not np.array_equal(w1, c.params()[0])
    assert 0 < np.abs(w1).max() <= 1 / 24 and np.unique(w1).size > 1000
    assert 0 < np.abs(w2).max() <= 1 / 8**0.5 and np.unique(w2).size == 80
    assert not b1.any() and not b2.any()


def test_a_network_learns_what_ten_neurons_cannot():
    """XOR of two pixels: no single layer separates it, one hidden layer does."""
    rng = np.random.default_rng(0)
    X = np.zeros((400, 576), np.uint8)
    X[:, :2] = rng.integers(0, 2, (400, 2))
    y = np.where(X[:, 0] != X[:, 1], 1, 0)
    config = TrainConfig(target="all", epochs=60, batch_size=40, lr=0.05, seed=1)
    ten = Trainer(X, y, config)
    ten.run()
    net = Trainer(X, y, TrainConfig(**{**config.to_dict(), "hidden": 4}))
    net.run()
    # a line gets at best three of the four cases right: all but the rarest
    cases = np.unique(X[:, 0] * 2 + X[:, 1], return_counts=True)[1]
    assert ten.model.score(X, y) <= 1 - cases.min() / len(X) + 1e-6
    assert net.model.score(X, y) == 1.0
    again = Trainer(X, y, TrainConfig(**{**config.to_dict(), "hidden": 4}))
    again.run()
    for p, q in zip(net.model.params(), again.model.params(), strict=True):
        np.testing.assert_array_equal(p, q)  # same seed, same network


@pytest.mark.parametrize(
    ("settings", "field", "match"),
    [
        ({"target": "all", "hidden": MAX_HIDDEN + 1}, "hidden", "from 1 to 256"),
        ({"target": "all", "hidden": -1}, "hidden", "from 1 to 256"),
        ({"target": "all", "hidden": 2.5}, "hidden", "whole number"),
        ({"target": 6, "hidden": 8}, "hidden", "use target all"),
    ],
)
def test_bad_hidden_settings_are_refused(settings, field, match):
    with pytest.raises(SettingError, match=match) as caught:
        TrainConfig(**settings).validate()
    assert caught.value.field == field


def test_make_model_builds_a_network_for_hidden():
    net = make_model("all", hidden=3)
    assert isinstance(net, Network) and net.hidden.units == 3
    with pytest.raises(ValueError, match="hidden must be a whole number 1–256"):
        Network(hidden=0)


# -- weights format 3 ------------------------------------------------------------------
def test_a_network_file_round_trips():
    net = random_network(np.random.default_rng(6), hidden=7, dtype="float32")
    d = weights.to_dict(net, training={"hidden": 7})
    assert d["version"] == 3 and "weights" not in d
    assert [layer["activation"] for layer in d["layers"]] == ["sigmoid", "softmax"]
    assert np.array(d["layers"][0]["weights"]).shape == (7, 576)
    assert np.array(d["layers"][1]["weights"]).shape == (10, 7)
    back = weights.load_weights(weights.dumps(net))
    assert isinstance(back, Network) and back.hidden.units == 7
    for p, q in zip(back.params(), net.params(), strict=True):
        np.testing.assert_array_equal(p, q)


def _file() -> dict:
    net = random_network(np.random.default_rng(6), hidden=3, dtype="float32")
    return json.loads(weights.dumps(net))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.pop("layers"), r"missing the field\(s\): layers"),
        (lambda d: d.__setitem__("weights", []), r"unknown field\(s\): weights"),
        (lambda d: d["layers"].pop(), "layers must be a list of 2 layers"),
        (lambda d: d["layers"][0].pop("bias"), r"layers\[0\] must be an object"),
        (
            lambda d: d["layers"][0].__setitem__("activation", "relu"),
            r"layers\[0\]\.activation must be 'sigmoid', got \"relu\"",
        ),
        (
            lambda d: d["layers"][1]["weights"][4].pop(),
            r"layers\[1\]\.weights\[4\] must be a list of 3 numbers",
        ),
        (
            lambda d: d["layers"][1]["bias"].append(0),
            r"layers\[1\]\.bias must be a list of 10 number",
        ),
        (
            lambda d: d["layers"][0]["weights"][2].__setitem__(9, 1e39),
            r"layers\[0\]\.weights\[2\]\[9\] must be a finite number",
        ),
        (
            lambda d: d["layers"][0].__setitem__("weights", [[0.0] * 576] * 257),
            r"layers\[0\]\.weights must be a list of 1 to 256 rows",
        ),
        (lambda d: d.__setitem__("classes", [6]), "classes must be all ten digits"),
    ],
)
def test_a_bad_network_file_is_refused_by_name(change, match):
    d = _file()
    change(d)
    with pytest.raises(ValueError, match=match):
        weights.read(d)
