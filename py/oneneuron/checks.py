"""The small checks every boundary shares: is this a finite number, a whole number,
and how a refused value is shown in the one line that says why.

Settings (train.py, preprocess.py), weights files (weights.py) and the page's
requests (page.py, session.py) all validate with these, so "a number" means the
same everywhere: a real number that is not a bool, finite.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

import numpy as np

SHOWN = 60  # characters of a value shown in an error message, at most


def is_number(v: Any) -> bool:
    """A finite real number (int, float or a numpy scalar), not a bool.

    Examples
    --------
    >>> [is_number(v) for v in (1, 0.5, np.float32(2), True, float("nan"), "1")]
    [True, True, True, False, False, False]
    """
    real = isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
    return real and math.isfinite(v)


def is_integer(v: Any) -> bool:
    """A whole number (int or a numpy integer), not a bool.

    Examples
    --------
    >>> [is_integer(v) for v in (3, np.int64(3), 3.0, False)]
    [True, True, False, False]
    """
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def whole(v: Any, what: str, low: int, high: int) -> int:
    """``v`` checked to be a whole number from ``low`` to ``high``; ValueError
    naming ``what`` otherwise.

    Examples
    --------
    >>> whole(3, "index", 0, 9)
    3
    >>> whole(12, "index", 0, 9)
    Traceback (most recent call last):
    ...
    ValueError: index must be a whole number 0–9, got 12
    """
    if not (is_integer(v) and low <= v <= high):
        raise ValueError(f"{what} must be a whole number {low}–{high}, got {show(v)}")
    return int(v)


def kind_of(v: Any) -> str:
    """What a JSON value is, in words: "a list of 3", "an object", "null" …"""
    if isinstance(v, list):
        return f"a list of {len(v)}"
    return {
        dict: "an object",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }.get(type(v), "a number")


def show(v: Any) -> str:
    """A value as one short line of text for an error message.

    Examples
    --------
    >>> show(float("nan")), show("x" * 100)[-3:], show(-(10**5000))
    ('nan', 'xx…', 'an integer of about 5000 digits')
    """
    if isinstance(v, float) and not math.isfinite(v):
        text = str(v)
    else:
        try:
            text = json.dumps(v)
        except (TypeError, ValueError, RecursionError):  # from Python code, not JSON
            if isinstance(v, int):  # beyond int → str's limit of 4300 digits
                text = f"an integer of about {round(v.bit_length() * 0.30103)} digits"
            else:
                text = kind_of(v) if isinstance(v, (dict, list)) else repr(v)
    return clip(text)


def clip(text: str) -> str:
    """At most :data:`SHOWN` characters of ``text`` (an error stays one short line)."""
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "…"


def plain(v: Any) -> Any:
    """numpy values as JSON-friendly Python ones (a weights file's metrics, an
    answer to the page)."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def error_data(exc: BaseException) -> dict[str, Any]:
    """An error as the page receives it: ``kind`` says what went wrong (the
    error's own ``kind``: "setting", a training setting named by ``field``;
    "diverged", a run whose loss stopped being finite; else "invalid" for any
    refused value, "internal" for a bug) and ``message`` is the one line a person
    reads.

    Examples
    --------
    >>> error_data(ValueError("lr must be > 0, got -1"))
    {'kind': 'invalid', 'field': None, 'message': 'lr must be > 0, got -1'}
    >>> error_data(KeyError("x"))["message"]
    "KeyError: 'x'"
    """
    if isinstance(exc, ValueError):
        kind = getattr(exc, "kind", "invalid")
        return {"kind": kind, "field": getattr(exc, "field", None), "message": str(exc)}
    return {
        "kind": "internal",
        "field": None,
        "message": f"{type(exc).__name__}: {exc}",
    }
