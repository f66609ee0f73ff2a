"""oneneuron: one artificial neuron that learns to tell a 6 from other digits.

The same package trains the weights on a server (numpy, or a GPU through CuPy) and
runs inside the web page under Pyodide.
"""

import importlib

from .model import Layer, Neuron, make_model
from .preprocess import Preprocess, to_input
from .weights import load_weights

__version__ = "0.1.0"
__all__ = [
    "Layer",
    "Neuron",
    "Preprocess",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "fit",
    "load_weights",
    "make_model",
    "to_input",
]


def __getattr__(name: str):
    """The trainer's names, imported when first asked: the page's start does without
    them (they come with a later part of its runtime)."""
    if name in ("TrainConfig", "Trainer", "TrainingDiverged", "fit"):
        return getattr(importlib.import_module(".train", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
