"""The finder of the runtime's later parts, a piece of the page's own Python.

The build splits the page's runtime into what a start imports and later parts
(tools/bytecode_pyodide.py). This module is how the page then imports from a later
part: :func:`install` puts a :class:`LaterParts` at the end of ``sys.meta_path``, and
an import nothing else finds loads the part that holds the module (once), then
imports it from there.

- A module of a later part: its part is loaded by ``load(file)``, a function of the
  page's worker (worker/python.js: loadLater) that fetches the file and puts it
  where Python finds it; it returns the path of a zip to import from, or None when
  the files went into site-packages.
- A module left out of the build: ModuleNotFoundError, saying why.
- A deferred module (a start imports it but calls it only later: numpy.linalg's
  compiled core): a stand-in module (:class:`Deferred`), which loads its part and
  imports the real module on the first attribute asked of it.

It lives in tools/ because the build is what puts it into the page: tools/bytecode.mjs
hands it to tools/bytecode_pyodide.py, which compiles it into the start's
python_stdlib.zip as the module ``later_parts`` (so the worker imports it like any
module, and a repeat visit finds it in its memory snapshot), and records a start that
imports it, so that what it imports is recorded like the rest of a start. site/ is
copied into dist/ as it is; this file is not served. Here ruff lints it and CPython
tests it (tests/test_later_parts.py). It imports only what a start has imported
anyway.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import sys
import types
import zipimport
from collections.abc import Callable


def forget_listings() -> None:
    """New files came: the path finders forget what they listed of their folders.
    Not importlib.invalidate_caches(), which in Python 3.12 imports importlib.metadata,
    and with it email and csv: the standard library's later part, fetched and imported
    by the page's first Teach or Train (~0.4 s) for nothing."""
    for finder in list(sys.path_importer_cache.values()):
        if hasattr(finder, "invalidate_caches"):
            finder.invalidate_caches()


class Deferred(types.ModuleType):
    """Stands in for a module that a start imports but does not call: the first
    attribute asked of it (not a dunder: introspection asks those) loads its later
    part and imports the real module, whose names it then holds too."""

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        real = self.__loader__.real(self)
        return getattr(real, attr)


class LaterParts:
    """Imports from the parts of the runtime a start does not load.

    Parameters
    ----------
    parts : runtime-parts.json as a dict: ``later`` ([{file, modules}]: which part
        holds which modules, a package standing for its submodules), ``left_out``
        ({module: why}) and ``deferred`` ({module: why})
    load : load(file) puts a later part where Python finds it; returns the path of
        a zip to import from, or None when the files went onto ``sys.path``

    Examples
    --------
    >>> parts = {
    ...     "later": [{"file": "b.zip", "modules": ["difflib", "numpy.fft"]}],
    ...     "left_out": {"numpy.f2py": "never used"},
    ... }
    >>> finder = LaterParts(parts, load=print)
    >>> finder.part_of("numpy.fft.helper"), finder.part_of("numpy.fftx")
    ('b.zip', None)
    """

    def __init__(self, parts: dict, load: Callable[[str], str | None]) -> None:
        self.parts = [(p["file"], tuple(p["modules"])) for p in parts["later"]]
        self.left_out = dict(parts.get("left_out", {}))
        self.deferred = set(parts.get("deferred", ()))
        self.load = load
        self.loaded: dict[str, str | None] = {}  # file → what load returned

    @staticmethod
    def within(name: str, modules: tuple[str, ...]) -> bool:
        """Whether ``name`` is one of ``modules`` or inside one of them."""
        return any(name == m or name.startswith(m + ".") for m in modules)

    def part_of(self, name: str) -> str | None:
        """The file of the later part that holds a module; None if none does."""
        return next((f for f, held in self.parts if self.within(name, held)), None)

    def fetch(self, file: str, name: str) -> str | None:
        """Load a later part once (for the module ``name``); what load returned."""
        if file not in self.loaded:
            try:
                self.loaded[file] = self.load(file)
            except Exception as err:
                raise ModuleNotFoundError(
                    f"No module named {name!r}: its part of the runtime did not load"
                    f" ({err}); reload the page when online",
                    name=name,
                ) from None
            forget_listings()
        return self.loaded[file]

    def find_spec(self, name: str, path=None, target=None):
        """The import system's question: where is ``name``? (None: not here.)"""
        for module, why in self.left_out.items():
            if self.within(name, (module,)):
                raise ModuleNotFoundError(
                    f"No module named {name!r}: {module} is left out of the page's"
                    f" Python ({why}); use numpy outside the page for it",
                    name=name,
                )
        file = self.part_of(name)
        if file is None:
            return None
        waiting = file not in self.loaded and name not in sys.modules
        if name in self.deferred and waiting:
            return importlib.machinery.ModuleSpec(name, self)  # a Deferred, for now
        where = self.fetch(file, name)
        if not isinstance(where, str):  # in site-packages now
            return importlib.machinery.PathFinder.find_spec(name, path)
        parent = name.rpartition(".")[0].replace(".", "/")
        folder = where + ("/" + parent if parent else "")
        return zipimport.zipimporter(folder).find_spec(name)

    def real(self, stand_in: Deferred) -> types.ModuleType:
        """The real module of a stand-in, imported from its part; the stand-in gets
        its names, so that whoever holds it finds them there."""
        name = stand_in.__name__
        self.fetch(self.part_of(name), name)
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        real = importlib.import_module(name)
        stand_in.__dict__.update({k: v for k, v in vars(real).items() if k[:2] != "__"})
        return real

    # the loader of the stand-ins
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Deferred:
        return Deferred(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def install(parts: str, load: Callable[[str], str | None]) -> LaterParts:
    """Put a :class:`LaterParts` for ``parts`` (runtime-parts.json's text) at the end
    of ``sys.meta_path``: asked only for what no other finder finds."""
    finder = LaterParts(json.loads(parts), load)
    sys.meta_path.append(finder)
    return finder
