"""oneneuron.metrics against scikit-learn (the oracle) and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oneneuron import metrics
from oneneuron.model import Layer, Neuron


@pytest.fixture
def skm():
    return pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("decimals", [1, 2, 6])  # 1 decimal: many ties
def test_roc_auc_matches_sklearn(skm, seed, decimals):
    rng = np.random.default_rng(seed)
    truth = rng.random(300) < 0.2
    score = np.round(np.clip(rng.normal(0.4 + 0.2 * truth, 0.2), 0, 1), decimals)
    want = skm.roc_auc_score(truth, score)
    assert metrics.roc_auc(truth, score) == pytest.approx(want, abs=1e-12)


def test_roc_auc_by_hand():
    t = np.array([0, 0, 1, 1], bool)
    assert metrics.roc_auc(t, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert metrics.roc_auc(t, np.array([0.4, 0.3, 0.2, 0.1])) == 0.0
    assert metrics.roc_auc(t, np.full(4, 0.5)) == 0.5  # all tied
    assert metrics.roc_auc(t, np.array([0.1, 0.3, 0.3, 0.4])) == 0.875  # one tie: ½
    assert math.isnan(metrics.roc_auc(np.ones(3, bool), np.arange(3.0)))


@pytest.mark.parametrize("seed", range(5))
def test_binary_metrics_match_sklearn(skm, seed):
    rng = np.random.default_rng(seed)
    truth = rng.random(500) < 0.1
    p = np.clip(rng.normal(0.3 + 0.4 * truth, 0.25), 0, 1)
    pred = p >= 0.5
    got = metrics.binary_metrics(truth, pred, p)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(truth, pred))
    assert got["precision"] == pytest.approx(skm.precision_score(truth, pred))
    assert got["recall"] == pytest.approx(skm.recall_score(truth, pred))
    assert got["f1"] == pytest.approx(skm.f1_score(truth, pred))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(truth, p))


def test_binary_metrics_without_positive_predictions(skm):
    truth = np.array([True, False, False])
    got = metrics.binary_metrics(truth, np.zeros(3, bool), np.zeros(3))
    want = skm.precision_score(truth, np.zeros(3, bool), zero_division=0)
    assert got["precision"] == want == 0.0 and got["f1"] == 0.0
    assert got["accuracy"] == pytest.approx(2 / 3)


def test_confusion_matrix_matches_sklearn(skm):
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 10, 1000)
    pred = np.where(rng.random(1000) < 0.7, truth, rng.integers(0, 10, 1000))
    want = skm.confusion_matrix(truth, pred, labels=range(10))
    np.testing.assert_array_equal(metrics.confusion_matrix(truth, pred, 10), want)


def test_confusion_matrix_by_hand():
    cm = metrics.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]  # rows: true class


def test_evaluate_neuron():
    m = Neuron(target=6).set_weights(np.eye(1, 576), [-0.5])
    X = np.zeros((5, 576))
    X[:3, 0] = 1  # says "6" for the first three
    result = metrics.evaluate(m, X, [6, 6, 1, 6, 1])
    assert result["samples"] == 5
    assert result["accuracy"] == pytest.approx(0.6)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 3)
    assert result["f1"] == pytest.approx(2 / 3)
    assert result["roc_auc"] == pytest.approx(3.5 / 6)  # 2 wins, 3 ties of 6 pairs
    assert set(result) == {
        "samples",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
    }


def test_evaluate_layer():
    coef = np.zeros((10, 576))
    coef[np.arange(10), np.arange(10)] = 5  # pixel d on → digit d
    m = Layer().set_weights(coef, np.zeros(10))
    X = np.zeros((4, 576))
    X[[0, 1, 2, 3], [3, 3, 7, 0]] = 1
    result = metrics.evaluate(m, X, [3, 5, 7, 0])
    assert result["accuracy"] == 0.75 and result["samples"] == 4
    cm = np.array(result["confusion"])
    assert cm.shape == (10, 10) and cm.sum() == 4
    assert cm[3, 3] == cm[5, 3] == cm[7, 7] == cm[0, 0] == 1
    assert np.trace(cm) / cm.sum() == result["accuracy"]
