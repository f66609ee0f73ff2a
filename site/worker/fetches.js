// The fetches of Python's start, answered other ways while it starts (used by
// python.js and worker.js, beside it): the page's early files instead of the network,
// and the first file of Python's that does not come as the start's error.

// The absolute URL a fetch(input) asks for.
function urlOf(input) {
  return new URL(input instanceof Request ? input.url : String(input), self.location.href).href;
}

// Until the returned function is called, every fetch is first offered to
// answer(url, input, init): a Response (or a promise of one) it gives is the answer,
// null sends the fetch on as before.
export function answerFetches(answer) {
  const original = self.fetch;
  const fetch = original.bind(self);
  self.fetch = async (input, init) => (await answer(urlOf(input), input, init)) || fetch(input, init);
  return () => {
    self.fetch = original;
  };
}

// A first visit's page fetches Python's biggest files itself, before this worker's
// modules are in (js/boot.js); each comes here in one message: {early: file, status,
// type, body} (body: a stream, or the whole file) or {early: file, error}. Returns a
// map from each file's URL (under indexURL) to a promise of its Response, for
// answerEarly.
export function earlyFiles(indexURL, files) {
  const waiting = new Map();
  const answers = new Map();
  for (const file of files) {
    answers.set(new URL(file, indexURL).href, new Promise((resolve, reject) => waiting.set(file, { resolve, reject })));
  }
  const receive = ({ data }) => {
    const from = data && typeof data.early === "string" ? waiting.get(data.early) : null;
    if (!from) return;
    waiting.delete(data.early);
    if (!waiting.size) self.removeEventListener("message", receive);
    if (typeof data.error === "string") from.reject(new TypeError(data.error));
    else {
      const headers = data.type ? { "Content-Type": data.type } : {};
      from.resolve(new Response(data.body ?? null, { status: data.status, headers }));
    }
  };
  self.addEventListener("message", receive);
  return answers;
}

// While Python starts, a fetch of an early file is answered with it (once: a body is
// read once); everything else goes on to the network. Returns the function that puts
// fetch back.
export function answerEarly(answers) {
  const restore = answerFetches((url) => {
    const answer = answers.get(url) ?? null;
    answers.delete(url);
    return answer;
  });
  return () => {
    restore();
    answers.clear();
  };
}

// A file of Python's that does not come (a 404, a network failure) makes loadPyodide
// hang (pyodide.asm.wasm) or fail with a riddle ("Program terminated with exit(1)").
// While Python starts, the first such answer to a fetch under indexURL becomes the
// error, naming the file. Returns {failed: a promise that rejects then, error, restore}.
export function watchFetches(indexURL) {
  const original = self.fetch;
  const fetch = original.bind(self);
  let fail = null;
  const failed = new Promise((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  const watch = { failed, error: null, restore: () => (self.fetch = original) };
  const report = (url, why) => {
    if (!url.startsWith(indexURL) || watch.error) return;
    watch.error = new Error(`could not load ${new URL(url).pathname.slice(1)}: ${why}`);
    fail(watch.error);
  };
  self.fetch = async (input, init) => {
    const url = urlOf(input);
    try {
      const response = await fetch(input, init);
      if (!response.ok) report(url, `HTTP ${response.status}`);
      return response;
    } catch (err) {
      report(url, err.message);
      throw err;
    }
  };
  return watch;
}
