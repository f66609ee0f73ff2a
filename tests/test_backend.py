"""oneneuron.backend: choosing the namespace, clear errors, and CuPy on a real GPU."""

from __future__ import annotations

import dataclasses
import sys
import types

import numpy as np
import pytest

from oneneuron import backend
from oneneuron.backend import BackendError, get_namespace, to_numpy


def test_numpy_is_the_default():
    assert get_namespace() is np
    assert get_namespace("numpy") is np
    assert backend.namespace_name(np) == "numpy"
    assert backend.device_name(np) == "cpu"


def test_unknown_backend():
    with pytest.raises(BackendError, match="backend must be one of numpy, cupy"):
        get_namespace("torch")


def test_cupy_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    with pytest.raises(BackendError, match=r"not installed.*pip install \.\[gpu\]"):
        get_namespace("cupy")


def _fake_cupy(get_device_count):
    runtime = types.SimpleNamespace(getDeviceCount=get_device_count)
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))


def test_cupy_without_a_driver(monkeypatch):
    def no_driver():
        raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver is too old\nmore")

    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(no_driver))
    with pytest.raises(BackendError) as info:
        get_namespace("cupy")
    message = str(info.value)
    assert "no usable GPU (cudaErrorInsufficientDriver" in message
    assert "pip install .[gpu]" in message and "\n" not in message


def test_cupy_with_no_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(lambda: 0))
    with pytest.raises(BackendError, match=r"found no GPU.*pip install \.\[gpu\]"):
        get_namespace("cupy")


def test_array_api_strict_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "array_api_strict", None)
    with pytest.raises(BackendError, match="pip install array-api-strict"):
        get_namespace("array_api_strict")


def test_to_numpy(other_backend):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert to_numpy(a) is a
    xp = get_namespace(other_backend)
    b = to_numpy(xp.asarray(a))
    assert isinstance(b, np.ndarray) and b.dtype == np.float32
    np.testing.assert_array_equal(b, a)
    assert backend.namespace_name(xp) == other_backend


# -- CuPy on a real GPU (skipped cleanly elsewhere) ------------------------------------
@pytest.mark.cupy
def test_cupy_trains_like_numpy():
    from oneneuron.model import make_model
    from oneneuron.train import TrainConfig, fit

    try:
        cp = get_namespace("cupy")
    except BackendError as exc:
        pytest.skip(str(exc))
    assert backend.device_name(cp) != "cpu"
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 2000)
    X = (rng.random((2000, 576)) < 0.15).astype(np.uint8)
    for d in range(10):
        X[y == d, d * 50 : d * 50 + 20] = 1
    for target in (6, "all"):
        config = TrainConfig(target=target, epochs=3, batch_size=256)
        ref = fit(X, y, config)
        on_gpu = dataclasses.replace(config, backend="cupy")
        gpu = fit(cp.asarray(X), cp.asarray(y), on_gpu)
        assert isinstance(gpu.coef_, cp.ndarray)
        # Whole float32 runs are compared by their float64 loss and accuracy: the GPU
        # adds in another order, and Adam amplifies last-bit differences in weights
        # whose gradient is near 0 (see tests/test_train.py, einsum vs matmul).
        losses = [
            make_model(target, dtype="float64")
            .set_weights(*m.weights_numpy())
            .loss_grad(X, y)[0]
            for m in (ref, gpu)
        ]
        assert losses[1] == pytest.approx(losses[0], rel=1e-4)
        assert abs(gpu.score(cp.asarray(X), cp.asarray(y)) - ref.score(X, y)) <= 2e-3
