"""oneneuron.model: gradients, shapes, numerical stability, checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from oneneuron.backend import to_numpy
from oneneuron.model import Layer, Neuron, NotFittedError, make_model


def problem(seed: int = 0, n: int = 12):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, 576)) < 0.3).astype(np.float64)
    y = rng.integers(0, 10, n)
    y[:3] = 6  # some positives for the neuron
    return X, y, rng


def random_model(kind: str, rng, dtype: str = "float64", backend: str = "numpy"):
    m = Neuron(target=6, dtype=dtype, backend=backend) if kind == "neuron" else None
    m = m or Layer(dtype=dtype, backend=backend)
    k = len(m.classes_)
    return m.set_weights(rng.normal(0, 0.1, (k, 576)), rng.normal(0, 0.5, k))


# -- gradients against central finite differences (float64) ----------------------------
@pytest.mark.parametrize("l2", [0.0, 0.3])
@pytest.mark.parametrize("kind", ["neuron", "layer"])
def test_gradient_matches_finite_differences(kind, l2):
    X, y, rng = problem()
    m = random_model(kind, rng)
    _, g_coef, g_int = m.loss_grad(X, y, l2=l2)
    coef, intercept = (a.copy() for a in m.weights_numpy())
    eps = 1e-6

    def loss_at(c, b):
        return m.set_weights(c, b).loss_grad(X, y, l2=l2)[0]

    fd_coef = np.full_like(coef, np.nan)
    every = 1 if kind == "neuron" else 7  # the layer: every 7th weight, for speed
    for idx in list(np.ndindex(coef.shape))[::every]:
        up, down = coef.copy(), coef.copy()
        up[idx] += eps
        down[idx] -= eps
        fd_coef[idx] = (loss_at(up, intercept) - loss_at(down, intercept)) / (2 * eps)
    fd_int = np.zeros_like(intercept)
    for i in range(len(intercept)):
        up, down = intercept.copy(), intercept.copy()
        up[i] += eps
        down[i] -= eps
        fd_int[i] = (loss_at(coef, up) - loss_at(coef, down)) / (2 * eps)
    # Measured: max abs error 2e-10 (neuron) to 2.3e-9 (layer, l2) against
    # gradients up to 0.36; a wrong factor or sign would be off by ≈ 0.1.
    checked = ~np.isnan(fd_coef)
    np.testing.assert_allclose(g_coef[checked], fd_coef[checked], rtol=0, atol=1e-7)
    np.testing.assert_allclose(g_int, fd_int, rtol=0, atol=1e-7)
    assert np.abs(g_coef).max() > 1e-3  # not a vacuous comparison of zeros


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_neuron_loss_is_binary_cross_entropy(l2):
    X, y, rng = problem(1)
    m = random_model("neuron", rng)
    w, b = m.weights_numpy()
    p = 1 / (1 + np.exp(-(X @ w[0] + b[0])))
    t = y == 6
    want = -np.mean(np.where(t, np.log(p), np.log(1 - p))) + 0.5 * l2 * np.sum(w * w)
    assert m.loss_grad(X, y, l2=l2)[0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_layer_loss_is_softmax_cross_entropy(l2):
    X, y, rng = problem(2)
    m = random_model("layer", rng)
    w, b = m.weights_numpy()
    z = X @ w.T + b
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    want = -np.mean(logp[np.arange(len(y)), y]) + 0.5 * l2 * np.sum(w * w)
    assert m.loss_grad(X, y, l2=l2)[0] == pytest.approx(want, rel=1e-12)


# -- prediction ------------------------------------------------------------------------
def test_shapes(backend):
    X, _, rng = problem(3, n=5)
    neuron = random_model("neuron", rng, "float32", backend)
    layer = random_model("layer", rng, "float32", backend)
    assert to_numpy(neuron.predict_proba(X)).shape == (5,)
    assert to_numpy(neuron.predict_proba(X[0])).shape == (1,)
    assert to_numpy(neuron.decision_function(X)).shape == (5,)
    assert to_numpy(neuron.predict(X)).shape == (5,)
    assert to_numpy(layer.predict_proba(X)).shape == (5, 10)
    assert to_numpy(layer.predict_proba(X[0])).shape == (1, 10)
    assert to_numpy(layer.decision_function(X)).shape == (5, 10)
    assert to_numpy(layer.predict(X)).shape == (5,)


def test_probabilities(backend):
    X, _, rng = problem(4, n=50)
    neuron = random_model("neuron", rng, "float32", backend)
    layer = random_model("layer", rng, "float32", backend)
    p = to_numpy(neuron.predict_proba(X))
    z = to_numpy(neuron.decision_function(X)).astype(np.float64)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-z)), rtol=1e-6)
    np.testing.assert_array_equal(to_numpy(neuron.predict(X)), (p >= 0.5).astype(int))
    P = to_numpy(layer.predict_proba(X))
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=0, atol=1e-6)
    assert (P > 0).all() and (P < 1).all()
    np.testing.assert_array_equal(to_numpy(layer.predict(X)), P.argmax(axis=1))


def test_predictions_equal_across_backends(other_backend):
    X, _, _ = problem(5, n=20)
    for kind in ("neuron", "layer"):
        state = np.random.default_rng(9)
        ref = random_model(kind, state, "float32")
        state = np.random.default_rng(9)
        other = random_model(kind, state, "float32", other_backend)
        np.testing.assert_allclose(
            to_numpy(other.predict_proba(X)),
            to_numpy(ref.predict_proba(X)),
            rtol=1e-5,
            atol=1e-6,
        )


def test_score(backend):
    m = Neuron(target=6, backend=backend).set_weights(np.eye(1, 576), [-0.5])
    X = np.zeros((4, 576))
    X[:2, 0] = 1  # the first two say "6"
    assert m.score(X, [6, 1, 6, 1]) == 0.5
    assert m.score(X, [6, 6, 1, 1]) == 1.0


# -- numerical stability ---------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e3, 1e6, 1e30])
def test_no_overflow_for_huge_z(backend, scale):
    # Overflow, invalid and divide-by-zero are errors here; underflow stays ignored
    # (numpy's default): e^-|z| rounding to 0 for huge |z| is the correct answer.
    X = np.zeros((3, 576))
    X[0, :100] = 1  # z = +100·scale
    X[1, 100:300] = 1  # z = −200·scale
    w = np.r_[np.ones(100), -np.ones(476)] * scale
    neuron = Neuron(target=6, backend=backend).set_weights(w, [0])
    layer = Layer(backend=backend).set_weights(
        np.outer(np.arange(10) - 5, w), 0 * w[:10]
    )
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        p = to_numpy(neuron.predict_proba(X))
        loss, g_coef, g_int = neuron.loss_grad(X, [6, 6, 1])
        P = to_numpy(layer.predict_proba(X))
        loss10, g10, gi10 = layer.loss_grad(X, [9, 9, 2])
    assert p.tolist() == [1.0, 0.0, 0.5]
    # Only row 1 is wrong: a 6 with z = −200·scale costs 200·scale, averaged over 3.
    assert loss == pytest.approx(200 * scale / 3 + np.log(2) / 3, rel=1e-5)
    assert np.isfinite(to_numpy(g_coef)).all() and np.isfinite(to_numpy(g_int)).all()
    assert np.isfinite(P).all() and P[0].argmax() == 9 and P[1].argmax() == 0
    np.testing.assert_allclose(P[2], 0.1, rtol=1e-6)
    assert np.isfinite(loss10)
    assert np.isfinite(to_numpy(g10)).all() and np.isfinite(to_numpy(gi10)).all()


# -- checks ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros(575), r"shape \[576\] or \[N, 576\]"),
        (np.zeros((2, 575)), r"shape \[576\] or \[N, 576\]"),
        (np.zeros((2, 2, 576)), r"shape \[576\] or \[N, 576\]"),
        (np.float64(1.0), r"shape \[576\] or \[N, 576\]"),
        ("576 numbers", "must hold numbers"),
        (np.array([["0"] * 576]), "must hold numbers"),
        (np.array([[None] * 576]), "must hold numbers"),
        (np.zeros((1, 576), complex), "must hold numbers"),
        ([[0.0] * 576, [0.0] * 5], "must be an array of numbers"),
    ],
)
@pytest.mark.parametrize("kind", ["neuron", "layer"])
def test_predict_proba_rejects(kind, bad, match):
    m = (Neuron(target=6) if kind == "neuron" else Layer()).init_weights()
    with pytest.raises(ValueError, match=match):
        m.predict_proba(bad)


def test_predict_proba_rejects_in_namespace(other_backend):
    from oneneuron.backend import get_namespace

    xp = get_namespace(other_backend)
    m = Layer(backend=other_backend).init_weights()
    with pytest.raises(ValueError, match="must hold numbers"):
        m.predict_proba(xp.zeros((2, 576), dtype=xp.complex64))
    with pytest.raises(ValueError, match=r"shape \[576\] or \[N, 576\]"):
        m.predict_proba(xp.zeros((2, 575)))


def test_labels_must_be_one_dimensional():
    m = Layer().init_weights()
    with pytest.raises(ValueError, match=r"labels must have shape \[N\]"):
        m.loss_grad(np.zeros((2, 576)), [[1], [2]])


@pytest.mark.parametrize("kind", ["neuron", "layer"])
def test_not_fitted(kind):
    m = Neuron(target=6) if kind == "neuron" else Layer()
    X = np.zeros((1, 576))
    for call in (
        lambda: m.predict_proba(X),
        lambda: m.predict(X),
        lambda: m.decision_function(X),
        lambda: m.loss_grad(X, [6]),
        m.weights_numpy,
    ):
        with pytest.raises(NotFittedError, match="has no weights"):
            call()


@pytest.mark.parametrize("target", [10, -1, "6", 6.0, None])
def test_bad_target(target):
    with pytest.raises(ValueError, match="target must be a digit 0–9"):
        Neuron(target=target)


def test_make_model():
    assert isinstance(make_model("all"), Layer)
    m = make_model(3)
    assert isinstance(m, Neuron) and m.classes_ == (3,)
    assert Layer().classes_ == tuple(range(10))


def test_set_weights_copies_and_checks_size():
    coef, intercept = np.ones((1, 576), np.float32), np.zeros(1, np.float32)
    m = Neuron(target=6).set_weights(coef, intercept)
    coef[0, 0] = 5  # the caller's arrays stay the caller's
    assert m.weights_numpy()[0][0, 0] == 1
    with pytest.raises(ValueError):
        Layer().set_weights(np.zeros((9, 576)), np.zeros(10))


# -- the model owns its decision rule and its loss ------------------------------------
def test_decide_and_truth_are_the_models_rule():
    six, ten = Neuron(target=6), Layer()
    assert six.decide(np.array([0.0, 0.4999, 0.5, 1.0])).tolist() == [0, 0, 1, 1]
    assert six.decide(np.array([[0.2], [0.7]])).tolist() == [0, 1]  # [N, 1] too
    assert six.truth(np.array([6, 1, 6])).tolist() == [1, 0, 1]
    p = np.eye(10)[[3, 7]] * 0.9 + 0.01
    assert ten.decide(p).tolist() == [3, 7]
    assert ten.truth(np.array([3, 7])).tolist() == [3, 7]


@pytest.mark.parametrize("target", [6, "all"])
def test_loss_accuracy_matches_loss_grad_and_score(target):
    rng = np.random.default_rng(1)
    X = (rng.random((200, 576)) < 0.2).astype(np.float32)
    y = rng.integers(0, 10, 200)
    model = make_model(target)
    k = len(model.classes_)
    model.set_weights(rng.normal(0, 0.1, (k, 576)), rng.normal(0, 0.1, k))
    loss, accuracy = model.loss_accuracy(X, y)
    assert loss == pytest.approx(model.loss_grad(X, y)[0], rel=1e-5)
    assert accuracy == pytest.approx(model.score(X, y))
    assert 0 < accuracy < 1


# -- preprocessing is part of the model ------------------------------------------------
def test_models_carry_their_preprocessing():
    from oneneuron.preprocess import Preprocess, to_input

    img = np.zeros((28, 28), np.uint8)
    for y in range(4, 24):  # a slanted stroke: deskewing changes its input
        img[y, 14 - (y - 14) // 2 : 16 - (y - 14) // 2] = 255
    p = Preprocess(deskew=True, threshold=0.5, box=16)
    for model in (
        Neuron(target=1, preprocess=p),
        Layer(preprocess=p),
        make_model(3, preprocess=p),
        make_model("all", preprocess=p),
    ):
        assert model.preprocess is p
        np.testing.assert_array_equal(model.to_input(img), p.to_input(img))
        assert (model.to_input(img) != Preprocess().to_input(img)).any()
        batch = model.to_input(np.stack([img, img[::-1]]))
        assert batch.shape == (2, 24, 24)
    for model in (Neuron(), Layer(), make_model(6), make_model("all")):
        assert model.preprocess == Preprocess()
        np.testing.assert_array_equal(model.to_input(img), to_input(img))
    with pytest.raises(ValueError, match="preprocess must be a Preprocess, got dict"):
        Neuron(preprocess={"deskew": True})
