"""The finder of the runtime's later parts (tools/later_parts.py) in CPython: which part
holds a module, a later part loaded once on the first import it serves (from a zip or
from sys.path), a left-out module refused with its reason, a deferred module standing
in until its first attribute, and a part that cannot load said plainly.

The parts are made here: a zip and a folder of small modules, loaded by a ``load``
that records what it was asked for, as the worker's loadLater would fetch them.
"""

from __future__ import annotations

import importlib
import json
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import later_parts  # noqa: E402  (tools/ lives at the top of the repository)

MODULES = ("lp_zipped", "lp_pkg", "lp_gone")  # the made-up modules' top names


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    """A finder installed for two later parts (a zip: lp_zipped; files that load
    writes into a folder on sys.path, as the worker writes a bundle into
    site-packages: lp_pkg.core, deferred, and lp_pkg.extra, beside lp_pkg, which a
    start has) and a left-out package (lp_gone); yields (finder, the files load was
    asked for)."""
    archive = tmp_path / "later.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("lp_zipped/__init__.py", "")
        z.writestr("lp_zipped/text.py", "WORDS = 'from the zip'\n")
    folder = tmp_path / "site"
    (folder / "lp_pkg").mkdir(parents=True)
    (folder / "lp_pkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(folder))
    parts = {
        "later": [
            {"file": "later.zip", "modules": ["lp_zipped"]},
            {"file": "later.bin", "modules": ["lp_pkg.core", "lp_pkg.extra"]},
        ],
        "left_out": {"lp_gone": "never used by the page"},
        "deferred": {"lp_pkg.core": "used only when called"},
    }
    asked: list[str] = []

    def load(file: str) -> str | None:
        asked.append(file)
        if file == "later.zip":
            return str(archive)
        (folder / "lp_pkg" / "core.py").write_text("def twice(x):\n    return 2 * x\n")
        (folder / "lp_pkg" / "extra.py").write_text("")
        return None

    meta_path = list(sys.meta_path)
    finder = later_parts.install(json.dumps(parts), load)
    try:
        yield finder, asked
    finally:
        sys.meta_path[:] = meta_path
        for name in [n for n in sys.modules if n.split(".")[0] in MODULES]:
            del sys.modules[name]
        importlib.invalidate_caches()


def test_the_finder_goes_last_and_knows_which_part_holds_what(runtime):
    finder, asked = runtime
    assert sys.meta_path[-1] is finder
    assert finder.part_of("lp_zipped.text") == "later.zip"
    assert finder.part_of("lp_pkg.core") == "later.bin"
    assert finder.part_of("lp_pkg") is None  # a start's
    assert finder.part_of("lp_zippedx") is None  # a prefix is not a package
    assert finder.find_spec("json_but_not_here") is None
    assert asked == []  # asking which part is not loading it


def test_a_later_part_loads_once_on_the_first_import_it_serves(runtime):
    finder, asked = runtime
    text = importlib.import_module("lp_zipped.text")
    assert text.WORDS == "from the zip"
    assert text.__file__.startswith(finder.loaded["later.zip"])  # the zip load gave
    importlib.import_module("lp_zipped")
    assert asked == ["later.zip"]
    assert importlib.import_module("lp_pkg.extra").__name__ == "lp_pkg.extra"
    assert asked == ["later.zip", "later.bin"]


def test_a_later_part_loads_without_importlib_metadata(runtime):
    """After a part's files come, the path finders forget their listings, and that
    alone: importlib.invalidate_caches() would import importlib.metadata (email, csv:
    the standard library's later part, in the page)."""
    _, asked = runtime

    def refused() -> None:
        raise AssertionError("importlib.invalidate_caches() was called")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(importlib, "invalidate_caches", refused)
        assert importlib.import_module("lp_pkg.extra").__name__ == "lp_pkg.extra"
    assert asked == ["later.bin"]


def test_a_left_out_module_is_refused_with_its_reason(runtime):
    with pytest.raises(ModuleNotFoundError, match="lp_gone is left out") as info:
        importlib.import_module("lp_gone.sub")
    assert "never used by the page" in str(info.value)
    assert info.value.name == "lp_gone"  # its package, asked for first


def test_a_deferred_module_stands_in_until_its_first_attribute(runtime):
    """Imported by a start, a deferred module is a stand-in and its part is not
    loaded; its first attribute loads the part and the real module, and whoever
    holds the stand-in finds the real names in it."""
    _, asked = runtime
    stand_in = importlib.import_module("lp_pkg.core")
    assert isinstance(stand_in, later_parts.Deferred)
    assert asked == []
    with pytest.raises(AttributeError):
        stand_in.__wrapped__  # noqa: B018  (introspection loads nothing)
    assert asked == []
    assert stand_in.twice(21) == 42
    assert asked == ["later.bin"]
    real = sys.modules["lp_pkg.core"]
    assert real is not stand_in and not isinstance(real, later_parts.Deferred)
    assert "twice" in vars(stand_in)  # asked of the stand-in from now on directly


def test_a_part_that_cannot_load_says_so_and_is_tried_again(runtime):
    finder, asked = runtime
    good = finder.load

    def offline(file):
        asked.append(file)
        raise OSError("HTTP 503")

    finder.load = offline
    with pytest.raises(ModuleNotFoundError, match=r"did not load \(HTTP 503\); reload"):
        importlib.import_module("lp_zipped")
    finder.load = good
    assert importlib.import_module("lp_zipped.text").WORDS == "from the zip"
    assert asked == ["later.zip", "later.zip"]
