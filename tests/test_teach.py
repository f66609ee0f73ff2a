"""oneneuron.teach and Page.teach: the loss of one drawing and one step on it.

The oracle is the textbook step in float64: for one neuron and ten,
w ← w − lr·(p − t)·x and b ← b − lr·(p − t); for the network, its own
backpropagation in float64 (checked against finite differences elsewhere).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from oneneuron import weights
from oneneuron.card import summary
from oneneuron.model import Layer, Neuron
from oneneuron.network import Network
from oneneuron.page import Page
from oneneuron.preprocess import to_input
from oneneuron.teach import Lessons, drawing_loss, step
from oneneuron.train import SettingError, TrainingDiverged


def _x(seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random(576) < 0.25).astype(np.uint8)


def _neuron(seed: int = 0) -> Neuron:
    rng = np.random.default_rng(seed)
    return Neuron(target=6).set_weights(rng.normal(0, 0.05, 576), [0.3])


def _layer(seed: int = 1) -> Layer:
    rng = np.random.default_rng(seed)
    return Layer().set_weights(rng.normal(0, 0.05, (10, 576)), rng.normal(0, 1, 10))


def _net(seed: int = 2) -> Network:
    rng = np.random.default_rng(seed)
    return Network(hidden=5).set_weights(
        [
            (rng.normal(0, 0.1, (5, 576)), rng.normal(0, 1, 5)),
            (rng.normal(0, 1, (10, 5)), rng.normal(0, 1, 10)),
        ]
    )


def test_the_loss_of_a_drawing_is_its_cross_entropy():
    x = _x()
    m = _neuron()
    w, b = (a.astype(np.float64) for a in m.weights_numpy())
    p = 1 / (1 + math.exp(-(w[0] @ x + b[0])))
    assert drawing_loss(m, x, 6) == pytest.approx(-math.log(p), rel=1e-12)
    assert drawing_loss(m, x, 3) == pytest.approx(-math.log(1 - p), rel=1e-12)
    ten = _layer()
    w, b = (a.astype(np.float64) for a in ten.weights_numpy())
    z = w @ x + b
    log_p = z - z.max() - np.log(np.exp(z - z.max()).sum())
    for digit in (0, 4, 9):
        assert drawing_loss(ten, x, digit) == pytest.approx(-log_p[digit], rel=1e-12)


@pytest.mark.parametrize("label", [6, 2])
def test_one_step_on_one_neuron_is_the_textbook_step(label):
    x, lr = _x(3), 0.5
    m = _neuron()
    w, b = (a.astype(np.float64) for a in m.weights_numpy())
    p = 1 / (1 + math.exp(-(w[0] @ x + b[0])))
    error = p - (label == 6)
    gradient = step(m, x, label, lr)
    np.testing.assert_allclose(gradient[0], error * x, rtol=1e-6, atol=1e-7)
    assert not gradient[0][x == 0].any()  # only inked pixels move
    w2, b2 = m.weights_numpy()
    np.testing.assert_allclose(w2[0], w[0] - lr * error * x, rtol=0, atol=2e-7)
    assert b2[0] == pytest.approx(b[0] - lr * error, abs=2e-7)
    p2 = float(m.predict_proba(x[None])[0])
    assert (p2 > p) if label == 6 else (p2 < p)  # towards the answer taught


def test_one_step_on_ten_moves_every_row_on_the_ink_only():
    x, lr = _x(4), 0.2
    ten = _layer()
    w, b = (a.astype(np.float64) for a in ten.weights_numpy())
    z = w @ x + b
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    t = np.eye(10)[7]
    gradient = step(ten, x, 7, lr)
    np.testing.assert_allclose(gradient, np.outer(p - t, x), rtol=1e-5, atol=1e-7)
    w2, b2 = ten.weights_numpy()
    np.testing.assert_allclose(w2, w - lr * np.outer(p - t, x), atol=2e-7)
    np.testing.assert_allclose(b2, b - lr * (p - t), atol=2e-7)


def test_one_step_on_a_network_is_its_backpropagation():
    x, lr = _x(5), 0.1
    net = _net()
    oracle = Network(hidden=5, dtype="float64").set_weights(net.weights_numpy())
    _, *grads = oracle.loss_grad(x[None], [3])
    before = [np.asarray(p, np.float64) for p in net.params()]
    gradient = step(net, x, 3, lr)
    np.testing.assert_allclose(gradient, grads[0], rtol=1e-5, atol=1e-7)
    for got, was, g in zip(net.params(), before, grads, strict=True):
        np.testing.assert_allclose(got, was - lr * g, rtol=1e-6, atol=1e-6)


def test_neurons_switched_off_are_as_if_removed_and_do_not_move():
    """The oracle: the same network without those hidden neurons. Its loss, answer
    and step equal the network's with them off; their own weights stay put."""
    x, lr, off, on = _x(6), 0.5, [1, 3], [0, 2, 4]
    net = _net()
    (w1, b1), (w2, b2) = net.weights_numpy()
    rest = Network(hidden=3).set_weights([(w1[on], b1[on]), (w2[:, on], b2)])
    assert drawing_loss(net, x, 3, off) == pytest.approx(
        drawing_loss(rest, x, 3), rel=1e-12
    )
    assert drawing_loss(net, x, 3, off) != pytest.approx(drawing_loss(net, x, 3))
    np.testing.assert_allclose(net.explain(x, off)["p"], rest.explain(x)["p"])
    gradient = step(net, x, 3, lr, off)
    want = step(rest, x, 3, lr)
    np.testing.assert_allclose(gradient[on], want, rtol=1e-5, atol=1e-7)
    assert not gradient[off].any()
    (v1, c1), (v2, c2) = net.weights_numpy()
    (r1, s1), (r2, s2) = rest.weights_numpy()
    np.testing.assert_array_equal(v1[off], w1[off])  # off: nothing moved
    np.testing.assert_array_equal(c1[off], b1[off])
    np.testing.assert_array_equal(v2[:, off], w2[:, off])
    for got, was in ((v1[on], r1), (c1[on], s1), (v2[:, on], r2), (c2, s2)):
        np.testing.assert_allclose(got, was, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="a hidden neuron"):
        step(net, x, 3, lr, [5])


def test_the_page_teaches_a_network_with_its_neurons_off():
    page = Page()
    page.load_weights(weights.dumps(_net()), name="net")
    args = {"pixels": _drawing().tobytes(), "height": 140, "width": 140, "label": 3}
    shown = page.call("predict", {**args, "off": [0, 2]})
    r = page.call("teach", {**args, "lr": 0.5, "off": [0, 2]})
    assert r["before"]["p"] == shown["p"] and r["before"]["loss"] == shown["loss"]
    after = page.call("predict", {**args, "off": [0, 2]})
    assert r["after"]["p"] == after["p"] and r["after"]["loss"] == after["loss"]
    assert r["after"]["loss"] < r["before"]["loss"]
    assert not r["gradient"].reshape(5, 576)[[0, 2]].any()


def test_a_bad_learning_rate_changes_nothing():
    x = _x()
    m = _neuron()
    kept = [p.copy() for p in m.params()]
    with pytest.raises(SettingError, match="lr must be a finite number > 0") as bad:
        step(m, x, 6, -1)
    assert bad.value.field == "lr"
    with pytest.raises(TrainingDiverged, match="makes the weights overflow"):
        step(m, x, 2, 1e38 * 1e1)
    for p, q in zip(m.params(), kept, strict=True):
        np.testing.assert_array_equal(p, q)


def test_undo_gives_the_weights_back_exactly():
    lessons = Lessons()
    entry = {"model": _layer(), "training": {"epochs": 5}}
    start = [p.copy() for p in entry["model"].params()]
    lessons.teach("digits", entry, _x(1), 3, 0.5)
    after_one = [p.copy() for p in entry["model"].params()]
    lessons.teach("digits", entry, _x(2), 8, 0.5)
    assert entry["training"] == {"epochs": 5, "taught": 2}
    assert lessons.undo("digits", entry) == 1
    for p, q in zip(entry["model"].params(), after_one, strict=True):
        np.testing.assert_array_equal(p, q)
    lessons.teach("digits", entry, _x(3), 1, 0.5)
    assert lessons.undo("digits", entry, all_steps=True) == 0
    for p, q in zip(entry["model"].params(), start, strict=True):
        np.testing.assert_array_equal(p, q)
    assert entry["training"] == {"epochs": 5}
    with pytest.raises(ValueError, match="no step to undo"):
        lessons.undo("digits", entry)


def _drawing() -> np.ndarray:
    img = np.zeros((140, 140), np.uint8)
    img[30:110, 60:80] = 255
    img[90:110, 40:100] = 255
    return img


def test_the_page_teaches_its_active_model_and_undoes():
    page = Page()
    page.load_weights(weights.dumps(_neuron()), name="six")
    img = _drawing()
    args = {"pixels": img.tobytes(), "height": 140, "width": 140}
    shown = page.call("predict", {**args, "label": 6})
    x = to_input(img).reshape(576)
    assert shown["loss"] == pytest.approx(drawing_loss(_neuron(), x, 6), rel=1e-12)
    r = page.call("teach", {**args, "label": 2, "lr": 1.0})
    assert r["before"]["p"] == shown["p"] and r["after"]["p"][0] < shown["p"][0]
    assert r["after"]["loss"] < r["before"]["loss"]
    assert r["steps"] == 1 and r["gradient"].shape == (576,)
    assert not r["gradient"][x == 0].any() and r["gradient"][x == 1].all()
    assert r["model"]["name"] == "six" and r["model"]["taught"] == 1
    assert ["Taught", "a step on your own drawings in this page"] in r["model"][
        "summary"
    ]
    assert weights.loads(page.export())["training"]["taught"] == 1
    back = page.call("untaught", {})
    assert back["model"]["taught"] == 0
    assert (
        back["steps"] == 0 and "taught" not in weights.loads(page.export())["training"]
    )
    assert page.predict(img.tobytes(), 140, 140)["p"] == shown["p"]
    error = page.handle("teach", {**args, "label": 12, "lr": 1.0})["error"]
    assert (
        error["kind"] == "invalid"
        and "label must be a whole number 0–9" in error["message"]
    )
    assert page.handle("untaught", {})["error"]["message"].startswith(
        "there is no step"
    )


def test_the_card_counts_the_steps_taught():
    assert dict(summary({"taught": 3}, None)) == {
        "Taught": "3 steps on your own drawings in this page"
    }
    assert summary({"taught": "3"}, None) == []


def test_a_model_that_replaces_a_taught_one_has_no_steps_to_undo():
    """A new model under the same name (a second run's "trained", another file) is
    not the one taught: Undo must not give it the first one's weights."""
    page = Page()
    page.load_weights(weights.dumps(_neuron(0)), name="file")
    args = {"pixels": _drawing().tobytes(), "height": 140, "width": 140}
    page.call("teach", {**args, "label": 2, "lr": 1.0})
    fresh = page.load_weights(weights.dumps(_neuron(5)), name="file")["model"]
    assert fresh["taught"] == 0
    assert page.handle("untaught", {})["error"]["message"].startswith(
        "there is no step"
    )
    np.testing.assert_array_equal(fresh["weights"], _neuron(5).weights_numpy()[0][0])
    # choosing a taught model again keeps its steps
    page.call("teach", {**args, "label": 2, "lr": 1.0})
    assert page.call("select", {"name": "file"})["model"]["taught"] == 1
