// A promise API over the Python worker, keyed by message id.
//
// call(method, args) posts {id, method, args}; the worker answers {id, result} or
// {id, error: {kind, field, message}}, and the promise resolves with the result or
// rejects with a WorkerError carrying kind, field and message. Messages without an id
// are events (loading progress) and go to onEvent. If the worker dies, every pending
// call rejects, so no caller waits forever.

/**
 * A request that failed. kind: "setting" (a training setting, named by field: a
 * TrainConfig field, the data-setting of its form input), "diverged" (a training run
 * whose loss stopped being finite), "invalid" (any other refused value), "internal"
 * (a bug, a failed download, a stopped worker). message: one line a person reads.
 */
export class WorkerError extends Error {
  constructor({ kind = "internal", field = null, message }, method) {
    super(message);
    this.name = "WorkerError";
    this.kind = kind;
    this.field = field ?? null;
    this.method = method;
  }
}

/**
 * Talk to a module worker: a Worker already started (js/boot.js starts it first
 * thing), or the URL of one to start.
 */
export function connect(workerOrUrl, { onEvent = () => {} } = {}) {
  const worker = workerOrUrl instanceof Worker ? workerOrUrl : new Worker(workerOrUrl, { type: "module" });
  const pending = new Map();
  let nextId = 1;
  let dead = null;

  worker.addEventListener("message", ({ data }) => {
    if (!data || data.id === undefined) {
      onEvent(data || {});
      return;
    }
    const call = pending.get(data.id);
    if (!call) return;
    pending.delete(data.id);
    if ("error" in data) call.reject(new WorkerError(data.error, call.method));
    else call.resolve(data.result);
  });

  const die = (message) => {
    dead = message;
    for (const call of pending.values()) call.reject(new WorkerError({ message }, call.method));
    pending.clear();
    onEvent({ event: "crash", message });
  };
  const failed = (e) => {
    e.preventDefault();
    if (!dead) die(e.message ? `the Python worker stopped: ${e.message}` : "the Python worker could not be loaded");
  };
  worker.addEventListener("error", failed);
  if (worker.startError) queueMicrotask(() => failed(worker.startError)); // before we listened (js/boot.js)
  worker.addEventListener("messageerror", () => die("the Python worker sent a message that could not be read"));

  /**
   * Ask the worker for something.
   * @param {string} method  a request (worker/worker.js: REQUESTS, else oneneuron/page.py: REQUESTS)
   * @param {object} args    its arguments; typed arrays are best (cheap to send)
   * @param {Transferable[]} transfer  buffers to move instead of copying
   * @returns {Promise<any>} the result; rejects with WorkerError
   */
  function call(method, args = {}, transfer = []) {
    if (dead) return Promise.reject(new WorkerError({ message: dead }, method));
    return new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, method });
      try {
        worker.postMessage({ id, method, args }, transfer);
      } catch (err) {
        pending.delete(id);
        reject(new WorkerError({ message: `could not send ${method}: ${err.message}` }, method));
      }
    });
  }

  return { call, worker };
}
