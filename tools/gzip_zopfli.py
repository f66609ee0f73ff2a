"""Gzip files for the build with zopfli, the smallest gzip a browser can decode.

    python tools/gzip_zopfli.py SOURCE DEST [SOURCE DEST ...]

Writes DEST, the gzip stream of SOURCE, for each pair, on every core (build.py keeps
them in a cache by the source's sha256: about 0.4 MB/s a core). zopfli's output is
plain gzip (RFC 1952), 4-5 % smaller than zlib's level 9 here, and the same input
always gives the same bytes (mtime 0).
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import zopfli.gzip

ITERATIONS = 1  # more iterations: under 0.5 % smaller, several times slower


def gzip_file(source: str, dest: str) -> None:
    data = zopfli.gzip.compress(Path(source).read_bytes(), numiterations=ITERATIONS)
    Path(dest).write_bytes(data)


def main(args: list[str]) -> None:
    if not args or len(args) % 2:
        sys.exit(__doc__.splitlines()[2].strip())
    pairs = list(zip(args[::2], args[1::2], strict=True))
    # the largest first, so that no core is left with one big file at the end
    pairs.sort(key=lambda p: -os.path.getsize(p[0]))
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(gzip_file, *zip(*pairs, strict=True)))


if __name__ == "__main__":
    main(sys.argv[1:])
