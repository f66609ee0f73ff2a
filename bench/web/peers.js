// The browser peers of the benchmark: one dense unit (576 → 1, sigmoid) or ten
// (576 → 10, softmax), Adam, trained on the same packed MNIST (bench/data: the plain
// pipeline's inputs, written by browser_bench.py), by
// TensorFlow.js (cpu or wasm backend) and by oneneuron under Pyodide without any UI.
// bench/browser_bench.py calls window.bench.* through Playwright.

const status = document.getElementById("status");

async function bytes(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

let cache = null;
async function mnist() {
  // Images as bits (72 bytes each, np.packbits order: most significant bit first).
  if (cache) return cache;
  const load = async (split) => ({
    packed: await bytes(`/bench/data/${split}-images.bin`),
    labels: await bytes(`/bench/data/${split}-labels.bin`),
  });
  cache = { train: await load("train"), test: await load("test") };
  return cache;
}

function unpack(packed) {
  const n = packed.length / 72;
  const out = new Float32Array(n * 576);
  for (let i = 0; i < packed.length; i++) {
    const byte = packed[i];
    for (let b = 0; b < 8; b++) out[i * 8 + b] = (byte >> (7 - b)) & 1;
  }
  return out;
}

function targets(labels, target) {
  if (target === "all") {
    const t = new Float32Array(labels.length * 10);
    labels.forEach((d, i) => (t[i * 10 + d] = 1));
    return [t, 10];
  }
  return [Float32Array.from(labels, (d) => (d === target ? 1 : 0)), 1];
}

async function tfjs({ backend, target = 6, hidden = 0, epochs = 5, batchSize = 512, lr = 0.01 }) {
  /* global tf */
  if (backend === "wasm") tf.wasm.setWasmPaths("/bench/tfjs/");
  if (!(await tf.setBackend(backend))) throw new Error(`no ${backend} backend`);
  await tf.ready();
  const data = await mnist();
  const [t, units] = targets(data.train.labels, target);
  const n = data.train.labels.length;
  const xs = tf.tensor2d(unpack(data.train.packed), [n, 576]);
  const ys = tf.tensor2d(t, [n, units]);
  const model = tf.sequential();
  if (hidden) {
    // the same network: H sigmoid neurons reading the 576 inputs, then ten (softmax)
    model.add(tf.layers.dense({ units: hidden, inputShape: [576], activation: "sigmoid" }));
    model.add(tf.layers.dense({ units, activation: "softmax" }));
  } else {
    model.add(tf.layers.dense({
      units, inputShape: [576], kernelInitializer: "zeros",
      activation: units === 1 ? "sigmoid" : "softmax",
    }));
  }
  model.compile({
    optimizer: tf.train.adam(lr),
    loss: units === 1 ? "binaryCrossentropy" : "categoricalCrossentropy",
  });
  status.textContent = `TensorFlow.js ${backend}: training…`;
  const start = performance.now();
  await model.fit(xs, ys, { epochs, batchSize, shuffle: true, verbose: 0 });
  const seconds = (performance.now() - start) / 1000;
  const m = data.test.labels.length;
  const xt = tf.tensor2d(unpack(data.test.packed), [m, 576]);
  const p = await model.predict(xt).data();
  let right = 0;
  for (let i = 0; i < m; i++) {
    const d = data.test.labels[i];
    if (units === 1) right += (p[i] >= 0.5) === (d === target) ? 1 : 0;
    else {
      let best = 0;
      for (let k = 1; k < 10; k++) if (p[i * 10 + k] > p[i * 10 + best]) best = k;
      right += best === d ? 1 : 0;
    }
  }
  tf.dispose([xs, ys, xt]);
  model.dispose();
  return { seconds, accuracy: right / m, backend: tf.getBackend(), tfjs: tf.version.tfjs };
}

let pyodide = null;
async function oneneuron({ target = 6, hidden = 0, epochs = 5, batchSize = 512, lr = 0.01 }) {
  // The package's own training loop under Pyodide, on the main thread, no UI.
  if (!pyodide) {
    const { loadPyodide } = await import("/pyodide/pyodide.mjs");
    // Pyodide's whole standard library (bench/python_stdlib.zip): dist's holds only
    // what the page's start imports, and this page has no finder of the later parts
    pyodide = await loadPyodide({ indexURL: "/pyodide/", stdLibURL: "/bench/python_stdlib.zip" });
    await pyodide.loadPackage(["oneneuron"]);
  }
  const data = await mnist();
  pyodide.globals.set("train_bits", data.train.packed);
  pyodide.globals.set("train_labels", data.train.labels);
  pyodide.globals.set("test_bits", data.test.packed);
  pyodide.globals.set("test_labels", data.test.labels);
  status.textContent = "oneneuron under Pyodide: training…";
  const result = pyodide.runPython(`
import time
import numpy as np
from oneneuron.pagedata import unpack_inputs
from oneneuron.train import TrainConfig, Trainer

X = unpack_inputs(train_bits.to_py())
y = np.frombuffer(train_labels.to_py(), np.uint8)
Xt = unpack_inputs(test_bits.to_py())
yt = np.frombuffer(test_labels.to_py(), np.uint8)
config = TrainConfig(target=${target === "all" ? '"all"' : target}, hidden=${hidden},
                     optimizer="adam", lr=${lr}, epochs=${epochs}, batch_size=${batchSize})
start = time.perf_counter()
trainer = Trainer(X, y, config)
trainer.run()
seconds = time.perf_counter() - start
[seconds, trainer.model.score(Xt, yt)]
`).toJs();
  return { seconds: result[0], accuracy: result[1] };
}

window.bench = { tfjs, oneneuron };
status.textContent = "ready";
document.body.dataset.ready = "true";
