// Compile the bytecode the page imports, under the same Pyodide that runs it.
//
//   node tools/bytecode.mjs PYODIDE_DIR OUT_DIR
//
// Loads Pyodide from PYODIDE_DIR (a dist/pyodide being assembled, with its lock,
// numpy and our wheel), mounts OUT_DIR at /out and runs tools/bytecode_pyodide.py
// inside it, which writes the runtime split into a start and later parts there
// (python_stdlib.zip, site-packages.bin, their later parts and two lists).
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

const [pyodideDir, outDir] = process.argv.slice(2);
const script = await readFile(new URL("./bytecode_pyodide.py", import.meta.url), "utf8");
const { loadPyodide } = await import(pathToFileURL(`${pyodideDir}/pyodide.mjs`).href);
// line numbers only, no column ranges: a third smaller, same tracebacks but the ^^^
const env = { PYTHONHASHSEED: "0", PYTHONNODEBUGRANGES: "1" };
const py = await loadPyodide({ indexURL: `${pyodideDir}/`, env });
await py.loadPackage(["numpy", "oneneuron"], { messageCallback: () => {} });
py.FS.mkdirTree("/out");
py.FS.mount(py.FS.filesystems.NODEFS, { root: outDir }, "/out");
py.runPython(script);
