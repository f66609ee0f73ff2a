"""Weights files, format 1: read with complete validation, write atomically.

A file holds the neuron's (or ten neurons') weights and biases, how they were
trained and how well they do. Every reader validates everything and names the
field that is wrong, so a bad file never becomes a half-loaded model.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .model import DIGITS, N_INPUTS, Layer, Neuron

FORMAT = "oneneuron-weights"
VERSION = 1
MAX_BYTES = 4_000_000  # a ten-neuron file is about 80 kB; anything this big is not ours
F32_LIMIT = (2 - 2**-24) * 2**127  # numbers this big or bigger become inf in float32
MAX_DEPTH = 32  # ours nest 3 deep; json would overflow Pyodide's stack on deep text
INPUT = {"height": 24, "width": 24, "encoding": "binary"}
KEYS = (
    "format",
    "version",
    "classes",
    "input",
    "weights",
    "bias",
    "training",
    "metrics",
)


def to_dict(
    model: Neuron | Layer, *, training: dict | None = None, metrics: dict | None = None
) -> dict:
    """The weights file's content for ``model`` as a plain dict (host floats).

    Examples
    --------
    >>> d = to_dict(Neuron(target=6).init_weights())
    >>> d["classes"], len(d["weights"][0]), d["bias"]
    ([6], 576, [0.0])
    """
    coef, intercept = model.weights_numpy()
    return {
        "format": FORMAT,
        "version": VERSION,
        "classes": list(model.classes_),
        "input": dict(INPUT),
        "weights": [[_short(v) for v in row] for row in coef.tolist()],
        "bias": [_short(v) for v in intercept.tolist()],
        "training": dict(training or {}),
        # an undefined metric (e.g. ROC AUC of one class) is null: NaN is not JSON
        "metrics": {k: _null_if_nan(v) for k, v in (metrics or {}).items()},
    }


def dumps(model: Neuron | Layer, **extra: Any) -> str:
    """The weights file as JSON text (what the page downloads)."""
    text = json.dumps(to_dict(model, **extra), separators=(",", ":"), allow_nan=False)
    return text + "\n"


def write(path: str | os.PathLike, model: Neuron | Layer, **extra: Any) -> Path:
    """Write a weights file atomically: a temporary file beside it, then a rename."""
    path = Path(path)
    text = dumps(model, **extra)
    validate(json.loads(text))  # never write what we could not read back
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; weights are served and committed
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(source: str | os.PathLike | dict) -> dict:
    """Read and validate a weights file: a path, JSON text or an already parsed dict."""
    if isinstance(source, dict):
        return validate(source)
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return validate(_parse(source.encode("utf-8"), "weights JSON"))
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ValueError(
                f"{path}: {size} bytes is too big for a weights file "
                f"(limit {MAX_BYTES})"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(
            f"cannot read weights file {path}: {exc.strerror or exc}"
        ) from None
    return validate(_parse(data, str(path)))


def loads(text: str | bytes) -> dict:
    """Parse and validate weights JSON text (the page's file picker hands us this)."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return validate(_parse(data, "weights file"))


def load_weights(
    source: str | os.PathLike | dict, *, backend: str = "numpy"
) -> Neuron | Layer:
    """Read a weights file (path, JSON text or dict) and return the model it holds.

    Examples
    --------
    >>> m = load_weights(to_dict(Neuron(target=3).init_weights()))
    >>> type(m).__name__, m.classes_
    ('Neuron', (3,))
    """
    return from_dict(read(source), backend=backend)


def from_dict(d: dict, *, backend: str = "numpy") -> Neuron | Layer:
    """The model held by an already validated weights dict."""
    classes = d["classes"]
    model = (
        Layer(backend=backend)
        if len(classes) == 10
        else Neuron(target=classes[0], backend=backend)
    )
    return model.set_weights(d["weights"], d["bias"])


def validate(d: Any) -> dict:
    """Check a parsed weights file completely; raise ValueError naming the bad field."""
    if not isinstance(d, dict):
        raise ValueError(f"a weights file must be a JSON object, got {_kind(d)}")
    missing = [k for k in KEYS if k not in d]
    if missing:
        raise ValueError(f"weights file is missing the field(s): {', '.join(missing)}")
    unknown = sorted(set(d) - set(KEYS))
    if unknown:
        raise ValueError(
            f"weights file has unknown field(s): {', '.join(map(str, unknown))}"
        )
    if d["format"] != FORMAT:
        raise ValueError(f"format must be {FORMAT!r}, got {_show(d['format'])}")
    if d["version"] != VERSION or isinstance(d["version"], bool):
        raise ValueError(
            f"version must be {VERSION} (the only version this reader knows), "
            f"got {_show(d['version'])}"
        )
    classes = d["classes"]
    if not (
        isinstance(classes, list) and (classes == list(DIGITS) or _one_digit(classes))
    ):
        raise ValueError(
            "classes must be one digit like [6] or all ten [0, …, 9], "
            f"got {_show(classes)}"
        )
    if d["input"] != INPUT:
        raise ValueError(f"input must be {json.dumps(INPUT)}, got {_show(d['input'])}")
    k = len(classes)
    weights = d["weights"]
    if not (isinstance(weights, list) and len(weights) == k):
        raise ValueError(
            f"weights must be a list of {k} row(s), one per class, got {_kind(weights)}"
        )
    for i, row in enumerate(weights):
        if not (isinstance(row, list) and len(row) == N_INPUTS):
            raise ValueError(
                f"weights[{i}] must be a list of {N_INPUTS} numbers, got {_kind(row)}"
            )
        _finite_numbers(row, f"weights[{i}]")
    bias = d["bias"]
    if not (isinstance(bias, list) and len(bias) == k):
        raise ValueError(f"bias must be a list of {k} number(s), got {_kind(bias)}")
    _finite_numbers(bias, "bias")
    for key in ("training", "metrics"):
        if not isinstance(d[key], dict):
            raise ValueError(f"{key} must be a JSON object, got {_kind(d[key])}")
    return d


def _parse(data: bytes, name: str) -> Any:
    if len(data) > MAX_BYTES:
        raise ValueError(
            f"{name}: {len(data)} bytes is too big for a weights file "
            f"(limit {MAX_BYTES})"
        )
    if _depth(data) > MAX_DEPTH:
        raise ValueError(f"{name} is nested too deeply to be a weights file")
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


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')  # a JSON string, escapes and all


def _depth(data: bytes) -> int:
    """How deep JSON text nests its [ and {, counted without parsing it."""
    skeleton = np.frombuffer(_STRING.sub(b'""', data), np.uint8)
    opens = (skeleton == ord("[")) | (skeleton == ord("{"))
    closes = (skeleton == ord("]")) | (skeleton == ord("}"))
    step = opens.astype(np.int64) - closes
    return int(np.cumsum(step).max()) if step.size else 0


def _null_if_nan(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _one_digit(classes: list) -> bool:
    return len(classes) == 1 and type(classes[0]) is int and 0 <= classes[0] <= 9


def _finite_numbers(values: list, field: str) -> None:
    for j, v in enumerate(values):
        # abs(v) < limit is False for NaN and ±inf, and safe for huge JSON integers
        if type(v) not in (int, float) or not abs(v) < F32_LIMIT:
            raise ValueError(
                f"{field}[{j}] must be a finite number (float32 range), got {_show(v)}"
            )


def _short(v: float) -> float:
    """float32 values written with the 9 significant digits that round-trip them."""
    return float(f"{v:.9g}")


def _kind(v: Any) -> str:
    if isinstance(v, list):
        return f"a list of {len(v)}"
    return {
        dict: "an object",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }.get(type(v), "a number")


def _show(v: Any) -> str:
    text = json.dumps(v) if not isinstance(v, float) or math.isfinite(v) else str(v)
    return text if len(text) <= 60 else text[:57] + "…"
