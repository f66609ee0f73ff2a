"""oneneuron: one artificial neuron that learns to tell a 6 from other digits.

The same package trains the weights on a server (numpy, or a GPU through CuPy) and
runs inside the web page under Pyodide.
"""

from .model import Layer, Neuron, make_model
from .preprocess import Preprocess, to_input
from .train import TrainConfig, Trainer, TrainingDiverged, fit
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
