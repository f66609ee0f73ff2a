"""Write a .gz and a .br beside each compressible file of a folder, byte-identical
from build to build.

    python tools/compress.py CACHE ROOT

Run by build.py with the virtual environment's Python: gzip by zopfli
(tools/gzip_zopfli.py), Brotli by tools/brotli.mjs. Both are slow (~45 s each for
pyodide.asm.wasm), so each result is kept in CACHE by its source's sha256, under the
program's own: a changed program starts afresh. A failure ends with one line on stderr.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
# Served Brotli- or gzip-compressed when the browser accepts it (wheels and zips
# already are compressed; tools/server.py negotiates).
GZIP_SUFFIXES = (
    ".wasm", ".js", ".mjs", ".json", ".css", ".html", ".svg", ".bin", ".map",
)  # fmt: skip
# Zips the build writes uncompressed, to be compressed whole like the other files:
# python_stdlib.zip's .pyc files share much (tools/bytecode_pyodide.py).
STORED_ZIPS = ("python_stdlib.zip",)
PROGRAMS = {  # suffix: (command, what it is)
    ".gz": ([sys.executable, str(TOOLS / "gzip_zopfli.py")], "gzip (zopfli)"),
    ".br": (["node", str(TOOLS / "brotli.mjs")], "Brotli (quality 11)"),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compressible(root: Path) -> list[Path]:
    """The files under ``root`` that get a .gz and a .br."""
    return [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file() and (p.suffix in GZIP_SUFFIXES or p.name in STORED_ZIPS)
    ]


def compress(cache: Path, files: list[Path]) -> None:
    """Write FILE.gz and FILE.br for each of ``files``, made or taken from ``cache``."""
    digests = {path: sha256(path) for path in files}
    for suffix, (program, what) in PROGRAMS.items():
        kept_in = cache / suffix[1:] / sha256(Path(program[-1]))[:16]
        kept_in.mkdir(parents=True, exist_ok=True)
        kept = {path: kept_in / f"{digests[path]}{suffix}" for path in files}
        missing = sorted({k for k in kept.values() if not k.is_file()})
        if missing:
            print(f"==> compressing {len(missing)} files: {what}", flush=True)
            work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=kept_in))
            try:
                sources = {kept[p]: p for p in files}
                pairs = [str(a) for k in missing for a in (sources[k], work / k.name)]
                subprocess.run([*program, *pairs], check=True)
                for k in missing:  # a rename: a build beside this one never reads half
                    os.replace(work / k.name, k)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        for path, k in kept.items():
            shutil.copyfile(k, path.with_name(path.name + suffix))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[3].strip(), file=sys.stderr)
        return 2
    try:
        compress(Path(argv[0]), compressible(Path(argv[1])))
    except subprocess.CalledProcessError as exc:
        print(f"{exc.cmd[1]} exited with {exc.returncode}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
