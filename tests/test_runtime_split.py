"""The runtime split into what a start imports and later parts (issue 15): every file
sent is the official artefact's own bytes (or bytecode compiled from them), the list
of sha256 the build writes is true, nothing is lost but the files left out on
purpose, and a start's part holds no later part.

The oracles are the artefacts themselves: Pyodide's python_stdlib.zip from
node_modules, and the numpy wheel at the sha256 pinned in build.py.
"""

from __future__ import annotations

import _imp
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import build  # noqa: E402  (build.py lives at the top of the repository)
from tools import wheels  # noqa: E402
from tools.bytecode_pyodide import read_bundle  # noqa: E402

DIST = ROOT / "dist"
pytestmark = pytest.mark.cpython_only  # reads dist/ and node_modules
SITE = "/lib/python3.12/site-packages/"
BUNDLES = ("site-packages.bin", "site-packages-later.bin", "oneneuron-later.bin")
ZIPS = ("python_stdlib.zip", "python_stdlib_later.zip")
PY312_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"
FINDER = "tools/later_parts.py"  # the finder of later parts, in the start's zip


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _bundle(path: Path) -> dict[str, bytes]:
    return read_bundle(path.read_bytes())


def _zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if not n.endswith("/")}


@pytest.fixture(scope="module")
def pyo() -> Path:
    if not (DIST / "pyodide" / "runtime-files.json").exists():
        pytest.fail("dist/ is not built with the split runtime: run build.py build")
    return DIST / "pyodide"


@pytest.fixture(scope="module")
def parts(pyo) -> dict[str, dict[str, bytes]]:
    """Each part's files as the page receives them."""
    got = {name: _bundle(pyo / name) for name in BUNDLES}
    got.update({name: _zip(pyo / name) for name in ZIPS})
    return got


@pytest.fixture(scope="module")
def official(pyo) -> dict[str, dict[str, bytes]]:
    """The official artefacts' files: Pyodide's zip, the pinned numpy wheel, ours,
    and the repository's finder of later parts (tools/later_parts.py)."""
    wheel = build.CACHE / "pyodide" / wheels.NUMPY_WHEEL
    assert build.sha256(wheel) == wheels.NUMPY_SHA256
    (ours,) = pyo.glob("oneneuron-*.whl")
    return {
        "python_stdlib.zip": _zip(
            ROOT / "node_modules" / "pyodide" / "python_stdlib.zip"
        ),
        "numpy": _zip(wheel),
        "oneneuron": _zip(ours),
        "repository": {FINDER: (ROOT / FINDER).read_bytes()},
    }


def _source(origin: str, official) -> bytes | None:
    artefact, _, member = origin.partition(":")
    return official.get(artefact, {}).get(member)


def test_the_sha256_list_is_true_and_names_each_files_official_source(
    pyo, parts, official
):
    """runtime-files.json lists every file of every part with its sha256, and the
    official file it came from with that file's sha256; a file is that file's bytes,
    or, as a .pyc, bytecode whose embedded source hash is that file's."""
    listed = json.loads((pyo / "runtime-files.json").read_text())
    assert set(listed) == set(parts)
    key = int.from_bytes(PY312_MAGIC, "little")
    for part, files in parts.items():
        assert set(listed[part]) == set(files), part
        for name, data in files.items():
            entry = listed[part][name]
            assert entry["sha256"] == _sha(data), (part, name)
            origin = entry["source"]
            source = _source(origin["from"], official)
            if source is None:  # only the marks Pyodide's installer adds
                assert origin["from"].startswith("installer:"), origin
                assert name.rsplit("/", 1)[1] in {"INSTALLER", "PYODIDE_SOURCE"}
                continue
            assert _sha(source) == origin["sha256"], origin
            if name.endswith(".pyc"):
                assert data[:4] == PY312_MAGIC, name
                assert data[8:16] == _imp.source_hash(key, source), name
            else:
                assert data == source, (part, name)


def test_nothing_is_lost_but_what_was_left_out_and_that_is_listed(pyo, parts, official):
    """Every file of Pyodide's zip is in one of the two zips, with the finder of
    later parts the only file added; every file of both wheels is in a bundle,
    unless left out, and each left-out module is named in runtime-parts.json (the
    ImportError's source); stubs and C headers are no module."""
    stdlib = {n.removesuffix("c") for z in ZIPS for n in parts[z]}
    assert stdlib == set(official["python_stdlib.zip"]) | {"later_parts.py"}
    sent = {  # a .pyc in place of its .py stands for it (as in the stdlib's zip)
        n[len(SITE) :].removesuffix("c")
        for b in BUNDLES
        for n in parts[b]
        if "/__pycache__/" not in n
    }
    layout = json.loads((pyo / "runtime-parts.json").read_text())
    left_out = layout["left_out"]
    assert {"numpy.f2py", "numpy.testing"} <= set(left_out)
    missing = set(official["numpy"]) - sent
    assert missing  # something was left out
    folders = tuple(m.replace(".", "/") + "/" for m in left_out)
    for name in missing:
        module = re.sub(r"(/__init__)?(\.py|\.cpython-[^/]*\.so)$", "", name)
        if name.startswith(folders) or module.replace("/", ".") in left_out:
            continue  # in, or is, a module the ImportError names
        # no module: type stubs, C headers and libraries for compiling against numpy
        c_build = r"^numpy/_core/(include|lib)/|\.(pxd|a)$"
        assert re.search(c_build + r"|\.pyi$|/py\.typed$", name), name
    assert set(official["oneneuron"]) <= sent


def test_a_start_gets_no_later_part(parts, pyo):
    """The start's parts hold what a start imports (json, numpy.linalg, oneneuron's
    page) and none of the later parts (numpy.random, fft, polynomial; difflib; numpy's
    modules a start does not import, and the deferred numpy.linalg._umath_linalg;
    oneneuron's trainer, hidden layer and command line), which the later parts and
    runtime-parts.json hold."""
    start = set(parts["site-packages.bin"])
    later = set(parts["site-packages-later.bin"])
    for sub in ("random", "fft", "polynomial"):
        init = f"{SITE}numpy/{sub}/__init__.py"
        assert init in later and init not in start
    assert f"{SITE}numpy/linalg/__init__.pyc" in start  # bytecode alone at start
    assert f"{SITE}numpy/linalg/__init__.py" not in start | later
    core = f"{SITE}numpy/linalg/_umath_linalg.cpython-312-wasm32-emscripten.so"
    unused = f"{SITE}numpy/linalg/lapack_lite.cpython-312-wasm32-emscripten.so"
    assert core in later and unused in later and not {core, unused} & start
    assert f"{SITE}oneneuron/page.py" in start
    ours = set(parts["oneneuron-later.bin"])
    for module in ("train", "session", "network", "cli", "data", "digitsets"):
        assert f"{SITE}oneneuron/{module}.py" in ours - start, module
    for module in ("page", "model", "teach", "weights", "preprocess"):
        assert f"{SITE}oneneuron/{module}.py" in start - ours, module
    assert f"{SITE}oneneuron/__pycache__/train.cpython-312.pyc" in ours
    assert "json/__init__.pyc" in parts["python_stdlib.zip"]
    assert "difflib.py" in parts["python_stdlib_later.zip"]
    assert not set(parts["python_stdlib.zip"]) & {
        n + "c" for n in parts["python_stdlib_later.zip"]
    }
    layout = json.loads((pyo / "runtime-parts.json").read_text())
    holds = {p["file"]: set(p["modules"]) for p in layout["later"]}
    assert {"numpy.random", "numpy.fft", "numpy.polynomial"} <= holds[
        "site-packages-later.bin"
    ]
    assert "difflib" in holds["python_stdlib_later.zip"]
    later_numpy = holds["site-packages-later.bin"]
    assert {"numpy.linalg._umath_linalg", "numpy.linalg.lapack_lite"} <= later_numpy
    assert set(layout["deferred"]) == {"numpy.linalg._umath_linalg"}
    assert "json" not in holds["python_stdlib_later.zip"]
    assert {"oneneuron.train", "oneneuron.network", "oneneuron.cli"} <= holds[
        "oneneuron-later.bin"
    ]
    assert not {m for m in holds["oneneuron-later.bin"] if m.startswith("numpy")}


def test_the_start_is_recorded_from_the_page_start_alone(parts, pyo):
    """Modules only loadPackage or the build's own script import (tarfile, email,
    importlib.metadata, pkgutil, hashlib) are not in the start's zip nor preloaded;
    what the worker imports before its snapshot (preload) is standard library the
    start's zip holds, numpy's own needs among it (ctypes, pickle)."""
    start_zip = set(parts["python_stdlib.zip"])
    for module in ("tarfile", "email/__init__", "importlib/metadata/__init__",
                   "pkgutil", "hashlib", "csv"):  # fmt: skip
        assert f"{module}.pyc" not in start_zip
        assert f"{module}.py" in parts["python_stdlib_later.zip"]
    preload = json.loads((pyo / "runtime-parts.json").read_text())["preload"]
    assert {"ctypes", "pickle", "platform"} <= set(preload)
    assert not {m for m in preload if m.split(".")[0] in ("numpy", "oneneuron")}
    for module in preload:
        path = module.replace(".", "/")
        assert {f"{path}.pyc", f"{path}/__init__.pyc"} & start_zip or (
            module in sys.builtin_module_names or module.startswith("_")
        ), module


def test_the_finder_is_in_the_start_and_its_imports_recorded(parts, pyo):
    """The finder of later parts (tools/later_parts.py) is a module of the start's
    zip, compiled from the repository's file; runtime-parts.json names it for the
    worker, and the recorded start imported it (tools/bytecode.mjs), so that it and
    everything it imports are preloaded before the memory snapshot."""
    layout = json.loads((pyo / "runtime-parts.json").read_text())
    assert layout["finder"] == "later_parts"
    code = parts["python_stdlib.zip"]["later_parts.pyc"]
    source = (ROOT / FINDER).read_bytes()
    key = int.from_bytes(PY312_MAGIC, "little")
    assert code[:4] == PY312_MAGIC and code[8:16] == _imp.source_hash(key, source)
    assert "later_parts" in layout["preload"]
