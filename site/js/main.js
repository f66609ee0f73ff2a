// The page's conductor: starts the Python worker at once, lets the pad draw from the
// first moment, asks for predictions (live while drawing, throttled, and once more
// when a stroke ends) and hands the answers to the views.
//
// Performance marks for benchmarks (performance.getEntriesByName):
//   oneneuron:ready                  the model can predict (startTime = navigation → ready;
//                                    detail: the worker's own timings)
//   oneneuron:stroke-end             a stroke ended (pointer up, Undo, keyboard)
//   oneneuron:prediction             that stroke's prediction is in the DOM
//   oneneuron:stroke-to-prediction   a measure between the two

import { connect } from "./api.js";
import { AnswerView } from "./answer.js";
import { MapsView } from "./maps.js";
import { ModelsView } from "./models.js";
import { Pad } from "./pad.js";
import { Training } from "./training.js";

const SHIPPED = {
  six: { name: "six", url: "weights/six.json", label: "One neuron: is it a 6?" },
  digits: { name: "digits", url: "weights/digits.json", label: "Ten neurons: which digit?" },
};
// While drawing, at most one prediction in flight, and at most one per half frame (a
// frame's pointer moves come together; a whole frame would let the requests drift
// behind the moves): the answer to the last move is usually on screen before the pen
// lifts, and then the end of the stroke needs no new request (the ink did not change).
const LIVE_MS = 8;
const STAGES = {
  python: "Starting Python in your browser…",
  numpy: "Loading numpy…",
  oneneuron: "Loading the neuron…",
};

const params = new URLSearchParams(location.search);
const body = document.body;
const workerUrl = new URL("../worker.js", import.meta.url);
if (params.has("nosnapshot")) workerUrl.search = "?nosnapshot";
const api = connect(window.oneneuronWorker || workerUrl, { onEvent });

const state = {
  ready: false,
  model: null, // model_info of the active model
  result: null, // the last prediction shown
  sentence: "", // and how it reads to a screen reader
  pin: null, // ten neurons: the digit picked to inspect, or null to follow the top one
  loaded: new Set(),
  shown: null, // {version, model}: the pad version and model of the answer on screen
};
const flow = {
  inFlight: false,
  queued: false,
  timer: 0,
  lastSent: 0,
  sent: -1, // the pad version of the request in flight
  floor: 0, // results of pad versions below this are stale (the pad was cleared)
  strokeEnd: null, // {version, n}: the stroke whose prediction is awaited
  strokes: 0,
  announce: Infinity, // announce the first answer for a pad version at least this
};

const pad = new Pad(document.getElementById("pad"), document.getElementById("pad-input"), {
  cursor: document.querySelector(".pad-cursor"),
});
const answer = new AnswerView({ onPick: pick });
const maps = new MapsView({ onPick: pick });
const models = new ModelsView({ onSelect: selectModel, onImport: importFile, onExport: exportModel });
models.enable(false);
answer.showEmpty(null, true);
const training = new Training({
  api,
  pad,
  onModel: (model, list) => {
    state.loaded.add(model.name);
    applyModel(model, list);
    repredict();
  },
});
watchTrainingPanel();

// -- start ------------------------------------------------------------------------------
api
  .call("init", SHIPPED.six)
  .then(({ model, models: list, runtime }) => {
    state.loaded.add("six");
    applyModel(model, list);
    state.ready = true;
    models.enable(true);
    body.dataset.ready = "true";
    performance.mark("oneneuron:ready", { detail: runtime });
    setStatus("ready", "Ready: the neuron runs in your browser.", 1);
    document.getElementById("status").title = `Python, numpy and the neuron started in ${(performance.now() / 1000).toFixed(1)} s`;
    if (!pad.empty) request();
    registerServiceWorker();
    training.ready();
    training.restore();
  })
  .catch((err) => stopped(err.message));

function onEvent(e) {
  if (e.event === "train" || e.event === "train-error" || String(e.stage).startsWith("data-")) {
    training.onEvent(e);
    return;
  }
  if (e.event === "progress" && STAGES[e.stage] && !state.ready) setStatus("loading", STAGES[e.stage], e.fraction);
  if (e.event === "crash") stopped(e.message);
}

/** Python could not start, or its worker died: say what happened and what to do. */
function stopped(why) {
  const started = state.ready;
  state.ready = false;
  body.dataset.ready = "false";
  models.enable(false);
  setStatus("error", started ? "Python stopped" : "Python could not start", 0);
  const problem = document.getElementById("start-problem");
  problem.textContent =
    `${started ? "Python stopped in this page" : "Python could not start in this page"}: ${why}. ` +
    "Reload the page to try again; if that fails too, serve the page afresh with python3 build.py serve.";
  problem.hidden = false;
}

function setStatus(kind, text, fraction) {
  document.getElementById("status").dataset.state = kind;
  document.getElementById("status-text").textContent = text;
  document.getElementById("status-progress").value = fraction;
}

// -- drawing → predictions ----------------------------------------------------------------
pad.addEventListener("change", ({ detail }) => {
  if (detail.final) {
    flow.strokes += 1;
    flow.strokeEnd = { version: pad.version, n: flow.strokes };
    performance.mark("oneneuron:stroke-end", { detail: { stroke: flow.strokes } });
  }
  if (pad.empty) {
    flow.floor = pad.version;
    showEmpty();
    return;
  }
  if (detail.final) ended();
  else live();
});

/** A stroke ended: predict it, unless the answer for this ink is shown or coming. */
function ended() {
  const s = state.shown;
  if (state.ready && state.result && s.version === pad.version && s.model === state.model.name) {
    answered();
    answer.announce(state.sentence);
  } else if (!(flow.inFlight && flow.sent === pad.version && !flow.queued)) {
    request();
  }
}

/** The prediction for the stroke that ended is in the DOM. */
function answered() {
  const detail = { stroke: flow.strokeEnd.n };
  flow.strokeEnd = null;
  performance.mark("oneneuron:prediction", { detail });
  performance.measure("oneneuron:stroke-to-prediction", { start: "oneneuron:stroke-end", end: "oneneuron:prediction", detail });
}

function live() {
  const wait = flow.lastSent + LIVE_MS - performance.now();
  if (wait <= 0) request();
  else if (!flow.timer) {
    flow.timer = setTimeout(() => {
      flow.timer = 0;
      if (pad.drawing) request();
    }, wait);
  }
}

/** Ask for a prediction of the pad as it is now; one request in flight at a time. */
function request() {
  if (!state.ready || pad.empty) return;
  if (flow.inFlight) {
    flow.queued = true;
    return;
  }
  send();
}

async function send() {
  flow.inFlight = true;
  flow.lastSent = performance.now();
  const version = (flow.sent = pad.version);
  const pixels = pad.pixels();
  try {
    const r = await api.call("predict", { pixels, width: pad.width, height: pad.height }, [pixels.buffer]);
    if (version >= flow.floor && !pad.empty && r.model === state.model.name) show(r, version);
  } catch (err) {
    setStatus("error", `Prediction failed: ${err.message}`, 1);
  } finally {
    flow.inFlight = false;
    if (flow.queued) {
      flow.queued = false;
      send();
    }
  }
}

function show(r, version) {
  state.result = r;
  state.shown = { version, model: state.model.name };
  const k = neuron();
  const sentence = (state.sentence = answer.show(state.model, r, k));
  answer.setPick(state.model.kind === "ten" ? k : null);
  maps.showSeen(r.seen, r.ink);
  maps.showContributions(state.model, r, k);
  if (state.model.kind === "ten") maps.showWeights(state.model, k);
  if (flow.strokeEnd && version >= flow.strokeEnd.version) {
    answered();
    flow.announce = version;
  }
  if (version >= flow.announce) {
    flow.announce = Infinity;
    answer.announce(sentence);
  }
}

function showEmpty() {
  state.result = null;
  state.shown = { version: pad.version, model: state.model && state.model.name };
  answer.showEmpty(state.model, !state.ready);
  maps.showSeen(null, 0);
  maps.showContributions(state.model, null, 0);
  if (state.model) maps.showWeights(state.model, neuron());
  if (flow.strokeEnd) {
    flow.strokeEnd = null;
    answer.announce("The pad is empty.");
  }
}

/** The neuron whose weights and arithmetic are shown. */
function neuron() {
  const m = state.model;
  if (!m || m.kind === "one") return 0;
  if (state.pin !== null) return state.pin;
  return state.result ? state.result.top : 6;
}

function pick(d) {
  if (!state.model || state.model.kind !== "ten") return;
  state.pin = state.pin === d ? null : d;
  const k = neuron();
  maps.showWeights(state.model, k);
  if (state.result) {
    state.sentence = answer.show(state.model, state.result, k);
    maps.showContributions(state.model, state.result, k);
  }
  answer.setPick(k);
}

document.getElementById("clear").addEventListener("click", () => pad.clear());
document.getElementById("undo").addEventListener("click", () => pad.undo());
document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z") {
    if (e.target instanceof HTMLInputElement && e.target.type !== "radio") return;
    e.preventDefault();
    pad.undo();
  }
});

// -- models -------------------------------------------------------------------------------
function applyModel(model, list) {
  state.model = model;
  state.pin = null;
  body.dataset.mode = model.kind;
  answer.setModel(model);
  models.setModels(withShipped(list));
  models.setCard(model);
  maps.showWeights(model, neuron());
  if (pad.empty) showEmpty();
}

/** The switch offers the shipped models even before the worker has loaded them. */
function withShipped(list) {
  const held = new Set(list.map((m) => m.name));
  const missing = Object.values(SHIPPED)
    .filter((m) => !held.has(m.name))
    .map((m) => ({ name: m.name, label: m.label, active: false }));
  const order = (m) => (m.name in SHIPPED ? Object.keys(SHIPPED).indexOf(m.name) : 9);
  return [...list, ...missing].sort((a, b) => order(a) - order(b));
}

// The worker answers in order, so quick switches end on the last one chosen.
async function selectModel(name) {
  try {
    const shipped = SHIPPED[name];
    const res =
      shipped && !state.loaded.has(name) ? await api.call("fetchModel", shipped) : await api.call("select", { name });
    state.loaded.add(name);
    applyModel(res.model, res.models);
    models.message("");
    repredict();
  } catch (err) {
    models.message(`Could not switch models: ${err.message}`);
    models.setModels(withShipped(await api.call("models").catch(() => [])));
  }
}

async function importFile(file) {
  const name = file.name.length > 80 ? `${file.name.slice(0, 77)}…` : file.name;
  try {
    const res = await api.call("importFile", { file, name: "file", label: `Loaded: ${name}` });
    applyModel(res.model, res.models);
    models.message(`Loaded ${name}.`, "ok");
    repredict();
  } catch (err) {
    models.message(`Could not load ${name}: ${err.message}. The current model is kept.`);
  }
}

/** The model changed: predict the drawing again and announce the new answer. */
function repredict() {
  flow.announce = pad.version;
  request();
}

async function exportModel() {
  try {
    const text = await api.call("export", {});
    models.download(text, `oneneuron-${state.model.name}.json`);
  } catch (err) {
    models.message(`Could not export: ${err.message}`);
  }
}

// The charts' library loads when the training panel comes near the screen.
function watchTrainingPanel() {
  const panel = document.getElementById("train");
  if (!("IntersectionObserver" in window)) return training.prepareCharts();
  const seen = new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        seen.disconnect();
        training.prepareCharts();
      }
    },
    { rootMargin: "200px" },
  );
  seen.observe(panel);
}

// -- offline ------------------------------------------------------------------------------
function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || params.has("nosw")) return;
  navigator.serviceWorker.register(new URL("../sw.js", import.meta.url)).catch((err) => {
    console.warn("oneneuron: no offline support", err);
  });
  navigator.serviceWorker.ready.then(() => {
    body.dataset.offline = "ready";
  });
}

// For tests and curious people: the API and the pad (window.oneneuron.api.call(...)).
window.oneneuron = { api, pad, state, flow, training };
