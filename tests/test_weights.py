"""oneneuron.weights: format 2 round trips (format 1 still reads), atomic writes,
complete validation."""

from __future__ import annotations

import copy
import json
import os
import shlex
import sys

import numpy as np
import pytest

import oneneuron
from oneneuron import weights
from oneneuron.backend import to_numpy
from oneneuron.model import Layer, Neuron, NotFittedError
from oneneuron.preprocess import Preprocess


def trained(kind: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    m = Neuron(target=6) if kind == "neuron" else Layer()
    k = len(m.classes_)
    return m.set_weights(rng.normal(0, 0.3, (k, 576)), rng.normal(0, 1, k))


def inputs(n: int = 20) -> np.ndarray:
    return (np.random.default_rng(1).random((n, 576)) < 0.2).astype(np.float32)


@pytest.fixture
def good() -> dict:
    return weights.to_dict(trained("neuron"), training={"epochs": 1}, metrics={})


# -- round trips -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["neuron", "layer"])
def test_round_trip_same_predictions(tmp_path, kind):
    model = trained(kind)
    path = weights.write(tmp_path / "w.json", model, metrics={"test_accuracy": 0.9})
    back = oneneuron.load_weights(path)
    assert type(back) is type(model) and back.classes_ == model.classes_
    for a, b in zip(back.weights_numpy(), model.weights_numpy(), strict=True):
        np.testing.assert_array_equal(a, b)  # 9 digits round-trip float32 exactly
    X = inputs()
    np.testing.assert_array_equal(
        to_numpy(back.predict_proba(X)), to_numpy(model.predict_proba(X))
    )
    d = json.loads(path.read_text())
    assert d["format"] == "oneneuron-weights" and d["version"] == 2
    assert d["preprocess"] == Preprocess().to_dict() and back.preprocess == Preprocess()
    assert d["input"] == {"height": 24, "width": 24, "encoding": "binary"}
    assert d["metrics"] == {"test_accuracy": 0.9}


def test_load_weights_accepts_every_source(tmp_path):
    model = trained("layer")
    path = weights.write(tmp_path / "w.json", model)
    text = path.read_text()
    X = inputs(5)
    want = to_numpy(model.predict_proba(X))
    for source in (path, str(path), text, "  \n" + text, json.loads(text)):
        got = oneneuron.load_weights(source)
        np.testing.assert_array_equal(to_numpy(got.predict_proba(X)), want)
    for raw in (text, text.encode()):
        assert weights.loads(raw)["classes"] == list(range(10))


def test_load_weights_on_another_backend(tmp_path, backend):
    model = trained("neuron")
    back = weights.load_weights(weights.to_dict(model), backend=backend)
    X = inputs(5)
    np.testing.assert_allclose(
        to_numpy(back.predict_proba(X)), to_numpy(model.predict_proba(X)), rtol=1e-5
    )


def test_dumps_is_compact_strict_json(good):
    model = trained("neuron")
    text = weights.dumps(model, metrics={"roc_auc": float("nan"), "f1": 0.5})

    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    d = json.loads(text, parse_constant=refuse)  # what the browser's JSON.parse takes
    assert d["metrics"] == {"roc_auc": None, "f1": 0.5}  # undefined metric → null
    assert text.endswith("\n") and "\n" not in text[:-1]


def test_unfitted_model_cannot_be_written(tmp_path):
    with pytest.raises(NotFittedError):
        weights.write(tmp_path / "w.json", Neuron(target=6))
    assert list(tmp_path.iterdir()) == []


# -- atomic writes ---------------------------------------------------------------------
def test_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "deep" / "er" / "w.json"
    weights.write(target, trained("neuron"))
    weights.write(target, trained("layer"))  # replaces
    assert [p.name for p in target.parent.iterdir()] == ["w.json"]
    assert weights.read(target)["classes"] == list(range(10))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_written_file_is_readable_by_others(tmp_path):
    path = weights.write(tmp_path / "w.json", trained("neuron"))
    assert path.stat().st_mode & 0o777 == 0o644  # served by a web server as is


def test_failed_replace_keeps_the_old_file(tmp_path, monkeypatch):
    path = weights.write(tmp_path / "w.json", trained("neuron", seed=1))
    old = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        weights.write(path, trained("layer", seed=2))
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["w.json"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = weights.write(tmp_path / "w.json", trained("neuron", seed=1))
    old = path.read_bytes()
    real_fdopen = os.fdopen

    class Half:
        """A file that dies half way through writing."""

        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, text):
            self.f.write(text[: len(text) // 2])
            raise OSError("no space left")

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: Half(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="no space left"):
        weights.write(path, trained("layer"))
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["w.json"]


# -- validation: every bad input names its field ---------------------------------------
def _set(d, key, value):
    d[key] = value


def _setrow(d, i, j, value):
    d["weights"][i][j] = value


BAD = [
    ("format", lambda d: _set(d, "format", "keras"), "format must be"),
    (
        "version 4",
        lambda d: _set(d, "version", 4),
        r"version must be 1, 2 or 3 \(.*got 4",
    ),
    ("version str", lambda d: _set(d, "version", "1"), "version must be 1"),
    ("version bool", lambda d: _set(d, "version", True), "version must be 1"),
    ("missing bias", lambda d: d.pop("bias"), r"missing the field\(s\): bias"),
    ("missing two", lambda d: [d.pop("metrics"), d.pop("input")], "input, metrics"),
    ("unknown", lambda d: _set(d, "comment", "hi"), r"unknown field\(s\): comment"),
    ("classes 10", lambda d: _set(d, "classes", [10]), "classes must be"),
    ("classes two", lambda d: _set(d, "classes", [6, 7]), "classes must be"),
    ("classes str", lambda d: _set(d, "classes", "6"), "classes must be"),
    ("classes bool", lambda d: _set(d, "classes", [True]), "classes must be"),
    ("classes float", lambda d: _set(d, "classes", [6.0]), "classes must be"),
    ("input", lambda d: _set(d, "input", {"height": 28}), "input must be"),
    ("rows", lambda d: d["weights"].append(d["weights"][0]), r"weights must be a list"),
    ("no rows", lambda d: _set(d, "weights", {}), r"weights must be a list"),
    (
        "row short",
        lambda d: d["weights"][0].pop(),
        r"weights\[0\] must be a list of 576",
    ),
    ("row str", lambda d: _set(d, "weights", ["0.1"]), r"weights\[0\] must be a list"),
    (
        "nan",
        lambda d: _setrow(d, 0, 5, float("nan")),
        r"weights\[0\]\[5\] must be a fin",
    ),
    (
        "inf",
        lambda d: _setrow(d, 0, 7, float("inf")),
        r"weights\[0\]\[7\] must be a fin",
    ),
    ("huge", lambda d: _setrow(d, 0, 9, 1e39), r"weights\[0\]\[9\] must be a finite"),
    (
        "huge int",
        lambda d: _setrow(d, 0, 9, 10**400),
        r"weights\[0\]\[9\] must be a fin",
    ),
    ("bool", lambda d: _setrow(d, 0, 1, True), r"weights\[0\]\[1\] .*got true"),
    ("str", lambda d: _setrow(d, 0, 2, "0.5"), r"weights\[0\]\[2\] must be a finite"),
    ("null", lambda d: _setrow(d, 0, 3, None), r"weights\[0\]\[3\] .*got null"),
    ("bias long", lambda d: _set(d, "bias", [0.0, 0.0]), r"bias must be a list of 1"),
    ("bias num", lambda d: _set(d, "bias", 0.5), r"bias must be a list of 1"),
    ("bias nan", lambda d: _set(d, "bias", [float("nan")]), r"bias\[0\] must be a fin"),
    ("bias bool", lambda d: _set(d, "bias", [False]), r"bias\[0\] must be a finite"),
    ("training", lambda d: _set(d, "training", []), "training must be a JSON object"),
    ("metrics", lambda d: _set(d, "metrics", None), "metrics must be a JSON object"),
]


@pytest.mark.parametrize(
    ("change", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_dict(good, change, match):
    bad = copy.deepcopy(good)
    change(bad)
    with pytest.raises(ValueError, match=match):
        weights.validate(bad)
    with pytest.raises(ValueError, match=match):
        weights.load_weights(bad)


def test_largest_float32_is_accepted(good):
    d = copy.deepcopy(good)
    d["weights"][0][0] = 3.40282347e38  # float32 max as written with 9 digits
    assert np.isfinite(weights.load_weights(d).weights_numpy()[0]).all()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "oneneuron-weights",}', "not valid JSON"),
        ("[1, 2]", "must be a JSON object, got a list of 2"),
        ('"weights"', "must be a JSON object, got a string"),
        ("", "not valid JSON"),
    ],
)
def test_bad_text(text, match):
    with pytest.raises(ValueError, match=match):
        weights.loads(text)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_in_json_text(good, constant):
    # Python's json reads these (the last as inf); validation must refuse them.
    d = copy.deepcopy(good)
    d["bias"][0] = "@"
    text = json.dumps(d).replace('"@"', constant)
    with pytest.raises(ValueError, match=r"bias\[0\] must be a finite number"):
        weights.load_weights(text)
    d = copy.deepcopy(good)
    d["weights"][0][575] = "@"
    text = json.dumps(d).replace('"@"', constant)
    with pytest.raises(ValueError, match=r"weights\[0\]\[575\] must be a finite"):
        weights.loads(text)


def test_bad_files(tmp_path, good):
    with pytest.raises(ValueError, match=r"cannot read weights file .*missing\.json"):
        weights.load_weights(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="cannot read weights file"):
        weights.load_weights(tmp_path)  # a folder
    binary = tmp_path / "w.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match=r"w\.bin is not text"):
        weights.load_weights(binary)
    nested = tmp_path / "deep.json"
    nested.write_text("[" * 200_000 + "]" * 200_000)  # would crash json in Pyodide
    with pytest.raises(ValueError, match="nested too deeply"):
        weights.load_weights(nested)
    with pytest.raises(ValueError, match="nested too deeply"):
        weights.loads('{"a": ' + "[" * 50 + "]" * 50 + "}")


def test_brackets_inside_strings_are_not_nesting(good):
    d = copy.deepcopy(good)
    d["training"]["command"] = 'oneneuron train --note "' + "[" * 100 + '\\"{{'
    assert weights.loads(json.dumps(d))["training"] == d["training"]


def test_file_over_the_size_limit(tmp_path, good):
    big = tmp_path / "big.json"
    text = json.dumps(good)
    big.write_text(text + " " * (weights.MAX_BYTES - len(text) + 1))
    with pytest.raises(ValueError, match=r"big\.json is too big .*over 4,000,000 b"):
        weights.load_weights(big)
    with pytest.raises(ValueError, match="too big to be a weights file"):
        weights.loads(big.read_text())
    exact = tmp_path / "exact.json"
    exact.write_text(text + " " * (weights.MAX_BYTES - len(text)))
    assert weights.load_weights(exact).classes_ == (6,)  # the limit itself is fine


def test_error_names_a_path_not_text(tmp_path):
    # A str that is not JSON text is a path; the message says which.
    with pytest.raises(ValueError, match=r"cannot read weights file nope\.json"):
        weights.load_weights("nope.json")


# -- every number, text and list in training and metrics is bounded --------------------
LONG = "1234" * 100  # a 400-digit integer


def _text_with(good: dict, where: tuple, literal: str) -> str:
    """``good`` as JSON text with ``literal`` (verbatim) at the path ``where``."""
    d = copy.deepcopy(good)
    target = d
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = "@@"
    return json.dumps(d).replace('"@@"', literal)


RECORD_NUMBERS = [
    (
        ("training", "epochs"),
        LONG,
        r"training\.epochs must be a number within ±2\^53, ",
    ),
    (("training", "epochs"), "-" + LONG, r"training\.epochs must be a number within"),
    (
        ("training", "lr"),
        "1e999",
        r"training\.lr must be a number within ±2\^53, got inf",
    ),
    (("metrics", "test_accuracy"), "NaN", r"metrics\.test_accuracy .*got nan"),
    (("metrics", "test_accuracy"), "-Infinity", r"metrics\.test_accuracy .*-inf"),
    (("training", "seed"), str(2**53 + 1), r"training\.seed must be a number within"),
    (("training", "seed"), "9" * 5000, r"training\.seed must be"),  # > CPython's 4300
    (("training", "x"), f"[1, [2, {LONG}]]", r"training\.x\[1\]\[1\] must be a n"),
    (("metrics", "odd key"), LONG, r'metrics\["odd key"\] must be a number'),
]


@pytest.mark.parametrize(("where", "literal", "match"), RECORD_NUMBERS)
def test_numbers_in_records_are_bounded(tmp_path, good, where, literal, match):
    good["metrics"] = {"test_confusion": [[1, 2], [3, 4]]}
    text = _text_with(good, where, literal)
    with pytest.raises(ValueError, match=match):
        weights.loads(text)
    path = tmp_path / "w.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        weights.read(path)


def test_a_long_integer_reads_as_an_overflow(good):
    # Integers of over MAX_DIGITS digits are never converted (int() is quadratic
    # in the digits): like 1e999, they read as infinity, refused where they stand.
    for sign in ("", "-"):
        text = _text_with(good, ("training", "epochs"), sign + LONG)
        with pytest.raises(ValueError) as info:
            weights.loads(text)
        assert str(info.value) == (
            f"training.epochs must be a number within ±2^53, got {sign}inf"
        )


@pytest.mark.parametrize("value", [2**53, -(2**53), 0.5, -1e15, None, True, "adam"])
def test_records_at_the_limits_load(good, value):
    good["training"]["x"] = [{"y": [[value]]}]  # 4 levels: the most allowed
    good["training"]["command"] = "c" * weights.MAX_STRING
    good["metrics"] = {f"m{i}": i for i in range(weights.MAX_ITEMS)}
    assert weights.loads(json.dumps(good))["training"]["x"] == [{"y": [[value]]}]
    assert weights.validate(good) is good


def _python_dicts():
    """Records only Python code can build (a parsed file cannot hold them)."""
    loop: list = []
    loop.append(loop)
    return [
        (
            {"epochs": 10**400},
            r"training\.epochs must be a number within ±2\^53, got 1000000",
        ),
        ({"epochs": -(10**5000)}, r"training\.epochs .*an integer of about 5000 dig"),
        ({"epochs": float("nan")}, r"training\.epochs must be a number .*got nan"),
        ({"x": (1, 2)}, r"training\.x must be a JSON value .*got tuple"),
        ({"x": {1, 2}}, r"training\.x must be a JSON value .*got set"),
        ({"x": loop}, r"training\.x\[0\]\[0\]\[0\]\[0\] is nested too deeply"),
        ({7: "seven"}, r"training has a key that is not a text .*: 7"),
    ]


@pytest.mark.parametrize(("training", "match"), _python_dicts())
def test_records_from_python_are_checked_too(good, training, match):
    good["training"] = training
    with pytest.raises(ValueError, match=match):
        weights.validate(good)
    with pytest.raises(ValueError, match=match):
        weights.load_weights(good)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda d: d["training"].update(command="c" * (weights.MAX_STRING + 1)),
            r"training\.command must be a text of at most 10,000 characters, got 10,0",
        ),
        (
            lambda d: d["metrics"].update({"k" * (weights.MAX_STRING + 1): 1}),
            r"metrics has a key that is not a text of at most 10,000 characters: \"kk",
        ),
        (
            lambda d: d["metrics"].update(roc=[0.5] * (weights.MAX_ITEMS + 1)),
            r"metrics\.roc must have at most 1,000 entries, got 1,001",
        ),
        (
            lambda d: d.update(metrics={f"m{i}": i for i in range(1001)}),
            r"metrics must have at most 1,000 entries, got 1,001",
        ),
        (
            lambda d: d["training"].update(x=[{"y": [[[]]]}]),
            r"training\.x\[0\]\.y\[0\]\[0\] is nested too deeply: .* 4 levels",
        ),
    ],
    ids=["long text", "long key", "long list", "many keys", "deep"],
)
def test_texts_lists_and_nesting_in_records_are_bounded(good, change, match):
    change(good)
    with pytest.raises(ValueError, match=match):
        weights.loads(json.dumps(good))


@pytest.mark.parametrize(
    ("where", "match"),
    [
        (("weights", 0, 3), r"weights\[0\]\[3\] must be a finite number .*got inf"),
        (("bias", 0), r"bias\[0\] must be a finite number \(float32 range\), got inf"),
        (("version",), r"version must be 1.*got inf"),
        (("classes", 0), r"classes must be one digit"),
        (("input", "height"), r"input must be"),
        (("format",), r"format must be 'oneneuron-weights', got inf"),
    ],
)
def test_long_integers_anywhere_are_refused(good, where, match):
    with pytest.raises(ValueError, match=match):
        weights.loads(_text_with(good, where, LONG))


def test_weights_may_be_integers_in_float32_range(good):
    good["weights"][0][:3] = [3, -(10**38), 340282346638528859811704183484516925440]
    back = weights.loads(json.dumps(good))
    assert back["weights"][0][:3] == good["weights"][0][:3]


@pytest.mark.parametrize("name", ["six", "digits"])
def test_shipped_files_load(name):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "site" / "weights" / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"{path} is not in this checkout (Pyodide runs the tests alone)")
    d = weights.read(path)
    assert 0.9 < d["metrics"]["test_accuracy"] < 1
    # the record is the command's: its flags give the recorded settings again
    from oneneuron.cli import build_parser

    args = build_parser().parse_args(shlex.split(d["training"]["command"])[3:])
    for key in ("epochs", "batch_size", "lr", "l2", "optimizer", "schedule"):
        assert getattr(args, key) == d["training"][key], key
    assert Preprocess.from_dict(d["preprocess"]).deskew == args.deskew


def test_what_the_cli_and_the_page_write_loads(tmp_path):
    # The records the CLI (train) and the page (session) keep, as they make them.
    training = {
        "target": "all",
        "optimizer": "adam",
        "lr": 0.01,
        "epochs": 5,
        "samples": 60000,
        "in": "the page",
        "examples": 3,
        "steps": 590,
        "command": "python -m oneneuron train --target all --out " + "x" * 4096,
    }
    metrics = {
        "test_accuracy": 0.92,
        "test_confusion": np.arange(100).reshape(10, 10).tolist(),
        "test_roc_auc": float("nan"),
    }
    text = weights.dumps(trained("layer"), training=training, metrics=metrics)
    assert weights.loads(text)["training"] == training
    path = weights.write(tmp_path / "w.json", trained("layer"), training=training)
    assert weights.read(path)["training"] == training


# -- format 2: the preprocessing is part of the file ----------------------------------
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = sorted(
    os.path.join(ROOT, "site", "weights", n)
    for n in os.listdir(os.path.join(ROOT, "site", "weights"))
    if n.endswith(".json")
)


def as_version_1(d: dict) -> dict:
    """A version-2 dict as version 1 wrote it: no "preprocess"."""
    d = {k: v for k, v in d.items() if k != "preprocess"}
    d["version"] = 1
    return d


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_shipped_files_load_with_their_preprocessing(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    model = oneneuron.load_weights(path)
    if d["version"] == 1:
        assert "preprocess" not in d and model.preprocess == Preprocess()
    else:
        assert model.preprocess == Preprocess.from_dict(d["preprocess"])


def test_version_1_loads_as_the_plain_pipeline(good):
    d = as_version_1(good)
    model = weights.load_weights(json.dumps(d))
    assert model.preprocess == Preprocess()
    img = np.zeros((28, 28), np.uint8)
    img[4:24, 12:16] = 255
    np.testing.assert_array_equal(model.to_input(img), oneneuron.to_input(img))


@pytest.mark.parametrize("kind", ["neuron", "layer"])
def test_version_2_round_trip_keeps_every_field(tmp_path, kind):
    p = Preprocess(deskew=True, threshold=0.425, box=17, stroke=(3.125, 5.0625))
    model = trained(kind)
    model.preprocess = p
    path = weights.write(tmp_path / "w.json", model)
    d = json.loads(path.read_text())
    assert list(d) == list(weights.KEYS)
    assert d["version"] == 2
    assert d["preprocess"] == {
        "deskew": True,
        "threshold": 0.425,
        "grid": 24,
        "box": 17,
        "stroke": {"low": 3.125, "high": 5.0625},
    }
    back = weights.load_weights(path)
    assert back.preprocess == p and weights.to_dict(back) == weights.to_dict(model)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"deskew": "yes"}, r'preprocess\.deskew must be true or false, got "yes"'),
        ({"deskew": None}, r"preprocess\.deskew must be true or false, got null"),
        ({"threshold": 2}, r"preprocess\.threshold must be in \(0, 1\], got 2$"),
        ({"threshold": 0.0}, r"preprocess\.threshold must be in \(0, 1\], got 0\.0"),
        ({"threshold": "0.5"}, r'preprocess\.threshold must be .*got "0\.5"'),
        ({"grid": 28}, r"preprocess\.grid must be 24, got 28"),
        ({"box": 0}, r"preprocess\.box must be a whole number from 1 to 24, got 0"),
        ({"box": 20.5}, r"preprocess\.box must be a whole number .*got 20\.5"),
        ({"box": True}, r"preprocess\.box must be a whole number .*got true"),
        ({"stroke": [3, 5]}, r'preprocess\.stroke must be null or \{"low"'),
        ({"stroke": {"low": 3}}, r"preprocess\.stroke must be null or"),
        ({"stroke": {"low": 0, "high": 5}}, r"preprocess\.stroke\.low must be .*0$"),
        ({"stroke": {"low": 3, "high": 25}}, r"preprocess\.stroke\.high .*got 25$"),
        ({"stroke": {"low": "3", "high": 5}}, r'preprocess\.stroke\.low .*got "3"'),
        ({"stroke": {"low": 5, "high": 4}}, r"preprocess\.stroke\.high must be ≥"),
        ({"extra": 1}, r"preprocess has unknown field\(s\): extra$"),
    ],
)
def test_each_bad_preprocess_field_has_its_own_message(good, change, match):
    good["preprocess"] = {**good["preprocess"], **change}
    with pytest.raises(ValueError, match=match):
        weights.loads(json.dumps(good))


def test_preprocess_belongs_to_version_2_only(good):
    with pytest.raises(ValueError, match=r"missing the field\(s\): preprocess"):
        weights.loads(json.dumps({k: v for k, v in good.items() if k != "preprocess"}))
    with pytest.raises(ValueError, match=r"preprocess must be an object"):
        weights.loads(json.dumps({**good, "preprocess": None}))
    d = {**as_version_1(good), "preprocess": good["preprocess"]}
    with pytest.raises(ValueError, match=r"unknown field\(s\): preprocess \(version 1"):
        weights.loads(json.dumps(d))


def test_a_huge_preprocess_object_is_refused_at_once_in_one_line(good):
    good["preprocess"] = {**good["preprocess"], **{f"k{i}": 0 for i in range(200_000)}}
    text = json.dumps(good)
    assert len(text) < weights.MAX_BYTES
    with pytest.raises(ValueError, match=r"unknown field\(s\): k0, k1") as info:
        weights.loads(text)
    assert len(str(info.value)) < 120 and "\n" not in str(info.value)


def test_the_files_preprocessing_is_what_the_model_uses(tmp_path):
    """A neuron that says yes to exactly one input: a slanted stroke's deskewed
    input. Written with deskew, the file sees the slanted stroke as that input;
    the same weights with the plain pipeline do not."""
    slanted = np.zeros((28, 28), np.uint8)
    for y in range(4, 24):
        x = round(14 - 0.4 * (y - 14))
        slanted[y, x - 1 : x + 2] = 255
    pipeline = Preprocess(deskew=True)
    x = pipeline.to_input(slanted).reshape(-1).astype(np.float64)
    assert (Preprocess().to_input(slanted).reshape(-1) != x).sum() > 20
    coef, bias = 2 * x - 1, 0.5 - x.sum()  # z = 0.5 for x itself, ≤ -0.5 otherwise
    deskewing = Neuron(target=1, preprocess=pipeline).set_weights(coef, [bias])
    plain = Neuron(target=1).set_weights(coef, [bias])
    a = weights.load_weights(weights.write(tmp_path / "deskew.json", deskewing))
    b = weights.load_weights(weights.write(tmp_path / "plain.json", plain))
    c = weights.load_weights(as_version_1(weights.to_dict(deskewing)))
    assert a.preprocess == pipeline and b.preprocess == c.preprocess == Preprocess()
    see = [m.to_input(slanted).reshape(1, -1) for m in (a, b, c)]
    assert [int(m.predict(s)[0]) for m, s in zip((a, b, c), see, strict=True)] == [
        1,
        0,
        0,
    ]
