// The TensorFlow.js peer of the page's first visit: the library, the same neuron (the
// page's shipped weights/six.json as a dense 576 → 1 sigmoid layer) and one
// prediction, on the cpu backend (a 576-weight dot product needs no more). When the
// answer is known, window.__predicted holds performance.now() (ms since navigation).
/* global tf */
await tf.setBackend("cpu");
await tf.ready();
const response = await fetch("/weights/six.json");
if (!response.ok) throw new Error(`/weights/six.json: HTTP ${response.status}`);
const six = await response.json();
const model = tf.sequential();
model.add(tf.layers.dense({ units: 1, inputShape: [576], activation: "sigmoid" }));
model.setWeights([tf.tensor2d(six.weights[0], [576, 1]), tf.tensor1d(six.bias)]);
// a drawn digit: a vertical stroke down the middle of the 24 × 24 grid
const x = new Float32Array(576);
for (let row = 4; row < 20; row++) x[row * 24 + 11] = x[row * 24 + 12] = 1;
const [p] = await model.predict(tf.tensor2d(x, [1, 576])).data();
window.__predicted = performance.now();
document.getElementById("status").textContent = `P(6) = ${p.toFixed(3)}`;
document.body.dataset.probability = String(p);
document.body.dataset.ready = "true";
