"""The page's data: data/mnist.json and its .bin files, written by the build and read
by the page's Python.

The training images travel as packed inputs (:func:`pack_inputs`, 72 bytes an image),
one file per preprocessing variant; the MNIST test images and the foreign digit sets
as raw 28×28 images, which each model makes into inputs its own way
(:class:`ImageSet`). :func:`write_page_data` writes them (CPython, at build time);
:class:`ImageSet` and :func:`read_packed` read what the worker hands over.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .checks import is_number, whole
from .files import DataError
from .model import N_INPUTS
from .preprocess import Preprocess

PAGE_DATA = "oneneuron-mnist-bits"  # the format name of the page's data/mnist.json
PAGE_DATA_VERSION = 3  # 2: raw test images, training variants, foreign sets;
# 3: the test images' inputs packed for each training variant too
PACKED_BYTES = N_INPUTS // 8  # bytes of one packed 24×24 input (:func:`pack_inputs`)
# What a person reads about each set of digits the page measures a model on: its
# title, a few words on what it is, and its source. The page shows these words (from
# mnist.json, and from the handwriting report) and writes none of its own.
PAGE_SETS = {
    "test": {
        "title": "MNIST test digits",
        "what": "the kind it learned from",
        "source": "MNIST's own test set: digits by writers none of the training "
        "digits came from, never trained on",
    },
    "optdigits": {
        "title": "UCI optdigits",
        "what": "30 other writers, 32 × 32 scans",
        "source": "digits by 30 other writers, scanned as 32×32 bitmaps and "
        "counted in 4×4 blocks (UCI's training part)",
    },
    "mfeat": {
        "title": "UCI mfeat-pix",
        "what": "Dutch utility maps, 16 × 15 cells",
        "source": "digits from Dutch utility maps, 16 rows of 15 cells, each "
        "an ink level 0–6",
    },
}


def pack_inputs(X: np.ndarray) -> bytes:
    """0/1 inputs [N, 576] as bits, 72 bytes an image (how the page downloads MNIST).

    Examples
    --------
    >>> X = np.zeros((2, 576), np.uint8)
    >>> X[1, :8] = 1
    >>> raw = pack_inputs(X)
    >>> len(raw), bool((unpack_inputs(raw) == X).all())
    (144, True)
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != N_INPUTS:
        raise ValueError(f"inputs must have shape [N, {N_INPUTS}], got {X.shape}")
    return np.packbits(X.astype(bool), axis=1).tobytes()


def unpack_inputs(raw: bytes | bytearray | memoryview) -> np.ndarray:
    """The inverse of :func:`pack_inputs`: uint8 0/1 inputs [N, 576]."""
    bits = np.frombuffer(raw, np.uint8)
    if bits.size % PACKED_BYTES:
        raise DataError(
            f"packed inputs must be a multiple of {PACKED_BYTES} bytes, got {bits.size}"
        )
    return np.unpackbits(bits.reshape(-1, PACKED_BYTES), axis=1)


def write_page_data(
    out: str | os.PathLike,
    *,
    variants: Iterable[Any],
    data_dir: Any = None,
    sets: Iterable[str] = ("optdigits", "mfeat"),
    test_variants: Iterable[Any] = (),
) -> dict:
    """Write the page's data into the new folder ``out``, described by mnist.json.

    Parameters
    ----------
    out : a folder that must not exist yet
    variants : list of :class:`~oneneuron.preprocess.Preprocess`
        How the training images are made into inputs, one file each; the page's
        training panel picks one by its deskew setting, so at most one with deskew
        and one without.
    data_dir : where the MNIST files are (see :func:`load_mnist`)
    sets : foreign digit sets to include (:func:`oneneuron.digitsets.load_digitset`)
    test_variants : list of Preprocess
        More preprocessings whose test inputs are packed (a shipped model's own, so
        that its test scores need no preprocessing in the page), besides the
        training variants'.

    Returns
    -------
    dict, the content of mnist.json (every file name ends in .bin)::

        {"format": "oneneuron-mnist-bits", "version": 3,
         "train": {"count", "labels": "train-labels.bin", "image_bytes": 72,
                   "variants": {key: {"preprocess": Preprocess.to_dict(),
                                      "images": "train-<key>.bin"}}},
         "test": {"count", "labels", "images", "height": 28, "width": 28,
                  "image_bytes": 784, "title", "source",
                  "variants": {key: {"preprocess", "images": "test-<key>.bin",
                                     "image_bytes": 72}}},
         "sets": {name: {...the fields of "test" but "variants"...}}}

    Training images are packed inputs (:func:`pack_inputs`, 72 bytes an image);
    test and set images are the raw 28×28 uint8 images (ink bright), so that the
    page makes any model's inputs with that model's own preprocessing. The test
    images' inputs are packed for each training variant too: a run on the page
    checks and scores its model on them without preprocessing 10,000 images in
    the browser. Labels are one byte each.
    """
    from .data import load_mnist
    from .digitsets import load_digitset

    variants = list(variants)
    if not variants or not all(isinstance(v, Preprocess) for v in variants):
        raise ValueError(f"variants must be a list of Preprocess, got {variants!r}")
    deskews = [v.deskew for v in variants]
    if len(set(deskews)) != len(deskews):
        raise ValueError(
            "the page picks a training variant by its deskew setting alone: give "
            f"at most one with deskew on and one with it off, got {variants!r}"
        )
    sets = list(sets)
    unknown = [s for s in sets if s not in PAGE_SETS or s == "test"]
    if unknown:
        names = ", ".join(s for s in PAGE_SETS if s != "test")
        raise ValueError(f"sets must be among {names}, got {unknown[0]!r}")
    out = Path(out)
    out.mkdir()
    images, labels = load_mnist("train", data_dir=data_dir, progress=False)
    train: dict[str, Any] = {"count": len(labels), "image_bytes": PACKED_BYTES}
    train["labels"] = _write_bin(out, "train-labels", labels)
    train["variants"] = {}
    for v in variants:
        X = v.to_input(images).reshape(len(images), -1)
        train["variants"][v.key()] = {
            "preprocess": v.to_dict(),
            "images": _write_bin(out, f"train-{v.key()}", pack_inputs(X)),
        }
    meta: dict[str, Any] = {"format": PAGE_DATA, "version": PAGE_DATA_VERSION}
    meta["train"] = train
    test_images, test_labels = load_mnist("test", data_dir=data_dir, progress=False)
    meta["test"] = _write_raw_set(out, "test", test_images, test_labels)
    meta["test"]["variants"] = {}
    packed = {v.key(): v for v in [*variants, *test_variants]}  # each key once
    for v in packed.values():
        X = v.to_input(test_images).reshape(len(test_images), -1)
        meta["test"]["variants"][v.key()] = {
            "preprocess": v.to_dict(),
            "images": _write_bin(out, f"test-{v.key()}", pack_inputs(X)),
            "image_bytes": PACKED_BYTES,
        }
    meta["sets"] = {
        name: _write_raw_set(out, name, *load_digitset(name)) for name in sets
    }
    (out / "mnist.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return meta


def _write_bin(out: Path, stem: str, data: Any) -> str:
    """Write bytes (or an array's bytes) to ``out/stem.bin``; return the file name."""
    name = f"{stem}.bin"
    (out / name).write_bytes(data if isinstance(data, bytes) else data.tobytes())
    return name


def _write_raw_set(out: Path, name: str, images: Any, labels: Any) -> dict:
    """One set of raw labelled images (uint8 [N, H, W]), as mnist.json lists it."""
    images = np.ascontiguousarray(images, np.uint8)
    n, height, width = images.shape
    return {
        "count": n,
        "images": _write_bin(out, f"{name}-images", images),
        "labels": _write_bin(out, f"{name}-labels", np.asarray(labels, np.uint8)),
        "height": height,
        "width": width,
        "image_bytes": height * width,
        **PAGE_SETS[name],
    }


class ImageSet:
    """Labelled grayscale images (uint8 [N, H, W], ink bright) and the inputs that
    each preprocessing makes of them, made when first asked for and kept per key.

    Examples
    --------
    >>> images = np.zeros((2, 28, 28), np.uint8)
    >>> images[:, 4:24, 12:16] = 255
    >>> s = ImageSet.from_bytes(images.tobytes(), bytes([1, 7]), name="test")
    >>> len(s), s.inputs(Preprocess()).shape
    (2, (2, 576))
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images = images  # uint8 [N, H, W]
        self.labels = labels  # uint8 [N], digits
        self._inputs: dict[str, np.ndarray] = {}  # Preprocess.key() → uint8 [N, 576]

    @classmethod
    def from_bytes(
        cls, images: Any, labels: Any, *, height: int = 28, width: int = 28, name: str
    ) -> ImageSet:
        """A set from raw bytes: ``height × width`` bytes an image, one a label."""
        y = read_labels(labels, name)
        raw = np.frombuffer(bytes(images), np.uint8)
        if raw.size != len(y) * height * width:
            raise ValueError(
                f"{name}: {len(y)} labels need {len(y) * height * width:,} image bytes "
                f"({height}×{width} each), got {raw.size:,}"
            )
        return cls(raw.reshape(len(y), height, width), y)

    def __len__(self) -> int:
        return len(self.labels)

    def inputs(self, preprocess: Preprocess) -> np.ndarray:
        """The 0/1 inputs [N, 576] that ``preprocess`` makes of the images."""
        key = preprocess.key()
        if key not in self._inputs:
            X = preprocess.to_input(self.images)
            self._inputs[key] = X.reshape(len(X), N_INPUTS)
        return self._inputs[key]

    def keep(self, preprocess: Preprocess, X: np.ndarray) -> None:
        """Keep inputs [N, 576] that ``preprocess`` made of these images elsewhere
        (the build, in CPython: the same code, the same bits), so that
        :meth:`inputs` need not make them again."""
        if X.shape != (len(self), N_INPUTS):
            got = " × ".join(f"{n:,}" for n in X.shape)
            raise ValueError(
                f"inputs ({preprocess.key()}) must be {len(self):,} × {N_INPUTS}, "
                f"one per image, got {got}"
            )
        self._inputs[preprocess.key()] = X

    def evaluate(self, model: Any, mistakes: int | None = None) -> dict[str, Any]:
        """:func:`oneneuron.metrics.evaluate` of ``model`` on these images, each
        made into an input by the model's own preprocessing; with ``mistakes``,
        each mistake's raw image too (uint8 [k·h·w] as ``mistakes["images"]``)."""
        from .metrics import evaluate

        out = evaluate(
            model, self.inputs(model.preprocess), self.labels, mistakes=mistakes
        )
        if mistakes is not None:
            m = out["mistakes"]
            m["images"] = self.images[m["index"]].reshape(-1).copy()
        return out

    def report(self, model: Any, name: str, misread: int) -> dict[str, Any]:
        """How ``model`` reads this set, as the page's handwriting report shows it
        (:meth:`oneneuron.page.Page.handwriting`).

        Returns ``name``; ``title`` and ``what`` (:data:`PAGE_SETS`' words);
        ``from``: "images" (measured here; :func:`file_report` says "file");
        ``count``, ``accuracy``, and for one neuron ``f1`` (for its target), as
        :func:`oneneuron.metrics.evaluate` gives them; ``wrong`` (how many it
        misreads) and ``mistakes``: up to ``misread``, in the set's order, as
        ``{"index": int32 [k], "label": int32 [k], "predicted": int32 [k] (the
        model's answer: a digit, or 1/0 "is / is not its target" for one neuron),
        "images": uint8 [k·h·w] (the raw images), "height": h, "width": w}``.
        """
        m = self.evaluate(model, mistakes=misread)
        mistakes = m["mistakes"]
        del mistakes["probability"]
        _, height, width = self.images.shape
        return {
            **_words(name),
            "from": "images",
            "count": m["samples"],
            "accuracy": m["accuracy"],
            **({"f1": m["f1"]} if "f1" in m else {}),
            "wrong": m["wrong"],
            "mistakes": {**mistakes, "height": height, "width": width},
        }

    def index(self, index: Any) -> int:
        """``index`` checked: a whole number 0 … N−1."""
        return whole(index, "index", 0, len(self) - 1)


def read_labels(raw: Any, what: str) -> np.ndarray:
    """Labels from bytes, one digit a byte."""
    y = np.frombuffer(bytes(raw), np.uint8)
    if y.size and y.max() > 9:
        raise ValueError(f"{what}: labels must be digits 0–9, got {int(y.max())}")
    return y


def read_packed(entry: Any) -> tuple[Preprocess, np.ndarray]:
    """One of mnist.json's test "variants" as the worker sends it: its Preprocess
    and its unpacked inputs [N, 576]."""
    if not isinstance(entry, dict) or set(entry) != {"preprocess", "images"}:
        got = (
            f"keys {sorted(entry)}" if isinstance(entry, dict) else type(entry).__name__
        )
        raise ValueError(
            "test inputs must be a list of {preprocess, images} as in "
            f"data/mnist.json, got {got}"
        )
    return read_preprocess(entry["preprocess"]), unpack_inputs(entry["images"])


def read_preprocess(value: Any) -> Preprocess:
    """A Preprocess from None (the default), a dict (mnist.json's) or itself."""
    if value is None:
        return Preprocess()
    if isinstance(value, Preprocess):
        return value
    if isinstance(value, dict):
        return Preprocess.from_dict(value)
    raise ValueError(
        f"preprocess must be a dict as in data/mnist.json, got {type(value).__name__}"
    )


def file_report(result: Any, model: Any) -> dict[str, Any]:
    """MNIST's row of the handwriting report from a weights file's (untrusted)
    metrics, when the test images are not loaded (:meth:`ImageSet.report`'s keys)."""
    m = result if isinstance(result, dict) else {}

    def num(key: str) -> float | None:
        return float(m[key]) if is_number(m.get(key)) else None

    count = num("test_samples")
    out = {
        **_words("mnist"),
        "what": "as its weights file says",  # not measured here
        "from": "file",
        "count": None if count is None else int(count),
        "accuracy": num("test_accuracy"),
        "wrong": None,
        "mistakes": None,
    }
    if model.kind == "one":
        out["f1"] = num("test_f1")
    return out


def _words(name: str) -> dict[str, Any]:
    """A set's name, title and a few words on it (MNIST's test set is "mnist")."""
    words = PAGE_SETS.get("test" if name == "mnist" else name, {})
    return {"name": name, "title": words.get("title", name), "what": words.get("what")}
