"""What the web page asks of the package, as plain values the worker can pass on.

The page keeps one :class:`Page` inside Pyodide. It holds the models (the shipped
ones, an imported file, one trained in the page), turns canvas pixels and raw test
images into a model's input with that model's own preprocessing
(``model.to_input``, recorded in its weights file), measures the active model on
other people's handwriting, and answers with dicts of numbers, strings, lists and
1-D numpy arrays (float32 or uint8), which the worker hands to the page as typed
arrays. Nothing here knows about JavaScript or the DOM, so CPython tests exercise
all of it.

A model that fails validation, and a training run that diverges, never replace the
model the page is using: every change is built aside and swapped in at the end.
"""

from __future__ import annotations

import math
from operator import attrgetter
from typing import Any

import numpy as np

from . import weights
from .model import N_INPUTS, Layer, Neuron
from .session import ImageSet, TrainingSession
from .train import SGD, Adam, SettingError, TrainingDiverged

MAX_SIDE = 4096  # the largest canvas side accepted (a 4096² drawing is 16 MB)
MISREAD = 8  # misread digits shown per set in the handwriting report
_NOT_METRICS = ("wrong", "mistakes")  # evaluation keys not kept in a weights file

# The one table of what the page may ask: request name → the method that answers,
# called with the request's arguments by keyword (worker.js routes every request
# here). Several requests load a weights file: worker.js first fetches the URL
# (init, fetchModel) or reads the file (importFile) into ``text``. The data
# requests take the bytes of data/mnist.json's files: loadData {split: "train",
# images, labels, preprocess} for each training variant, {split: "test", images,
# labels} for the raw test images; loadSet {name, images, labels} for each of its
# "sets", asked for only when the person opens the handwriting report.
REQUESTS = {
    "init": "load_weights",
    "fetchModel": "load_weights",
    "importFile": "load_weights",
    "loadModel": "load_weights",
    "select": "select",
    "models": "models",
    "modelInfo": "model_info",
    "predict": "predict",
    "export": "export",
    "forget": "forget",
    "inspect": "inspect",
    "steps": "steps",
    "loadSet": "load_set",
    "handwriting": "handwriting",
    "updateRule": "update_rule",
    "addExample": "add_example",
    "clearExamples": "training.clear_examples",
    "checkSettings": "training.check_settings",
    "loadData": "training.set_data",
    "trainStart": "training.start",
    "trainRun": "train_run",
    "trainFinish": "train_finish",
    "trainCancel": "training.cancel",
}
# Requests that change the models held answer with the new list too.
WITH_MODELS = ("init", "fetchModel", "importFile", "loadModel", "select")


class Page:
    """The page's models, drawing and training state.

    Examples
    --------
    >>> page = Page()
    >>> model = Neuron(target=6).set_weights(np.ones(576) * 0.01, [-1.0])
    >>> info = page.load_weights(weights.dumps(model), name="six")
    >>> info["kind"], info["classes"]
    ('one', [6])
    >>> ink = np.zeros((28, 28), np.uint8)
    >>> ink[4:24, 12:16] = 255  # a vertical bar
    >>> r = page.predict(ink.tobytes(), 28, 28)
    >>> r["ink"], r["digit"], round(r["probability"], 4)
    (80, None, 0.4502)
    """

    def __init__(self) -> None:
        self._models: dict[str, dict[str, Any]] = {}  # name → model and its file
        self.active: str | None = None  # the name of the model that predicts
        self.training = TrainingSession()  # data, added drawings, the run
        self.sets: dict[str, ImageSet] = {}  # foreign digit sets loaded: name → set

    # -- requests --------------------------------------------------------------------
    def call(self, request: str, args: dict[str, Any] | None = None) -> Any:
        """Answer a request of the page (a name in :data:`REQUESTS`) with its
        arguments by keyword; errors are raised as they are.

        Examples
        --------
        >>> Page().call("models")
        []
        """
        if request not in REQUESTS:
            raise LookupError(f"unknown request {request!r}")
        method = attrgetter(REQUESTS[request])(self)
        result = method(**(args or {}))
        if request in WITH_MODELS:
            return {"model": result, "models": self.models()}
        return result

    def handle(self, request: str, args: dict[str, Any] | None = None) -> dict:
        """:meth:`call`, answered as data: ``{"result": ...}``, or ``{"error":
        {"kind", "field", "message"}}`` (:func:`error_data`): nothing raised.

        Examples
        --------
        >>> Page().handle("predict", {"pixels": b"", "height": 1, "width": 1})["error"]
        {'kind': 'invalid', 'field': None, 'message': 'no model is loaded yet'}
        """
        try:
            return {"result": self.call(request, args)}
        except Exception as exc:  # every failure becomes an answer the page can show
            return {"error": error_data(exc)}

    # -- models ----------------------------------------------------------------------
    def load_weights(
        self,
        text: str | bytes,
        *,
        name: str = "file",
        label: str | None = None,
        activate: bool = True,
    ) -> dict[str, Any]:
        """Validate a weights file (JSON text) and keep its model under ``name``.

        Raises ValueError naming the bad field; on any error, the models held so far
        and the active one stay as they were. Returns :meth:`model_info` of the new
        model.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"a model needs a name, got {name!r}")
        d = weights.loads(text)
        model = weights.from_dict(d)
        entry = {
            "model": model,
            "label": label or _default_label(model),
            "training": d["training"],
            "metrics": d["metrics"],
        }
        active = name if activate or self.active is None else self.active
        return self._commit(name, entry, active)

    def select(self, name: str) -> dict[str, Any]:
        """Make the model called ``name`` the one that predicts."""
        return self._commit(name, self._entry(name), name)

    def models(self) -> list[dict[str, Any]]:
        """Name, label and kind of every model held, in the order they came."""
        return [
            {
                "name": name,
                "label": e["label"],
                "kind": _kind(e["model"]),
                "active": name == self.active,
            }
            for name, e in self._models.items()
        ]

    def model_info(self, name: str | None = None) -> dict[str, Any]:
        """Everything the page shows about a model (the active one by default).

        ``weights`` is float32 [K·576], row-major, one 24×24 map per neuron;
        ``scale`` is the colour scale of the heatmaps, :func:`colour_scale`;
        ``preprocess`` is how its inputs are made (``Preprocess.to_dict()``);
        ``summary`` is a list of [what, value] strings for the model card, the
        last one the preprocessing in words (``Preprocess.describe()``).
        """
        name = self._name(name)
        return self._info(name, self._entry(name), self.active)

    def _info(self, name: str, e: dict[str, Any], active: str | None) -> dict[str, Any]:
        """:meth:`model_info` of an entry, held or not yet, with ``active`` active."""
        model = e["model"]
        coef, intercept = model.weights_numpy()
        coef = np.asarray(coef, np.float32)
        return {
            "name": name,
            "label": e["label"],
            "kind": _kind(model),
            "classes": list(model.classes_),
            "target": model.classes_[0] if len(model.classes_) == 1 else None,
            "weights": coef.reshape(-1).copy(),
            "bias": [float(b) for b in intercept],
            "scale": colour_scale(coef),
            "preprocess": model.preprocess.to_dict(),
            "summary": summary(e["training"], e["metrics"], model.preprocess),
            "active": name == active,
        }

    def _commit(self, name: str, entry: dict[str, Any], active: str) -> dict[str, Any]:
        """Keep ``entry`` as ``name`` and make ``active`` the model that predicts,
        only once everything the page will show of it is built: a step that fails
        (the card of an odd record, say) leaves the models as they were."""
        info = self._info(name, entry, active)
        self._models[name] = entry
        self.active = active
        return info

    def export(self, name: str | None = None) -> str:
        """The weights file of a model (the active one by default) as JSON text."""
        e = self._entry(self._name(name))
        return weights.dumps(e["model"], training=e["training"], metrics=e["metrics"])

    # -- drawing ---------------------------------------------------------------------
    def predict(self, pixels: Any, height: int, width: int) -> dict[str, Any]:
        """What the active model makes of a drawing, made into its input by the
        model's own preprocessing.

        Parameters
        ----------
        pixels : bytes-like of ``height × width`` uint8 ink levels (canvas alpha)
        height, width : the canvas size in pixels

        Returns
        -------
        dict with ``seen`` (uint8 [576], the 0/1 input), ``ink`` (pixels on),
        per neuron ``dot`` (w·x), ``bias`` (b), ``z`` (w·x + b) and ``p`` (σ(z) for
        one neuron, the softmax for ten), ``contributions`` (float32 [K·576], w ⊙ x),
        ``top`` (the most probable class), ``digit`` (one neuron: its target when
        p ≥ 0.5, else None; ten: the top digit), ``probability`` (one neuron:
        P(target); ten: the top probability) and ``model`` (the name of the model
        that answered).
        """
        name = self._name(None)
        model = self._entry(name)["model"]
        x = model.to_input(canvas_image(pixels, height, width)).reshape(N_INPUTS)
        return {**explain(model, x), "model": name}

    def seen(self, pixels: Any, height: int, width: int) -> np.ndarray:
        """Only the 0/1 input the active model makes of a drawing, uint8 [576]."""
        model = self._entry(self._name(None))["model"]
        return model.to_input(canvas_image(pixels, height, width)).reshape(N_INPUTS)

    def steps(self, pixels: Any, height: int, width: int) -> dict[str, Any]:
        """Each step by which the active model makes a drawing into its input.

        Returns
        -------
        dict with ``model`` (its name), ``describe`` (the pipeline in one sentence),
        ``preprocess`` (``Preprocess.to_dict()``) and ``steps``: a list, in the
        order the code runs them, of ``{"step": key, "image": float32 [h·w] 0–1,
        "height": h, "width": w, ...}`` with the extras of
        :meth:`~oneneuron.preprocess.Preprocess.steps` (e.g. "box": [top, left,
        bottom, right] or None; "threshold"; "stroke_width" and "change"). The last
        image equals ``seen`` of :meth:`predict` for the same pixels.
        """
        name = self._name(None)
        p = self._entry(name)["model"].preprocess
        out = []
        for stage in p.steps(canvas_image(pixels, height, width)):
            image = np.asarray(stage["image"], np.float32)
            extras = {k: _plain(v) for k, v in stage.items() if k != "image"}
            out.append(
                {
                    **extras,
                    "image": image.reshape(-1).copy(),
                    "height": int(image.shape[0]),
                    "width": int(image.shape[1]),
                }
            )
        return {
            "model": name,
            "describe": p.describe(),
            "preprocess": p.to_dict(),
            "steps": out,
        }

    # -- training (the page's training panel) ----------------------------------------
    def add_example(
        self, pixels: Any, height: int, width: int, label: int
    ) -> dict[str, Any]:
        """Add a drawing, labelled with a digit, to the next training runs.

        The drawing is kept as drawn: each run makes it into an input with its own
        preprocessing. Returns ``examples`` (the number added so far), ``label``
        and ``seen`` (uint8 [576]: the active model's input of it).
        """
        model = self._entry(self._name(None))["model"]
        image = canvas_image(pixels, height, width)
        return self.training.add_example(image, label, model.preprocess)

    def train_run(
        self,
        max_batches: int | None = None,
        max_seconds: float | None = None,
        *,
        check: bool = False,
    ) -> dict[str, Any]:
        """Run batches until ``max_batches`` are done, ``max_seconds`` have passed
        (at least one batch either way) or the run is over.

        Returns the progress, the batch history since the last call and the current
        weights (with their colour ``scale``); ``check`` adds loss and accuracy on
        the held-out images. A run that diverges is dropped (the page's models are
        untouched) and :class:`~oneneuron.train.TrainingDiverged` says why.
        """
        try:
            out = self.training.run(max_batches, max_seconds, check=check)
        except TrainingDiverged as exc:
            raise TrainingDiverged(f"{exc}; the previous model is kept") from None
        out["scale"] = colour_scale(out["weights"])
        return out

    def train_finish(
        self, name: str = "trained", label: str | None = None, *, mistakes: int = 0
    ) -> dict[str, Any]:
        """Keep the trained model as ``name`` (the active model), with its record
        and, when the test images are loaded, its test metrics.

        Returns ``model`` (:meth:`model_info`), ``models`` (:meth:`models`) and
        ``evaluation``: :meth:`TrainingSession.evaluate` (the raw test images made
        into inputs by the trained model's preprocessing) with up to ``mistakes``
        misclassified images when the test images are loaded, else None.
        """
        model, record = self.training.finish()
        result: dict[str, Any] = {}
        evaluation = None
        if self.training.test is not None:
            evaluation = self.training.evaluate(model, mistakes)
            kept = {k: evaluation[k] for k in evaluation if k not in _NOT_METRICS}
            if "confusion" in kept:  # 10×10 in the file, as the CLI writes it
                kept["confusion"] = np.asarray(kept["confusion"]).reshape(10, 10)
            result = {f"test_{k}": _plain(v) for k, v in kept.items()}
        entry = {
            "model": model,
            "label": label or f"Trained here · {_default_label(model)}",
            "training": record,
            "metrics": result,
        }
        info = self._commit(name, entry, name)
        return {"model": info, "models": self.models(), "evaluation": evaluation}

    def forget(self, name: str) -> list[dict[str, Any]]:
        """Drop a model (the trained one on Reset); the first left becomes active."""
        self._entry(name)
        del self._models[name]
        if self.active == name:
            self.active = next(iter(self._models), None)
        return self.models()

    def inspect(self, index: int, name: str | None = None) -> dict[str, Any]:
        """A raw test image made into the input of a model (the active one by
        default) by its own preprocessing: what :meth:`predict` says of a drawing,
        plus the image's ``index`` and ``label``."""
        name = self._name(name)
        model = self._entry(name)["model"]
        x, label = self.training.test_image(index, model.preprocess)
        return {**explain(model, x), "index": index, "label": label, "model": name}

    # -- other people's handwriting --------------------------------------------------
    def load_set(self, name: str, images: Any, labels: Any) -> dict[str, Any]:
        """Keep a foreign digit set of data/mnist.json's "sets" (raw 28×28 uint8
        images, 784 bytes each; one byte a label) for :meth:`handwriting`.

        Returns ``{"name", "count"}``.
        """
        if not isinstance(name, str) or not name or name == "mnist":
            raise ValueError(f"a digit set needs a name other than mnist, got {name!r}")
        self.sets[name] = ImageSet.from_bytes(images, labels, name=name)
        return {"name": name, "count": len(self.sets[name])}

    def handwriting(self, name: str | None = None) -> dict[str, Any]:
        """How a model (the active one by default) reads digits by other hands.

        Returns
        -------
        dict with ``model`` (its name), ``kind`` ("one"/"ten"), ``target`` (one
        neuron: its digit, else None) and ``sets``: a list, "mnist" first, then
        each set loaded with :meth:`load_set` in the order loaded, of

        - ``name``; ``from``: "images" (measured here on the set's images, each
          made into an input by the model's own preprocessing) or "file" (MNIST
          when its test images are not loaded: the weights file's own test
          metrics, ``mistakes`` None; count/accuracy/f1 None where the file has
          none);
        - ``count``, ``accuracy``, and for one neuron ``f1`` (for its target), as
          :func:`oneneuron.metrics.evaluate` gives them;
        - ``wrong`` (how many it misreads; None from a file) and ``mistakes``: up
          to :data:`MISREAD`, in the set's order, as ``{"index": int32 [k],
          "label": int32 [k], "predicted": int32 [k] (the model's answer: a digit
          for ten neurons, 1/0 "is / is not its target" for one), "images": uint8
          [k·h·w] (the raw images), "height": h, "width": w}``.
        """
        name = self._name(name)
        e = self._entry(name)
        model = e["model"]
        test = self.training.test
        sets = [("mnist", test)] if test is not None else []
        sets += list(self.sets.items())
        out = [] if test is not None else [_file_measure(e["metrics"], model)]
        out += [_measure(model, set_name, s) for set_name, s in sets]
        return {
            "model": name,
            "kind": _kind(model),
            "target": model.classes_[0] if len(model.classes_) == 1 else None,
            "sets": out,
        }

    def update_rule(self, optimizer: str = "adam") -> dict[str, dict[str, Any]]:
        """The Python that trains, read from the package as it runs: the gradient
        (model.py) and the optimizer's step (train.py).

        Each is ``{"name": qualified name, "file": module file, "line": first line,
        "source": the dedented source}``.
        """
        classes = {"adam": Adam, "sgd": SGD}
        if optimizer not in classes:
            raise ValueError(f"optimizer must be adam or sgd, got {optimizer!r}")
        return {
            "gradient": _source(Neuron.step_terms),
            "update": _source(classes[optimizer].update),
        }

    # -- helpers ---------------------------------------------------------------------
    def _name(self, name: str | None) -> str:
        if name is None:
            if self.active is None:
                raise ValueError("no model is loaded yet")
            return self.active
        return name

    def _entry(self, name: str) -> dict[str, Any]:
        if name not in self._models:
            raise ValueError(f"there is no model called {name!r}")
        return self._models[name]


def error_data(exc: BaseException) -> dict[str, Any]:
    """An error as the page receives it: ``kind`` says what went wrong ("setting":
    a training setting, named by ``field``; "diverged": a run whose loss stopped
    being finite; "invalid": any other refused value; "internal": a bug), and
    ``message`` is the one line a person reads.

    Examples
    --------
    >>> error_data(SettingError("lr", "lr must be > 0, got -1"))
    {'kind': 'setting', 'field': 'lr', 'message': 'lr must be > 0, got -1'}
    >>> error_data(KeyError("x"))["message"]
    "KeyError: 'x'"
    """
    if isinstance(exc, SettingError):
        return {"kind": "setting", "field": exc.field, "message": str(exc)}
    if isinstance(exc, TrainingDiverged):
        return {"kind": "diverged", "field": None, "message": str(exc)}
    if isinstance(exc, ValueError):
        field = getattr(exc, "field", None)  # e.g. PreprocessError's
        return {"kind": "invalid", "field": field, "message": str(exc)}
    return {
        "kind": "internal",
        "field": None,
        "message": f"{type(exc).__name__}: {exc}",
    }


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


def canvas_image(pixels: Any, height: int, width: int) -> np.ndarray:
    """The canvas's ink levels as a uint8 [height, width] array (checked)."""
    for what, v in (("height", height), ("width", width)):
        if not (isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_SIDE):
            raise ValueError(f"{what} must be a whole number 1–{MAX_SIDE}, got {v!r}")
    try:
        flat = np.frombuffer(pixels, np.uint8)
    except TypeError:
        flat = np.asarray(pixels, np.uint8).reshape(-1)
    if flat.size != height * width:
        raise ValueError(
            f"pixels must hold height × width = {height * width} values, "
            f"got {flat.size}"
        )
    return flat.reshape(height, width)


def explain(model: Neuron | Layer, x: np.ndarray) -> dict[str, Any]:
    """A prediction for one 0/1 input [576], with every term of w·x + b = z."""
    coef, intercept = model.weights_numpy()
    coef = np.asarray(coef, np.float32)
    intercept = np.asarray(intercept, np.float32)
    xf = x.astype(np.float32)
    z = np.asarray(model.decision_function(xf[None]), np.float32).reshape(-1)
    proba = model.predict_proba(xf[None])
    answer = int(model.decide(proba)[0])  # the model's own rule: 0/1, or a digit
    p = np.asarray(proba, np.float32).reshape(-1)
    contributions = coef * xf  # w ⊙ x: the weights under the ink
    one = len(model.classes_) == 1
    if one:
        top = model.classes_[0]
        digit = top if answer == 1 else None
    else:
        top = digit = answer
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
        "probability": float(p[0] if one else p.max()),
    }


def summary(training: Any, result: Any, preprocess: Any = None) -> list[list[str]]:
    """The model card: [what, value] lines from a file's (untrusted) records, and
    last, with ``preprocess``, how its inputs are made (its ``describe()``)."""
    lines = []
    t = training if isinstance(training, dict) else {}
    m = result if isinstance(result, dict) else {}
    how = []
    if t.get("optimizer") in ("adam", "sgd"):
        how.append({"adam": "Adam", "sgd": "SGD with momentum"}[t["optimizer"]])
    if _num(t.get("lr")):
        how.append(f"learning rate {t['lr']:g}")
    if _num(t.get("epochs")):
        how.append(f"{int(t['epochs'])} epoch{'s' if t['epochs'] != 1 else ''}")
    if _num(t.get("batch_size")):
        how.append(f"batches of {int(t['batch_size'])}")
    if how:
        lines.append(["Trained with", ", ".join(how)])
    if _num(t.get("samples")) and t["samples"] > 0:
        where = "in this page" if t.get("in") == "the page" else ""
        mine = int(t["examples"]) if _num(t.get("examples")) else 0
        mine = mine if 0 < mine <= t["samples"] else 0
        text = f"{int(t['samples']) - mine:,} MNIST images"
        if mine:
            text += f" and {mine} of your drawings"
        repeat, digit = t.get("target_repeat"), t.get("target")
        if _num(repeat) and 1 < repeat <= 10 and _num(digit) and 0 <= digit <= 9:
            times = "twice" if repeat == 2 else f"{int(repeat)} times"
            text += f", each {int(digit)} counted {times}"
        lines.append(["Training data", f"{text} {where}".strip()])
    if _num(m.get("test_accuracy")):
        n = m.get("test_samples", 10000)
        of = f" of {int(n):,} test images" if _num(n) else ""
        lines.append(["Right on", f"{100 * m['test_accuracy']:.1f} %{of}"])
    for key, what in (("test_precision", "Precision"), ("test_recall", "Recall")):
        if _num(m.get(key)):
            lines.append([what, f"{100 * m[key]:.1f} %"])
    if preprocess is not None:
        lines.append(["Preprocessing", preprocess.describe()])
    return lines


def _measure(model: Neuron | Layer, name: str, s: ImageSet) -> dict[str, Any]:
    """One set of :meth:`Page.handwriting`, measured on its images."""
    from . import metrics

    X = s.inputs(model.preprocess)
    m = metrics.evaluate(model, X, s.labels)
    truth, pred, _ = metrics.answers(model, X, s.labels)
    wrong = np.flatnonzero(pred != truth)
    pick = wrong[:MISREAD]
    _, height, width = s.images.shape
    return {
        "name": name,
        "from": "images",
        "count": m["samples"],
        "accuracy": m["accuracy"],
        **({"f1": m["f1"]} if "f1" in m else {}),
        "wrong": len(wrong),
        "mistakes": {
            "index": pick.astype(np.int32),
            "label": s.labels[pick].astype(np.int32),
            "predicted": pred[pick].astype(np.int32),
            "images": s.images[pick].reshape(-1).copy(),
            "height": height,
            "width": width,
        },
    }


def _file_measure(result: Any, model: Neuron | Layer) -> dict[str, Any]:
    """MNIST of :meth:`Page.handwriting` from a weights file's (untrusted) metrics."""
    m = result if isinstance(result, dict) else {}

    def num(key: str) -> float | None:
        return float(m[key]) if _num(m.get(key)) else None

    count = num("test_samples")
    out = {
        "name": "mnist",
        "from": "file",
        "count": None if count is None else int(count),
        "accuracy": num("test_accuracy"),
        "wrong": None,
        "mistakes": None,
    }
    if len(model.classes_) == 1:
        out["f1"] = num("test_f1")
    return out


def _source(fn: Any) -> dict[str, Any]:
    """Where a function lives and its source, as the package holds it right now."""
    import inspect
    import textwrap

    lines, first = inspect.getsourcelines(fn)
    module = inspect.getmodule(fn)
    return {
        "name": f"{fn.__module__}.{fn.__qualname__}",
        "file": f"{fn.__module__.replace('.', '/')}.py",
        "line": first,
        "source": textwrap.dedent("".join(lines)),
        "path": getattr(module, "__file__", None),
    }


def _plain(v: Any) -> Any:
    """numpy values as JSON-friendly Python ones (for a weights file's metrics)."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _kind(model: Neuron | Layer) -> str:
    return "one" if len(model.classes_) == 1 else "ten"


def _default_label(model: Neuron | Layer) -> str:
    if len(model.classes_) == 1:
        return f"One neuron: is it a {model.classes_[0]}?"
    return "Ten neurons: which digit?"
