// The training run's slice loop, in the worker (used by worker.js, beside it).
//
// Slices of about SLICE_SECONDS of batches, one after another, each a job in the same
// queue as every request: a prediction asked for while training waits at most one
// slice. Between slices the loop yields a task, so messages (Pause) get in. The time
// counted (seconds) is the wall-clock time while the run is going, slices and all in
// between, not the time paused.
// The held-out check runs after a slice once CHECK_EVERY seconds have passed, and
// never takes more than about a tenth of the time (ten neurons check more slowly).
// Python does the batches: the request "trainRun" (oneneuron/session.py).

const SLICE_SECONDS = 0.025;
const CHECK_EVERY = 0.05;

// A new task without setTimeout's 4-ms clamp on nested timers.
const tick = new MessageChannel();
let ticked = null;
tick.port1.onmessage = () => ticked && ticked();
const nextTask = () =>
  new Promise((resolve) => {
    ticked = resolve;
    tick.port2.postMessage(0);
  });

export class TrainLoop {
  /**
   * @param {{ask: (method: string, args: object) => object,
   *          enqueue: (job: () => void) => Promise<void>,
   *          send: (message: object) => void}} seam
   *   ask: one request to Python, answered {result} or {error};
   *   enqueue: a job in the worker's one queue of requests;
   *   send: an event to the page (its typed arrays moved, not copied)
   */
  constructor({ ask, enqueue, send }) {
    this.ask = ask;
    this.enqueue = enqueue;
    this.send = send;
    this.running = false;
    this.loop = null;
    this.elapsed = 0; // seconds while running, this run
    this.python = 0; // of which in Python
    this.mark = 0; // performance.now() when elapsed was last brought up to date
    this.checked = -Infinity; // elapsed at the last check
    this.checkCost = 0; // seconds the last check took
    this.sliceSeconds = SLICE_SECONDS;
  }

  // The requests of the training panel (worker.js: REQUESTS), each answered {result}
  // or {error}.

  /** trainStart: Python builds a new run; building it counts as its first seconds. */
  start(args) {
    this.stop();
    const t0 = performance.now();
    const answer = this.ask("trainStart", args);
    if (answer.error) return answer;
    this.elapsed = (performance.now() - t0) / 1000;
    this.python = this.elapsed;
    this.checked = -Infinity;
    answer.result.seconds = this.elapsed;
    return answer;
  }

  /** trainCancel: no further slices, and Python drops the run. */
  cancel(args) {
    this.stop();
    return this.ask("trainCancel", args);
  }

  /** No further slices (a Pause, a new run, a cancelled one); the one running ends. */
  stop() {
    this.running = false;
  }

  // trainResume: train in slices until the run is done or paused; each slice is posted
  // as a {event: "train"} message. Answers at once.
  resume({ sliceSeconds = SLICE_SECONDS } = {}) {
    this.sliceSeconds = sliceSeconds;
    this.running = true;
    this.mark = performance.now();
    this.loop ??= this.#run();
    return { result: { running: true } };
  }

  // trainPause, answered after the slice in progress: the progress at which training
  // stopped.
  pause() {
    this.stop();
    return { result: { seconds: this.elapsed } };
  }

  // trainStep: exactly one batch.
  step() {
    this.stop();
    const t0 = performance.now();
    const answer = this.ask("trainRun", { max_batches: 1, check: true });
    if (answer.error) {
      this.elapsed += (performance.now() - t0) / 1000;
      return answer;
    }
    this.python += (performance.now() - t0) / 1000;
    this.elapsed += (performance.now() - t0) / 1000;
    return { result: this.#checked({ ...answer.result, seconds: this.elapsed }) };
  }

  #checkDue() {
    return this.elapsed - this.checked >= Math.max(CHECK_EVERY, 10 * this.checkCost);
  }

  #checked(out) {
    if (out.check) {
      this.checked = this.elapsed;
      this.checkCost = out.check.seconds;
    }
    return out;
  }

  async #run() {
    try {
      while (this.running) {
        await this.enqueue(() => this.#slice());
        if (this.running) await nextTask();
      }
    } finally {
      this.loop = null;
    }
  }

  #slice() {
    if (!this.running) return; // paused while this slice waited its turn
    const t0 = performance.now();
    const { result: out, error } = this.ask("trainRun", { max_seconds: this.sliceSeconds, check: this.#checkDue() });
    if (error) {
      this.running = false;
      this.elapsed += (performance.now() - this.mark) / 1000;
      this.send({ event: "train-error", error, seconds: this.elapsed });
      return;
    }
    this.python += (performance.now() - t0) / 1000;
    const now = performance.now();
    this.elapsed += (now - this.mark) / 1000;
    this.mark = now;
    if (out.done) this.running = false;
    this.#checked(out);
    out.seconds = this.elapsed;
    out.python = this.python; // of which in Python (the rest: messages, the page)
    out.event = "train";
    this.send(out);
  }
}
