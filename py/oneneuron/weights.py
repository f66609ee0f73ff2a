"""Weights files, formats 2 and 3 (1 still reads): complete validation, atomic writes.

A file holds the neuron's (or ten neurons', or a network's) weights and biases, how
its inputs are made from images, how it was trained and how well it does. Every
reader validates everything and names the field that is wrong, so a bad file never
becomes a half-loaded model.

The fields, in the order written::

    format      "oneneuron-weights"
    version     2 for one neuron or ten, 3 for a network (writers); 1 still reads
    classes     [d] for one neuron that says yes to digit d, [0, …, 9] for ten
    input       {"height": 24, "width": 24, "encoding": "binary"}
    preprocess  version 2 only: how an image becomes the input (Preprocess.to_dict):
                {"deskew": bool, "threshold": (0, 1], "grid": 24, "box": 1–24,
                 "stroke": null or {"low": l, "high": h} with 0 < l ≤ h ≤ 24};
                a version-1 file has none and means Preprocess(), the plain pipeline
    weights     one row of 576 numbers per class (row-major 24×24), float32 range
    bias        one number per class
    layers      version 3 instead of weights and bias: [{"weights": H rows of 576,
                "bias": H numbers, "activation": "sigmoid"}, {"weights": 10 rows of H,
                "bias": 10 numbers, "activation": "softmax"}], 1 ≤ H ≤ 256
    training    an object: how it was trained (settings, command, device …)
    metrics     an object: how well it does (test_accuracy …)
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .checks import kind_of, show
from .files import atomic_write
from .model import DIGITS, N_INPUTS, Layer, Model, Neuron
from .preprocess import Preprocess

FORMAT = "oneneuron-weights"
VERSION = 2  # what writers write for one neuron or ten (3: a network's layers)
VERSIONS = (1, 2, 3)  # what readers read
# Limits on what a reader accepts. Each is far above what our files hold, and keeps
# reading any input, however made, to well under a second and bounded memory.
MAX_BYTES = 4_000_000  # a ten-neuron file is about 80 kB; anything this big is not ours
F32_LIMIT = (2 - 2**-24) * 2**127  # numbers this big or bigger become inf in float32
MAX_DEPTH = 32  # ours nest 3 deep; json would overflow Pyodide's stack on deep text
MAX_DIGITS = 40  # longer integers in the text read as ±inf (int() of them is slow)
MAX_NUMBER = 2**53  # |numbers| in training and metrics: JavaScript holds them exactly
MAX_STRING = 10_000  # characters of a text or key in training and metrics
MAX_ITEMS = 1_000  # entries of a list or object in training and metrics (ours: ≤ 20)
MAX_NESTING = 4  # lists and objects inside training or metrics (ours: 2, a confusion)
INPUT = {"height": 24, "width": 24, "encoding": "binary"}
KEYS = (  # a version-2 file's fields, in the order written
    "format",
    "version",
    "classes",
    "input",
    "preprocess",
    "weights",
    "bias",
    "training",
    "metrics",
)
KEYS_V1 = tuple(k for k in KEYS if k != "preprocess")
KEYS_V3 = (*KEYS[:5], "layers", *KEYS[7:])
ACTIVATIONS = ("sigmoid", "softmax")  # a network's layers, in order


def to_dict(
    model: Model, *, training: dict | None = None, metrics: dict | None = None
) -> dict:
    """The weights file's content for ``model`` as a plain dict (host floats),
    with the model's own ``preprocess``.

    Examples
    --------
    >>> d = to_dict(Neuron(target=6).init_weights())
    >>> d["version"], d["classes"], len(d["weights"][0]), d["bias"]
    (2, [6], 576, [0.0])
    >>> d["preprocess"]["deskew"], d["preprocess"]["box"]
    (False, 20)
    """
    head = {
        "format": FORMAT,
        "version": 3 if model.kind == "hidden" else VERSION,
        "classes": list(model.classes_),
        "input": dict(INPUT),
        "preprocess": model.preprocess.to_dict(),
    }
    if model.kind == "hidden":
        layers = [
            {**_layer(w, b), "activation": a}
            for (w, b), a in zip(model.weights_numpy(), ACTIVATIONS, strict=True)
        ]
        body: dict[str, Any] = {"layers": layers}
    else:
        body = _layer(*model.weights_numpy())
    return {
        **head,
        **body,
        "training": dict(training or {}),
        # an undefined metric (e.g. ROC AUC of one class) is null: NaN is not JSON
        "metrics": {k: _null_if_nan(v) for k, v in (metrics or {}).items()},
    }


def _layer(coef: np.ndarray, intercept: np.ndarray) -> dict[str, list]:
    return {
        "weights": [[_short(v) for v in row] for row in coef.tolist()],
        "bias": [_short(v) for v in intercept.tolist()],
    }


def dumps(model: Model, **extra: Any) -> str:
    """The weights file as JSON text (what the page downloads)."""
    text = json.dumps(to_dict(model, **extra), separators=(",", ":"), allow_nan=False)
    return text + "\n"


def write(path: str | os.PathLike, model: Model, **extra: Any) -> Path:
    """Write a weights file atomically: a temporary file beside it, then a rename."""
    text = dumps(model, **extra)
    loads(text)  # never write what we could not read back
    return atomic_write(path, text.encode("utf-8"))


def read(source: str | os.PathLike | dict) -> dict:
    """Read and validate a weights file: a path, JSON text or an already parsed dict."""
    if isinstance(source, dict):
        return validate(source)
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return validate(_parse(source.encode("utf-8"), "weights JSON"))
    path = Path(source)
    try:
        with open(path, "rb") as f:  # at most one byte too many: /dev/zero ends too
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ValueError(
            f"cannot read weights file {path}: {exc.strerror or exc}"
        ) from None
    return validate(_parse(data, str(path)))


def loads(text: str | bytes) -> dict:
    """Parse and validate weights JSON text (the page's file picker hands us this)."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return validate(_parse(data, "weights file"))


def load_weights(source: str | os.PathLike | dict, *, backend: str = "numpy") -> Model:
    """Read a weights file (path, JSON text or dict) and return the model it holds.

    The model's ``preprocess`` is the file's (``Preprocess()`` for version 1), so
    ``model.to_input(images)`` makes inputs the way its training data was made.

    Examples
    --------
    >>> m = load_weights(to_dict(Neuron(target=3).init_weights()))
    >>> type(m).__name__, m.classes_
    ('Neuron', (3,))
    """
    return from_dict(read(source), backend=backend)


def from_dict(d: dict, *, backend: str = "numpy") -> Model:
    """The model held by an already validated weights dict."""
    classes = d["classes"]
    pre = Preprocess.from_dict(d["preprocess"]) if "preprocess" in d else Preprocess()
    if "layers" in d:
        from .network import Network  # a start (one neuron) does without it

        layers = [(layer["weights"], layer["bias"]) for layer in d["layers"]]
        net = Network(hidden=len(layers[0][1]), backend=backend, preprocess=pre)
        return net.set_weights(layers)
    model = (
        Layer(backend=backend, preprocess=pre)
        if len(classes) == 10
        else Neuron(target=classes[0], backend=backend, preprocess=pre)
    )
    return model.set_weights(d["weights"], d["bias"])


def validate(d: Any) -> dict:
    """Check a parsed weights file completely; raise ValueError naming the bad field."""
    if not isinstance(d, dict):
        raise ValueError(f"a weights file must be a JSON object, got {kind_of(d)}")
    version = d.get("version") if type(d.get("version")) is int else None
    keys = {1: KEYS_V1, 3: KEYS_V3}.get(version, KEYS)
    missing = [k for k in keys if k not in d]
    if missing:
        raise ValueError(f"weights file is missing the field(s): {', '.join(missing)}")
    unknown = sorted(set(d) - set(keys))
    if unknown:
        more = " (version 1 files have no preprocess)" if version == 1 else ""
        more = " (version 3 files have layers instead)" if version == 3 else more
        raise ValueError(
            f"weights file has unknown field(s): {', '.join(map(str, unknown))}{more}"
        )
    if d["format"] != FORMAT:
        raise ValueError(f"format must be {FORMAT!r}, got {show(d['format'])}")
    if d["version"] not in VERSIONS or type(d["version"]) is not int:
        raise ValueError(
            "version must be 1, 2 or 3 (the versions this reader knows), "
            f"got {show(d['version'])}"
        )
    if version != 1:
        Preprocess.from_dict(d["preprocess"])  # errors name "preprocess.<field>"
    classes = d["classes"]
    if not (
        isinstance(classes, list) and (classes == list(DIGITS) or _one_digit(classes))
    ):
        raise ValueError(
            "classes must be one digit like [6] or all ten [0, …, 9], "
            f"got {show(classes)}"
        )
    if d["input"] != INPUT:
        raise ValueError(f"input must be {json.dumps(INPUT)}, got {show(d['input'])}")
    if version == 3:
        _layers(d["layers"], classes)
    else:
        _weights(d, "", len(classes), N_INPUTS, "one per class")
    for key in ("training", "metrics"):
        if not isinstance(d[key], dict):
            raise ValueError(f"{key} must be a JSON object, got {kind_of(d[key])}")
        _record(d[key], key, 0)
    return d


def _weights(d: dict, at: str, k: int, n: int, rows: str) -> None:
    """Check ``d``'s weights (k rows of n numbers) and bias (k numbers); ``at``
    prefixes the fields' names ("layers[0]." or "")."""
    weights = d["weights"]
    if not (isinstance(weights, list) and len(weights) == k):
        raise ValueError(
            f"{at}weights must be a list of {k} row(s), {rows}, got {kind_of(weights)}"
        )
    for i, row in enumerate(weights):
        if not (isinstance(row, list) and len(row) == n):
            raise ValueError(
                f"{at}weights[{i}] must be a list of {n} numbers, got {kind_of(row)}"
            )
        _finite_numbers(row, f"{at}weights[{i}]")
    bias = d["bias"]
    if not (isinstance(bias, list) and len(bias) == k):
        raise ValueError(
            f"{at}bias must be a list of {k} number(s), got {kind_of(bias)}"
        )
    _finite_numbers(bias, f"{at}bias")


def _layers(layers: Any, classes: list) -> None:
    """Check a version-3 file's layers: H sigmoid neurons reading the 576 inputs,
    then ten softmax neurons reading the H outputs."""
    from .network import MAX_HIDDEN  # a start (one neuron) does without it

    if classes != list(DIGITS):
        raise ValueError(
            f"a network's classes must be all ten digits, got {show(classes)}"
        )
    if not (isinstance(layers, list) and len(layers) == 2):
        raise ValueError(
            "layers must be a list of 2 layers (the hidden one, then the output), "
            f"got {kind_of(layers)}"
        )
    hidden = None
    for i, (layer, activation) in enumerate(zip(layers, ACTIVATIONS, strict=True)):
        at = f"layers[{i}]"
        keys = {"weights", "bias", "activation"}
        if not (isinstance(layer, dict) and set(layer) == keys):
            got = (
                f"keys {sorted(map(str, layer))}"
                if isinstance(layer, dict)
                else kind_of(layer)
            )
            raise ValueError(
                f"{at} must be an object of weights, bias and activation, got {got}"
            )
        if layer["activation"] != activation:
            got = show(layer["activation"])
            raise ValueError(f"{at}.activation must be {activation!r}, got {got}")
        if hidden is None:
            w = layer["weights"]
            hidden = len(w) if isinstance(w, list) else 0
            if not 1 <= hidden <= MAX_HIDDEN:
                raise ValueError(
                    f"{at}.weights must be a list of 1 to {MAX_HIDDEN} rows, one per "
                    f"hidden neuron, got {kind_of(w)}"
                )
            _weights(layer, f"{at}.", hidden, N_INPUTS, "one per hidden neuron")
        else:
            _weights(layer, f"{at}.", len(DIGITS), hidden, "one per digit")


def _parse(data: bytes, name: str) -> Any:
    if len(data) > MAX_BYTES:
        raise ValueError(
            f"{name} is too big to be a weights file: over {MAX_BYTES:,} bytes "
            "(ours are under 100 kB)"
        )
    depth, long_ints = _scan(data)
    if depth > MAX_DEPTH:
        raise ValueError(f"{name} is nested too deeply to be a weights file")
    if long_ints:  # never converted (int() is quadratic): they read as ±inf
        data = _overflow(data, long_ints)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"{name} is not text (UTF-8 JSON expected)") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{name} is not valid JSON: {exc.msg} "
            f"at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ValueError(f"{name} is nested too deeply to be a weights file") from None


def _scan(data: bytes) -> tuple[int, list[tuple[int, int]]]:
    """How deep JSON text nests, and where its integers of over MAX_DIGITS digits are.

    Linear time, without parsing: a quote opens or closes a string unless an odd
    number of backslashes precede it, and brackets count only outside strings. That
    is exact for valid JSON and for the valid start a parser reads before it stops.
    """
    b = np.frombuffer(data, np.uint8)
    if not b.size:
        return 0, []
    quote = b == ord('"')
    backslash = b == ord("\\")
    if backslash.any():
        pos = np.arange(b.size, dtype=np.int32)
        run = pos - np.maximum.accumulate(np.where(backslash, -1, pos))
        quote[1:] &= run[:-1] % 2 == 0
    outside = ~np.logical_xor.accumulate(quote)  # the closing quote counts as outside
    step = outside * (
        (b == ord("[")).astype(np.int8)
        + (b == ord("{"))
        - (b == ord("]"))
        - (b == ord("}"))
    )
    depth = int(np.cumsum(step, dtype=np.int32).max())
    digit = ((b >= ord("0")) & (b <= ord("9"))).astype(np.int8)
    edge = np.diff(digit, prepend=0, append=0)
    starts, stops = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    keep = stops - starts > MAX_DIGITS
    starts, stops = starts[keep], stops[keep]
    # a whole integer, not a float's fraction, exponent or integer part
    padded = np.concatenate([np.frombuffer(b"  ", np.uint8), b, [ord(" ")]])
    before, before2, after = padded[starts + 1], padded[starts], padded[stops + 2]
    float_part = np.isin(before, list(b".eE+")) | np.isin(after, list(b".eE"))
    float_part |= (before == ord("-")) & np.isin(before2, list(b"eE"))
    whole = outside[starts] & ~float_part
    return depth, list(zip(starts[whole].tolist(), stops[whole].tolist(), strict=True))


def _overflow(data: bytes, spans: list[tuple[int, int]]) -> bytes:
    """``data`` with the digits in each span replaced by 1e999 (a float: inf)."""
    pieces, last = [], 0
    for start, stop in spans:
        pieces += [data[last:start], b"1e999"]
        last = stop
    pieces.append(data[last:])
    return b"".join(pieces)


def _record(value: Any, field: str, depth: int) -> None:
    """Check what training or metrics hold: JSON values, each of bounded size."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        # abs(v) <= limit is False for NaN and ±inf, and exact for huge integers
        if not abs(value) <= MAX_NUMBER:
            raise ValueError(
                f"{field} must be a number within ±2^53, got {show(value)}"
            )
        return
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ValueError(
                f"{field} must be a text of at most {MAX_STRING:,} characters, "
                f"got {len(value):,}"
            )
        return
    if not isinstance(value, (list, dict)):
        raise ValueError(
            f"{field} must be a JSON value (text, number, true, false, null, list "
            f"or object), got {type(value).__name__}"
        )
    if depth > MAX_NESTING:
        raise ValueError(
            f"{field} is nested too deeply: training and metrics hold lists and "
            f"objects at most {MAX_NESTING} levels deep"
        )
    if len(value) > MAX_ITEMS:
        raise ValueError(
            f"{field} must have at most {MAX_ITEMS:,} entries, got {len(value):,}"
        )
    if isinstance(value, list):
        for i, item in enumerate(value):
            _record(item, f"{field}[{i}]", depth + 1)
        return
    for key, item in value.items():
        if not isinstance(key, str) or len(key) > MAX_STRING:
            raise ValueError(
                f"{field} has a key that is not a text of at most {MAX_STRING:,} "
                f"characters: {show(key)}"
            )
        name = f"{field}.{key}" if key.isidentifier() else f"{field}[{show(key)}]"
        _record(item, name, depth + 1)


def _null_if_nan(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _one_digit(classes: list) -> bool:
    return len(classes) == 1 and type(classes[0]) is int and 0 <= classes[0] <= 9


def _finite_numbers(values: list, field: str) -> None:
    for j, v in enumerate(values):
        # abs(v) < limit is False for NaN and ±inf, and safe for huge JSON integers
        if type(v) not in (int, float) or not abs(v) < F32_LIMIT:
            raise ValueError(
                f"{field}[{j}] must be a finite number (float32 range), got {show(v)}"
            )


def _short(v: float) -> float:
    """float32 values written with the 9 significant digits that round-trip them."""
    return float(f"{v:.9g}")
