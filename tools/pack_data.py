"""Pack MNIST for the page: python tools/pack_data.py OUT_DIR (OUT_DIR must not exist).

Run by build.py with the virtual environment's Python; the work is
:func:`oneneuron.pagedata.write_page_data`. The page trains with the shipped ten
neurons' preprocessing, with deskewing on or off (the training panel's switch), so
both variants are packed.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from oneneuron import load_weights
from oneneuron.pagedata import write_page_data

SHIPPED = Path(__file__).resolve().parents[1] / "site" / "weights" / "digits.json"


def variants() -> list:
    """The shipped recipe and the same with deskewing switched, plain first."""
    recipe = load_weights(SHIPPED).preprocess
    both = [recipe, dataclasses.replace(recipe, deskew=not recipe.deskew)]
    return sorted(both, key=lambda p: p.deskew)


if __name__ == "__main__":
    write_page_data(Path(sys.argv[1]), variants=variants())
