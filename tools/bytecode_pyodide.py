"""Runs inside Pyodide (tools/bytecode.mjs): compile what the page imports.

Pyodide ships its standard library as .py sources, and compiling the ~150 modules a
start imports took about 1.3 s of every first visit. Here, under the same Pyodide
(Python 3.12) that runs the page, the page's imports are made, and:

- python_stdlib.zip: Pyodide's zip with each imported module as an unchecked .pyc
  in place of its .py (line numbers kept, column ranges dropped); every other file
  byte for byte;
- site-packages.bin: numpy and oneneuron as loadPackage installs them, plus
  hash-checked .pyc files for the modules the page imports (Python ignores one whose
  source differs). Layout: uint32 length, a JSON index [[path, bytes], ...], then the
  files in that order.

Writes both to /out (a folder of the build, mounted by bytecode.mjs).
"""

import importlib
import importlib._bootstrap_external as bx
import importlib.util
import json
import os
import pkgutil
import struct
import sys
import zipfile

STDLIB = "/lib/python312.zip"
SITE = "/lib/python3.12/site-packages/"
OUT = "/out/"
NOT_IN_PAGE = ("oneneuron.cli", "oneneuron.__main__")


def pyc(source: bytes, filename: str, checked: bool) -> bytes:
    """A hash-based .pyc of ``source`` (checked: Python compares the source's hash)."""
    code = compile(source, filename, "exec", dont_inherit=True)
    digest = importlib.util.source_hash(source)
    return bytes(bx._code_to_hash_pyc(code, digest, checked))


def imported_files() -> list[str]:
    """The .py files of every module the page may import (numpy and oneneuron)."""
    import oneneuron

    for info in pkgutil.walk_packages(oneneuron.__path__, "oneneuron."):
        if info.name not in NOT_IN_PAGE:
            importlib.import_module(info.name)
    return sorted(
        {
            m.__file__
            for m in list(sys.modules.values())
            if isinstance(getattr(m, "__file__", None), str)
            and m.__file__.endswith(".py")
        }
    )


def write_stdlib(files: list[str]) -> int:
    """python_stdlib.zip with the imported modules compiled; returns their count."""
    names = {f[len(STDLIB) + 1 :] for f in files if f.startswith(STDLIB + "/")}
    stdlib_out = zipfile.ZipFile(OUT + "python_stdlib.zip", "w")
    with zipfile.ZipFile(STDLIB) as src, stdlib_out as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename in names:  # the .pyc instead of the .py
                compiled = zipfile.ZipInfo(info.filename + "c", info.date_time)
                compiled.compress_type = zipfile.ZIP_DEFLATED
                compiled.external_attr = info.external_attr
                out.writestr(compiled, pyc(data, f"{STDLIB}/{info.filename}", False))
            else:
                out.writestr(info, data)
    return len(names)


def write_bundle(files: list[str]) -> int:
    """site-packages.bin; returns how many package modules were compiled."""
    bundle = []
    for root, dirs, found in os.walk(SITE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(found):
            with open(os.path.join(root, name), "rb") as fh:
                bundle.append((os.path.join(root, name), fh.read()))
    compiled = 0
    for f in files:
        if f.startswith(SITE):
            with open(f, "rb") as fh:
                data = pyc(fh.read(), f, True)
            bundle.append((importlib.util.cache_from_source(f), data))
            compiled += 1
    head = json.dumps([[path, len(data)] for path, data in bundle]).encode()
    with open(OUT + "site-packages.bin", "wb") as fh:
        fh.write(struct.pack("<I", len(head)) + head + b"".join(d for _, d in bundle))
    return compiled


def main() -> None:
    if list(compile("a", "x", "eval").co_positions())[-1][2] is not None:
        sys.exit("PYTHONNODEBUGRANGES did not reach Python")
    files = imported_files()
    stdlib = write_stdlib(files)
    package = write_bundle(files)
    print(f"{stdlib} standard-library and {package} package modules compiled")


main()
