"""The command line: train, evaluate, predict; one-line errors with exit status 2.

Most tests call ``main([...])`` in-process (fast); a few run the real thing in a
subprocess: ``python -m oneneuron`` and the ``oneneuron`` console script.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from oneneuron import __version__, data, metrics, weights
from oneneuron.cli import build_parser, main
from oneneuron.preprocess import Preprocess
from oneneuron.strokes import stroke_width
from oneneuron.train import TrainConfig, fit

pytestmark = pytest.mark.cpython_only


def run(argv, capsys) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit status, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse exits on usage errors and --help
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


_MADE: dict = {}  # (split, Preprocess) → inputs, made once per session


@pytest.fixture
def fake_data(monkeypatch, mnist_train, mnist_test, mnist_images):
    """Serve the session's MNIST, made with the pipeline asked for, to the CLI;
    record which splits it asked for."""
    calls = []

    def load_inputs(split, *, preprocess=None, data_dir=None, progress=True):
        calls.append(split)
        if preprocess is None or preprocess == Preprocess():
            return {"train": mnist_train, "test": mnist_test}[split]
        if (split, preprocess) not in _MADE:
            images, labels = mnist_images[split]
            X = preprocess.to_input(images).reshape(len(images), -1)
            _MADE[split, preprocess] = (X, labels)
        return _MADE[split, preprocess]

    monkeypatch.setattr(data, "load_inputs", load_inputs)
    return calls


@pytest.fixture(scope="module")
def models(tmp_path_factory, mnist_train):
    """A ten-neuron and a one-neuron weights file trained on all of MNIST."""
    X, y = mnist_train
    folder = tmp_path_factory.mktemp("weights")
    digits = fit(X, y, TrainConfig(target="all", epochs=2))
    six = fit(X, y, TrainConfig(target=6, epochs=2))
    return {
        "digits": (weights.write(folder / "digits.json", digits), digits),
        "six": (weights.write(folder / "six.json", six), six),
    }


# -- train -----------------------------------------------------------------------------
def test_train_writes_a_complete_weights_file(tmp_path, capsys, mnist_test):
    # The real path: MNIST files found and preprocessed by the CLI itself.
    out_file = tmp_path / "six.json"
    argv = ["train", "--samples", 3000, "--epochs", 2, "--lr", 0.02]
    code, out, err = run([*argv, "--quiet", "--out", out_file], capsys)
    assert code == 0, err
    assert f"wrote {out_file}" in out and "test_accuracy" in out
    d = weights.read(out_file)
    t = d["training"]
    assert t["backend"] == "numpy" and t["device"] == "cpu"
    assert (t["target"], t["epochs"], t["lr"], t["samples"]) == (6, 2, 0.02, 3000)
    assert t["oneneuron"] == __version__
    assert d["version"] == 2 and d["preprocess"] == Preprocess().to_dict()
    # The recorded command reproduces the run's settings.
    command = shlex.split(t["command"])
    assert command[:4] == ["python", "-m", "oneneuron", "train"]
    again = build_parser().parse_args(command[3:])
    for name in ("target", "optimizer", "lr", "epochs", "batch_size", "seed", "l2"):
        assert getattr(again, name) == t[name], name
    assert again.out == out_file
    # Metrics are those of the written model on the 10,000 test images.
    m = d["metrics"]
    assert m["test_samples"] == 10000
    X, y = mnist_test
    want = metrics.evaluate(weights.load_weights(out_file), X, y)
    for key in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        assert m[f"test_{key}"] == pytest.approx(want[key]), key
    assert m["test_accuracy"] > 0.95


def test_train_ten_json(capsys, fake_data, tmp_path):
    argv = ["train", "--target", "all", "--samples", 5000, "--epochs", 1, "--json"]
    code, out, err = run([*argv, "--out", tmp_path / "d.json"], capsys)
    assert code == 0, err
    result = json.loads(out)  # --json prints JSON and nothing else
    assert result["training"]["target"] == "all"
    cm = np.array(result["metrics"]["test_confusion"])
    assert cm.shape == (10, 10) and cm.sum() == 10000
    assert result["metrics"]["test_accuracy"] == pytest.approx(np.trace(cm) / 1e4)
    assert fake_data == ["train", "test"]
    assert weights.load_weights(tmp_path / "d.json").classes_ == tuple(range(10))


def test_train_a_hidden_layer_then_evaluate_and_predict_with_it(
    capsys, fake_data, tmp_path, examples
):
    out_file = tmp_path / "h.json"
    argv = ["train", "--target", "all", "--hidden", 16, "--samples", 6000]
    argv += ["--epochs", 3, "--batch-size", 128]
    code, out, err = run([*argv, "--quiet", "--out", out_file], capsys)
    assert code == 0, err
    d = weights.read(out_file)
    assert d["version"] == 3 and d["training"]["hidden"] == 16
    assert "--hidden 16" in d["training"]["command"]
    assert np.array(d["layers"][0]["weights"]).shape == (16, 576)
    assert d["metrics"]["test_accuracy"] > 0.85
    code, out, err = run(["evaluate", "--weights", out_file, "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["accuracy"] == d["metrics"]["test_accuracy"]
    image, _ = examples[0]
    png = _save(image, tmp_path / "0.png", "PNG")
    code, out, err = run(["predict", "--weights", out_file, png, "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert len(result["probabilities"]) == 10 and result["digit"] in range(10)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--target", "all", "--hidden", "300"],
            "hidden must be a whole number from 1 to 256 (or 0: no hidden layer), "
            "got 300",
        ),
        (
            ["--target", "6", "--hidden", "8"],
            "a hidden layer feeds ten output neurons: use target all, or hidden 0",
        ),
        (["--target", "all", "--hidden", "many"], "argument --hidden: invalid int"),
    ],
)
def test_train_refuses_a_bad_hidden_layer_in_one_line(capsys, argv, message):
    code, out, err = run(["train", *argv, "--quiet"], capsys)
    assert code == 2 and out == ""
    assert message in one_line_error(err)


def test_train_validation_split(capsys, fake_data, tmp_path):
    out_file = tmp_path / "v.json"
    argv = ["train", "--validation", 1, "--samples", 2000, "--epochs", 1, "--quiet"]
    code, _, err = run([*argv, "--out", out_file], capsys)
    assert code == 0, err
    d = json.loads(out_file.read_text())  # strict JSON: parsed by the browser too
    assert d["training"]["validation"] == 1
    assert d["metrics"]["validation_samples"] == 1
    assert d["metrics"]["validation_roc_auc"] is None  # one image: AUC undefined
    assert "--validation 1" in d["training"]["command"]


def test_train_without_out_writes_nothing(capsys, fake_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["train", "--samples", 500, "--epochs", 1, "--quiet"], capsys)
    assert code == 0 and "wrote" not in out
    assert list(tmp_path.iterdir()) == []


def test_divergence_exits_with_one_line_and_writes_nothing(capsys, fake_data, tmp_path):
    out_file = tmp_path / "never.json"
    argv = ["train", "--optimizer", "sgd", "--lr", "1e39", "--samples", 1000]
    code, _, err = run([*argv, "--quiet", "--out", out_file], capsys)
    assert code == 1
    line = one_line_error(err)
    assert "diverged" in line and "nothing was written" in line
    assert not out_file.exists() and list(tmp_path.iterdir()) == []


def test_unwritable_out_is_one_line(capsys, fake_data, tmp_path):
    (tmp_path / "a-file").write_text("")
    argv = ["train", "--samples", 500, "--epochs", 1, "--quiet"]
    code, _, err = run([*argv, "--out", tmp_path / "a-file" / "w.json"], capsys)
    assert code == 1
    assert one_line_error(err).startswith("oneneuron: error:")


def test_no_mnist_anywhere_is_one_line(capsys, models, monkeypatch, tmp_path):
    # No local files and no mirror that answers: the (multi-line) DataError is
    # reported in one line that says what to run.
    monkeypatch.setattr(data, "_local_dirs", lambda: [])
    monkeypatch.setattr(data, "MIRRORS", ("http://127.0.0.1:9/",))  # refused
    monkeypatch.setenv("ONENEURON_CACHE", str(tmp_path))
    code, out, err = run(["evaluate", "--weights", models["six"][0]], capsys)
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert "could not get t10k-images-idx3-ubyte" in line
    assert "python3 build.py setup" in line
    assert list(tmp_path.iterdir()) == []


def test_cupy_without_cupy(capsys, fake_data, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    code, out, err = run(["train", "--backend", "cupy"], capsys)
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert "pip install .[gpu]" in line
    assert fake_data == []  # it failed before loading any data


@pytest.mark.cupy
def test_train_on_cupy_writes_the_same_format(capsys, fake_data, tmp_path):
    # The real GPU path through the CLI, preprocessing and all: the file says where
    # it was trained, reads back as a host (numpy) model, and scores like a numpy run.
    from oneneuron.backend import BackendError, get_namespace

    try:
        get_namespace("cupy")
    except BackendError as exc:
        pytest.skip(str(exc))
    argv = ["train", "--target", "all", "--samples", 5000, "--epochs", 2, "--quiet"]
    argv += ["--deskew", "--threshold", "0.35"]
    files = {b: tmp_path / f"{b}.json" for b in ("numpy", "cupy")}
    for b, out_file in files.items():
        code, _, err = run([*argv, "--backend", b, "--out", out_file], capsys)
        assert code == 0, err
    d = {b: weights.read(f) for b, f in files.items()}
    assert d["cupy"]["training"]["backend"] == "cupy"
    assert d["cupy"]["training"]["device"] not in ("", "cpu")
    assert d["cupy"]["preprocess"] == d["numpy"]["preprocess"]
    model = weights.load_weights(files["cupy"])
    assert isinstance(model.weights_numpy()[0], np.ndarray)
    acc = {b: d[b]["metrics"]["test_accuracy"] for b in d}
    assert acc["cupy"] > 0.85
    assert abs(acc["cupy"] - acc["numpy"]) <= 0.005  # same run, another adding order


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["train", "--lr", "-1"], "lr must be a finite number > 0, got -1"),
        (["train", "--lr", "nan"], "lr must be a finite number > 0"),
        (["train", "--lr", "fast"], "invalid float value"),
        (["train", "--target", "11"], "target must be a digit 0–9 or 'all'"),
        (["train", "--target", "six"], "target must be a digit 0–9 or 'all'"),
        (["train", "--epochs", "0"], "epochs must be a whole number"),
        (["train", "--epochs", "1.5"], "invalid int value"),
        (["train", "--batch-size", "0"], "batch size must be a whole number ≥ 1"),
        (["train", "--validation", "-1"], "validation must be ≥ 0"),
        (["train", "--optimizer", "rmsprop"], "invalid choice"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "required: COMMAND"),
        (["fly"], "invalid choice"),
        (["evaluate"], "required: --weights"),
        (["predict", "--weights", "w.json"], "required: image"),
    ],
)
def test_bad_arguments(capsys, fake_data, argv, match):
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert match in one_line_error(err)
    assert fake_data == []


# -- evaluate --------------------------------------------------------------------------
def test_evaluate_one_neuron(capsys, models, mnist_test):
    path, model = models["six"]
    code, out, err = run(["evaluate", "--weights", path, "--quiet"], capsys)
    assert code == 0, err
    want = metrics.evaluate(model, *mnist_test)
    assert "10,000 images" in out
    for key in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        assert f"{key:<22} {want[key]:.4f}" in out, key
    assert want["accuracy"] > 0.98 and want["roc_auc"] > 0.99


def test_evaluate_ten_neurons(capsys, models, mnist_test):
    path, model = models["digits"]
    code, out, err = run(["evaluate", "--weights", path, "--quiet"], capsys)
    assert code == 0, err
    want = metrics.evaluate(model, *mnist_test)
    assert f"accuracy               {want['accuracy']:.4f}" in out
    assert "confusion (rows: true digit, columns: predicted):" in out
    lines = out.splitlines()
    start = lines.index("confusion (rows: true digit, columns: predicted):")
    rows = [[int(v) for v in line.split()] for line in lines[start + 2 : start + 12]]
    assert [r[0] for r in rows] == list(range(10))
    np.testing.assert_array_equal([r[1:] for r in rows], want["confusion"])
    assert want["accuracy"] > 0.9


def test_evaluate_json(capsys, models):
    code, out, _ = run(["evaluate", "--weights", models["six"][0], "--json"], capsys)
    assert code == 0
    assert set(json.loads(out)) == {
        "dataset",
        "split",
        "samples",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
    }


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "is not valid JSON"),
        ('{"format": "oneneuron-weights", "version": 2}', "missing the field"),
        (None, "cannot read weights file"),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_bad_weights_file(capsys, tmp_path, fake_data, content, match, command):
    path = tmp_path / "w.json"
    if content is not None:
        path.write_text(content)
    image = tmp_path / "x.pgm"
    image.write_bytes(b"P5 2 2 255\n\0\0\0\0")
    argv = ["--weights", path] + ([image] if command == "predict" else [])
    code, out, err = run([command, *argv], capsys)
    assert code == 2 and out == ""
    assert match in one_line_error(err)


# -- predict ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def examples(models, mnist_images, mnist_test):
    """One confidently right test image per digit: index → (raw image, label)."""
    _, model = models["digits"]
    X, y = mnist_test
    p = np.asarray(model.predict_proba(X))
    chosen = {}
    for i in np.argsort(-p.max(axis=1)):
        if p[i].argmax() == y[i] and int(y[i]) not in chosen:
            chosen[int(y[i])] = int(i)
    images = mnist_images["test"][0]
    return {d: (images[i], X[i]) for d, i in sorted(chosen.items())}


def _save(image: np.ndarray, path: Path, fmt: str) -> Path:
    Image = pytest.importorskip("PIL.Image")
    Image.fromarray(image).save(path, format=fmt)
    return path


@pytest.mark.parametrize("fmt", ["PNG", "PPM"])  # Pillow writes 8-bit gray PPM as PGM
def test_predict_image_files(capsys, models, examples, tmp_path, fmt):
    path, _ = models["digits"]
    for digit in (0, 3, 6, 9):
        image, _ = examples[digit]
        file = _save(image, tmp_path / f"{digit}.img", fmt)
        if fmt == "PPM":
            assert file.read_bytes()[:2] == b"P5"  # a real PGM
        code, out, err = run(["predict", "--weights", path, file, "--json"], capsys)
        assert code == 0, err
        result = json.loads(out)
        assert result["digit"] == digit
        assert 0.5 < result["probability"] <= 1
        assert sum(result["probabilities"]) == pytest.approx(1, abs=1e-5)


def test_predict_sees_what_training_saw(capsys, models, examples, tmp_path):
    # dark ink on light paper (inverted), and a canvas-like RGBA with alpha as ink
    path, _ = models["digits"]
    image, x = examples[4]
    rgba = np.zeros((*image.shape, 4), np.uint8)
    rgba[..., 3] = image  # black ink of varying opacity on a transparent canvas
    for name, pixels in (("paper.png", 255 - image), ("canvas.png", rgba)):
        file = _save(pixels, tmp_path / name, "PNG")
        argv = ["predict", "--weights", path, file, "--json", "--show"]
        code, out, err = run(argv, capsys)
        assert code == 0, err
        result = json.loads(out)
        np.testing.assert_array_equal(np.array(result["seen"]).ravel(), x)
        assert result["digit"] == 4


def test_predict_from_stdin(capsys, models, examples, tmp_path, monkeypatch):
    path, _ = models["digits"]
    image, _ = examples[7]
    raw = _save(image, tmp_path / "7.png", "PNG").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code, out, err = run(["predict", "--weights", path, "-"], capsys)
    assert code == 0, err
    assert out.startswith("7: P = ")


def test_predict_one_neuron(capsys, models, examples, tmp_path):
    path, _ = models["six"]
    six = _save(examples[6][0], tmp_path / "6.png", "PNG")
    code, out, _ = run(["predict", "--weights", path, six], capsys)
    assert code == 0 and out.startswith("a 6: P(6) = ")
    one = _save(examples[1][0], tmp_path / "1.png", "PNG")
    code, out, _ = run(["predict", "--weights", path, one, "--show"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("not a 6: P(6) = 0.0")
    assert len(lines) == 25 and all(len(line) == 48 for line in lines[1:])
    assert "██" in out


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "is empty"),
        (b"this is not an image\n", "cannot read image .*not a PNG, PGM"),
        (b"\x89PNG\r\n\x1a\n" + bytes(30), "cannot read image"),  # cut short
        (None, "cannot read image"),
    ],
)
def test_predict_bad_image(capsys, models, tmp_path, content, match):
    file = tmp_path / "drawing.png"
    if content is not None:
        file.write_bytes(content)
    code, out, err = run(["predict", "--weights", models["six"][0], file], capsys)
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert "drawing.png" in line
    assert re.search(match, line)


# -- the real thing, in subprocesses ---------------------------------------------------
def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_python_m_oneneuron_help():
    result = _run([sys.executable, "-m", "oneneuron", "--help"])
    assert result.returncode == 0 and result.stderr == ""
    for command in ("train", "evaluate", "predict"):
        assert command in result.stdout
    result = _run([sys.executable, "-m", "oneneuron", "train", "--help"])
    assert result.returncode == 0
    assert "--target" in result.stdout and "pip install .[gpu]" in result.stdout


def test_python_m_oneneuron_bad_argument():
    result = _run([sys.executable, "-m", "oneneuron", "train", "--lr", "-1"])
    assert result.returncode == 2 and result.stdout == ""
    assert one_line_error(result.stderr) == (
        "oneneuron: error: lr must be a finite number > 0, got -1.0"
    )


def test_console_script():
    script = shutil.which("oneneuron", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the oneneuron console script is not installed next to python")
    result = _run([script, "--version"])
    assert (
        result.returncode == 0 and result.stdout.strip() == f"oneneuron {__version__}"
    )
    result = _run([script, "predict", "--weights", "missing.json", "x.png"])
    assert result.returncode == 2
    assert "cannot read weights file missing.json" in one_line_error(result.stderr)


# -- predict: what an image may be ----------------------------------------------------
def _png(width: int, height: int) -> bytes:
    """A valid black 1-bit PNG of any size, written by hand: tiny for its pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    row = bytes(1 + (width + 7) // 8)  # filter byte, then 8 pixels a byte
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height", "match"),
    [
        # 400 Mpx in 61 kB: Pillow itself refuses it as a decompression bomb
        (20000, 20000, r"image .*big\.png is over the limit of 4096 × 4096 pixels"),
        # 144 Mpx: Pillow only warns, and decoding took 1.44 GB
        (12000, 12000, r"big\.png is 12000 × 12000 pixels, over the limit of 4096 ×"),
        (4097, 1, r"big\.png is 4097 × 1 pixels, over the limit of 4096 × 4096"),
    ],
)
def test_predict_refuses_too_many_pixels_before_decoding(
    capsys, models, tmp_path, width, height, match
):
    big = tmp_path / "big.png"
    big.write_bytes(_png(width, height))
    assert big.stat().st_size < 200_000
    code, out, err = run(["predict", "--weights", models["six"][0], big], capsys)
    assert code == 2 and out == ""
    assert re.search(match, one_line_error(err))  # no DecompressionBombWarning


def test_predict_bomb_in_the_real_cli(models, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(_png(20000, 20000))
    cmd = [sys.executable, "-m", "oneneuron", "predict", "--weights", models["six"][0]]
    result = _run([*cmd, str(big)])
    assert result.returncode == 2 and result.stdout == ""
    assert "over the limit of 4096 × 4096 pixels" in one_line_error(result.stderr)


def test_predict_reads_the_largest_side(capsys, models, tmp_path):
    wide = np.zeros((8, 4096), np.uint8)
    wide[2:6, 2000:2004] = 255
    file = _save(wide, tmp_path / "wide.png", "PNG")
    code, out, err = run(["predict", "--weights", models["six"][0], file], capsys)
    assert code == 0 and out.startswith("not a 6"), err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_predict_refuses_an_endless_image(capsys, models):
    code, out, err = run(
        ["predict", "--weights", models["six"][0], "/dev/zero"], capsys
    )
    assert code == 2 and out == ""
    assert one_line_error(err) == (
        "oneneuron: error: image /dev/zero is over 64 MiB: "
        "a picture of a digit needs far less (scale it down)"
    )


def _deep(image: np.ndarray, kind: str, tmp_path: Path) -> Path:
    """``image`` (uint8, bright ink) saved with more than 8 bits per level."""
    Image = pytest.importorskip("PIL.Image")
    if kind == "png16":  # ink 0–65535, as a 16-bit scan gives it
        path = tmp_path / "d16.png"
        Image.fromarray(image.astype(np.uint16) * 257).save(path)
        assert Image.open(path).mode == "I;16"
    elif kind == "pgm16":  # dark ink on light paper, 16-bit binary PGM
        path = tmp_path / "d16.pgm"
        paper = (255 - image.astype(np.uint16)) * 257
        h, w = image.shape
        path.write_bytes(f"P5 {w} {h} 65535\n".encode() + paper.astype(">u2").tobytes())
        assert Image.open(path).mode == "I"
    else:  # float levels 0–1: a PFM, Pillow's mode F
        path = tmp_path / "d.pfm"
        Image.fromarray(image.astype(np.float32) / 255).save(path, format="PPM")
        assert Image.open(path).mode == "F"
    return path


@pytest.mark.parametrize("kind", ["png16", "pgm16", "pfm"])
def test_predict_deep_images_read_like_8_bit(capsys, models, examples, tmp_path, kind):
    path, _ = models["digits"]
    for digit in (2, 6):
        image, x = examples[digit]
        file = _deep(image, kind, tmp_path)
        argv = ["predict", "--weights", path, file, "--json", "--show"]
        code, out, err = run(argv, capsys)
        assert code == 0, err
        result = json.loads(out)
        np.testing.assert_array_equal(np.array(result["seen"]).ravel(), x)
        assert result["digit"] == digit


@pytest.mark.parametrize("kind", ["png16", "pgm16"])
def test_a_16_bit_copy_of_a_faint_picture_reads_as_the_picture(
    capsys, models, examples, tmp_path, kind
):
    """Levels are scaled by the format's full range, not by the picture's own
    brightest level: faint ink (light-gray paper) stays as faint in 16 bits."""
    path, _ = models["digits"]
    image, _ = examples[5]
    faint = (image.astype(np.uint16) * 3 // 5).astype(np.uint8)  # ink at most 153
    seen = []
    for file in (
        _save(faint, tmp_path / "faint.png", "PNG"),
        _deep(faint, kind, tmp_path),
    ):
        argv = ["predict", "--weights", path, file, "--json", "--show"]
        code, out, err = run(argv, capsys)
        assert code == 0, err
        seen.append(json.loads(out)["seen"])
    assert seen[0] == seen[1]
    assert np.array(seen[0]).sum() < np.array(_input_of(image)).sum()  # faint: less ink


def _input_of(image: np.ndarray) -> np.ndarray:
    from oneneuron.preprocess import to_input

    return to_input(image)


@pytest.mark.parametrize("fmt", ["BMP", "JPEG"])
def test_predict_reads_bmp_and_jpeg(capsys, models, examples, tmp_path, fmt):
    path, _ = models["digits"]
    image, _ = examples[3]
    big = np.kron(255 - image, np.ones((4, 4), np.uint8))  # paper, and room for JPEG
    file = _save(big, tmp_path / "3.img", fmt)
    code, out, err = run(["predict", "--weights", path, file, "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["digit"] == 3


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "WEBP"])
def test_predict_refuses_other_formats(capsys, models, examples, tmp_path, fmt):
    Image = pytest.importorskip("PIL.Image")
    file = tmp_path / "digit.img"
    try:
        Image.fromarray(examples[3][0]).save(file, format=fmt)
    except (KeyError, OSError):
        pytest.skip(f"this Pillow cannot write {fmt}")
    code, out, err = run(["predict", "--weights", models["six"][0], file], capsys)
    assert code == 2 and out == ""
    assert re.search(
        r"cannot read image .*digit\.img: not a PNG, PGM/PPM, BMP or JPEG file",
        one_line_error(err),
    )


# -- issue #14: the preprocessing is chosen, recorded and used -------------------------
def test_train_options_are_made_from_train_config():
    from dataclasses import fields

    from oneneuron.cli import TRAIN_OPTIONS

    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    options = {a.dest: a for a in train._actions}
    defaults = TrainConfig()
    assert set(TRAIN_OPTIONS) == {f.name for f in fields(TrainConfig)}
    for f in fields(TrainConfig):
        action = options[f.name]
        name, switch = (
            f.name.replace("_", "-"),
            isinstance(getattr(defaults, f.name), bool),
        )
        want = [f"--{name}", f"--no-{name}"] if switch else [f"--{name}"]
        assert action.option_strings == want, f.name
        assert action.default == getattr(defaults, f.name), f.name
        assert action.help.startswith(TRAIN_OPTIONS[f.name]["help"]), f.name
    args = parser.parse_args(["train", "--batch-size", "64", "--l2", "1e-4"])
    assert (args.batch_size, args.l2, args.target) == (64, 1e-4, 6)
    args = parser.parse_args(["train"])
    assert (args.deskew, args.threshold, args.box, args.strokes) == (
        False,
        0.35,
        20,
        "asis",
    )


def test_train_with_a_pipeline_records_it_and_uses_it(
    capsys, fake_data, tmp_path, mnist_images
):
    out_file = tmp_path / "d.json"
    argv = ["train", "--target", "all", "--samples", 4000, "--epochs", 1, "--quiet"]
    argv += ["--deskew", "--threshold", 0.5, "--box", 18, "--strokes", "even"]
    argv += ["--stroke-band", 0.1, 0.9]
    code, _, err = run([*argv, "--out", out_file], capsys)
    assert code == 0, err
    d = weights.read(out_file)
    base = Preprocess(deskew=True, threshold=0.5, box=18)
    images, _ = mnist_images["train"]
    widths = stroke_width(base.to_input(images[:4000]))
    low, high = np.quantile(widths, [0.1, 0.9])
    stroke = {"low": low, "high": high}
    assert d["preprocess"] == {"deskew": True, "threshold": 0.5, "grid": 24,
                               "box": 18, "stroke": stroke}  # fmt: skip
    model = weights.load_weights(out_file)
    pipeline = Preprocess(deskew=True, threshold=0.5, box=18, stroke=(low, high))
    assert model.preprocess == pipeline
    # The test metrics are those of the test images made with the whole pipeline.
    test_images, test_labels = mnist_images["test"]
    X = pipeline.to_input(test_images).reshape(len(test_images), -1)
    want = metrics.evaluate(model, X, test_labels)
    assert d["metrics"]["test_accuracy"] == pytest.approx(want["accuracy"])
    assert d["metrics"]["test_accuracy"] > 0.8
    # The recorded command gives the same pipeline again.
    again = build_parser().parse_args(shlex.split(d["training"]["command"])[3:])
    assert (again.deskew, again.threshold, again.box, again.strokes) == (
        True,
        0.5,
        18,
        "even",
    )
    assert again.stroke_band == [0.1, 0.9]
    assert "threshold" not in d["training"]  # it is in "preprocess"


def test_train_records_the_plain_pipeline_flags(capsys, fake_data, tmp_path):
    code, _, err = run(
        ["train", "--samples", 2000, "--epochs", 1, "--quiet", "--out", tmp_path / "s"],
        capsys,
    )
    assert code == 0, err
    d = weights.read(tmp_path / "s")
    assert d["preprocess"] == Preprocess().to_dict()
    command = d["training"]["command"]
    assert "--no-deskew --threshold 0.35 --box 20 --strokes asis" in command


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--threshold", "2"], r"preprocess\.threshold must be in \(0, 1\], got 2\.0"),
        (["--box", "30"], r"preprocess\.box must be a whole number from 1 to 24"),
        (["--strokes", "thin"], "invalid choice: 'thin'"),
        (
            ["--strokes", "even", "--stroke-band", "0.9", "0.1"],
            r"stroke-band must be two quantiles with 0 ≤ QLOW ≤ QHIGH ≤ 1, "
            r"got 0\.9 0\.1$",
        ),
        (["--stroke-band", "0", "2"], "stroke-band .* got 0 2$"),
        (["--stroke-band", "0.5"], "expected 2 arguments"),
    ],
)
def test_bad_pipeline_flags_are_one_line(capsys, fake_data, argv, match):
    code, out, err = run(["train", *argv], capsys)
    assert code == 2 and out == ""
    assert re.search(match, one_line_error(err))
    assert fake_data == []


def _with_pipeline(path, pipeline, folder):
    """The weights file at ``path`` with ``pipeline`` instead of its own."""
    model = weights.load_weights(path)
    model.preprocess = pipeline
    return weights.write(folder / f"{pipeline.key()}.json", model), model


@pytest.mark.parametrize("dataset", ["optdigits", "mfeat"])
def test_evaluate_on_digits_by_other_hands(capsys, models, tmp_path, dataset):
    from oneneuron.digitsets import load_digitset

    images, labels = load_digitset(dataset)
    for pipeline in (Preprocess(), Preprocess(deskew=True)):
        path, model = _with_pipeline(models["digits"][0], pipeline, tmp_path)
        code, out, err = run(
            ["evaluate", "--weights", path, "--dataset", dataset, "--quiet"], capsys
        )
        assert code == 0, err
        X = pipeline.to_input(images).reshape(len(images), -1)
        want = metrics.evaluate(model, X, labels)
        name = {"optdigits": "UCI optdigits (rows 0–3822)", "mfeat": "UCI mfeat-pix"}
        assert f"{path} on {name[dataset]} ({len(images):,} images):" in out
        assert f"accuracy               {want['accuracy']:.4f}" in out
        code, out, _ = run(
            ["evaluate", "--weights", path, "--dataset", dataset, "--json"], capsys
        )
        result = json.loads(out)
        assert result["dataset"] == dataset and result["samples"] == len(images)
        assert result["accuracy"] == pytest.approx(want["accuracy"])
        if pipeline.deskew:  # the model's own pipeline was used, not the plain one
            X = Preprocess().to_input(images).reshape(len(images), -1)
            plain = metrics.evaluate(model, X, labels)
            assert result["accuracy"] != pytest.approx(plain["accuracy"])


def test_evaluate_uses_the_models_pipeline_on_mnist(capsys, models, tmp_path):
    pipeline = Preprocess(deskew=True)
    path, model = _with_pipeline(models["six"][0], pipeline, tmp_path)
    code, out, err = run(["evaluate", "--weights", path, "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert (result["dataset"], result["split"]) == ("mnist", "test")
    images, labels = data.load_mnist("test", progress=False)
    X = pipeline.to_input(images).reshape(len(images), -1)
    assert result["accuracy"] == pytest.approx(
        metrics.evaluate(model, X, labels)["accuracy"]
    )


def test_evaluate_split_is_for_mnist_only(capsys, models):
    argv = ["evaluate", "--weights", models["six"][0], "--dataset", "mfeat"]
    code, out, err = run([*argv, "--split", "train"], capsys)
    assert code == 2 and out == ""
    assert "--split chooses MNIST's images; mfeat has one set" in one_line_error(err)


def test_predict_sees_through_the_models_pipeline(capsys, models, examples, tmp_path):
    pipeline = Preprocess(deskew=True, box=14)
    path, _ = _with_pipeline(models["digits"][0], pipeline, tmp_path)
    raw = examples[1][0]
    image = _save(raw, tmp_path / "1.png", "PNG")
    argv = ["predict", "--weights", path, image, "--json", "--show"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    seen = np.array(json.loads(out)["seen"])
    np.testing.assert_array_equal(seen, pipeline.to_input(raw))
    assert (seen != Preprocess().to_input(raw)).any()
