"""What the page says and shows of a model: its name, its card (a weights file's
records in a few lines) and the colour scale of its heatmaps.

A file's ``training`` and ``metrics`` blocks are untrusted (any file can be
loaded): each line is written only from values of the expected type and range, and
anything else is left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import is_number

OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD with momentum"}
TRAINED_IN_PAGE = ("page", "the page")  # "trained_in"; "in" before version 0.2


def summary(training: Any, result: Any, preprocess: Any = None) -> list[list[str]]:
    """[what, value] lines from a file's records, and last, with ``preprocess``,
    how its inputs are made (its ``describe()``).

    Examples
    --------
    >>> summary({"optimizer": "adam", "lr": 0.01, "epochs": 1}, {"test_accuracy": 0.9})
    [['Trained with', 'Adam, learning rate 0.01, 1 epoch'], ['Right on', '90.0 % of 10,000 test images']]
    """  # noqa: E501
    lines = []
    t = training if isinstance(training, dict) else {}
    m = result if isinstance(result, dict) else {}
    how = []
    if t.get("optimizer") in OPTIMIZER_NAMES:
        how.append(OPTIMIZER_NAMES[t["optimizer"]])
    if is_number(t.get("hidden")) and t["hidden"] > 0:
        how.append(f"{int(t['hidden'])} hidden neurons")
    if is_number(t.get("lr")):
        how.append(f"learning rate {t['lr']:g}")
    if is_number(t.get("epochs")):
        how.append(f"{int(t['epochs'])} epoch{'s' if t['epochs'] != 1 else ''}")
    if is_number(t.get("batch_size")):
        how.append(f"batches of {int(t['batch_size'])}")
    if how:
        lines.append(["Trained with", ", ".join(how)])
    if is_number(t.get("samples")) and t["samples"] > 0:
        lines.append(["Training data", _data(t)])
    if is_number(t.get("taught")) and t["taught"] > 0:
        n = int(t["taught"])
        step = "a step" if n == 1 else f"{n} steps"
        lines.append(["Taught", f"{step} on your own drawings in this page"])
    if is_number(m.get("test_accuracy")):
        n = m.get("test_samples", 10000)
        of = f" of {int(n):,} test images" if is_number(n) else ""
        lines.append(["Right on", f"{100 * m['test_accuracy']:.1f} %{of}"])
    for key, what in (("test_precision", "Precision"), ("test_recall", "Recall")):
        if is_number(m.get(key)):
            lines.append([what, f"{100 * m[key]:.1f} %"])
    if preprocess is not None:
        lines.append(["Preprocessing", preprocess.describe()])
    return lines


def _data(t: dict[str, Any]) -> str:
    """The training data in words: MNIST images, your drawings, repeats, where."""
    where = t.get("trained_in", t.get("in"))
    mine = int(t["examples"]) if is_number(t.get("examples")) else 0
    mine = mine if 0 < mine <= t["samples"] else 0
    text = f"{int(t['samples']) - mine:,} MNIST images"
    if mine:
        text += f" and {mine} of your drawings"
    repeat, digit = t.get("target_repeat"), t.get("target")
    if is_number(repeat) and 1 < repeat <= 10 and is_number(digit) and 0 <= digit <= 9:
        times = "twice" if repeat == 2 else f"{int(repeat)} times"
        text += f", each {int(digit)} counted {times}"
    return text + (" in this page" if where in TRAINED_IN_PAGE else "")


def model_label(kind: str, target: int | None = None, hidden: int = 0) -> str:
    """What the page calls a model of this kind, before and after it is loaded
    (``hidden``: a network's hidden neurons).

    Examples
    --------
    >>> model_label("one", 6), model_label("ten"), model_label("hidden", hidden=64)
    ('One neuron: is it a 6?', 'Ten neurons: which digit?', 'A hidden layer of 64 neurons: which digit?')
    """  # noqa: E501
    if kind == "one":
        return f"One neuron: is it a {target}?"
    if kind == "hidden":
        return f"A hidden layer of {hidden} neurons: which digit?"
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
