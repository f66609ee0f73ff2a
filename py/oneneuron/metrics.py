"""How good a model is: accuracy, precision, recall, F1, ROC AUC, confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import to_numpy


def evaluate(
    model: Any, X: Any, y: Any, *, mistakes: int | None = None
) -> dict[str, Any]:
    """Metrics of ``model`` on inputs ``X`` and digit labels ``y``, as plain numbers.

    One neuron: accuracy, precision, recall, F1 and ROC AUC for its target digit.
    Ten neurons (and any model that names a digit): accuracy and the 10×10
    confusion matrix (rows: true digit). With ``mistakes`` (a count), from the same
    answers: ``wrong``, how many it gets wrong, and ``mistakes``, the first so many
    of them in order: ``{"index", "label", "predicted" (its answer: 1/0 "is / is
    not its target" for one neuron, a digit otherwise), "probability" (of that
    answer)}`` as int32 / float32 arrays.

    Examples
    --------
    >>> from oneneuron.model import Neuron
    >>> m = Neuron(target=6).set_weights(np.eye(1, 576), [-0.5])
    >>> X = np.zeros((4, 576))
    >>> X[:2, 0] = 1
    >>> evaluate(m, X, [6, 1, 6, 1])["accuracy"]
    0.5
    """
    truth, pred, p = answers(model, X, y)
    out: dict[str, Any] = {"samples": int(truth.shape[0])}
    if model.kind == "one":
        out.update(binary_metrics(truth, pred, p))
    else:
        out["accuracy"] = float(np.mean(pred == truth))
        out["confusion"] = confusion_matrix(truth, pred, 10).tolist()
    if mistakes is not None:
        wrong = np.flatnonzero(pred != truth)
        pick = wrong[: max(0, int(mistakes))]
        # the probability of the answer given: P(target) or 1 − it; the top of ten
        sure = np.where(pred == 1, p, 1 - p) if p.ndim == 1 else p.max(axis=1)
        out["wrong"] = len(wrong)
        out["mistakes"] = {
            "index": pick.astype(np.int32),
            "label": np.asarray(y)[pick].astype(np.int32),
            "predicted": pred[pick].astype(np.int32),
            "probability": sure[pick].astype(np.float32),
        }
    return out


def answers(model: Any, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The right answers, the model's answers (its own decision rule) and its
    probabilities (float64 [N] for one neuron, [N, 10] for ten), as host arrays."""
    p = model.predict_proba(X)
    truth = to_numpy(model.truth(model.labels(y))).astype(np.int64)
    pred = to_numpy(model.decide(p)).astype(np.int64)
    return truth, pred, to_numpy(p).astype(np.float64)


def binary_metrics(
    truth: np.ndarray, pred: np.ndarray, p: np.ndarray
) -> dict[str, float]:
    """Accuracy, precision, recall, F1 of 0/1 answers ``pred`` and ROC AUC of the
    probabilities ``p``, for 0/1 ``truth``."""
    truth = np.asarray(truth, bool)
    pred = np.asarray(pred, bool)
    tp = int(np.sum(pred & truth))
    fp = int(np.sum(pred & ~truth))
    fn = int(np.sum(~pred & truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": float(np.mean(pred == truth)),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": roc_auc(truth, p),
    }


def roc_auc(truth: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: the chance that a positive outranks a negative.

    Computed from ranks (Mann–Whitney U), ties counting one half.

    Examples
    --------
    >>> roc_auc(np.array([0, 0, 1, 1], bool), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    truth = np.asarray(truth, bool)
    score = np.asarray(score, np.float64)
    n_pos = int(truth.sum())
    n_neg = truth.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    sorted_scores = score[order]
    ranks = np.empty(score.size, np.float64)
    # average rank within each group of equal scores
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], score.size]
    avg = (starts + ends + 1) / 2.0  # 1-based ranks
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[truth].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def confusion_matrix(truth: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """k×k counts: row = true class, column = predicted class."""
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (np.asarray(truth), np.asarray(pred)), 1)
    return cm
