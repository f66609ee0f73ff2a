"""oneneuron.train: optimizers, slices, callbacks, determinism, bad settings."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from oneneuron.backend import to_numpy
from oneneuron.model import Layer, Neuron, make_model
from oneneuron.train import SGD, Adam, TrainConfig, Trainer, TrainingDiverged, fit


def problem(n: int = 200, seed: int = 0):
    """Learnable 0/1 inputs: the label is decided by which of ten pixel groups is on."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    X = (rng.random((n, 576)) < 0.1).astype(np.uint8)
    for digit in range(10):
        X[y == digit, digit * 50 : digit * 50 + 20] = 1
    return X, y


def weights(model) -> tuple[np.ndarray, np.ndarray]:
    coef, intercept = model.weights_numpy()
    return np.array(coef), np.array(intercept)


CASES = [(6, "adam", 0.01), (6, "sgd", 0.1), ("all", "adam", 0.01), ("all", "sgd", 0.1)]


# -- backends --------------------------------------------------------------------------
@pytest.mark.parametrize(("target", "optimizer", "lr"), CASES)
def test_backends_agree_with_numpy(other_backend, target, optimizer, lr):
    X, y = problem()
    config = TrainConfig(
        target=target, optimizer=optimizer, lr=lr, l2=1e-3, epochs=3, batch_size=32
    )
    losses = {}
    models = {}
    for name in ("numpy", other_backend):
        seen = []
        models[name] = fit(
            X,
            y,
            dataclasses.replace(config, backend=name),
            callback=lambda p, seen=seen: seen.append(p.loss),
        )
        losses[name] = seen
    ref, other = weights(models["numpy"]), weights(models[other_backend])
    assert np.abs(ref[0]).max() > 0.05  # it did learn something to compare
    assert models[other_backend].score(X, y) == models["numpy"].score(X, y)
    if other_backend == "array_api_strict":
        # it wraps numpy and runs the same kernels: the same weights to the last bit
        np.testing.assert_allclose(other[0], ref[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(other[1], ref[1], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(losses[other_backend], losses["numpy"], rtol=1e-4)
        return
    # A GPU adds in another order: whole runs are compared by their float64 loss,
    # for the reason given in test_einsum_and_matmul_products_train_alike.
    final = [
        make_model(target, dtype="float64").set_weights(*w).loss_grad(X, y, l2=1e-3)[0]
        for w in (ref, other)
    ]
    assert final[1] == pytest.approx(final[0], rel=1e-4)


# -- determinism -----------------------------------------------------------------------
@pytest.mark.parametrize(("target", "optimizer", "lr"), CASES)
def test_same_seed_same_weights(target, optimizer, lr):
    X, y = problem()
    config = TrainConfig(
        target=target, optimizer=optimizer, lr=lr, epochs=2, batch_size=32, seed=7
    )
    a, b = weights(fit(X, y, config)), weights(fit(X, y, config))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = weights(fit(X, y, dataclasses.replace(config, seed=8)))
    assert not np.array_equal(a[0], c[0])


def test_compact_and_float_inputs_train_alike():
    # uint8 inputs are kept compact and converted per batch; floats as they come.
    X, y = problem()
    config = TrainConfig(target="all", epochs=2, batch_size=50)
    a = weights(fit(X, y, config))
    b = weights(fit(X.astype(np.float32), y, config))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


# -- one step against a float64 oracle, whatever kernel adds the terms up -------------
U32 = 2.0**-24  # float32 unit roundoff


def gamma(m: int) -> float:
    """Higham's γ_m = m·u/(1 − m·u): the relative error of a float32 sum of m terms,
    in whatever order a kernel adds them."""
    return m * U32 / (1 - m * U32)


def step_oracle(X, y, target, coef, intercept, l2: float):
    """The gradient of mean cross-entropy + l2/2·‖W‖², written out here in float64
    (not through the package), and a bound on how far a float32 computation of it
    may be in any summation order (any BLAS, einsum, Pyodide, a GPU).

    The bound follows the three stages of a step (Higham, Accuracy and Stability of
    Numerical Algorithms, §3.1), D = 576 inputs, N images:
    z = X Wᵀ + b sums D + 1 terms: |Δz| ≤ γ_{D+1}·(X |W|ᵀ + |b|);
    p = σ(z) is 1/4-Lipschitz; softmax has |Δp_k| ≤ p_k·2·max|Δz| ≤ 2·max|Δz|; 32 ulps
    cover exp, log1p and the divisions: |Δp| ≤ L·max_k |Δz| + 32u;
    g = (p − t)ᵀ X / N sums N terms: |Δg| ≤ γ_N·|p − t|ᵀ X / N + |Δp|ᵀ X / N, and
    the decay term adds 3u·l2·|W| and their sum u·|g|.
    Returns (dL/dW, dL/db) and (their bounds), float64, shapes [K, D] and [K].
    """
    X = np.asarray(X, np.float64)
    W, b = np.asarray(coef, np.float64), np.asarray(intercept, np.float64)
    n, d = X.shape
    z = X @ W.T + b
    if target == "all":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p, lipschitz = e / e.sum(axis=1, keepdims=True), 2.0
        t = (y[:, None] == np.arange(10)).astype(np.float64)
    else:
        p, lipschitz = 1 / (1 + np.exp(-z)), 0.25
        t = (y == target).astype(np.float64)[:, None]
    dz = (p - t) / n
    dz_err = lipschitz * gamma(d + 1) * (X @ np.abs(W).T + np.abs(b)).max(axis=1)
    dz_err = (dz_err + 32 * U32) / n  # [N]: the same for every neuron
    g_coef = dz.T @ X + l2 * W
    coef_bound = (
        gamma(n) * np.abs(dz).T @ X
        + dz_err @ X
        + 3 * U32 * l2 * np.abs(W)  # l2 rounded to float32, times W, rounded
        + U32 * np.abs(g_coef)  # the sum of the two terms, rounded
    )
    int_bound = gamma(n) * np.abs(dz).sum(axis=0) + dz_err.sum()
    return (g_coef, dz.sum(axis=0)), (coef_bound, int_bound)


def random_start(target, seed: int = 1):
    """A float32 model with weights away from zero, where every product matters."""
    rng = np.random.default_rng(seed)
    k = 1 if target == 6 else 10
    coef = rng.normal(0, 0.1, (k, 576)).astype(np.float32)
    intercept = rng.normal(0, 0.5, k).astype(np.float32)
    return (Neuron(target=6) if target == 6 else Layer()).set_weights(coef, intercept)


def excess(got, want, bound) -> np.ndarray:
    """|got − want| in units of ``bound`` (where the bound is 0, only equality is 0)."""
    diff = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))
    safe = np.where(bound > 0, bound, 1.0)
    return np.where(bound > 0, diff / safe, np.where(diff == 0, 0.0, np.inf))


def assert_within(got, want, bound, what: str) -> None:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    excess_ = excess(got, want, bound)
    at = np.unravel_index(np.argmax(excess_), excess_.shape)
    assert excess_[at] <= 1, (
        f"{what}[{', '.join(map(str, at))}] = {got[at]:.9g}, float64 oracle "
        f"{want[at]:.9g}: |Δ| = {abs(got[at] - want[at]):.2e} > bound {bound[at]:.2e}"
    )


@pytest.mark.parametrize("einsum", [False, True], ids=["matmul", "einsum"])
@pytest.mark.parametrize("target", [6, "all"])
def test_one_gradient_is_the_oracle_to_float32_rounding(monkeypatch, target, einsum):
    # Under Pyodide (no BLAS) the two products of a step run through einsum; both
    # paths must give the true gradient up to float32 rounding in any order.
    from oneneuron import backend

    monkeypatch.setattr(backend, "EINSUM", einsum)
    X, y = problem(n=64)
    model, l2 = random_start(target), 0.1  # l2·|W| ≈ 0.01: a dropped term shows
    _, g_coef, g_int = model.loss_grad(X, y, l2=l2)
    (coef, intercept) = weights(model)
    want, bound = step_oracle(X, y, target, coef, intercept, l2)
    assert_within(to_numpy(g_coef), want[0], bound[0], "dL/dW")
    assert_within(to_numpy(g_int), want[1], bound[1], "dL/db")
    # The worst-case bound (≤ 4e-3 of the largest gradient; the real error is ~1e-7
    # of it) is still far below what a wrong product, sign, factor or a dropped l2
    # term (0.1·|W| ≈ 0.01) changes.
    assert bound[0].max() < 1e-2 * np.abs(want[0]).max()
    assert bound[1].max() < 1e-2 * np.abs(want[1]).max()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("target", [6, "all"])
def test_one_training_step_is_the_oracle_update(target, optimizer):
    """One whole-batch Trainer step from weights away from zero, with l2.

    SGD's first step (no momentum yet) is w − lr·g; it is off by at most lr·|Δg|
    (the gradient bound) plus two roundings of w. Adam's first step, with m = (1−β₁)g,
    v = (1−β₂)g² and the bias corrections, is w − lr·g/(|g| + ε/√(1−β₂)); where
    |g| > 2·|Δg| its slope in g bounds the change: lr·ε'·|Δg|/(|g| − |Δg| + ε')².
    """
    X, y = problem(n=64)
    start, l2, lr = random_start(target), 0.1, 0.05
    coef, intercept = weights(start)
    config = TrainConfig(
        target=target, optimizer=optimizer, lr=lr, l2=l2, epochs=1, batch_size=64
    )
    trainer = Trainer(X, y, config)
    trainer.model.set_weights(coef, intercept)  # a start away from zero
    trainer.run()
    got = weights(trainer.model)
    (g_coef, g_int), (b_coef, b_int) = step_oracle(X, y, target, coef, intercept, l2)
    eps = 1e-8 / math.sqrt(1 - config.beta2)  # Adam's ε as the first step sees it
    for what, w0, g, dg, w1 in (
        ("W", coef, g_coef, b_coef, got[0]),
        ("b", intercept, g_int, b_int, got[1]),
    ):
        w0 = w0.astype(np.float64)
        rounding = 2 * U32 * (np.abs(w0) + lr) + 8 * U32 * lr
        if optimizer == "sgd":
            assert_within(w1, w0 - lr * g, lr * dg + rounding, f"SGD step {what}")
            continue
        sure = np.abs(g) > 2 * dg
        assert sure.mean() > 0.9  # nearly every weight is checked
        want = w0 - lr * g / (np.abs(g) + eps)
        slope = lr * eps * dg / (np.abs(g) - dg + eps) ** 2
        assert_within(w1[sure], want[sure], (slope + rounding)[sure], f"Adam {what}")


@pytest.mark.parametrize("target", [6, "all"])
def test_einsum_and_matmul_products_train_alike(monkeypatch, target):
    """Whole runs through einsum and through matmul reach the same loss.

    Their weights need not agree to a fixed tolerance: each step's gradients differ
    by float32 rounding (test above), and Adam's step m̂/(√v̂ + ε) has slope up to
    lr/ε = 1e6 in g near g = 0, so a weight whose gradient is at rounding level can
    move by ±lr with either sign. Measured here, 3 epochs: up to 1.0e-4 apart (ten
    neurons), depending on the BLAS kernel set. Such a weight has ∂L/∂w ≈ 0 and the
    loss is smooth, so the loss moves only at second order: ΔL ≤ ½·H·Δw² with
    H ≤ ¼·(share of images with that pixel on) ≤ ¼, about 1e-9 here. Measured: the
    training losses agree to 1.2e-6 relative under OpenBLAS's Haswell, SandyBridge,
    Zen and Prescott kernels; a product that is wrong (or a step in the wrong
    direction) changes the loss by far more than the 1e-4 allowed below.
    """
    from oneneuron import backend

    X, y = problem()
    config = TrainConfig(target=target, epochs=3, batch_size=32)
    runs = []
    for einsum in (False, True):
        monkeypatch.setattr(backend, "EINSUM", einsum)
        runs.append(fit(X, y, config))
    # the loss of each run's weights, both evaluated in float64
    losses = [
        make_model(target, dtype="float64").set_weights(*weights(m)).loss_grad(X, y)[0]
        for m in runs
    ]
    assert losses[1] == pytest.approx(losses[0], rel=1e-4)
    assert losses[0] < 0.1  # from log 2 or log 10: both runs did learn
    assert [m.score(X, y) for m in runs] == [1.0, 1.0]


# -- the optimizers, against the textbook update rules ---------------------------------
def test_sgd_momentum_updates():
    opt = SGD(TrainConfig(lr=0.1, momentum=0.9))
    w = np.array([1.0, -2.0])
    g1, g2, g3 = np.array([0.5, -1.0]), np.array([0.2, 0.0]), np.array([-1.0, 1.0])
    (w1,) = opt.update([w], [g1])
    np.testing.assert_allclose(w1, w - 0.1 * g1)
    (w2,) = opt.update([w1], [g2])
    v2 = 0.9 * g1 + g2
    np.testing.assert_allclose(w2, w1 - 0.1 * v2)
    (w3,) = opt.update([w2], [g3])
    np.testing.assert_allclose(w3, w2 - 0.1 * (0.9 * v2 + g3))


def test_adam_updates():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = Adam(TrainConfig(lr=lr, beta1=b1, beta2=b2), eps)
    w = np.array([1.0, -2.0, 0.0])
    grads = [np.array([0.5, -1e-3, 0.0]), np.array([-0.2, 2.0, 0.0])]
    (w1,) = opt.update([w], [grads[0]])
    # first step: m̂/√v̂ = g/|g|, so every weight with a gradient moves by lr
    np.testing.assert_allclose(w1, w - lr * np.sign(grads[0]), rtol=1e-4)
    m = (1 - b1) * grads[0]
    v = (1 - b2) * grads[0] ** 2
    m = b1 * m + (1 - b1) * grads[1]
    v = b2 * v + (1 - b2) * grads[1] ** 2
    m_hat, v_hat = m / (1 - b1**2), v / (1 - b2**2)
    (w2,) = opt.update([w1], [grads[1]])
    np.testing.assert_allclose(w2, w1 - lr * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-5)


def test_first_adam_step_in_training():
    X, y = problem(n=64)
    trainer = Trainer(X, y, TrainConfig(lr=0.01, batch_size=64, epochs=1))
    g = Neuron(target=6).init_weights().loss_grad(X, y)[1]
    trainer.run()
    step = weights(trainer.model)[0]
    moved = np.abs(g) > 1e-6
    np.testing.assert_allclose(step[moved], -0.01 * np.sign(g[moved]), rtol=1e-3)
    assert (step[~moved] == 0).all()


# -- slices, stop, callback ------------------------------------------------------------
def test_slices_equal_one_run():
    X, y = problem(n=100)
    config = TrainConfig(target="all", epochs=3, batch_size=16)  # 7 batches an epoch
    full_log, sliced_log = [], []
    full = Trainer(X, y, config, callback=full_log.append)
    assert full.run() is True and full.step == full.steps == 21
    sliced = Trainer(X, y, config, callback=sliced_log.append)
    results = [sliced.run(max_batches=k) for k in (3, 1, 0, 5, 4)]
    assert results == [False] * 5 and sliced.step == 13
    assert sliced.run(max_batches=100) is True and sliced.step == 21
    assert sliced.run() is True and sliced.step == 21  # nothing left to do
    np.testing.assert_array_equal(weights(sliced.model)[0], weights(full.model)[0])
    np.testing.assert_array_equal(weights(sliced.model)[1], weights(full.model)[1])
    assert sliced_log == full_log


def test_stop_between_batches():
    X, y = problem(n=100)
    config = TrainConfig(epochs=2, batch_size=10)
    reference = Trainer(X, y, config)
    reference.run()
    calls = []
    trainer = Trainer(X, y, config, callback=lambda p: calls.append(p.step))
    assert trainer.epoch == 1  # before the first batch
    assert trainer.run(max_batches=4) is False and trainer.step == 4
    assert calls == [1, 2, 3, 4] and trainer.epoch == 1
    assert trainer.run(max_batches=6) is False and trainer.step == 10
    assert trainer.epoch == 1  # the last batch done ends epoch 1
    assert trainer.run(max_batches=1) is False and trainer.step == 11
    assert trainer.epoch == 2 and trainer.images_seen == 110
    assert trainer.run() is True and trainer.step == 20
    assert calls == list(range(1, 21))
    np.testing.assert_array_equal(
        weights(trainer.model)[0], weights(reference.model)[0]
    )


@pytest.mark.parametrize("target", [6, "all"])
def test_callback_fields(target):
    X, y = problem(n=50)
    config = TrainConfig(target=target, epochs=2, batch_size=16, seed=3)  # 16,16,16,2
    log = []
    start = Neuron(target=6) if target == 6 else Layer()
    snapshots = [weights(start.init_weights())]  # weights before batch 1

    def callback(p):
        log.append(p)
        snapshots.append(weights(trainer.model))  # weights after this batch

    trainer = Trainer(X, y, config, callback=callback)
    trainer.run()
    assert [(p.epoch, p.batch) for p in log] == [
        (e, b) for e in (1, 2) for b in (1, 2, 3, 4)
    ]
    assert [p.step for p in log] == list(range(1, 9))
    assert {p.steps for p in log} == {8} and {p.batches for p in log} == {4}
    assert [p.images_seen for p in log] == [16, 32, 48, 50, 66, 82, 98, 100]
    # loss and accuracy are those of the batch, with the weights before the step:
    # rebuild each batch from the documented shuffle (numpy default_rng(seed)).
    rng = np.random.default_rng(config.seed)
    for p in log:
        if p.batch == 1:
            order = rng.permutation(50)
        idx = order[(p.batch - 1) * 16 : p.batch * 16]
        model = Neuron(target=6) if target == 6 else Layer()
        model.set_weights(*snapshots[p.step - 1])
        loss, _, _ = model.loss_grad(X[idx], y[idx])
        assert p.loss == pytest.approx(loss, rel=1e-6)
        truth = (y[idx] == 6) if target == 6 else y[idx]
        accuracy = np.mean(to_numpy(model.predict(X[idx])) == truth)
        assert p.accuracy == pytest.approx(accuracy)
    assert log[0].loss == pytest.approx(math.log(2 if target == 6 else 10), rel=1e-6)


# -- divergence ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "optimizer", "lr"),
    [(6, "sgd", 1e39), ("all", "sgd", 1e39), (6, "adam", 1e37), ("all", "adam", 1e37)],
)
def test_divergence_raises_and_keeps_finite_weights(target, optimizer, lr):
    X, y = problem()
    config = TrainConfig(target=target, optimizer=optimizer, lr=lr, batch_size=50)
    trainer = Trainer(X, y, config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may escape, only the error
        with pytest.raises(TrainingDiverged, match=r"diverged at epoch 1.*smaller"):
            trainer.run()
    coef, intercept = weights(trainer.model)
    assert np.isfinite(coef).all() and np.isfinite(intercept).all()


# -- bad settings ----------------------------------------------------------------------
BAD_SETTINGS = [
    ("lr", 0, "lr must be a finite number > 0"),
    ("lr", -1, "lr must be a finite number > 0"),
    ("lr", float("nan"), "lr must be a finite number > 0"),
    ("lr", float("inf"), "lr must be a finite number > 0"),
    ("lr", "0.1", "lr must be a finite number > 0"),
    ("lr", True, "lr must be a finite number > 0"),
    ("epochs", 0, "epochs must be a whole number"),
    ("epochs", 1.5, "epochs must be a whole number"),
    ("batch_size", 0, "batch size must be a whole number ≥ 1"),
    ("batch_size", -5, "batch size must be a whole number ≥ 1"),
    ("target", 10, "target must be a digit 0–9 or 'all'"),
    ("target", -1, "target must be a digit 0–9 or 'all'"),
    ("target", "x", "target must be a digit 0–9 or 'all'"),
    ("target", "6", "target must be a digit 0–9 or 'all'"),
    ("target", True, "target must be a digit 0–9 or 'all'"),
    ("optimizer", "rmsprop", "optimizer must be one of adam, sgd"),
    ("momentum", 1.0, "momentum must be in"),
    ("beta2", -0.1, "beta2 must be in"),
    ("l2", -1e-3, "l2 must be a finite number ≥ 0"),
    ("l2", float("nan"), "l2 must be a finite number ≥ 0"),
    ("seed", -1, "seed must be a whole number"),
    ("backend", "torch", "backend must be numpy, cupy or array_api_strict"),
    ("samples", -1, "samples must be a whole number ≥ 0"),
    ("target_repeat", 0, "target repeat must be a whole number from 1 to 10"),
    ("target_repeat", 2.0, "target repeat must be a whole number from 1 to 10"),
]


@pytest.mark.parametrize(("field", "value", "match"), BAD_SETTINGS)
def test_bad_settings_fail_before_any_work(field, value, match):
    X, y = problem(n=20)
    calls = []
    config = dataclasses.replace(TrainConfig(), **{field: value})
    with pytest.raises(ValueError, match=match):
        Trainer(X, y, config, callback=calls.append)
    with pytest.raises(ValueError, match=match):
        fit(X, y, config, callback=calls.append)
    assert calls == []


def test_config_from_dict():
    config = TrainConfig.from_dict({"target": "all", "lr": 0.5, "epochs": 2})
    assert (config.target, config.lr, config.epochs) == ("all", 0.5, 2)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match=r"unknown training setting.*learning_rate"):
        TrainConfig.from_dict({"learning_rate": 0.1})
    with pytest.raises(ValueError, match="lr must be"):
        TrainConfig.from_dict({"lr": -1})


def test_bad_data():
    X, y = problem(n=20)
    with pytest.raises(ValueError, match="X has 20 rows but y has 19 labels"):
        Trainer(X, y[:-1], TrainConfig())
    with pytest.raises(ValueError, match="no training images"):
        Trainer(X[:0], y[:0], TrainConfig())
    with pytest.raises(ValueError, match=r"shape \[576\] or \[N, 576\]"):
        Trainer(X[:, :500], y, TrainConfig())
    with pytest.raises(ValueError, match="must hold numbers"):
        Trainer(X.astype(str), y, TrainConfig())


@pytest.mark.parametrize("repeat", [2, 3])
def test_target_repeat_trains_as_on_repeated_images(repeat):
    """Counting each 6 ``repeat`` times is training on X with the 6s appended that
    many times more (same seed: the very same batches, the same weights, also in the
    middle of a run), and then, once the run is done, lowering the bias by
    log(repeat)."""
    X, y = problem(n=300)
    extra = np.tile(np.flatnonzero(y == 6), repeat - 1)
    config = TrainConfig(target=6, lr=0.05, epochs=3, batch_size=32, seed=4)
    repeated = np.concatenate([X, X[extra]]), np.concatenate([y, y[extra]])
    plain = Trainer(*repeated, config)
    trainer = Trainer(X, y, dataclasses.replace(config, target_repeat=repeat))
    assert trainer.steps == plain.steps and trainer.per_epoch == len(X) + len(extra)
    for t in (plain, trainer):
        t.run(max_batches=plain.steps - 1)
    for a, b in zip(weights(trainer.model), weights(plain.model), strict=True):
        np.testing.assert_array_equal(a, b)  # mid-run: no correction yet
    plain.run()
    trainer.run()
    coef, intercept = weights(trainer.model)
    np.testing.assert_array_equal(coef, weights(plain.model)[0])
    shift = weights(plain.model)[1] - intercept
    np.testing.assert_allclose(shift, math.log(repeat), rtol=1e-6)
    assert trainer.n == len(X) and trainer.images_seen == 3 * trainer.per_epoch


def test_target_repeat_is_for_one_neuron():
    with pytest.raises(ValueError, match="target repeat is for one neuron"):
        TrainConfig(target="all", target_repeat=2).validate()


def test_samples_takes_the_first_images():
    X, y = problem(n=100)
    a = fit(X, y, TrainConfig(samples=30, epochs=2, batch_size=8))
    b = fit(X[:30], y[:30], TrainConfig(epochs=2, batch_size=8))
    np.testing.assert_array_equal(weights(a)[0], weights(b)[0])


def test_batch_larger_than_data():
    X, y = problem(n=20)
    trainer = Trainer(X, y, TrainConfig(batch_size=512, epochs=3))
    assert (trainer.batch_size, trainer.batches, trainer.steps) == (20, 1, 3)


# -- learning --------------------------------------------------------------------------
@pytest.mark.parametrize(("target", "optimizer", "lr"), CASES)
def test_learns_the_synthetic_problem(target, optimizer, lr):
    X, y = problem(n=400)
    config = TrainConfig(
        target=target, optimizer=optimizer, lr=lr, epochs=5, batch_size=32
    )
    model = fit(X, y, config)
    assert model.score(X, y) > 0.97


def test_cosine_schedule_ends_with_small_steps():
    X, y = problem()
    config = TrainConfig(
        optimizer="sgd", lr=0.1, schedule="cosine", epochs=2, batch_size=50
    )
    lrs = []
    trainer = Trainer(X, y, config, callback=lambda p: lrs.append(trainer.optimizer.lr))
    trainer.run()
    assert lrs[0] == pytest.approx(0.1)
    assert lrs == sorted(lrs, reverse=True) and lrs[-1] < 0.01
    with pytest.raises(ValueError, match="schedule must be one of"):
        TrainConfig(schedule="step").validate()


@pytest.mark.cpython_only
def test_trains_a_good_six_on_mnist(mnist_train, mnist_test):
    # The shipped settings on 20,000 images, one epoch: well above "always not 6".
    X, y = mnist_train
    model = fit(X[:20000], y[:20000], TrainConfig(target=6, epochs=1))
    Xt, yt = mnist_test
    assert model.score(Xt, yt) > 0.975


# -- the optimum against scikit-learn --------------------------------------------------
@pytest.mark.cpython_only
@pytest.mark.parametrize("target", [6, "all"])
def test_optimum_matches_sklearn(mnist_train, target):
    """Our loss, mean CE + l2/2·‖W‖², times 1/(l2·N) is sklearn's C·ΣCE + ½‖W‖².

    So LogisticRegression(C=1/(l2·N)) has our minimiser (both leave the intercept
    unpenalised; multinomial sklearn for ten classes). Everything is compared in
    float64, where the kernel's summation order is ~1e-16 and cannot matter:

    1. sklearn, solved to tol 1e-12 (|∇| ≈ 4e-16), is a stationary point of our
       float64 loss: a dropped or mis-scaled l2 term, or a mis-scaled data term,
       leaves a gradient of ≈ l2·|W*| ≈ 1e-3 there.
    2. Full-batch Adam through the Trainer (float32, as shipped) with a falling
       learning rate reaches it. Its float32 weights are not compared element by
       element (their last digits follow the BLAS kernel, see the einsum test): the
       loss is l2-strongly convex in W and ∇L(W*, b*) = 0, so
       L(W, b) − L* ≥ l2/2·‖W − W*‖², i.e. ‖W − W*‖ ≤ √(2·gap/l2), whatever b is.
       Measured gap: 4e-13 (one neuron), 2e-12 (ten), under Haswell, SandyBridge,
       Zen and Prescott kernels; allowed 1e-8, so ‖W − W*‖ ≤ 1.4e-3 (Frobenius)
       against max |W*| > 0.2. Training with l2/2 instead of l2 leaves a gap of
       3e-3 (one neuron) and 2e-2 (ten): far outside.
    """
    sklearn = pytest.importorskip("sklearn.linear_model")
    X, y = mnist_train
    n, l2 = 500, 0.01
    X, y = X[:n], y[:n]
    truth = (y == 6).astype(int) if target == 6 else y
    reference = sklearn.LogisticRegression(
        C=1 / (l2 * n), solver="newton-cg", tol=1e-12, max_iter=1000
    ).fit(X.astype(np.float64), truth)
    optimum = make_model(target, dtype="float64").set_weights(
        reference.coef_, reference.intercept_
    )
    best, g_coef, g_int = optimum.loss_grad(X, y, l2=l2)
    assert np.abs(g_coef).max() < 1e-9 and np.abs(g_int).max() < 1e-9
    assert np.abs(reference.coef_).max() > 0.2  # the weights are far from zero

    model = None
    for lr in (0.05, 0.01, 0.001, 0.0001):
        config = TrainConfig(target=target, lr=lr, l2=l2, epochs=1000, batch_size=n)
        trainer = Trainer(X, y, config)
        if model is not None:  # each stage goes on from where the last one ended
            trainer.model.set_weights(*model.weights_numpy())
        trainer.run()
        model = trainer.model
    coef, intercept = weights(model)
    ours = make_model(target, dtype="float64").set_weights(coef, intercept)
    gap = ours.loss_grad(X, y, l2=l2)[0] - best
    assert -1e-12 < gap < 1e-8  # sklearn's point is the minimum, and we reach it
    distance = np.linalg.norm(coef.astype(np.float64) - reference.coef_)
    assert distance <= math.sqrt(2 * max(gap, 0) / l2) + 1e-6  # strong convexity


def test_run_stops_after_max_seconds_but_does_at_least_one_batch():
    rng = np.random.default_rng(0)
    X = (rng.random((4000, 576)) < 0.2).astype(np.uint8)
    y = rng.integers(0, 10, 4000)
    trainer = Trainer(X, y, TrainConfig(epochs=50, batch_size=8))
    assert trainer.run(max_seconds=0.0) is False
    assert trainer.step == 1  # one batch, then the deadline (already passed) stops it
    trainer.run(max_seconds=0.05)
    assert 1 < trainer.step < trainer.steps


def test_the_trained_model_carries_the_datas_preprocessing():
    from oneneuron.preprocess import Preprocess

    rng = np.random.default_rng(0)
    X = (rng.random((64, 576)) < 0.2).astype(np.uint8)
    y = rng.integers(0, 10, 64)
    p = Preprocess(deskew=True, stroke=(3.0, 5.0))
    config = TrainConfig(epochs=1, batch_size=16)
    assert fit(X, y, config, preprocess=p).preprocess is p
    assert Trainer(X, y, config, preprocess=p).model.preprocess is p
    assert fit(X, y, config).preprocess == Preprocess()
    trained = fit(X, y, config, preprocess=p)
    plain = fit(X, y, config)
    for a, b in zip(trained.weights_numpy(), plain.weights_numpy(), strict=True):
        np.testing.assert_array_equal(a, b)  # recorded, not applied to X again
