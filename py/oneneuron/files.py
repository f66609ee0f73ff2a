"""What every module that reads or writes files shares: the error a bad data file
raises, the user cache and the atomic write.

Nothing here knows what the files hold (MNIST, digit sets, weights): data.py,
digitsets.py and weights.py each read their own format and use these three.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class DataError(ValueError):
    """A data file is missing, damaged or not what it claims to be."""


def cache_dir(kind: str) -> Path:
    """Where verified downloads of ``kind`` are kept: $ONENEURON_CACHE if set (one
    folder for every kind), else ~/.cache/oneneuron/<kind> ($XDG_CACHE_HOME too).

    Examples
    --------
    >>> cache_dir("mnist").is_absolute()
    True
    """
    if os.environ.get("ONENEURON_CACHE"):
        return Path(os.environ["ONENEURON_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "oneneuron" / kind


def atomic_write(path: str | os.PathLike, data: bytes, *, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` whole or not at all: a temporary file beside it,
    then a rename. On any failure (a full disk, an interrupt) nothing is left behind
    and ``path`` keeps what it held.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a" / "b.txt"
    >>> atomic_write(p, b"hi").read_bytes()
    b'hi'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)  # mkstemp makes 0600; our files are served and committed
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
