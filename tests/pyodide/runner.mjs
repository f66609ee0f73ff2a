#!/usr/bin/env node
// Run Python inside Pyodide under Node, from the same runtime files the page uses
// (dist/pyodide: pyodide.mjs, pyodide.asm.*, python_stdlib.zip, pyodide-lock.json).
// numpy and oneneuron come from dist's lock, so the installed wheel is what runs,
// not the source tree.
//
//   node tests/pyodide/runner.mjs pytest [--wheel W.whl]... [-- PYTEST ARGS]
//       install the test-only wheels (pytest, its dependencies, array-api-strict;
//       by default every wheel in .cache/pyodide-test-wheels, which build.py
//       fetches and verifies), copy tests/ (without browser/ and pyodide/),
//       pyproject.toml, build.py, tools/ and site/weights/ into the Pyodide file system, run pytest on
//       tests/ and the installed package's doctests, print the counts as one line
//       "pyodide-result {json}" and exit with pytest's status.
//   node tests/pyodide/runner.mjs script FILE.py HOST_DIR
//       run FILE.py as __main__ with HOST_DIR mounted at /io (sys.argv[1] == "/io").
//
// Python 3.12 and numpy 2.0.2 here; CPython runs the same tests with its own numpy.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const PYODIDE_DIR = path.join(ROOT, "dist", "pyodide");
const WHEEL_CACHE = path.join(ROOT, ".cache", "pyodide-test-wheels");
const REPO = "/repo"; // where tests/ and pyproject.toml go inside Pyodide
const SKIP_DIRS = new Set(["browser", "pyodide", "__pycache__"]); // CPython-side only

function fail(message) {
  process.stderr.write(`runner.mjs: error: ${message}\n`);
  process.exit(2);
}

// Pyodide wants a plain Uint8Array, not Node's Buffer subclass.
function readBytes(file) {
  const buffer = fs.readFileSync(file);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function writer(fd) {
  return {
    write(buffer) {
      fs.writeSync(fd, buffer);
      return buffer.length;
    },
  };
}

// Pyodide checks package hashes only in browsers (fetch integrity), not when it
// reads files in Node: check dist's packages against its lock here.
function checkLock() {
  const lockPath = path.join(PYODIDE_DIR, "pyodide-lock.json");
  if (!fs.existsSync(lockPath)) {
    fail(`${lockPath} is missing: run python3 build.py build`);
  }
  const lock = JSON.parse(fs.readFileSync(lockPath, "utf8"));
  for (const [name, pkg] of Object.entries(lock.packages)) {
    const file = path.join(PYODIDE_DIR, pkg.file_name);
    const got = crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    if (got !== pkg.sha256) {
      fail(`${file} has sha256 ${got}, but the lock says ${pkg.sha256} for ${name}`);
    }
  }
}

async function startPyodide() {
  checkLock();
  const started = performance.now();
  const { loadPyodide } = await import(
    pathToFileURL(path.join(PYODIDE_DIR, "pyodide.mjs")).href
  );
  // Pyodide's whole standard library: dist's python_stdlib.zip holds only what the
  // page's start imports (tools/bytecode_pyodide.py), and pytest needs more.
  const stdLibURL = path.join(ROOT, "node_modules", "pyodide", "python_stdlib.zip");
  const py = await loadPyodide({ indexURL: PYODIDE_DIR + path.sep, stdLibURL });
  py.setStdout(writer(1));
  py.setStderr(writer(2));
  await py.loadPackage(["oneneuron"], { messageCallback: () => {} }); // and numpy
  return { py, loadSeconds: (performance.now() - started) / 1000 };
}

function copyTree(py, hostDir, pyodideDir) {
  py.FS.mkdirTree(pyodideDir);
  let count = 0;
  for (const entry of fs.readdirSync(hostDir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const src = path.join(hostDir, entry.name);
    const dst = `${pyodideDir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) count += copyTree(py, src, dst);
    } else if (entry.isFile()) {
      py.FS.writeFile(dst, readBytes(src));
      count += 1;
    }
  }
  return count;
}

function installWheels(py, wheels) {
  const site = py.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
  for (const wheel of wheels) {
    py.unpackArchive(readBytes(wheel), "wheel", { extractDir: site });
  }
  py.runPython("import importlib; importlib.invalidate_caches()");
}

const PYTEST = `
import json, os, sys, time
import pytest

os.environ.setdefault("COLUMNS", "160")  # room for the reasons in the summary


class Counts:
    """Collects the outcome counts from the terminal reporter at the end."""

    stats = {}

    def pytest_terminal_summary(self, terminalreporter):
        Counts.stats = {k: len(v) for k, v in terminalreporter.stats.items() if k}


start = time.perf_counter()
code = int(pytest.main(list(ARGS), plugins=[Counts()]))
import numpy, pyodide, oneneuron
result = {
    "exit": code,
    "passed": Counts.stats.get("passed", 0),
    "skipped": Counts.stats.get("skipped", 0),
    "failed": Counts.stats.get("failed", 0),
    "errors": Counts.stats.get("error", 0),
    "xfailed": Counts.stats.get("xfailed", 0),
    "deselected": Counts.stats.get("deselected", 0),
    "seconds": round(time.perf_counter() - start, 2),
    "python": sys.version.split()[0],
    "numpy": numpy.__version__,
    "pyodide": pyodide.__version__,
    "oneneuron": oneneuron.__file__,
}
sys.stdout.flush()
print("pyodide-result " + json.dumps(result), flush=True)
code
`;

async function runPytest(argv) {
  const wheels = [];
  let rest = argv;
  while (rest[0] === "--wheel") {
    wheels.push(path.resolve(rest[1]));
    rest = rest.slice(2);
  }
  if (rest[0] === "--") rest = rest.slice(1);
  if (wheels.length === 0 && fs.existsSync(WHEEL_CACHE)) {
    for (const name of fs.readdirSync(WHEEL_CACHE).sort()) {
      if (name.endsWith(".whl")) wheels.push(path.join(WHEEL_CACHE, name));
    }
  }
  if (!wheels.some((w) => path.basename(w).startsWith("pytest-"))) {
    fail(`no pytest wheel given or in ${WHEEL_CACHE}: run python3 build.py test`);
  }
  const { py, loadSeconds } = await startPyodide();
  installWheels(py, wheels);
  const files = copyTree(py, path.join(ROOT, "tests"), `${REPO}/tests`);
  // pytest's configuration, and build.py and tools/ because test_build.py and
  // test_serve.py import them when collected (their tests are marked cpython_only
  // and skip here); the shipped weights, which test_weights.py reads.
  for (const name of ["pyproject.toml", "build.py"]) {
    py.FS.writeFile(`${REPO}/${name}`, readBytes(path.join(ROOT, name)));
  }
  copyTree(py, path.join(ROOT, "tools"), `${REPO}/tools`);
  copyTree(py, path.join(ROOT, "site", "weights"), `${REPO}/site/weights`);
  py.FS.chdir(REPO);
  process.stdout.write(
    `pyodide: runtime + numpy + oneneuron loaded in ${loadSeconds.toFixed(1)} s; ` +
      `${files} files of tests/ copied to ${REPO}/tests\n`,
  );
  // The tests, and the doctests of the installed package (the wheel, not py/).
  const installed = py.runPython(
    "import oneneuron, os; os.path.dirname(oneneuron.__file__)",
  );
  const args = rest.length ? rest : ["tests", installed];
  // No cache directory (nothing to keep), no colour codes, short tracebacks; capture
  // at sys level (fd capture needs os.dup2 on real descriptors, which Pyodide lacks).
  const options = ["-p", "no:cacheprovider", "--color=no", "--tb=short"];
  options.push("--capture=sys");
  py.globals.set("ARGS", py.toPy([...options, ...args]));
  return py.runPython(PYTEST);
}

async function runScript(argv) {
  const [file, hostDir] = argv;
  if (!file || !hostDir) fail("usage: runner.mjs script FILE.py HOST_DIR");
  const { py } = await startPyodide();
  py.mountNodeFS("/io", path.resolve(hostDir));
  py.globals.set("SCRIPT", path.resolve(file));
  py.globals.set("SOURCE", fs.readFileSync(file, "utf8"));
  py.runPython(`
import sys
sys.argv = [SCRIPT, "/io"]
exec(compile(SOURCE, SCRIPT, "exec"), {"__name__": "__main__", "__file__": SCRIPT})
`);
  return 0;
}

const [mode, ...argv] = process.argv.slice(2);
const modes = { pytest: runPytest, script: runScript };
if (!(mode in modes)) fail("usage: runner.mjs pytest [...] | script FILE.py DIR");
try {
  process.exit(await modes[mode](argv));
} catch (err) {
  fail(err && err.message ? err.message : String(err));
}
