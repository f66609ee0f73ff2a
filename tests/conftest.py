"""Shared fixtures: MNIST loaded once per session, the array backends, markers.

The package tests also run inside Pyodide (no real MNIST files, no subprocesses,
no scikit-learn): tests that need CPython carry the ``cpython_only`` marker, and
optional libraries are imported inside the tests that need them.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# One BLAS thread: on a small shared machine (2 cores here) OpenBLAS's worker
# threads wait on each other and the small matrix products of training run 10–20×
# slower. Must be set before numpy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402

from oneneuron.backend import BackendError, get_namespace  # noqa: E402

IN_PYODIDE = sys.platform == "emscripten"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cpython_only: needs CPython (real MNIST files, sockets, subprocesses, "
        "the CLI); skipped under Pyodide",
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not IN_PYODIDE:
        return
    skip = pytest.mark.skip(reason="needs CPython; this is Pyodide (emscripten)")
    for item in items:
        if item.get_closest_marker("cpython_only"):
            item.add_marker(skip)


BACKENDS = [
    "numpy",
    "array_api_strict",
    pytest.param("cupy", marks=pytest.mark.cupy),
]


def _available(name: str) -> str:
    """The backend name, or a clean skip saying why it cannot run here."""
    try:
        get_namespace(name)
    except BackendError as exc:
        pytest.skip(f"backend {name} unavailable: {exc}")
    return name


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every array backend that can run here: numpy, array_api_strict, cupy."""
    return _available(request.param)


@pytest.fixture(params=BACKENDS[1:])
def other_backend(request: pytest.FixtureRequest) -> str:
    """The backends that must agree with numpy: array_api_strict and cupy."""
    return _available(request.param)


def _needs_mnist_files() -> None:
    if IN_PYODIDE:
        pytest.skip("MNIST's files are not in Pyodide's file system (parity covers it)")


@pytest.fixture(scope="session")
def mnist_images():
    """Raw MNIST: {"train": (images, labels), "test": (images, labels)}, uint8."""
    from oneneuron import data

    _needs_mnist_files()
    return {
        split: data.load_mnist(split, progress=False) for split in ("train", "test")
    }


@pytest.fixture(scope="session")
def mnist_train():
    """The 60,000 training images as the neuron reads them: X uint8 [60000, 576], y."""
    from oneneuron import data

    _needs_mnist_files()
    return data.load_inputs("train", progress=False)


@pytest.fixture(scope="session")
def mnist_test():
    """The 10,000 test images as the neuron reads them: X uint8 [10000, 576], y."""
    from oneneuron import data

    return data.load_inputs("test", progress=False)


@pytest.fixture(scope="session")
def slanted() -> Any:
    """A canvas-like drawing (uint8 [120, 120], ink 255) of a "1" leaning right by
    half a pixel a row: deskewing stands it upright."""
    import numpy as np

    img = np.zeros((120, 120), np.uint8)
    for t in np.linspace(0, 1, 200):
        y, x = int(15 + t * 90), int(80 - t * 45)
        img[y - 5 : y + 5, x - 5 : x + 5] = 255
    img.setflags(write=False)  # shared by the whole session
    return img
