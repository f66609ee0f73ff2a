"""Pack MNIST for the page: python tools/pack_data.py OUT_DIR (OUT_DIR must not exist).

Run by build.py with the virtual environment's Python; the work is
:func:`oneneuron.pagedata.write_page_data`. The page trains with the shipped ten
neurons' preprocessing, with deskewing on or off (the training panel's switch), so
both variants are packed; the test images are also packed as each shipped model
reads them, so that no model's test scores need preprocessing in the page.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from oneneuron import load_weights
from oneneuron.pagedata import write_page_data

WEIGHTS = Path(__file__).resolve().parents[1] / "site" / "weights"


def variants() -> list:
    """The shipped recipe and the same with deskewing switched, plain first."""
    recipe = load_weights(WEIGHTS / "digits.json").preprocess
    both = [recipe, dataclasses.replace(recipe, deskew=not recipe.deskew)]
    return sorted(both, key=lambda p: p.deskew)


def shipped() -> list:
    """Each shipped model's own preprocessing (site/weights/*.json), by file name."""
    return [load_weights(path).preprocess for path in sorted(WEIGHTS.glob("*.json"))]


if __name__ == "__main__":
    write_page_data(Path(sys.argv[1]), variants=variants(), test_variants=shipped())
