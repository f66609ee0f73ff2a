"""Pack MNIST for the page: python tools/pack_data.py OUT_DIR (OUT_DIR must not exist).

Run by build.py with the virtual environment's Python; the work is
:func:`oneneuron.data.write_page_data`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from oneneuron.data import write_page_data

if __name__ == "__main__":
    write_page_data(Path(sys.argv[1]))
