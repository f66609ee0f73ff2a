"""The page's data (data/mnist.json, format 3), written and then read the way the
worker reads it: the bytes of each file handed to a :class:`~oneneuron.page.Page`.

Oracles: the raw MNIST and foreign-set images as their loaders give them, and each
:class:`~oneneuron.preprocess.Preprocess` applied to them directly.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from oneneuron import metrics, weights
from oneneuron.data import load_mnist
from oneneuron.digitsets import load_digitset
from oneneuron.model import Layer, Neuron
from oneneuron.page import Page
from oneneuron.pagedata import PAGE_SETS, unpack_inputs, write_page_data
from oneneuron.preprocess import Preprocess

pytestmark = pytest.mark.cpython_only  # real MNIST and the real foreign sets

PLAIN, DESKEW = Preprocess(), Preprocess(deskew=True)
EXTRA = Preprocess(deskew=True, threshold=0.5)  # a shipped model's own, test only


@pytest.fixture(scope="module")
def page_data(tmp_path_factory):
    """The page's data with a plain and a deskewed training variant, and the test
    images also packed as EXTRA makes them (and as DESKEW, given twice: once)."""
    out = tmp_path_factory.mktemp("dist") / "data"
    meta = write_page_data(out, variants=[PLAIN, DESKEW], test_variants=[EXTRA, DESKEW])
    return out, meta


def _bytes(folder, name: str) -> bytes:
    return (folder / name).read_bytes()


def _worker_page(out, models) -> Page:
    """A page fed as the worker feeds it: mnist.json, then each file's bytes."""
    meta = json.loads((out / "mnist.json").read_text())
    page = Page()
    for name, model in models.items():
        page.call("loadWeights", {"text": weights.dumps(model), "name": name})
    train = meta["train"]
    for variant in train["variants"].values():
        args = {
            "split": "train",
            "images": _bytes(out, variant["images"]),
            "labels": _bytes(out, train["labels"]),
            "preprocess": variant["preprocess"],
        }
        assert page.call("loadData", args)["count"] == train["count"]
    test = meta["test"]
    args = {
        "split": "test",
        "images": _bytes(out, test["images"]),
        "labels": _bytes(out, test["labels"]),
        "inputs": [
            {"preprocess": v["preprocess"], "images": _bytes(out, v["images"])}
            for v in test["variants"].values()
        ],
    }
    assert page.call("loadData", args) == {
        "split": "test",
        "count": 10000,
        "inputs": list(test["variants"]),
    }
    for name, s in meta["sets"].items():
        args = {
            "name": name,
            "images": _bytes(out, s["images"]),
            "labels": _bytes(out, s["labels"]),
        }
        assert page.call("loadSet", args) == {"name": name, "count": s["count"]}
    return page


def test_the_page_data_lists_every_file_as_written(page_data, mnist_images):
    out, meta = page_data
    assert json.loads((out / "mnist.json").read_text()) == meta
    assert meta["format"] == "oneneuron-mnist-bits" and meta["version"] == 3
    names = {p.name for p in out.iterdir()}
    listed = {meta["train"]["labels"]}
    listed |= {v["images"] for v in meta["train"]["variants"].values()}
    listed |= {v["images"] for v in meta["test"]["variants"].values()}
    for s in (meta["test"], *meta["sets"].values()):
        listed |= {s["images"], s["labels"]}
    assert names == listed | {"mnist.json"}
    assert all(name.endswith(".bin") for name in listed)
    images, labels = mnist_images["train"]
    train = meta["train"]
    assert train["count"] == 60000 and train["image_bytes"] == 72
    assert _bytes(out, train["labels"]) == labels.tobytes()
    assert set(train["variants"]) == {PLAIN.key(), DESKEW.key()}
    for p in (PLAIN, DESKEW):
        variant = train["variants"][p.key()]
        assert variant["images"] == f"train-{p.key()}.bin"
        assert Preprocess.from_dict(variant["preprocess"]) == p
        X = unpack_inputs(_bytes(out, variant["images"]))
        assert X.shape == (60000, 576)
        some = np.r_[0:300, 59700:60000]  # the oracle: the pipeline applied here
        np.testing.assert_array_equal(
            X[some], p.to_input(images[some]).reshape(-1, 576)
        )
    plain = unpack_inputs(_bytes(out, train["variants"][PLAIN.key()]["images"]))
    deskewed = unpack_inputs(_bytes(out, train["variants"][DESKEW.key()]["images"]))
    assert np.mean((plain != deskewed).any(axis=1)) > 0.5  # two different variants
    # the test set is raw: 28×28 bytes an image, exactly MNIST's
    test_images, test_labels = mnist_images["test"]
    test = meta["test"]
    assert (test["count"], test["height"], test["width"]) == (10000, 28, 28)
    assert test["image_bytes"] == 784
    assert _bytes(out, test["images"]) == test_images.tobytes()
    assert _bytes(out, test["labels"]) == test_labels.tobytes()
    assert test["title"] == PAGE_SETS["test"]["title"]
    # and its inputs, packed for each training variant and each test variant: the
    # pipeline applied here
    assert set(test["variants"]) == {PLAIN.key(), DESKEW.key(), EXTRA.key()}
    for p in (PLAIN, DESKEW, EXTRA):
        variant = test["variants"][p.key()]
        assert variant["images"] == f"test-{p.key()}.bin"
        assert variant["image_bytes"] == 72
        assert Preprocess.from_dict(variant["preprocess"]) == p
        np.testing.assert_array_equal(
            unpack_inputs(_bytes(out, variant["images"])),
            p.to_input(test_images).reshape(10000, 576),
        )
    for name in ("optdigits", "mfeat"):
        s = meta["sets"][name]
        set_images, set_labels = load_digitset(name)
        assert s["count"] == len(set_labels) and (s["height"], s["width"]) == (28, 28)
        assert _bytes(out, s["images"]) == set_images.tobytes()
        assert _bytes(out, s["labels"]) == set_labels.tobytes()
        assert (s["title"], s["source"]) == (
            PAGE_SETS[name]["title"],
            PAGE_SETS[name]["source"],
        )


def test_a_page_fed_the_data_predicts_with_each_models_own_pipeline(page_data, slanted):
    out, _ = page_data
    rng = np.random.default_rng(0)
    models = {
        "plain": Neuron(target=1).set_weights(rng.normal(0, 0.3, 576), [0.0]),
        "deskewed": Layer(preprocess=DESKEW).set_weights(
            rng.normal(0, 0.3, (10, 576)), rng.normal(0, 1, 10)
        ),
    }
    page = _worker_page(out, models)
    img = slanted
    assert not np.array_equal(PLAIN.to_input(img), DESKEW.to_input(img))
    for name, model in models.items():
        page.select(name)
        r = page.predict(img.tobytes(), *img.shape)
        x = model.to_input(img).reshape(576)
        np.testing.assert_array_equal(r["seen"], x)
        assert r["p"] == model.explain(x)["p"]


def test_a_model_trained_with_deskew_in_the_page_reads_through_deskew(
    page_data, mnist_images, slanted
):
    out, _ = page_data
    page = _worker_page(out, {"six": Neuron(target=6).init_weights()})
    img = slanted
    added = page.add_example(img.tobytes(), *img.shape, 1)
    np.testing.assert_array_equal(added["seen"], PLAIN.to_input(img).reshape(576))
    settings = {"target": "all", "deskew": True, "samples": 3000, "epochs": 1}
    start = page.call("trainStart", {"settings": settings})
    assert start["n_train"] == 3001 and start["held_out"]["source"] == "train"
    # the oracle: the run learns from the deskewed images, the drawing's too
    images, _ = mnist_images["train"]
    trainer = page.training.trainer
    expected = DESKEW.to_input(images[:3000]).reshape(3000, 576)
    np.testing.assert_array_equal(np.asarray(trainer.X[:3000]), expected)
    np.testing.assert_array_equal(
        np.asarray(trainer.X[-1]), DESKEW.to_input(img).reshape(576)
    )
    page.training.run()
    finished = page.train_finish(mistakes=4)
    model = weights.from_dict(weights.loads(page.export()))
    assert model.preprocess == DESKEW
    assert weights.loads(page.export())["preprocess"] == DESKEW.to_dict()
    assert finished["model"]["preprocess"] == DESKEW.to_dict()
    assert finished["model"]["summary"][-1] == ["Preprocessing", DESKEW.describe()]
    # its test figures: the raw test images through deskew, made at the build
    test_images, test_labels = mnist_images["test"]
    X_test = DESKEW.to_input(test_images).reshape(10000, 576)
    oracle = metrics.evaluate(model, X_test, test_labels)
    assert finished["evaluation"]["accuracy"] == oracle["accuracy"] > 0.8
    r = page.predict(img.tobytes(), *img.shape)
    np.testing.assert_array_equal(r["seen"], DESKEW.to_input(img).reshape(576))
    assert r["p"] == model.explain(DESKEW.to_input(img).reshape(576))["p"]
    # and the plain run, from the other variant, stays plain
    page.call("trainStart", {"settings": {**settings, "deskew": False}})
    np.testing.assert_array_equal(
        np.asarray(page.training.trainer.X[:3000]),
        PLAIN.to_input(images[:3000]).reshape(3000, 576),
    )


def test_a_variant_that_is_not_loaded_is_a_setting_error_on_deskew(page_data):
    out, meta = page_data
    page = Page()
    page.load_weights(weights.dumps(Neuron(target=6).init_weights()), name="six")
    variant = meta["train"]["variants"][PLAIN.key()]
    labels = _bytes(out, meta["train"]["labels"])
    page.training.set_data(
        "train", _bytes(out, variant["images"]), labels, variant["preprocess"]
    )
    error = page.handle("trainStart", {"settings": {"deskew": True}})["error"]
    assert (error["kind"], error["field"]) == ("setting", "deskew")
    assert "deskewing on are not loaded" in error["message"]
    assert "deskew true" in error["message"]
    assert page.training.trainer is None


def test_write_page_data_refuses_variants_it_cannot_offer(tmp_path):
    with pytest.raises(ValueError, match="variants must be a list of Preprocess"):
        write_page_data(tmp_path / "a", variants=[])
    with pytest.raises(ValueError, match="at most one with deskew on"):
        write_page_data(
            tmp_path / "b", variants=[PLAIN, Preprocess(threshold=0.5)], sets=()
        )
    with pytest.raises(ValueError, match="sets must be among optdigits, mfeat"):
        write_page_data(tmp_path / "c", variants=[PLAIN], sets=["usps"])
    assert not any(tmp_path.iterdir())  # refused before anything is written


def test_test_inputs_that_do_not_fit_are_refused_and_nothing_changes(page_data):
    out, meta = page_data
    page = _worker_page(out, {"six": Neuron(target=6).init_weights()})
    held = page.training.test
    test = meta["test"]
    variant = test["variants"][DESKEW.key()]
    base = {
        "split": "test",
        "images": _bytes(out, test["images"]),
        "labels": _bytes(out, test["labels"]),
    }
    packed = _bytes(out, variant["images"])
    bad = [
        ([{"preprocess": variant["preprocess"], "images": packed[:-72]}], "9,999"),
        ([{"preprocess": variant["preprocess"], "images": packed[:-1]}], "72"),
        ([{"images": packed}], "{preprocess, images}"),
        ([{"preprocess": {"deskew": 1}, "images": packed}], "preprocess"),
        ("test-x.bin", "{preprocess, images}"),
    ]
    for inputs, words in bad:
        error = page.handle("loadData", {**base, "inputs": inputs})["error"]
        assert words in error["message"], error
        assert page.training.test is held  # the set held before stays
    error = page.handle(
        "loadData", {**base, "split": "train", "inputs": [], "images": packed}
    )["error"]
    assert "test split only" in error["message"]


def test_a_run_on_a_packed_variant_preprocesses_no_test_image(page_data, monkeypatch):
    # The build packed the test inputs of each training variant: a whole run (held-out
    # check from the test set, then the scores) reads them, and only a model with
    # another preprocessing makes the test inputs again.
    out, _ = page_data
    page = _worker_page(out, {"six": Neuron(target=6).init_weights()})
    made = []
    to_input = Preprocess.to_input

    def counted(self, images):
        made.append(len(images) if np.ndim(images) == 3 else 1)
        return to_input(self, images)

    monkeypatch.setattr(Preprocess, "to_input", counted)
    settings = {"target": 6, "deskew": True, "epochs": 1}
    assert (
        page.call("trainStart", {"settings": settings})["held_out"]["source"] == "test"
    )
    page.training.run()
    finished = page.train_finish(mistakes=2)
    assert finished["evaluation"]["accuracy"] > 0.9
    assert not [n for n in made if n > 1], made
    other = Preprocess(deskew=True, threshold=0.45)  # not packed (EXTRA is 0.5)
    page.training.evaluate(Neuron(target=6, preprocess=other).init_weights())
    assert 10000 in made


def test_a_shipped_models_test_scores_need_no_preprocessing(page_data, monkeypatch):
    """The threshold's data: a one-neuron model's probabilities on the test images,
    read from the inputs packed as that model makes them."""
    from sklearn.metrics import roc_auc_score  # CPython only, as this whole file

    out, _ = page_data
    rng = np.random.default_rng(0)
    six = Neuron(target=6, preprocess=EXTRA)
    six.set_weights(rng.normal(0, 0.1, 576), [-1.0])
    page = _worker_page(out, {"six": six, "digits": Layer().init_weights()})
    made = []
    to_input = Preprocess.to_input
    monkeypatch.setattr(
        Preprocess, "to_input", lambda p, im: made.append(len(im)) or to_input(p, im)
    )
    page.call("select", {"name": "six"})
    scores = page.call("scores", {})
    assert not made
    monkeypatch.undo()
    images, labels = load_mnist("test", progress=False)
    want = six.predict_proba(EXTRA.to_input(images).reshape(-1, 576))
    np.testing.assert_array_equal(scores["p"], np.asarray(want, np.float32))
    np.testing.assert_array_equal(scores["truth"], (labels == 6).astype(np.uint8))
    assert scores["target"] == 6 and scores["p"].dtype == np.float32
    assert scores["auc"] == pytest.approx(roc_auc_score(labels == 6, want), rel=1e-12)
    error = page.handle("scores", {"name": "digits"})["error"]
    assert error["kind"] == "invalid" and "one neuron's" in error["message"]
