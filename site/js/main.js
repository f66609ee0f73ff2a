// The page's wiring: starts the Python worker at once, lets the pad draw from the
// first moment, and connects the live prediction (js/live.js), the model switch and
// the training panel to the worker.
//
// Which models there are, their names and labels, and which one answers first are
// Python's (oneneuron/page.py: SHIPPED): the page asks "select" with no name to start,
// and shows the list every answer that changes the models brings.
//
// Performance mark for benchmarks (performance.getEntriesByName; js/live.js has the
// strokes' marks, js/lesson.js Teach's, js/threshold.js the slider's):
//   oneneuron:ready                  the model can predict (startTime = navigation → ready;
//                                    detail: the worker's own timings, its "ready")

import { connect } from "./api.js";
import { Handwriting } from "./handwriting.js";
import { DrawingLabel } from "./label.js";
import { Live } from "./live.js";
import { ModelsView } from "./models.js";
import { Pad } from "./pad.js";
import { Training } from "./training.js";

const STAGES = {
  python: "Starting Python in your browser…",
  numpy: "Loading numpy…",
  oneneuron: "Loading the neuron…",
};

const params = new URLSearchParams(location.search);
const body = document.body;
const workerUrl = new URL("../worker/worker.js", import.meta.url);
if (params.has("nosnapshot")) workerUrl.search = "?nosnapshot";
const api = connect(window.oneneuronWorker || workerUrl, { onEvent });

const pad = new Pad(document.getElementById("pad"), document.getElementById("pad-input"), {
  cursor: document.querySelector(".pad-cursor"),
});
// What the person says the drawing is: beside the answer (its loss) and in Examples.
const label = new DrawingLabel([document.getElementById("drawing-label"), document.getElementById("example-label")]);
const live = new Live({
  api,
  pad,
  label: () => label.value,
  onError: (message) => setStatus("error", `Prediction failed: ${message}`, 1),
  onAnswer: () => {
    handwriting.enable(); // never downloads before the first prediction
    loadLater();
  },
});
label.addEventListener("change", () => live.repredict(false)); // its loss
const models = new ModelsView({ onSelect: selectModel, onImport: loadWeights, onExport: exportModel });
models.enable(false);
// A model trained or taught in the page: it answers now.
const adopt = (model, list) => {
  applyModel(model, list);
  live.repredict();
};
const training = new Training({ api, pad, onModel: adopt });
// "Other people's handwriting" downloads through the training's data, once for both.
const handwriting = new Handwriting({ api, data: training.data });
const panelSeen = watchTrainingPanel();
// Python's trainer (Teach and Train use it) comes with a later part of the runtime:
// fetched when one of them comes near, so that their first click does not wait for it
const trainer = () => api.call("prefetch", { module: "oneneuron.train" }).catch(() => null);

// -- start ------------------------------------------------------------------------------
api
  .call("select", {})
  .then(async ({ model, models: list }) => {
    const runtime = await api.call("ready");
    applyModel(model, list);
    models.enable(true);
    body.dataset.ready = "true";
    performance.mark("oneneuron:ready", { detail: runtime });
    setStatus("ready", "Ready: the neuron runs in your browser.", 1);
    document.getElementById("status").title = `Python, numpy and the neuron started in ${(performance.now() / 1000).toFixed(1)} s`;
    live.setReady(true);
    quiet(QUIET_MS, () => training.busy).then(registerServiceWorker);
    // the update rule's source (the panel shows it) is asked for once the panel comes
    // near the screen: reading it takes the worker ~0.1 s, not in a first stroke's way
    panelSeen.then(trainer).then(() => training.ready());
    training.awaitDefaults(panelSeen.then(shippedDefaults));
    training.restore();
  })
  .catch((err) => stopped(err.message));

function onEvent(e) {
  if (e.event === "train" || e.event === "train-error" || String(e.stage).startsWith("data-")) {
    training.onEvent(e);
    return;
  }
  if (e.event === "progress" && STAGES[e.stage] && !live.state.ready) setStatus("loading", STAGES[e.stage], e.fraction);
  if (e.event === "crash") stopped(e.message);
}

/** Python could not start, or its worker died: say what happened and what to do. */
function stopped(why) {
  const started = live.state.ready;
  live.setReady(false);
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

document.getElementById("clear").addEventListener("click", () => pad.clear());
document.getElementById("undo").addEventListener("click", () => pad.undo());
document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z") {
    if (e.target instanceof HTMLInputElement && e.target.type !== "radio") return;
    e.preventDefault();
    pad.undo();
  }
});

// Teaching a drawing (js/lesson.js) and the threshold (js/threshold.js; uPlot once its
// counts are asked for) are imported once a first answer is on screen and their cards
// come near the screen: not among the bytes before the first answer.
let loading = null;
const later = { lesson: null, threshold: null };
const cards = ["lesson", "threshold-card"].map((id) => document.getElementById(id));

function loadLater() {
  loading ??= near(cards)
    .then(() => Promise.all([import("./lesson.js"), import("./threshold.js")]))
    .then(
      ([{ Lesson }, { Threshold }]) => {
        const taught = (model, list) => {
          adopt(model, list);
          training.trained.taught(model); // a taught trained model is kept as taught
        };
        const offList = () => live.shown.offList();
        later.lesson = new Lesson({ api, pad, label, onModel: taught, offList });
        trainer();
        const onThreshold = (t) => live.shown.setThreshold(t);
        later.threshold = new Threshold({ api, data: training.data, onThreshold });
        for (const view of Object.values(later)) view.setModel(live.model);
      },
      (err) => {
        loading = null; // tried again at the next answer
        console.warn("oneneuron: teaching and the threshold could not load", err);
      },
    );
}

// -- models -------------------------------------------------------------------------------
/** The active model and Python's list of models (the switch offers each). */
function applyModel(model, list) {
  live.setModel(model);
  handwriting.setModel(model);
  for (const view of Object.values(later)) view?.setModel(model);
  models.setModels(list);
  models.setCard(model);
}

// The worker answers in order, so quick switches end on the last one chosen; a
// shipped model not loaded yet is fetched by the worker first.
async function selectModel(name) {
  try {
    const res = await api.call("select", { name });
    applyModel(res.model, res.models);
    models.message("");
    live.repredict();
  } catch (err) {
    models.message(`Could not switch models: ${err.message}`);
    const list = await api.call("models").catch(() => null);
    if (list) models.setModels(list);
  }
}

async function loadWeights(file) {
  const name = file.name.length > 80 ? `${file.name.slice(0, 77)}…` : file.name;
  try {
    const res = await api.call("loadWeights", { file, name: "file", label: `Loaded: ${name}` });
    applyModel(res.model, res.models);
    models.message(`Loaded ${name}.`, "ok");
    live.repredict();
  } catch (err) {
    models.message(`Could not load ${name}: ${err.message}. The current model is kept.`);
  }
}

async function exportModel() {
  try {
    const text = await api.call("export", {});
    models.download(text, `oneneuron-${live.model.name}.json`);
  } catch (err) {
    models.message(`Could not export: ${err.message}`);
  }
}

// The charts' library loads when the training panel comes near the screen; the
// promise resolves then (and the update rule is asked for).
function watchTrainingPanel() {
  return near([document.getElementById("train")]).then(() => training.prepareCharts());
}

/** A promise that resolves once one of these elements comes near the screen. */
function near(elements) {
  if (!("IntersectionObserver" in window)) return Promise.resolve();
  return new Promise((resolve) => {
    const seen = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          seen.disconnect();
          resolve();
        }
      },
      { rootMargin: "200px" },
    );
    for (const el of elements) seen.observe(el);
  });
}

// The deskew switch starts at the shipped ten neurons' choice, which their weights
// file records: loaded into the worker without making them active (Ten neurons is
// then quick).
async function shippedDefaults() {
  try {
    const { model } = await api.call("select", { name: "digits", activate: false });
    training.view.setDefault("deskew", model.preprocess.deskew);
  } catch {
    // the switch keeps the form's default; switching to ten neurons will say what failed
  }
}

// -- offline ------------------------------------------------------------------------------
// The offline copy (the service worker fetches, checks and keeps some 30 MB, 1-1.5 s of
// work) starts once the person has paused and no training run is going: begun while
// they drew, it took a core from the page on two-core machines, and the first strokes
// after choosing the hidden layer made tasks of 50-70 ms; begun as a run started, one
// of 60-75 ms. It is for the next visit: nothing here waits for it.
const QUIET_MS = 3000; // this long without a press, a drag, a key or a wheel
const INPUT = ["pointerdown", "pointerup", "keydown", "wheel"];

function quiet(ms, busy) {
  return new Promise((resolve) => {
    let timer = null;
    const again = () => {
      clearTimeout(timer);
      timer = setTimeout(done, ms);
    };
    const dragged = (e) => e.buttons && again();
    const done = () => {
      if (busy()) return again(); // a run: look again once it has been quiet as long
      for (const type of INPUT) removeEventListener(type, again, true);
      removeEventListener("pointermove", dragged, true);
      resolve();
    };
    for (const type of INPUT) addEventListener(type, again, { capture: true, passive: true });
    addEventListener("pointermove", dragged, { capture: true, passive: true });
    again();
  });
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || params.has("nosw")) return;
  navigator.serviceWorker.register(new URL("../sw.js", import.meta.url)).catch((err) => {
    console.warn("oneneuron: no offline support", err);
  });
  navigator.serviceWorker.ready.then(() => {
    body.dataset.offline = "ready";
  });
}

// For curious people and the benchmark (bench/browser_bench.py reads
// training.view.charts): the API and the pad (window.oneneuron.api.call(...)).
window.oneneuron = { api, pad, training, label, later };
