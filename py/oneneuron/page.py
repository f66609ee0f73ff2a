"""What the web page asks of the package, as plain values the worker can pass on.

One :class:`Page` lives inside Pyodide: the registry of the page's models (shipped
ones listed before they load, an imported file, one trained or taught in the page)
and the dispatch of its requests (:data:`REQUESTS`), answered with dicts of numbers,
strings, lists and 1-D numpy arrays. The maths is the models' own, inputs come from
each model's own preprocessing, and nothing here knows JavaScript or the DOM. A
model that fails validation, or a run that diverges, never replaces the one in use.
"""

from __future__ import annotations

from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from . import metrics, weights
from .card import colour_scale, model_label, summary
from .checks import error_data, whole
from .images import from_canvas
from .model import N_INPUTS, Layer, Neuron
from .pagedata import ImageSet, file_report
from .steps import flat
from .teach import Lessons, drawing_loss

if TYPE_CHECKING:
    from .session import TrainingSession

MISREAD = 8  # misread digits shown per set in the handwriting report

# The models the page ships, in the order the switch shows them: the first answers
# the first drawing. Each is fetched by the worker when first chosen (``source``).
SHIPPED = {
    "six": {"url": "weights/six.json", "kind": "one", "target": 6},
    "digits": {"url": "weights/digits.json", "kind": "ten", "target": None},
    "hidden": {"url": "weights/hidden.json", "kind": "hidden", "hidden": 64},
}

# The one table of what the page may ask of Python: request name → the method that
# answers, by keyword (worker.js sends here every request it does not answer
# itself, after fetching what one needs: a weights file's text for select and
# loadWeights, data/mnist.json's bytes for loadData and loadSet). A request that
# changes the models held answers :meth:`Page.answer`: the model and the new list.
REQUESTS = {
    "source": "source",
    "select": "select",
    "loadWeights": "load_weights",
    "models": "models",
    "modelInfo": "model_info",
    "predict": "predict",
    "teach": "teach",
    "untaught": "untaught",
    "export": "export",
    "forget": "forget",
    "inspect": "inspect",
    "scores": "scores",
    "steps": "steps",
    "loadSet": "load_set",
    "handwriting": "handwriting",
    "updateRule": "update_rule",
    "addExample": "add_example",
    "clearExamples": "training.clear_examples",
    "checkSettings": "training.check_settings",
    "loadData": "training.set_data",
    "trainStart": "training.start",
    "trainRun": "training.run",
    "trainFinish": "train_finish",
    "trainCancel": "training.cancel",
}


class Page:
    """The page's models, drawing and training state.

    Examples
    --------
    >>> page = Page()
    >>> model = Neuron(target=6).set_weights(np.ones(576) * 0.01, [-1.0])
    >>> page.load_weights(weights.dumps(model), name="six")["model"]["classes"]
    [6]
    >>> ink = np.zeros((28, 28), np.uint8)
    >>> ink[4:24, 12:16] = 255  # a vertical bar
    >>> r = page.predict(ink.tobytes(), 28, 28)
    >>> r["ink"], r["digit"], round(r["probability"], 4)
    (80, None, 0.4502)
    """

    def __init__(self) -> None:
        self._models: dict[str, dict[str, Any]] = {}  # name → model and its file
        self.active: str | None = None  # the name of the model that predicts
        self.sets: dict[str, ImageSet] = {}  # foreign digit sets loaded: name → set
        self.lessons = Lessons()  # the weights before each step taught by drawing

    @cached_property
    def training(self) -> TrainingSession:
        """Data, added drawings, the run: made when first asked (a start needs none)."""
        from .session import TrainingSession

        return TrainingSession()

    # -- requests --------------------------------------------------------------------
    def call(self, request: str, args: dict[str, Any] | None = None) -> Any:
        """Answer a request of the page (a name in :data:`REQUESTS`) with its
        arguments by keyword; errors are raised as they are.

        Examples
        --------
        >>> [m["name"] for m in Page().call("models")]
        ['six', 'digits', 'hidden']
        """
        if request not in REQUESTS:
            raise LookupError(f"unknown request {request!r}")
        return attrgetter(REQUESTS[request])(self)(**(args or {}))

    def handle(self, request: str, args: dict[str, Any] | None = None) -> dict:
        """:meth:`call`, answered as data: ``{"result": ...}``, or ``{"error":
        {"kind", "field", "message"}}`` (:func:`~oneneuron.checks.error_data`):
        nothing raised.

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
    def source(self, name: str | None = None) -> dict[str, Any]:
        """Where the worker fetches the weights file of ``name`` (the first shipped
        model by default) before :meth:`select`: ``{"name", "url"}``, the url None
        when the model is held already (or is not a shipped one)."""
        name = next(iter(SHIPPED)) if name is None else name
        shipped = SHIPPED.get(name)
        url = shipped["url"] if shipped and name not in self._models else None
        return {"name": name, "url": url}

    def select(
        self, name: str | None = None, text: Any = None, *, activate: bool = True
    ) -> dict[str, Any]:
        """Make the model called ``name`` (the first shipped one by default) the one
        that predicts; a shipped model not held yet is read from ``text``, its
        weights file. With ``activate`` false, it is only loaded. Returns
        :meth:`answer`."""
        name = self.source(name)["name"]
        if name not in self._models and name in SHIPPED and text is not None:
            return self.load_weights(text, name=name, activate=activate)
        entry = self._entry(name)
        return self._commit(name, entry, name if activate else self.active or name)

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
        and the active one stay as they were. Returns :meth:`answer`.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"a model needs a name, got {name!r}")
        d = weights.loads(text)
        model = weights.from_dict(d)
        entry = {
            "model": model,
            "label": label or model.label,
            "training": d["training"],
            "metrics": d["metrics"],
        }
        active = name if activate or self.active is None else self.active
        return self._commit(name, entry, active)

    def models(self) -> list[dict[str, Any]]:
        """Name, label and kind of every model: the shipped ones first (``held``
        false until loaded), then the others in the order they came."""
        out = []
        for name, s in SHIPPED.items():
            e = self._models.get(name)
            shipped = model_label(s["kind"], s.get("target"), s.get("hidden", 0))
            label = e["label"] if e else shipped
            out.append(self._listed(name, label, s["kind"], held=e is not None))
        for name, e in self._models.items():
            if name not in SHIPPED:
                out.append(self._listed(name, e["label"], e["model"].kind, held=True))
        return out

    def _listed(self, name: str, label: str, kind: str, *, held: bool) -> dict:
        listed = {"name": name, "label": label, "kind": kind, "held": held}
        return {**listed, "active": name == self.active}

    def model_info(self, name: str | None = None) -> dict[str, Any]:
        """Everything the page shows about a model (the active one by default).

        ``weights`` is float32 [K·576], row-major, one 24×24 map per neuron;
        ``scale`` is the colour scale of the heatmaps, :func:`colour_scale`;
        ``preprocess`` is how its inputs are made (``Preprocess.to_dict()``);
        ``summary`` is a list of [what, value] strings for the model card, the
        last one the preprocessing in words (``Preprocess.describe()``);
        ``taught`` is how many steps on drawings Undo can take back (:meth:`teach`).
        """
        name = self._name(name)
        return self._info(name, self._entry(name), self.active)

    def answer(self, name: str | None = None) -> dict[str, Any]:
        """What a request that changed the models answers: ``model`` (the
        :meth:`model_info` of ``name``, the active one by default; None when no
        model is held) and ``models`` (:meth:`models`)."""
        held = name is not None or self.active is not None
        return {
            "model": self.model_info(name) if held else None,
            "models": self.models(),
        }

    def _info(self, name: str, e: dict[str, Any], active: str | None) -> dict[str, Any]:
        """:meth:`model_info` of an entry, held or not yet, with ``active`` active."""
        model = e["model"]
        coef, intercept = model.input_layer().weights_numpy()
        coef = np.asarray(coef, np.float32)
        info = {
            "name": name,
            "label": e["label"],
            "kind": model.kind,
            "classes": list(model.classes_),
            "target": model.target,
            "weights": coef.reshape(-1).copy(),
            "bias": [float(b) for b in intercept],
            "scale": colour_scale(coef),
            "preprocess": model.preprocess.to_dict(),
            "summary": summary(e["training"], e["metrics"], model.preprocess),
            "active": name == active,
            "taught": self.lessons.steps(name),  # steps Undo can take back
        }
        if model.kind == "hidden":  # the ten output neurons, reading the H
            w, b = (np.asarray(a, np.float32) for a in model.output.weights_numpy())
            info["hidden"] = len(intercept)
            info["output"] = {
                "weights": w.reshape(-1).copy(),  # [10·H], row k: output neuron k
                "bias": [float(v) for v in b],
                "scale": colour_scale(w),
            }
        return info

    def _commit(self, name: str, entry: dict[str, Any], active: str) -> dict[str, Any]:
        """Keep ``entry`` as ``name`` and make ``active`` the model that predicts,
        only once everything the page will show of it is built: a step that fails
        (the card of an odd record, say) leaves the models as they were."""
        self._info(name, entry, active)
        if self._models.get(name) is not entry:  # another model: not its steps
            self.lessons.forget(name)
        self._models[name] = entry
        self.active = active
        return self.answer(name)

    def export(self, name: str | None = None) -> str:
        """The weights file of a model (the active one by default) as JSON text."""
        e = self._entry(self._name(name))
        return weights.dumps(e["model"], training=e["training"], metrics=e["metrics"])

    def forget(self, name: str) -> dict[str, Any]:
        """Drop a model (the trained one on Reset); the first left becomes active.
        Returns :meth:`answer` of the active model."""
        self._entry(name)
        del self._models[name]
        self.lessons.forget(name)
        if self.active == name:
            self.active = next(iter(self._models), None)
        return self.answer()

    # -- drawing ---------------------------------------------------------------------
    def predict(
        self, pixels: Any, height: int, width: int, off: Any = None, label: Any = None
    ) -> dict[str, Any]:
        """What the active model makes of a drawing, made into its input by the
        model's own preprocessing.

        Parameters
        ----------
        pixels : bytes-like of ``height × width`` uint8 ink levels (canvas alpha)
        height, width : the canvas size in pixels
        off : a network's hidden neurons switched off (their outputs held at 0)
        label : with a digit, also the drawing's ``loss`` for that answer

        Returns the model's ``explain`` of the input (its numbers, every term of
        w·x + b = z) and ``model``, the name of the model that answered.
        """
        name = self._name(None)
        model = self._entry(name)["model"]
        x = model.to_input(from_canvas(pixels, height, width)).reshape(N_INPUTS)
        extra = {} if off is None else {"off": off}  # a network's units
        r = {**model.explain(x, **extra), "model": name}
        if label is not None:
            r["loss"] = drawing_loss(model, x, whole(label, "label", 0, 9), **extra)
        return r

    def teach(
        self, pixels: Any, height: int, width: int, label: Any, lr: Any, off: Any = None
    ) -> dict[str, Any]:
        """One gradient step of the active model on this drawing for the answer
        ``label`` (:mod:`oneneuron.teach`), a network's hidden neurons ``off`` held
        at 0: :meth:`answer` (its new weights), ``before`` and ``after``
        (:meth:`predict` with the ``loss``) and its ``gradient`` and ``steps``."""
        name, drawing = self._name(None), (pixels, height, width)
        before = self.predict(*drawing, off=off, label=label)
        entry = self._entry(name)
        lesson = self.lessons.teach(name, entry, before["seen"], label, lr, off or ())
        after = self.predict(*drawing, off=off, label=label)
        return {**self.answer(name), "before": before, "after": after, **lesson}

    def untaught(self, all_steps: bool = False) -> dict[str, Any]:
        """Undo the active model's last step (or all of them, as Reset does):
        its weights exactly as before. Returns :meth:`answer` and ``steps``."""
        name = self._name(None)
        steps = self.lessons.undo(name, self._entry(name), all_steps=all_steps)
        return {**self.answer(name), "steps": steps}

    def steps(self, pixels: Any, height: int, width: int) -> dict[str, Any]:
        """Each step by which the active model makes a drawing into its input.

        Returns ``model`` (its name), ``describe`` (the pipeline in one sentence)
        and ``steps``: :func:`oneneuron.steps.flat`. The last picture equals
        ``seen`` of :meth:`predict` for the same pixels.
        """
        name = self._name(None)
        p = self._entry(name)["model"].preprocess
        shown = flat(p, from_canvas(pixels, height, width))
        return {"model": name, "describe": p.describe(), "steps": shown}

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
        image = from_canvas(pixels, height, width)
        return self.training.add_example(image, label, model.preprocess)

    def train_finish(
        self, name: str = "trained", label: str | None = None, *, mistakes: int = 0
    ) -> dict[str, Any]:
        """Keep the trained model as ``name`` (the active model), with its record
        and, when the test images are loaded, its test metrics.

        Returns :meth:`answer` and ``evaluation``: :meth:`TrainingSession.evaluate`
        (the raw test images made into inputs by the trained model's preprocessing)
        with up to ``mistakes`` misclassified images when the test images are
        loaded, else None.
        """
        model, record, result, evaluation = self.training.finish(mistakes)
        entry = {
            "model": model,
            "label": label or f"Trained here · {model.label}",
            "training": record,
            "metrics": result,
        }
        return {**self._commit(name, entry, name), "evaluation": evaluation}

    def inspect(self, index: int, name: str | None = None) -> dict[str, Any]:
        """A raw test image made into the input of a model (the active one by
        default) by its own preprocessing: what :meth:`predict` says of a drawing,
        plus the image's ``index`` and ``label``."""
        name = self._name(name)
        model = self._entry(name)["model"]
        x, label = self.training.test_image(index, model.preprocess)
        return {**model.explain(x), "index": index, "label": label, "model": name}

    def update_rule(
        self, optimizer: str = "adam", kind: str = "one"
    ) -> dict[str, dict[str, Any]]:
        """The Python that trains a model of this ``kind`` ("one", "ten", "hidden"),
        read from the package as it runs (:func:`oneneuron.train.rule_source`)."""
        from .network import Network
        from .train import rule_source

        models = {"one": Neuron, "ten": Layer, "hidden": Network}
        if kind not in models:
            raise ValueError(f"kind must be one of {', '.join(models)}, got {kind!r}")
        return rule_source(models[kind], optimizer)

    def scores(self, name: str | None = None) -> dict[str, Any]:
        """A one-neuron model's probabilities on the MNIST test images (each made
        into an input by its own preprocessing), for the page's threshold: ``p``
        (float32 [N]), ``truth`` (uint8 [N], 1 for its digit), ``target`` and
        ``auc``, the area under their ROC curve (:func:`~oneneuron.metrics.roc_auc`)."""
        name = self._name(name)
        model = self._entry(name)["model"]
        if model.kind != "one":
            raise ValueError(f"a threshold is one neuron's; {name!r} names a digit")
        test = self.training.test_set()
        p = np.asarray(model.predict_proba(test.inputs(model.preprocess)), np.float32)
        truth = (test.labels == model.target).astype(np.uint8)
        out = {"model": name, "target": model.target, "p": p, "truth": truth}
        return {**out, "auc": metrics.roc_auc(truth, p)}

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

        Returns ``model`` (its name), ``kind``, ``target`` and ``sets``: "mnist"
        first (:meth:`~oneneuron.pagedata.ImageSet.report` of the test images, or
        :func:`~oneneuron.pagedata.file_report` when they are not loaded), then
        each set of :meth:`load_set` in the order loaded, with up to
        :data:`MISREAD` of the digits it misreads.
        """
        name = self._name(name)
        e = self._entry(name)
        model = e["model"]
        test = self.training.test
        sets = [("mnist", test)] if test is not None else []
        sets += list(self.sets.items())
        out = [] if test is not None else [file_report(e["metrics"], model)]
        out += [s.report(model, set_name, MISREAD) for set_name, s in sets]
        return {"model": name, "kind": model.kind, "target": model.target, "sets": out}

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
