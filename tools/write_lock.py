"""Write dist's pyodide-lock.json: Pyodide's own entry for numpy, plus our wheel.

    python tools/write_lock.py SRC_LOCK OUT_LOCK OUR_WHEEL

Run by build.py with the virtual environment's Python (pyodide-lock is a dev
dependency). Only what the page loads is kept. numpy's wheel is already beside
OUT_LOCK, checked against the sha256 tools/wheels.py pins; Pyodide's entry for it must
carry the same sha256, or the build stops.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from pyodide_lock import PyodideLockSpec
from pyodide_lock.utils import add_wheels_to_spec


def main(argv: list[str]) -> int:
    src, out, wheel = (Path(a) for a in argv[:3])
    spec = PyodideLockSpec.from_json(src)
    numpy = spec.packages["numpy"]
    ours = hashlib.sha256((out.parent / numpy.file_name).read_bytes()).hexdigest()
    if numpy.sha256 != ours:
        print(
            f"Pyodide's lock pins numpy at {numpy.sha256}, the build has {ours}",
            file=sys.stderr,
        )
        return 1
    spec.packages = {"numpy": numpy}  # ship only what the page loads
    spec = add_wheels_to_spec(spec, [wheel], base_path=out.parent)
    spec.to_json(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
