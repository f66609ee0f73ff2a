"""Runs inside Pyodide (tools/bytecode.mjs): compile what the page imports, and split
the runtime into what a start needs and what can come later.

Pyodide ships its standard library as .py sources, and compiling the ~150 modules a
start imports took about 1.3 s of every first visit. Here, under the same Pyodide
(Python 3.12) that runs the page, the page's start is made (oneneuron.page imported,
a Page made, in an interpreter of its own: bytecode.mjs), the modules it imported are
recorded, then every other module of oneneuron is imported too, and:

- python_stdlib.zip: the standard-library modules a start imports, each an unchecked
  .pyc (line numbers kept, column ranges dropped) compiled from Pyodide's .py, stored
  uncompressed (the build writes its .br and .gz), and the finder of the later parts
  (tools/later_parts.py, FINDER), compiled alike: the worker imports it from there;
- python_stdlib_later.zip: every other file of Pyodide's zip, byte for byte;
- site-packages.bin: numpy and oneneuron as loadPackage installs them, less numpy's
  later part and the files the page never uses (LEFT_OUT). numpy's modules that a
  start imports come as .pyc alone (unchecked, where the .py was), like the standard
  library's; every other module the page imports gets a hash-checked .pyc
  beside its .py (Python ignores one whose source differs; oneneuron keeps its
  sources, which the page shows).
  Layout: uint32 length, a JSON index [[path, bytes], ...], then the files in order;
- site-packages-later.bin: numpy's subpackages a start does not import (random, fft,
  polynomial, ...), in the same layout;
- oneneuron-later.bin: oneneuron's modules a start does not import (the trainer, the
  hidden layer, the command line, MNIST's reader...), in the same layout: small, so
  that a first Teach or a first look at the training panel loads only these;
- runtime-parts.json: for the worker (worker/python.js), which later part holds which
  modules, which modules were left out and why, which are deferred (DEFERRED), which
  standard-library modules a start imports after Python's own start (preload: the
  worker imports them before its memory snapshot), and the finder's module name;
- runtime-files.json: every file of each part with its sha256 and the official file
  it came from (the numpy wheel's member, Pyodide's zip member, our wheel's member)
  with that file's sha256 (tests/test_runtime_split.py checks it).

Writes them to /out (a folder of the build, mounted by bytecode.mjs).
"""

import hashlib
import importlib
import importlib._bootstrap_external as bx
import importlib.util
import json
import os
import pkgutil
import re
import struct
import sys
import zipfile

STDLIB = "/lib/python312.zip"
SITE = "/lib/python3.12/site-packages/"
OUT = "/out/"
NOT_IN_PAGE = ("oneneuron.cli", "oneneuron.__main__")
# site-packages' parts: what a start imports, numpy's later part, oneneuron's
BUNDLES = ("site-packages.bin", "site-packages-later.bin", "oneneuron-later.bin")

# Files of numpy's wheel the page does not need: (pattern on the path in
# site-packages, why; the why is what the ImportError says). A module that the page's
# imports load stays all the same (numpy._core imports _multiarray_tests).
LEFT_OUT = (
    (r"numpy/f2py/.*", "numpy's Fortran wrapper generator, never used by the page"),
    (r"numpy/testing/.*", "numpy's test helpers, never used by the page"),
    (r"numpy/(.+/)?tests/.*", "numpy's own test suite, never used by the page"),
    (r"numpy/.*_tests\.cpython-[^/]*\.so", "numpy's test extension modules"),
    (r"numpy/.*\.pyi|numpy/(.+/)?py\.typed", "type stubs, read by type checkers only"),
    (
        r"numpy/_core/include/.*|numpy/.*\.(a|pc|pxd)|numpy/_core/lib/.*",
        "C headers and libraries for compiling against numpy",
    ),
)


# Extension modules a start imports but never calls (numpy.linalg's _linalg.py
# imports _umath_linalg, 1.9 MB, and uses it inside its functions only): they come
# in the later part, and a start gets a stand-in module that loads the real one on
# its first attribute (tools/later_parts.py). The browser tests check that a first
# visit predicts without fetching the later part, and that numpy.linalg then works.
DEFERRED = {
    "numpy.linalg._umath_linalg": "numpy.linalg's compiled core, used only when a "
    "numpy.linalg function runs",
}


def pyc(source: bytes, filename: str, checked: bool) -> bytes:
    """A hash-based .pyc of ``source`` (checked: Python compares the source's hash)."""
    code = compile(source, filename, "exec", dont_inherit=True)
    digest = importlib.util.source_hash(source)
    return bytes(bx._code_to_hash_pyc(code, digest, checked))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def module_files() -> set[str]:
    """The files of every module imported so far."""
    return {
        m.__file__
        for m in list(sys.modules.values())
        if isinstance(getattr(m, "__file__", None), str)
    }


def finder() -> dict[str, str]:
    """The finder of the later parts: its module ``name``, its ``path`` in the
    repository and its ``source``. Set by bytecode.mjs (FINDER)."""
    return dict(FINDER)  # noqa: F821  (set by bytecode.mjs)


def page_start() -> tuple[set[str], list[str]]:
    """The files of the modules the page's start imports (worker/python.js), and the
    standard-library modules among them that Python's own start does not import: the
    worker imports these before it takes its memory snapshot. Recorded by bytecode.mjs
    in an interpreter that did nothing else (PAGE_START)."""
    record = PAGE_START  # noqa: F821  (set by bytecode.mjs)
    ours = ("numpy", "oneneuron")
    preload = [m for m in record["imported"] if m.split(".")[0] not in ours]
    return set(record["files"]), sorted(preload)


def all_imports() -> set[str]:
    """The files of every module the page may import (numpy and oneneuron)."""
    import oneneuron

    for info in pkgutil.walk_packages(oneneuron.__path__, "oneneuron."):
        if info.name not in NOT_IN_PAGE:
            importlib.import_module(info.name)
    return module_files()


def module_name(path: str) -> str | None:
    """The module a file (relative to its zip or site-packages) is, if it is one."""
    m = re.fullmatch(r"(.+?)(/__init__)?(\.py|\.cpython-[^/]*\.so)", path)
    return m[1].replace("/", ".") if m else None


def write_stdlib(start: set[str], files: dict) -> list[str]:
    """The two standard-library zips; returns the later zip's module names."""
    at_start = {f[len(STDLIB) + 1 :] for f in start if f.startswith(STDLIB + "/")}
    later_modules = []
    first = zipfile.ZipFile(OUT + "python_stdlib.zip", "w")
    later = zipfile.ZipFile(OUT + "python_stdlib_later.zip", "w")
    listed_first = files["python_stdlib.zip"] = {}
    listed_later = files["python_stdlib_later.zip"] = {}

    def compiled(info: zipfile.ZipInfo, data: bytes, origin: dict) -> None:
        """A start module, as an unchecked .pyc in place of its .py."""
        entry = zipfile.ZipInfo(info.filename + "c", info.date_time)
        # stored: the build compresses the whole zip (.br, .gz), which
        # finds what the modules share; 0.83 MB Brotli against 1.2 deflated
        entry.compress_type = zipfile.ZIP_STORED
        entry.external_attr = info.external_attr
        code = pyc(data, f"{STDLIB}/{info.filename}", False)
        first.writestr(entry, code)
        listed_first[entry.filename] = {"sha256": sha(code), "source": origin}

    with zipfile.ZipFile(STDLIB) as src, first, later:
        for info in src.infolist():
            data = src.read(info)
            origin = {"from": f"python_stdlib.zip:{info.filename}", "sha256": sha(data)}
            if info.filename in at_start:
                compiled(info, data, origin)
            elif info.is_dir():
                later.writestr(info, data)
            else:
                later.writestr(info, data)
                listed_later[info.filename] = {"sha256": sha(data), "source": origin}
                name = module_name(info.filename)
                if name:
                    later_modules.append(name)
        ours = finder()
        source = ours["source"].encode()
        origin = {"from": f"repository:{ours['path']}", "sha256": sha(source)}
        info = zipfile.ZipInfo(ours["name"] + ".py", (2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        compiled(info, source, origin)
    return sorted(later_modules)


def origins() -> dict[str, tuple[str, str]]:
    """site-packages path → (the wheel it came from, its sha256 there), from RECORD."""
    found = {}
    for record in sorted(f for f in os.listdir(SITE) if f.endswith(".dist-info")):
        wheel = record.split("-")[0]  # the package whose wheel it is
        with open(SITE + record + "/RECORD") as fh:
            for line in fh:
                path = line.rsplit(",", 2)[0]
                if path:
                    found[path] = (wheel, record)
    return found


def write_bundle(files: list[tuple[str, bytes]]) -> bytes:
    """A bundle: uint32 length, JSON index [[path, bytes], ...], the files in order.

    >>> read_bundle(write_bundle([("/a.py", b"x = 1"), ("/b", b"")]))
    {'/a.py': b'x = 1', '/b': b''}
    """
    head = json.dumps([[path, len(data)] for path, data in files]).encode()
    return struct.pack("<I", len(head)) + head + b"".join(d for _, d in files)


def read_bundle(blob: bytes) -> dict[str, bytes]:
    """The files of a bundle (:func:`write_bundle`), path → bytes; ValueError if
    its index does not account for every byte or names a path twice (the worker's
    reader, worker/python.js, reads the same layout)."""
    size = int.from_bytes(blob[:4], "little")
    index = json.loads(blob[4 : 4 + size])
    if 4 + size + sum(n for _, n in index) != len(blob):
        raise ValueError("the bundle's index does not match its length")
    files, at = {}, 4 + size
    for name, n in index:
        if name in files:
            raise ValueError(f"the bundle holds {name} twice")
        files[name] = blob[at : at + n]
        at += n
    return files


def write_bundles(start: set[str], imported: set[str], files: dict) -> dict:
    """site-packages.bin and the later bundles (:data:`BUNDLES`); returns the parts'
    modules."""
    start_entries = {
        f[len(SITE) :].split("/")[1]
        for f in start
        if f.startswith(SITE + "numpy/") and f.count("/") > SITE.count("/") + 1
    }
    numpy_start = {f for f in start if f.startswith(SITE + "numpy/")}
    later_paths, left_out = {part: [] for part in BUNDLES[1:]}, {}
    parts = {part: [] for part in BUNDLES}
    wheel_of = origins()
    for root, dirs, found in os.walk(SITE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(found):
            path = os.path.join(root, name)
            rel = path[len(SITE) :]
            module = module_name(rel)
            why = next((w for p, w in LEFT_OUT if re.fullmatch(p, rel)), None)
            if why and path not in imported:  # numpy imports _multiarray_tests
                if module:
                    left_out[module] = why
                continue
            top = rel.split("/")
            if top[0] == "numpy" and module:
                # numpy's modules: a start's own at start, but for the deferred
                later = path not in start or module in DEFERRED
            else:  # its other files go with their subpackage
                later = (
                    top[0] == "numpy" and len(top) > 2 and top[1] not in start_entries
                )
            ours_later = top[0] == "oneneuron" and module and path not in start
            part = BUNDLES[2 if ours_later else 1 if later else 0]
            if part != BUNDLES[0] and module:
                later_paths[part].append(module)
            with open(path, "rb") as fh:
                data = fh.read()
            wheel = wheel_of.get(rel, ("installer", ""))[0]
            source = {"from": f"{wheel}:{rel}", "sha256": sha(data)}
            part = parts[part]
            if path.endswith(".py") and path in numpy_start:
                # numpy's start modules: the .pyc alone, as the standard library's
                # start (compiled as they are: docstrings stripped at compile time
                # break numpy, which strips them only when Python runs with -OO)
                part.append((path + "c", pyc(data, path, False), source))
                continue
            part.append((path, data, source))
            if path.endswith(".py") and path in imported:
                code = pyc(data, path, True)
                part.append((importlib.util.cache_from_source(path), code, source))
    for part, bundle in parts.items():
        with open(OUT + part, "wb") as fh:
            fh.write(write_bundle([(path, data) for path, data, _ in bundle]))
        files[part] = {p: {"sha256": sha(d), "source": s} for p, d, s in bundle}

    # a package's name is enough: its submodules go with it
    def outer(names):
        return sorted(n for n in names if n.rpartition(".")[0] not in names)

    return {
        "later": [
            {"file": part, "modules": outer(set(names))}
            for part, names in later_paths.items()
        ],
        "left_out": {n: left_out[n] for n in outer(set(left_out))},
        "deferred": DEFERRED,
    }


def main() -> None:
    if list(compile("a", "x", "eval").co_positions())[-1][2] is not None:
        sys.exit("PYTHONNODEBUGRANGES did not reach Python")
    start, preload = page_start()
    imported = all_imports()
    files: dict = {}
    stdlib_later = write_stdlib(start, files)
    packages = write_bundles(start, imported, files)
    parts = {
        "later": [
            {"file": "python_stdlib_later.zip", "modules": stdlib_later},
            *packages["later"],
        ],
        "left_out": packages["left_out"],
        "deferred": packages["deferred"],
        "preload": preload,
        "finder": finder()["name"],
    }
    with open(OUT + "runtime-parts.json", "w") as fh:
        json.dump(parts, fh, indent=1, sort_keys=True)
    with open(OUT + "runtime-files.json", "w") as fh:
        json.dump(files, fh, indent=1, sort_keys=True)
    compiled = sum(p.endswith("c") for f in files.values() for p in f)
    held = [f"{p['file']}: {', '.join(p['modules'])}" for p in packages["later"]]
    print(
        f"{len(files['python_stdlib.zip'])} standard-library modules at start, "
        f"{len(stdlib_later)} later; {'; '.join(held)}; {compiled} modules compiled"
    )


if __name__ == "__main__":  # as bytecode.mjs runs it; importable for read_bundle
    main()
