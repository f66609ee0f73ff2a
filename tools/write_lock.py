"""Write dist's pyodide-lock.json: Pyodide's own entry for numpy, plus our wheel.

    python tools/write_lock.py SRC_LOCK OUT_LOCK OUR_WHEEL NUMPY_SHA256

Run by build.py with the virtual environment's Python (pyodide-lock is a dev
dependency). Only what the page loads is kept; numpy's entry must carry the sha256
that build.py pins, or the build stops.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pyodide_lock import PyodideLockSpec
from pyodide_lock.utils import add_wheels_to_spec


def main(argv: list[str]) -> int:
    src, out, wheel = (Path(a) for a in argv[:3])
    numpy_sha = argv[3]
    spec = PyodideLockSpec.from_json(src)
    numpy = spec.packages["numpy"]
    if numpy.sha256 != numpy_sha:
        print(
            f"Pyodide's lock pins numpy at {numpy.sha256}, build.py at {numpy_sha}",
            file=sys.stderr,
        )
        return 1
    spec.packages = {"numpy": numpy}  # ship only what the page loads
    spec = add_wheels_to_spec(spec, [wheel], base_path=out.parent)
    spec.to_json(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
