"""oneneuron.page: the state and answers the web page's worker relies on.

The oracle for a prediction is the formula itself, computed here in float64:
x = to_input(canvas), z = w·x + b, p = σ(z) (one neuron) or softmax(z) (ten).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from oneneuron import metrics, weights
from oneneuron.card import summary
from oneneuron.images import from_canvas
from oneneuron.model import Layer, Neuron
from oneneuron.page import REQUESTS, SHIPPED, Page
from oneneuron.pagedata import pack_inputs
from oneneuron.preprocess import Preprocess, to_input
from oneneuron.session import CHECK_SIZE, MAX_MISTAKES
from oneneuron.train import Adam, SettingError, TrainConfig, Trainer, TrainingDiverged

ROOT = Path(__file__).resolve().parents[1]


def held(page: Page) -> list[str]:
    """The names of the models a page holds (its list also names the shipped ones
    it has not loaded yet)."""
    return [m["name"] for m in page.models() if m["held"]]


def _neuron(seed: int = 0, target: int = 6) -> Neuron:
    rng = np.random.default_rng(seed)
    return Neuron(target=target).set_weights(rng.normal(0, 0.3, 576), [-0.5])


def _layer(seed: int = 1) -> Layer:
    rng = np.random.default_rng(seed)
    return Layer().set_weights(rng.normal(0, 0.3, (10, 576)), rng.normal(0, 1, 10))


def _drawing(seed: int = 0, size: int = 140) -> np.ndarray:
    """A canvas-like uint8 image: a few thick anti-aliased-looking strokes."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size), np.uint8)
    for _ in range(3):
        y0, x0 = rng.integers(size // 5, size * 4 // 5, 2)
        y1, x1 = rng.integers(size // 5, size * 4 // 5, 2)
        for t in np.linspace(0, 1, 60):
            y, x = int(y0 + t * (y1 - y0)), int(x0 + t * (x1 - x0))
            img[max(0, y - 5) : y + 5, max(0, x - 5) : x + 5] = 255
            img[max(0, y - 6) : y + 6, max(0, x - 6) : x + 6] |= 90
    return img


def _expected(model, img):
    coef, intercept = (a.astype(np.float64) for a in model.weights_numpy())
    x = to_input(img).reshape(576).astype(np.float64)
    z = coef @ x + intercept
    if model.kind == "one":
        p = 1 / (1 + np.exp(-z))
    else:
        e = np.exp(z - z.max())
        p = e / e.sum()
    return x, z, p


@pytest.fixture
def app() -> Page:
    p = Page()
    p.load_weights(weights.dumps(_neuron()), name="six")
    return p


def test_loading_keeps_the_model_with_its_weights_and_card(app):
    model = _layer()
    info = app.load_weights(
        weights.dumps(model, training={"optimizer": "adam", "lr": 0.01, "epochs": 5}),
        name="digits",
    )["model"]
    coef, intercept = model.weights_numpy()
    assert info["name"] == "digits" and info["active"] is True
    assert info["kind"] == "ten" and info["classes"] == list(range(10))
    assert info["target"] is None
    assert info["weights"].dtype == np.float32 and info["weights"].shape == (5760,)
    np.testing.assert_array_equal(info["weights"], coef.reshape(-1))
    assert info["bias"] == pytest.approx(intercept.tolist())
    # the strongest colour at the 99th percentile: 1 % of the weights are beyond it
    beyond = np.mean(np.abs(coef) > info["scale"])
    assert 0.005 <= beyond <= 0.011
    assert ["Trained with", "Adam, learning rate 0.01, 5 epochs"] in info["summary"]
    assert held(app) == ["six", "digits"]
    assert [m["active"] for m in app.models() if m["held"]] == [False, True]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["weights"][0].__setitem__(7, "x"), r"weights\[0\]\[7\]"),
        (lambda d: d.pop("bias"), "missing the field.*bias"),
        (lambda d: d.__setitem__("version", 4), "version must be 1, 2 or 3"),
        (lambda d: d["preprocess"].__setitem__("box", 0), "preprocess.box must be"),
        (lambda d: d["weights"][0].pop(), r"weights\[0\] must be a list of 576"),
    ],
)
def test_a_bad_file_is_refused_by_name_and_the_model_stays(app, change, message):
    img = _drawing(3)
    before = app.predict(img.tobytes(), *img.shape)
    d = weights.to_dict(_neuron(seed=9, target=3))
    change(d)
    with pytest.raises(ValueError, match=message):
        app.load_weights(json.dumps(d), name="file")
    assert app.active == "six"
    assert held(app) == ["six"]
    after = app.predict(img.tobytes(), *img.shape)
    assert after["p"] == before["p"]


def _card_breaker() -> str:
    """A file that weights.loads took before every number was bounded: a 400-digit
    epoch count, which the model card (page.summary) cannot turn into a float."""
    d = weights.to_dict(_neuron(seed=9, target=3))
    d["training"]["epochs"] = int("9" * 400)
    return json.dumps(d)


@pytest.mark.parametrize("name", ["file", "six"])
def test_a_file_that_fails_after_reading_changes_nothing(app, name):
    """Whichever step refuses it (the reader, or the card after it), the models held
    and the one that predicts stay exactly as they were, also under a held name."""
    img = _drawing(3)
    before = app.predict(img.tobytes(), *img.shape)
    with pytest.raises((ValueError, OverflowError)):
        app.load_weights(_card_breaker(), name=name)
    assert app.active == "six"
    assert held(app) == ["six"]
    assert app.predict(img.tobytes(), *img.shape)["p"] == before["p"]
    assert app.model_info()["classes"] == [6]


def test_any_failure_after_validation_changes_nothing(app, monkeypatch):
    """A fault in building what the page shows (one that a valid file cannot cause,
    hence made here) leaves the models and the active one as they were."""
    import oneneuron.page

    app.load_weights(weights.dumps(_layer()), name="digits", activate=False)
    kept = {name: app.export(name) for name in held(app)}

    def broken(coef):
        raise MemoryError("no room for the colour scale")

    monkeypatch.setattr(oneneuron.page, "colour_scale", broken)
    for name in ("file", "six", "digits"):
        with pytest.raises(MemoryError):
            app.load_weights(weights.dumps(_neuron(seed=9, target=3)), name=name)
    with pytest.raises(MemoryError):
        app.select("digits")
    assert app.active == "six"
    assert {name: app.export(name) for name in held(app)} == kept
    assert [m["active"] for m in app.models() if m["held"]] == [True, False]


def test_text_that_is_not_json_is_refused(app):
    with pytest.raises(ValueError, match="not valid JSON"):
        app.load_weights("{oops", name="file")
    with pytest.raises(ValueError, match="not text"):
        app.load_weights(b"\xff\xfe\x00", name="file")
    assert app.active == "six"


@pytest.mark.parametrize("seed", range(4))
def test_one_neuron_prediction_matches_the_formula(app, seed):
    model = _neuron()
    img = _drawing(seed)
    r = app.predict(img.tobytes(), *img.shape)
    x, z, p = _expected(model, img)
    np.testing.assert_array_equal(r["seen"], x.astype(np.uint8))
    assert r["seen"].dtype == np.uint8 and r["ink"] == int(x.sum()) > 0
    assert r["z"][0] == pytest.approx(z[0], abs=1e-5)
    assert r["p"][0] == pytest.approx(p[0], abs=1e-6)
    assert r["probability"] == r["p"][0]
    assert r["dot"][0] + r["bias"][0] == pytest.approx(r["z"][0], abs=1e-5)
    coef = model.weights_numpy()[0].reshape(-1)
    np.testing.assert_allclose(r["contributions"], coef * x, rtol=0, atol=0)
    assert r["digit"] == (6 if p[0] >= 0.5 else None)
    assert r["top"] == 6
    assert r["model"] == "six"


def test_one_neuron_says_its_digit_only_at_p_at_least_one_half(app):
    img = _drawing(0)
    x = to_input(img).reshape(576).astype(np.float64)
    for bias, digit in ((20.0, 3), (-20.0, None)):
        m = Neuron(target=3).set_weights(np.zeros(576), [bias])
        app.load_weights(weights.dumps(m), name="three")
        r = app.predict(img.tobytes(), *img.shape)
        assert r["digit"] == digit
        assert r["probability"] == pytest.approx(1 / (1 + math.exp(-bias)))
        assert x.sum() == r["ink"]


def test_ten_neurons_prediction_matches_the_formula(app):
    model = _layer()
    app.load_weights(weights.dumps(model), name="digits")
    for seed in range(4):
        img = _drawing(seed)
        r = app.predict(img.tobytes(), *img.shape)
        x, z, p = _expected(model, img)
        assert r["z"] == pytest.approx(z.tolist(), abs=1e-5)
        assert r["p"] == pytest.approx(p.tolist(), abs=1e-6)
        assert sum(r["p"]) == pytest.approx(1, abs=1e-5)
        assert r["digit"] == r["top"] == int(np.argmax(p))
        assert r["probability"] == pytest.approx(p.max(), abs=1e-6)
        contributions = r["contributions"].reshape(10, 576)
        coef = model.weights_numpy()[0]
        np.testing.assert_array_equal(contributions, coef * x)
        assert r["dot"] == pytest.approx(contributions.sum(axis=1).tolist(), abs=1e-5)


def test_prediction_takes_any_bytes_like_and_an_empty_pad(app):
    img = _drawing(1)
    a = app.predict(img.tobytes(), *img.shape)
    b = app.predict(memoryview(img.reshape(-1)), *img.shape)
    c = app.predict(bytearray(img.tobytes()), *img.shape)
    assert a["p"] == b["p"] == c["p"]
    empty = app.predict(bytes(280 * 280), 280, 280)
    assert empty["ink"] == 0 and not empty["seen"].any()
    assert empty["z"] == pytest.approx(empty["bias"])


@pytest.mark.parametrize(
    ("pixels", "height", "width", "message"),
    [
        (bytes(99), 10, 10, "height × width = 100 values, got 99"),
        (bytes(100), 0, 100, "height must be a whole number"),
        (bytes(100), 10, 10.0, "width must be a whole number"),
        (bytes(100), 10, True, "width must be a whole number"),
    ],
)
def test_bad_pixels_are_refused(app, pixels, height, width, message):
    with pytest.raises(ValueError, match=message):
        app.predict(pixels, height, width)


def test_no_model_and_unknown_names_are_refused():
    page = Page()
    with pytest.raises(ValueError, match="no model is loaded"):
        page.predict(bytes(4), 2, 2)
    page.load_weights(weights.dumps(_neuron()), name="six")
    with pytest.raises(ValueError, match="no model called 'nine'"):
        page.select("nine")
    assert page.active == "six"


def test_switching_models_changes_what_predicts(app):
    app.load_weights(weights.dumps(_layer()), name="digits", activate=False)
    img = _drawing(2)
    assert app.active == "six"
    assert len(app.predict(img.tobytes(), *img.shape)["p"]) == 1
    assert app.select("digits")["model"]["kind"] == "ten"
    assert len(app.predict(img.tobytes(), *img.shape)["p"]) == 10
    app.select("six")
    assert len(app.predict(img.tobytes(), *img.shape)["p"]) == 1


def test_export_round_trips_weights_and_records(app):
    training = {"optimizer": "sgd", "epochs": 2}
    app.load_weights(
        weights.dumps(_neuron(4), training=training, metrics={"test_accuracy": 0.5}),
        name="file",
        label="my file",
    )
    text = app.export()
    d = weights.loads(text)
    assert d["training"] == training and d["metrics"] == {"test_accuracy": 0.5}
    again = Page()
    info = again.load_weights(text)["model"]
    np.testing.assert_array_equal(info["weights"], app.model_info()["weights"])
    assert app.model_info()["label"] == "my file"
    assert weights.loads(app.export("six"))["classes"] == [6]


def test_seen_equals_to_input_of_the_canvas(app):
    img = _drawing(5, size=280)
    np.testing.assert_array_equal(
        app.predict(img.tobytes(), 280, 280)["seen"], to_input(img).reshape(-1)
    )
    np.testing.assert_array_equal(from_canvas(img.tobytes(), 280, 280), img)


# -- training ------------------------------------------------------------------------
def _start(page: Page, settings: dict) -> dict:
    """The page's trainStart request, through the one dispatch table."""
    return page.call("trainStart", {"settings": settings})


def _check(page: Page, settings: dict) -> dict:
    return page.call("checkSettings", {"settings": settings})


def _evaluate(page: Page, mistakes: int = 0) -> dict:
    """The test metrics of the active model, as train_finish reports them."""
    model = weights.from_dict(weights.loads(page.export()))
    return page.training.evaluate(model, mistakes)


def _raw(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic raw 28×28 digits: a 6 is a lying bar, any other digit a standing
    one, each of random size and place."""
    rng = np.random.default_rng(seed)
    y = rng.choice([6, 0, 1, 2, 3], n).astype(np.uint8)
    images = np.zeros((n, 28, 28), np.uint8)
    for image, label in zip(images, y, strict=True):
        long, thick = rng.integers(12, 22), rng.integers(3, 6)
        h, w = (thick, long) if label == 6 else (long, thick)
        top, left = rng.integers(0, 28 - h), rng.integers(0, 28 - w)
        image[top : top + h, left : left + w] = 255
    return images, y


def _data(n: int = 600, seed: int = 0):
    """Synthetic training data: packed inputs (the plain pipeline of :func:`_raw`'s
    images), labels as bytes, the inputs X [n, 576] and labels y."""
    images, y = _raw(n, seed)
    X = to_input(images).reshape(n, 576)
    return pack_inputs(X), y.tobytes(), X, y


def _test_data(n: int = 300, seed: int = 1):
    """Synthetic test data as the page has it: raw images as bytes, labels as bytes,
    and the oracle inputs X [n, 576] of the plain pipeline, labels y."""
    images, y = _raw(n, seed)
    return images.tobytes(), y.tobytes(), to_input(images).reshape(n, 576), y


@pytest.fixture
def trained_page(app):
    images, labels, _, _ = _data()
    app.training.set_data("train", images, labels)
    t_images, t_labels, _, _ = _test_data()
    app.training.set_data("test", t_images, t_labels)
    return app


def test_training_runs_in_slices_and_its_model_takes_over(trained_page):
    page = trained_page
    settings = {"target": 6, "lr": 0.1, "epochs": 3, "batch_size": 100}
    start = _start(page, settings)
    assert start == {
        "step": 0,
        "steps": 18,
        "batches": 6,
        "epoch": 1,
        "epochs": 3,
        "n_train": 600,
        "examples": 0,
        "images_seen": 0,
        "done": False,
        # all 600 training images are in use: the check is on test images
        "held_out": {"source": "test", "count": 300},
    }
    assert page.active == "six"  # nothing changes until the run is finished
    first = page.training.run(max_batches=4, check=True)
    assert first["step"] == 4 and not first["done"] and first["images_seen"] == 400
    assert first["history"]["step"].tolist() == [1, 2, 3, 4]
    assert first["history"]["loss"].dtype == np.float32
    assert first["weights"].shape == (576,) and len(first["bias"]) == 1
    assert 0 <= first["check"]["accuracy"] <= 1 and first["check"]["seconds"] >= 0
    step = page.training.run(max_batches=1)
    assert step["history"]["step"].tolist() == [5]
    assert "check" not in step  # only when asked, or at the end
    assert step["images_seen"] == 500 and step["epoch"] == 1
    rest = page.training.run()
    assert rest["done"] and rest["step"] == 18 and rest["images_seen"] == 1800
    assert len(rest["history"]["loss"]) == 13
    assert "check" in rest  # the last point of the held-out curve
    assert page.active == "six"
    finished = page.train_finish(mistakes=3)
    info = finished["model"]
    assert info["name"] == "trained" and page.active == "trained"
    assert finished["models"] == page.models()
    card = dict(info["summary"])
    assert card["Training data"] == "600 MNIST images in this page"
    assert float(card["Right on"].split()[0]) > 90
    evaluation = finished["evaluation"]
    assert evaluation["samples"] == 300
    assert evaluation["accuracy"] == pytest.approx(
        _evaluate(page)["accuracy"], abs=1e-12
    )
    assert len(evaluation["mistakes"]["index"]) == min(3, evaluation["wrong"])
    with pytest.raises(ValueError, match="no training run"):
        page.training.run()


def test_a_finished_run_whose_card_fails_changes_nothing(trained_page, monkeypatch):
    import oneneuron.page

    page = trained_page
    _start(page, {"target": 3, "epochs": 1, "batch_size": 100})
    page.training.run()

    def broken(training, result, preprocess):
        raise MemoryError("no room for the card")

    monkeypatch.setattr(oneneuron.page, "summary", broken)
    with pytest.raises(MemoryError):
        page.train_finish()
    assert page.active == "six"
    assert held(page) == ["six"]


def test_the_trained_model_is_kept_with_its_record_and_test_metrics(trained_page):
    page = trained_page
    _start(page, {"target": "all", "epochs": 2, "batch_size": 64, "seed": 3})
    page.training.run()
    page.train_finish()
    d = weights.loads(page.export())
    assert d["classes"] == list(range(10))
    assert d["training"]["trained_in"] == "page" and d["training"]["steps"] == 20
    assert d["training"]["samples"] == 600 and d["training"]["seed"] == 3
    m = d["metrics"]
    assert m["test_samples"] == 300
    confusion = np.array(m["test_confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 300
    assert m["test_accuracy"] == pytest.approx(np.trace(confusion) / 300)
    # the oracle: the same run by the package's own Trainer
    _, _, X, y = _data()
    config = TrainConfig(target="all", epochs=2, batch_size=64, seed=3)
    trainer = Trainer(X, y, config)
    trainer.run()
    np.testing.assert_array_equal(
        np.array(d["weights"], np.float32),
        trainer.model.weights_numpy()[0].astype(np.float32),
    )


def test_the_held_out_check_uses_unused_training_images_when_there_are_enough():
    page = Page()
    images, labels, X, y = _data(2600)
    page.training.set_data("train", images, labels)
    start = _start(page, {"samples": 500, "lr": 0.1, "batch_size": 100})
    assert start["held_out"] == {"source": "train", "count": CHECK_SIZE}
    r = page.training.run(max_batches=7, check=True)
    # the oracle: the model's own loss and score on the last 2,000 images
    model = page.training.trainer.model
    X_check, y_check = X[-CHECK_SIZE:], y[-CHECK_SIZE:]
    loss, _, _ = model.loss_grad(X_check, y_check)
    assert r["check"]["loss"] == pytest.approx(loss, rel=1e-5)
    assert r["check"]["accuracy"] == pytest.approx(model.score(X_check, y_check))
    # with no room left and no test images, there is no check (and no error)
    start = _start(page, {"samples": 1000})
    assert start["held_out"] is None
    assert "check" not in page.training.run(max_batches=1, check=True)


def test_training_stops_at_a_time_budget(trained_page):
    _start(trained_page, {"epochs": 50, "batch_size": 10})
    r = trained_page.training.run(max_seconds=0.0)
    assert r["step"] == 1  # at least one batch, then the budget is spent


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lr": -1}, "lr must be a finite number > 0, got -1"),
        ({"lr": float("nan")}, "lr must be a finite number > 0, got nan"),
        ({"lr": "fast"}, "lr must be a finite number > 0, got 'fast'"),
        ({"epochs": 0}, "epochs must be a whole number from 1 to 1000, got 0"),
        ({"epochs": 2.5}, "epochs must be a whole number"),
        ({"batch_size": ""}, "batch size must be a whole number ≥ 1, got ''"),
        ({"l2": -0.1}, "l2 must be a finite number ≥ 0"),
        ({"target": 10}, "target must be a digit 0–9 or 'all'"),
        ({"speed": 3}, "unknown training setting.*speed"),
        ({"backend": "cupy"}, "the page trains with numpy"),
    ],
)
def test_bad_settings_are_refused_and_nothing_runs(trained_page, settings, message):
    with pytest.raises(ValueError, match=message):
        _check(trained_page, settings)
    with pytest.raises(ValueError, match=message):
        _start(trained_page, settings)
    with pytest.raises(ValueError, match="no training run"):
        trained_page.training.run(max_batches=1)


def test_settings_are_checked_without_any_data():
    page = Page()
    full = _check(page, {"target": "all", "lr": 1, "samples": 60000})
    assert full["target"] == "all" and full["lr"] == 1 and full["samples"] == 60000
    assert full["optimizer"] == "adam" and full["epochs"] == 5  # the defaults
    with pytest.raises(ValueError, match="training images are not loaded"):
        _start(page, {})


def test_training_needs_its_data_and_enough_of_it(trained_page):
    page = Page()
    with pytest.raises(ValueError, match="training images are not loaded"):
        _start(page, {})
    with pytest.raises(ValueError, match="multiple of 72"):
        page.training.set_data("train", bytes(100), bytes(1))
    with pytest.raises(ValueError, match="2 images but 3 labels"):
        page.training.set_data("train", bytes(144), bytes(3))
    with pytest.raises(ValueError, match="split must be"):
        page.training.set_data("valid", bytes(144), bytes(2))
    with pytest.raises(ValueError, match="samples must be at most 600"):
        _start(trained_page, {"samples": 601})


def test_a_diverging_run_keeps_the_previous_model(trained_page):
    page = trained_page
    img = _drawing(0)
    _start(page, {"epochs": 1, "batch_size": 100})
    page.training.run()
    page.train_finish()  # a first trained model, then a run that diverges
    before = page.predict(img.tobytes(), *img.shape)
    exported = page.export()
    _start(page, {"optimizer": "sgd", "lr": 1e38, "momentum": 0.9, "epochs": 5})
    with pytest.raises(TrainingDiverged, match=r"diverged.*previous model is kept"):
        page.training.run()
    assert page.active == "trained" and page.export() == exported
    assert page.predict(img.tobytes(), *img.shape)["p"] == before["p"]
    with pytest.raises(ValueError, match="no training run"):
        page.train_finish()


def test_added_drawings_join_the_training_set(trained_page):
    page = trained_page
    img = _drawing(0)
    added = page.add_example(img.tobytes(), *img.shape, 6)
    assert added["examples"] == 1 and added["label"] == 6
    seen = page.predict(img.tobytes(), *img.shape)["seen"]
    np.testing.assert_array_equal(added["seen"], seen)
    assert page.add_example(img.tobytes(), *img.shape, 6)["examples"] == 2
    start = _start(page, {"samples": 100, "batch_size": 51})
    assert start["n_train"] == 102 and start["examples"] == 2
    assert start["batches"] == 2
    # the drawings are the last rows the trainer learns from
    trainer = page.training.trainer
    np.testing.assert_array_equal(np.asarray(trainer.X[-1]), added["seen"])
    assert int(trainer.y[-1]) == 6
    page.training.run()
    record = weights.loads(page.export(page.train_finish()["model"]["name"]))[
        "training"
    ]
    assert record["samples"] == 102 and record["examples"] == 2
    card = dict(page.model_info()["summary"])
    assert (
        card["Training data"] == "100 MNIST images and 2 of your drawings in this page"
    )
    for label in (12, True, 6.0):
        with pytest.raises(ValueError, match="label must be a digit"):
            page.add_example(img.tobytes(), *img.shape, label)
    with pytest.raises(ValueError, match="drawing is empty"):
        page.add_example(bytes(100), 10, 10, 6)
    assert page.call("clearExamples") == {"examples": 0}
    assert _start(page, {})["n_train"] == 600


def test_evaluate_reports_metrics_and_mistakes(trained_page):
    page = trained_page
    _, _, X, y = _test_data()
    r = _evaluate(page, mistakes=5)
    model = weights.from_dict(weights.loads(page.export()))
    p = model.predict_proba(X)
    wrong = np.flatnonzero((p >= 0.5) != (y == 6))
    assert r["accuracy"] == pytest.approx(1 - len(wrong) / 300)
    assert r["wrong"] == len(wrong) > 5
    m = r["mistakes"]
    assert m["index"].tolist() == wrong[:5].tolist()
    assert m["label"].tolist() == y[wrong[:5]].tolist()
    assert m["predicted"].tolist() == (p[wrong[:5]] >= 0.5).astype(int).tolist()
    sure = np.where(p[wrong[:5]] >= 0.5, p[wrong[:5]], 1 - p[wrong[:5]])
    np.testing.assert_allclose(m["probability"], sure, rtol=1e-6)
    np.testing.assert_array_equal(m["inputs"].reshape(5, 576), X[wrong[:5]])
    assert {"precision", "recall", "f1", "roc_auc"} <= set(r)
    page.load_weights(weights.dumps(_layer()), name="digits")
    ten = _evaluate(page, mistakes=1000)
    assert ten["confusion"].shape == (100,) and ten["confusion"].sum() == 300
    assert len(ten["mistakes"]["index"]) == min(ten["wrong"], MAX_MISTAKES)


def test_inspect_explains_a_test_image(trained_page):
    page = trained_page
    _, _, X, y = _test_data()
    r = page.inspect(7)
    assert r["index"] == 7 and r["label"] == int(y[7]) and r["model"] == "six"
    np.testing.assert_array_equal(r["seen"], X[7])
    model = _neuron()
    coef, intercept = (a.astype(np.float64) for a in model.weights_numpy())
    z = coef @ X[7].astype(np.float64) + intercept
    assert r["z"][0] == pytest.approx(z[0], abs=1e-5)
    for bad in (300, -1, 1.5):
        with pytest.raises(ValueError, match="index must be"):
            page.inspect(bad)
    fresh = Page()
    fresh.load_weights(weights.dumps(model), name="six")
    with pytest.raises(ValueError, match="test images are not loaded"):
        fresh.inspect(0)


def test_update_rule_is_the_package_source():
    import inspect
    import textwrap

    page = Page()
    rule = page.update_rule("adam")
    assert rule["update"]["source"] == textwrap.dedent(inspect.getsource(Adam.update))
    assert rule["update"]["name"] == "oneneuron.train.Adam.update"
    assert rule["update"]["file"] == "oneneuron/train.py"
    assert rule["update"]["line"] == inspect.getsourcelines(Adam.update)[1]
    assert rule["gradient"]["source"].startswith("def step_terms(")
    assert "g_coef = t_matmul(xp, dz, X)" in rule["gradient"]["source"]
    assert "momentum" in page.update_rule("sgd")["update"]["source"]
    with pytest.raises(ValueError, match="optimizer must be one of adam, sgd"):
        page.update_rule("rmsprop")


def test_forget_drops_a_model_and_falls_back(app):
    app.load_weights(weights.dumps(_layer()), name="trained")
    answer = app.forget("trained")
    assert answer["model"]["name"] == "six" and held(app) == ["six"]
    assert answer["models"] == app.models() and app.active == "six"


def test_model_card_survives_odd_records():
    assert summary("nonsense", None) == []
    odd = {"optimizer": "<b>x</b>", "lr": float("nan"), "epochs": True, "samples": -1}
    assert summary(odd, {"test_accuracy": "high"}) == []
    card = dict(summary({"epochs": 1}, {"test_accuracy": 0.9, "test_samples": 10}))
    assert card == {"Trained with": "1 epoch", "Right on": "90.0 % of 10 test images"}
    repeated = {"samples": 60000, "target": 6, "target_repeat": 2}
    assert dict(summary(repeated, None)) == {
        "Training data": "60,000 MNIST images, each 6 counted twice"
    }
    assert dict(summary({**repeated, "target_repeat": "2"}, None)) == {
        "Training data": "60,000 MNIST images"
    }


@pytest.mark.cpython_only
@pytest.mark.parametrize("name", ["six", "digits"])
def test_the_shipped_weights_load(name):
    text = (ROOT / "site" / "weights" / f"{name}.json").read_text()
    info = Page().select(name, text)["model"]
    assert info["kind"] == ("one" if name == "six" else "ten")
    assert any(what == "Right on" for what, _ in info["summary"])


def test_the_shipped_models_are_listed_before_they_are_loaded():
    """Python's registry is the one list of models: the page shows it, and the
    worker fetches a shipped model's file from the URL ``source`` gives."""
    page = Page()
    listed = page.models()
    assert [m["name"] for m in listed] == list(SHIPPED)
    assert [m["held"] for m in listed] == [False] * len(SHIPPED)
    assert [m["label"] for m in listed][:2] == [
        "One neuron: is it a 6?",
        "Ten neurons: which digit?",
    ]
    first = page.source()
    assert first == {"name": "six", "url": "weights/six.json"}
    for name, s in SHIPPED.items():
        assert (ROOT / "site" / s["url"]).is_file()
        assert page.source(name)["url"] == s["url"]
    with pytest.raises(ValueError, match="no model called 'digits'"):
        page.select("digits")  # not held, and no file given
    answer = page.select(None, weights.dumps(_neuron()))  # the first, read from text
    assert answer["model"]["name"] == "six" and page.active == "six"
    assert page.source("six")["url"] is None  # held now: nothing to fetch
    loaded = page.select("digits", weights.dumps(_layer()), activate=False)
    assert loaded["model"]["name"] == "digits" and page.active == "six"
    assert [m["held"] for m in page.models()] == [True, True, False]
    page.load_weights(weights.dumps(_layer(3)), name="file", label="Loaded: x.json")
    assert [m["name"] for m in page.models()] == ["six", "digits", "hidden", "file"]
    assert page.models()[2]["label"] == "A hidden layer of 64 neurons: which digit?"


def _network(hidden: int = 6, seed: int = 2):
    from oneneuron.network import Network

    rng = np.random.default_rng(seed)
    return Network(hidden=hidden).set_weights(
        [
            (rng.normal(0, 0.3, (hidden, 576)), rng.normal(0, 1, hidden)),
            (rng.normal(0, 1, (10, hidden)), rng.normal(0, 1, 10)),
        ]
    )


def test_a_network_shows_its_hidden_units_and_their_outputs(app):
    net = _network()
    info = app.load_weights(weights.dumps(net), name="net")["model"]
    (w1, b1), (w2, b2) = net.weights_numpy()
    assert info["kind"] == "hidden" and info["hidden"] == 6
    np.testing.assert_array_equal(info["weights"], w1.reshape(-1))  # the tiles
    assert info["bias"] == pytest.approx(b1.tolist())
    np.testing.assert_array_equal(info["output"]["weights"], w2.reshape(-1))
    assert info["output"]["bias"] == pytest.approx(b2.tolist())
    img = _drawing(1)
    r = app.predict(img.tobytes(), *img.shape)
    x = to_input(img).reshape(576).astype(np.float64)
    h = 1 / (1 + np.exp(-(w1.astype(np.float64) @ x + b1)))
    np.testing.assert_allclose(r["hidden"]["h"], h, rtol=1e-6)
    assert r["model"] == "net" and r["digit"] == r["top"]
    off = app.predict(img.tobytes(), *img.shape, off=[0, 5])
    assert off["hidden"]["h"][[0, 5]].tolist() == [0.0, 0.0]
    h[[0, 5]] = 0
    assert off["z"] == pytest.approx((w2 @ h + b2).tolist(), rel=1e-5)
    with pytest.raises(ValueError, match="a hidden neuron must be a whole number 0–5"):
        app.predict(img.tobytes(), *img.shape, off=[6])
    rule = app.update_rule("adam", kind="hidden")["gradient"]
    assert rule["name"] == "oneneuron.network.Network.step_terms"
    assert "dz1 = dh * h * (1 - h)" in rule["source"]
    with pytest.raises(ValueError, match="kind must be one of one, ten, hidden"):
        app.update_rule("adam", kind="deep")


def test_the_panel_trains_a_hidden_layer(trained_page):
    page = trained_page
    _start(page, {"target": "all", "hidden": 5, "epochs": 2, "batch_size": 50})
    r = page.training.run(max_batches=3)
    assert r["weights"].shape == (5 * 576,) and len(r["bias"]) == 5
    page.training.run()
    info = page.train_finish()["model"]
    assert info["kind"] == "hidden" and info["hidden"] == 5
    assert info["label"] == "Trained here · A hidden layer of 5 neurons: which digit?"
    assert weights.loads(page.export())["version"] == 3


# -- the one seam: requests by name, errors as data ----------------------------------
def test_every_request_names_a_method_that_answers():
    page = Page()
    for request in REQUESTS:
        method = page
        for part in REQUESTS[request].split("."):
            method = getattr(method, part)
        assert callable(method), request


def test_a_request_is_answered_by_keyword_with_the_models_when_they_change(app):
    text = weights.dumps(_layer())
    r = app.call("loadWeights", {"text": text, "name": "digits", "activate": False})
    assert r["model"]["name"] == "digits" and r["model"]["active"] is False
    assert r["models"] == app.models() and app.active == "six"
    assert app.call("select", {"name": "digits"})["model"]["active"] is True
    img = _drawing(0)
    args = {"pixels": img.tobytes(), "height": img.shape[0], "width": img.shape[1]}
    assert app.call("predict", args)["p"] == app.predict(img.tobytes(), *img.shape)["p"]
    assert app.handle("models") == {"result": app.models()}


@pytest.mark.parametrize(
    ("request_", "args", "kind", "field", "message"),
    [
        ("checkSettings", {"settings": {"lr": -1}}, "setting", "lr", "lr must be"),
        ("checkSettings", {"settings": {"batch_size": 0}}, "setting", "batch_size", ""),
        ("checkSettings", {"settings": {"speed": 3}}, "setting", "speed", "unknown"),
        ("checkSettings", {"settings": {"backend": "cupy"}}, "setting", "backend", ""),
        ("trainStart", {"settings": {"samples": 601}}, "setting", "samples", "at most"),
        (
            "checkSettings",
            {"settings": {"deskew": 1}},
            "setting",
            "deskew",
            "deskew must",
        ),
        ("trainStart", {"settings": {"deskew": "on"}}, "setting", "deskew", "true or"),
        (
            "trainStart",
            {"settings": {"deskew": True}},
            "setting",
            "deskew",
            "not loaded",
        ),
        ("select", {"name": "nope"}, "invalid", None, "no model called 'nope'"),
        ("trainRun", {}, "invalid", None, "no training run is in progress"),
        ("teleport", {}, "internal", None, "LookupError: unknown request 'teleport'"),
        ("models", {"name": "x"}, "internal", None, "TypeError: "),
    ],
)
def test_errors_cross_as_data(trained_page, request_, args, kind, field, message):
    answer = trained_page.handle(request_, args)
    assert set(answer) == {"error"}
    error = answer["error"]
    assert (error["kind"], error["field"]) == (kind, field)
    assert error["message"].startswith(message) or message in error["message"]
    assert "\n" not in error["message"] and "Traceback" not in error["message"]


def test_a_divergence_crosses_as_its_own_kind(trained_page):
    page = trained_page
    _start(page, {"optimizer": "sgd", "lr": 1e38, "momentum": 0.9, "epochs": 5})
    error = page.handle("trainRun", {})["error"]
    assert error["kind"] == "diverged" and error["field"] is None
    assert error["message"].startswith("training diverged at epoch 1")
    assert error["message"].endswith("the previous model is kept")


def test_a_setting_error_names_its_field():
    with pytest.raises(SettingError) as caught:
        TrainConfig(epochs=0).validate()
    assert caught.value.field == "epochs" and isinstance(caught.value, ValueError)
    with pytest.raises(SettingError) as caught:
        TrainConfig.from_dict({"speed": 1, "lr": 0.1})
    assert caught.value.field == "speed"


# -- preprocessing: the model's own, the run's own -----------------------------------
DESKEW = Preprocess(deskew=True)


def test_a_run_takes_the_variant_its_deskew_setting_picks(trained_page, slanted):
    """Drawings are kept raw and made into inputs by the run's own pipeline; the
    trained model keeps that pipeline and reads drawings through it."""
    page = trained_page
    images, y = _raw(600, seed=0)
    X_deskew = DESKEW.to_input(images).reshape(600, 576)
    loaded = page.call(
        "loadData",
        {
            "split": "train",
            "images": pack_inputs(X_deskew),
            "labels": y.tobytes(),
            "preprocess": DESKEW.to_dict(),
        },
    )
    assert loaded == {"split": "train", "count": 600, "preprocess": DESKEW.key()}
    img = slanted
    plain_x, deskew_x = to_input(img).reshape(576), DESKEW.to_input(img).reshape(576)
    assert not np.array_equal(plain_x, deskew_x)
    added = page.add_example(img.tobytes(), *img.shape, 1)
    np.testing.assert_array_equal(added["seen"], plain_x)  # the model's ("six")
    assert _check(page, {"deskew": True})["deskew"] is True
    assert _check(page, {})["deskew"] is False
    for deskew, X, x in ((True, X_deskew, deskew_x), (False, _data()[2], plain_x)):
        _start(page, {"target": "all", "deskew": deskew, "epochs": 1})
        trainer = page.training.trainer
        np.testing.assert_array_equal(np.asarray(trainer.X[:600]), X)
        np.testing.assert_array_equal(np.asarray(trainer.X[600]), x)
    _start(page, {"target": "all", "deskew": True, "epochs": 1})
    page.training.run()
    info = page.train_finish()["model"]
    assert info["preprocess"] == DESKEW.to_dict()
    assert info["summary"][-1] == ["Preprocessing", DESKEW.describe()]
    assert weights.loads(page.export())["preprocess"] == DESKEW.to_dict()
    np.testing.assert_array_equal(
        page.predict(img.tobytes(), *img.shape)["seen"], deskew_x
    )
    # the held-out check and the test figures: the raw test images through deskew
    t_images, t_labels = _raw(300, seed=1)
    model = weights.from_dict(weights.loads(page.export()))
    X_test = DESKEW.to_input(t_images).reshape(300, 576)
    oracle = metrics.evaluate(model, X_test, t_labels)
    assert _evaluate(page)["accuracy"] == oracle["accuracy"]
    assert page.inspect(5)["seen"].tolist() == X_test[5].tolist()
    start = _start(page, {"target": "all", "deskew": True, "samples": 100})
    assert start["held_out"] == {"source": "test", "count": 300}
    r = page.training.run(max_batches=1, check=True)
    loss, accuracy = page.training.trainer.model.loss_accuracy(
        X_test.astype(np.float32), t_labels.astype(np.int64)
    )
    assert (r["check"]["loss"], r["check"]["accuracy"]) == (loss, accuracy)


def test_a_variant_replaces_the_one_with_its_deskew_setting():
    page = Page()
    images, labels, _, _ = _data(100)
    other = Preprocess(threshold=0.5)
    for p in (Preprocess(), other):
        page.training.set_data("train", images, labels, p.to_dict())
    assert list(page.training.train) == [other.key()]
    with pytest.raises(ValueError, match=r"preprocess\.threshold must be in"):
        page.training.set_data(
            "train", images, labels, {**other.to_dict(), "threshold": 2}
        )
    error = page.handle(
        "loadData",
        {
            "split": "train",
            "images": images,
            "labels": labels,
            "preprocess": {"deskew": 1},
        },
    )["error"]
    assert error["kind"] == "invalid" and error["field"] == "preprocess"


def test_the_test_images_are_raw_and_checked():
    page = Page()
    with pytest.raises(ValueError, match="give no preprocess"):
        page.training.set_data("test", bytes(784), bytes(1), {"deskew": True})
    with pytest.raises(ValueError, match="test: 2 labels need 1,568 image bytes"):
        page.training.set_data("test", bytes(784), bytes(2))
    with pytest.raises(ValueError, match="labels must be digits 0–9, got 12"):
        page.training.set_data("test", bytes(784), bytes([12]))
    assert page.training.set_data("test", bytes(784 * 3), bytes(3))["count"] == 3


def test_the_model_card_says_how_its_inputs_are_made(app):
    info = app.model_info()
    assert info["preprocess"] == Preprocess().to_dict()
    assert info["summary"][-1] == ["Preprocessing", Preprocess().describe()]
    model = _layer()
    model.preprocess = DESKEW
    info = app.load_weights(weights.dumps(model), name="deskewed")["model"]
    assert info["summary"][-1] == ["Preprocessing", DESKEW.describe()]
