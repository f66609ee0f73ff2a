"""The one place that chooses the array namespace.

Model and training code receive ``xp`` from here and use only array-API-standard
calls on it, so the same lines run on numpy (the default), on CuPy (a GPU) and on
array_api_strict (tests prove that nothing outside the standard is used).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import numpy as np

BACKENDS = ("numpy", "cupy", "array_api_strict")

# Pyodide's numpy is built without BLAS: its matmul runs plain loops, while its einsum
# kernels (vectorised sums of products) do the two products of a training step about
# twice as fast there. Everywhere else the standard's @ (BLAS, cuBLAS) is the fast one.
EINSUM = sys.platform == "emscripten"


class BackendError(RuntimeError):
    """A backend was asked for that cannot run here; the message says how to fix it."""


def get_namespace(name: str = "numpy") -> Any:
    """Return the array namespace called ``name``.

    Parameters
    ----------
    name : {"numpy", "cupy", "array_api_strict"}
        ``cupy`` needs the ``gpu`` extra and a CUDA GPU.

    Examples
    --------
    >>> xp = get_namespace("numpy")
    >>> float(xp.sum(xp.ones(3)))
    3.0
    """
    if name == "numpy":
        return np
    if name == "cupy":
        return _cupy()
    if name == "array_api_strict":
        try:
            return importlib.import_module("array_api_strict")
        except ImportError as exc:
            raise BackendError(
                "backend 'array_api_strict' needs the package: "
                "pip install array-api-strict"
            ) from exc
    raise BackendError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")


def _cupy() -> Any:
    """Import CuPy and check that it sees a GPU."""
    hint = "install it with: pip install .[gpu] (needs an NVIDIA GPU with CUDA 12)"
    try:
        cupy = importlib.import_module("cupy")
    except ImportError:
        raise BackendError(f"backend 'cupy' is not installed; {hint}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA raises its own error types when no driver exists
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BackendError(
            f"backend 'cupy' found no usable GPU ({first}); {hint}"
        ) from None
    if count < 1:
        raise BackendError(f"backend 'cupy' found no GPU; {hint}")
    return cupy


def namespace_name(xp: Any) -> str:
    """The short name of a namespace returned by :func:`get_namespace`."""
    return xp.__name__.split(".")[0]


def device_name(xp: Any) -> str:
    """A human description of where ``xp`` computes: ``cpu`` or the GPU's name."""
    if namespace_name(xp) != "cupy":
        return "cpu"
    props = xp.cuda.runtime.getDeviceProperties(xp.cuda.Device().id)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def to_numpy(a: Any) -> np.ndarray:
    """Copy an array of any supported namespace to host numpy."""
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "get") and type(a).__module__.startswith("cupy"):
        return a.get()
    try:
        return np.from_dlpack(a)
    except (TypeError, AttributeError, RuntimeError, BufferError):
        return np.asarray(a)


def matmul_t(xp: Any, X: Any, W: Any) -> Any:
    """``X @ W.T``: inputs [N, D] times weights [K, D] gives [N, K].

    >>> X = np.ones((2, 3), np.float32)
    >>> matmul_t(np, X, np.full((1, 3), 2, np.float32)).tolist()
    [[6.0], [6.0]]
    """
    if EINSUM and xp is np:
        return np.einsum("nd,kd->nk", X, W)
    return X @ W.T


def t_matmul(xp: Any, A: Any, X: Any) -> Any:
    """``A.T @ X``: per-input terms [N, K] times inputs [N, D] gives [K, D].

    >>> A = np.ones((2, 1), np.float32)
    >>> t_matmul(np, A, np.eye(2, 3, dtype=np.float32)).tolist()
    [[1.0, 1.0, 0.0]]
    """
    if EINSUM and xp is np:
        return np.einsum("nk,nd->kd", A, X)
    return A.T @ X


def single_blas_thread() -> Any:
    """Run BLAS on one thread while training.

    The batches are small (512 × 576), so threads gain little, and when other programs
    keep the cores busy, OpenBLAS's spinning threads made training up to 30× slower
    (measured here: ten neurons 0.4 s on one thread, 2.6–14 s on two under load).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
