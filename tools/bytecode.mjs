// Compile the bytecode the page imports, under the same Pyodide that runs it.
//
//   node tools/bytecode.mjs PYODIDE_DIR OUT_DIR
//
// Loads Pyodide from PYODIDE_DIR (a dist/pyodide being assembled, with its lock,
// numpy and our wheel), mounts OUT_DIR at /out and runs tools/bytecode_pyodide.py
// inside it, which writes the runtime split into a start and later parts there
// (python_stdlib.zip, site-packages.bin, their later parts and two lists).
//
// What a start imports is recorded first, in an interpreter of its own that does
// nothing but what the page's worker does (worker/python.js): numpy and oneneuron
// written into site-packages, the finder of later parts (tools/later_parts.py)
// imported, oneneuron.page imported and a Page made. The interpreter that runs the
// build's script has run loadPackage (which imports tarfile, email,
// importlib.metadata) and the script's own imports: recorded there, a start would
// seem to need them all.
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

const [pyodideDir, outDir] = process.argv.slice(2);
const script = await readFile(new URL("./bytecode_pyodide.py", import.meta.url), "utf8");
const { loadPyodide } = await import(pathToFileURL(`${pyodideDir}/pyodide.mjs`).href);
// line numbers only, no column ranges: a third smaller, same tracebacks but the ^^^
const env = { PYTHONHASHSEED: "0", PYTHONNODEBUGRANGES: "1" };
const py = await loadPyodide({ indexURL: `${pyodideDir}/`, env });
await py.loadPackage(["numpy", "oneneuron"], { messageCallback: () => {} });

// The finder of later parts, a module of the page's Python kept beside this file: the
// build script compiles it into the start's zip (FINDER), and the recorded start
// imports it from a folder of its own, as the worker imports it from that zip.
const FINDER = { name: "later_parts", path: "tools/later_parts.py" };
FINDER.source = await readFile(new URL(`../${FINDER.path}`, import.meta.url), "utf8");

const START = `
import sys
booted = set(sys.modules)
sys.path.insert(0, "/finder")
import ${FINDER.name}
import oneneuron.page
oneneuron.page.Page()
files = sorted({m.__file__ for m in list(sys.modules.values()) if isinstance(getattr(m, "__file__", None), str)})
[files, sorted(set(sys.modules) - booted)]
`;

/** The files a start imports, and the modules it imports after Python's own start. */
async function recordStart() {
  const fresh = await loadPyodide({ indexURL: `${pyodideDir}/`, env });
  const copy = (dir) => {
    fresh.FS.mkdirTree(dir);
    for (const name of py.FS.readdir(dir)) {
      if (name === "." || name === "..") continue;
      const path = `${dir}/${name}`;
      if (py.FS.isDir(py.FS.stat(path).mode)) copy(path);
      else fresh.FS.writeFile(path, py.FS.readFile(path));
    }
  };
  copy(py.runPython("import site; site.getsitepackages()[0]"));
  fresh.FS.mkdirTree("/finder");
  fresh.FS.writeFile(`/finder/${FINDER.name}.py`, FINDER.source);
  const [files, imported] = fresh.runPython(START).toJs();
  return { files, imported };
}

py.globals.set("PAGE_START", py.toPy(await recordStart()));
py.globals.set("FINDER", py.toPy(FINDER));
py.FS.mkdirTree("/out");
py.FS.mount(py.FS.filesystems.NODEFS, { root: outDir }, "/out");
py.runPython(script);
