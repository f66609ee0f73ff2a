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
from pathlib import Path

from tools.server import ENCODINGS, make_server

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
CACHE = ROOT / ".cache"
DIST = ROOT / "dist"
NODE_MODULES = ROOT / "node_modules"
TOOLS = ROOT / "tools"  # the programs the build runs (see README, Layout)
PY = VENV / "bin" / "python"

# Pyodide's own files in dist/pyodide (npm pyodide); numpy for it, pinned by sha256,
# and the test-only wheels come through tools/wheels.py.
PYODIDE_FILES = (
    "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip",
)  # fmt: skip

# The exact commands that made the shipped weights: README's block shows them and each
# file records its own (tests/test_build.py holds all three equal).
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
    "hidden.json": [
        "--target", "all", "--hidden", "64", "--optimizer", "adam", "--lr", "0.01",
        "--schedule", "cosine", "--epochs", "15", "--batch-size", "128",
        "--l2", "0.0001", "--augment", "--backend", "numpy",
        "--deskew", "--threshold", "0.35", "--box", "20",
        "--strokes", "even", "--stroke-band", "0.01", "0.99",
    ],
}  # fmt: skip


class BuildError(Exception):
    """A step failed; the message is the one line the user sees."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(cmd: list[str], *, what: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a command in the repository; a failure becomes a one-line BuildError: the
    command's own last line where its stderr is captured (``tool``), else its status."""
    try:
        return subprocess.run(cmd, cwd=kwargs.pop("cwd", ROOT), check=True, **kwargs)
    except FileNotFoundError:
        raise BuildError(f"{what}: {cmd[0]} is not installed") from None
    except subprocess.CalledProcessError as exc:
        *before, last = (exc.stderr or "").rstrip().splitlines() or [""]
        sys.stderr.write("".join(f"{line}\n" for line in before))
        status = f" failed ({Path(cmd[0]).name} exited with {exc.returncode})"
        raise BuildError(f"{what}: {last}" if last else what + status) from None


def tool(program: str, *args: str | Path, what: str, answer: bool = False) -> str:
    """Run tools/``program`` (Node for .mjs, else .venv's Python); its stderr is passed
    on, and when it fails, its last line there is the BuildError's message. With
    ``answer``, returns its stdout (a program that answers says the rest on stderr)."""
    runner = "node" if program.endswith(".mjs") else str(PY)
    cmd = [runner, str(TOOLS / program), *map(str, args)]
    out = subprocess.PIPE if answer else None
    done = run(cmd, what=what, stdout=out, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(done.stderr)
    return (done.stdout or "").strip()


def pip(*args: str, what: str, **kwargs) -> subprocess.CompletedProcess:
    """Run the virtual environment's pip with ``args`` (see ``run``)."""
    cmd = [str(PY), "-m", "pip", "--disable-pip-version-check", *args]
    return run(cmd, what=what, **kwargs)


def sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


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
    if DIST.exists() and not DIST.is_symlink():
        raise BuildError("dist/ is a folder from an old build: remove it, build again")
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
        previous = _current_build()
        os.replace(link, DIST)  # atomic: no moment without a dist/
        return previous
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
    tool("wheels.py", "numpy", CACHE, pyo, what="numpy for Pyodide")
    wheel = _build_wheel(pyo)
    # dist's pyodide-lock.json: numpy and oneneuron, each with its sha256
    lock = pyo / "pyodide-lock.json"
    tool("write_lock.py", src / lock.name, lock, wheel, what=f"writing {lock.name}")
    _write_bytecode(pyo)
    vendor = tmp / "vendor" / "uplot"
    vendor.mkdir(parents=True)
    for name in ("uPlot.esm.js", "uPlot.min.css"):
        shutil.copyfile(NODE_MODULES / "uplot" / "dist" / name, vendor / name)
    # the page's data: MNIST training images as bits (the shipped recipe, with and
    # without deskewing), the raw MNIST test set and the two foreign digit sets
    say("packing MNIST and the foreign digit sets for the page")
    tool("pack_data.py", tmp / "data", what="packing the data")
    _write_manifest(tmp)
    _compress(tmp)


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


# What tools/bytecode_pyodide.py writes into dist/pyodide: the runtime split into what
# a start imports and later parts, which modules each part holds, and every sent
# file's sha256 with the official file it came from.
RUNTIME_PARTS = (
    "python_stdlib.zip",
    "python_stdlib_later.zip",
    "site-packages.bin",
    "site-packages-later.bin",
    "oneneuron-later.bin",
    "runtime-parts.json",
    "runtime-files.json",
)


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
    if not all((cached / n).is_file() for n in RUNTIME_PARTS):
        say("compiling the bytecode the page imports, under Pyodide")
        shutil.rmtree(cached, ignore_errors=True)
        cached.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cached.parent))
        try:
            tool("bytecode.mjs", pyo, work, what="compiling bytecode under Pyodide")
            try:
                work.rename(cached)
            except OSError:  # a build beside this one made the same files first
                if not all((cached / n).is_file() for n in RUNTIME_PARTS):
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for name in RUNTIME_PARTS:
        shutil.copyfile(cached / name, pyo / name)


def _write_manifest(root: Path) -> None:
    """manifest.json: every file, its size and sha256 (the service worker's list)."""
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        files[rel] = {"bytes": path.stat().st_size, "sha256": sha256(path)}
    key = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    text = json.dumps({"version": key[:16], "files": files}, indent=1, sort_keys=True)
    (root / "manifest.json").write_text(text + "\n")


def _compress(root: Path) -> None:
    """A .gz (zopfli) and a .br (Brotli) beside each compressible file, byte-identical
    from build to build and kept in .cache (tools/compress.py)."""
    tool("compress.py", CACHE, root, what="compression")


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


# -- test, train, bench ----------------------------------------------------------------
# What pytest collects: the package (doctests too), the tools' doctests, the tests.
PYTEST_PATHS = ("py/oneneuron", "tools", "tests")


def ensure_browser() -> str:
    """A Chromium for the tests (tools/browser.py, which installs one where it can): an
    executable's path, or "" for Playwright's own browser."""
    return tool("browser.py", what="a browser for the tests", answer=True)


def fetch_pyodide_test_wheels() -> list[Path]:
    """pytest, its pure-Python dependencies and array-api-strict, which
    tests/pyodide/runner.mjs installs into Pyodide (never shipped in dist/): the
    versions requirements.lock pins, verified by sha256 (tools/wheels.py)."""
    folder, lock = CACHE / "pyodide-test-wheels", ROOT / "requirements.lock"
    tool("wheels.py", "pyodide-tests", lock, folder, what="test wheels for Pyodide")
    return sorted(folder.glob("*.whl"))


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
    pytest = [str(PY), "-m", "pytest", *PYTEST_PATHS, *args.pytest_args]
    run(pytest, what="pytest", env=env)


def train(args: argparse.Namespace) -> None:
    """Retrain site/weights/*.json with the recorded commands."""
    setup()
    for name, options in TRAIN_RUNS.items():
        out = Path("site") / "weights" / name
        say(f"training {out}")
        cmd = [str(PY), "-m", "oneneuron", "train", *options, "--out", str(out)]
        run(cmd, what=f"training {name}")


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
    sub.add_parser("train", help="retrain the shipped site/weights/*.json (TRAIN_RUNS)")
    b = sub.add_parser("bench", help="benchmarks against peers; updates README's table")
    b.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    args = parser.parse_args(argv)
    commands = {f.__name__: f for f in (setup, build, serve, test, train, bench)}
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
