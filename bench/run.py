"""Benchmarks against peers, measured side by side in one run.

    python3 build.py bench [--quick]
    python3 bench/run.py --only gpu      # on a machine with CuPy and an NVIDIA GPU

Prints a table, writes bench/results.json and replaces the benchmark table in README.md.
Machines here are shared and noisy: every figure is a median over several runs with the
min–max beside it, and comparisons are ratios between runs made in this same process.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
README = ROOT / "README.md"
STANDARD = {"optimizer": "adam", "lr": 0.01, "epochs": 5, "batch_size": 512}
# The hidden layer, plain inputs: the same architecture and schedule for every peer.
HIDDEN = {"target": "all", "hidden": 64, "optimizer": "adam", "lr": 0.01,
          "epochs": 5, "batch_size": 128}  # fmt: skip


def timed(fn: Callable[[], Any], repeats: int) -> tuple[dict, Any]:
    """Run ``fn`` ``repeats`` times: median, min, max seconds and the last result."""
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return spread(seconds), result


def spread(values: list[float]) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


# -- CPython training against scikit-learn ---------------------------------------------
def cpython_training(quick: bool) -> list[dict]:
    """oneneuron (numpy) against LogisticRegression and SGDClassifier(log_loss);
    the hidden layer against MLPClassifier with the same architecture."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.neural_network import MLPClassifier

    from oneneuron.backend import single_blas_thread
    from oneneuron.data import load_inputs
    from oneneuron.train import TrainConfig, Trainer

    X, y = load_inputs("train", progress=False)
    X_test, y_test = load_inputs("test", progress=False)
    X32, X_test32 = X.astype(np.float32), X_test.astype(np.float32)
    rows = []
    for target in (6, "all", "hidden"):
        truth = (y == 6) if target == 6 else y
        truth_test = (y_test == 6) if target == 6 else y_test
        settings = HIDDEN if target == "hidden" else {"target": target, **STANDARD}

        def ours(settings=settings):
            trainer = Trainer(X, y, TrainConfig(**settings))
            with single_blas_thread():  # as the CLI trains
                trainer.run()
            return trainer.model

        def lbfgs(truth=truth):
            return LogisticRegression(max_iter=1000).fit(X32, truth)

        def sgd(truth=truth):
            return SGDClassifier(loss="log_loss", random_state=0).fit(X32, truth)

        def mlp(activation: str):
            def train():
                net = MLPClassifier(
                    (HIDDEN["hidden"],), activation=activation, solver="adam",
                    learning_rate_init=HIDDEN["lr"], batch_size=HIDDEN["batch_size"],
                    max_iter=HIDDEN["epochs"], tol=0, n_iter_no_change=10**9,
                    random_state=0,
                )  # fmt: skip
                with warnings.catch_warnings():  # "did not converge": epochs are set
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    with single_blas_thread():
                        return net.fit(X32, y)

            return train

        if target == "hidden":
            epochs = f"batch {HIDDEN['batch_size']}, {HIDDEN['epochs']} epochs"
            peers = [
                (f"oneneuron (numpy, Adam, {epochs})", ours, 1 if quick else 5),
                (f"scikit-learn MLPClassifier (logistic, Adam, {epochs})",
                 mlp("logistic"), 1 if quick else 3),
                (f"scikit-learn MLPClassifier (ReLU, Adam, {epochs})", mlp("relu"),
                 1 if quick else 3),
            ]  # fmt: skip
        else:
            peers = [
                (
                    "oneneuron (numpy, Adam, batch 512, 5 epochs)",
                    ours,
                    1 if quick else 7,
                ),
                ("scikit-learn LogisticRegression (lbfgs)", lbfgs, 1 if quick else 3),
                ("scikit-learn SGDClassifier (log_loss)", sgd, 1 if quick else 3),
            ]
        base = None
        for name, fit, repeats in peers:
            times, model = timed(fit, repeats)
            if name.startswith("oneneuron"):
                pred = np.asarray(model.predict(X_test))
                accuracy = float(np.mean(pred == truth_test))
                base = times["median"]
            else:
                accuracy = float(np.mean(model.predict(X_test32) == truth_test))
            task = {6: "one neuron (6)", "all": "ten neurons"}.get(
                target, f"hidden layer of {HIDDEN['hidden']}"
            )
            rows.append(
                {
                    "task": task,
                    "name": name,
                    "seconds": times,
                    "test_accuracy": accuracy,
                    "times_slower_than_oneneuron": times["median"] / base,
                }
            )
            print(
                f"  {rows[-1]['task']:<15} {name:<48} {times['median']:7.3f} s  "
                f"acc {accuracy:.4f}",
                flush=True,
            )
    return rows


# -- the shipped models on other people's handwriting (issue #14) ---------------------
SETS = ("mnist", "optdigits", "mfeat")
SET_TITLES = {
    "mnist": "MNIST test (10,000)",
    "optdigits": "UCI optdigits, rows 0–3822",
    "mfeat": "UCI mfeat-pix (2,000)",
}


def shipped() -> list[dict]:
    """Every model in site/weights on MNIST test and the two foreign sets, each
    image made into an input by the model's own preprocessing (its file says how)."""
    from oneneuron import load_weights, metrics
    from oneneuron.data import load_mnist
    from oneneuron.digitsets import load_digitset

    images = {"mnist": load_mnist("test", progress=False)}
    for name in SETS[1:]:
        images[name] = load_digitset(name)
    rows = []
    for path in sorted((ROOT / "site" / "weights").glob("*.json")):
        model = load_weights(path)
        row: dict[str, Any] = {
            "model": path.name,
            "preprocess": model.preprocess.describe(),
        }
        for name, (im, labels) in images.items():
            X = model.to_input(im).reshape(len(im), -1)
            r = metrics.evaluate(model, X, labels)
            row[name] = {k: r[k] for k in ("accuracy", "f1", "roc_auc") if k in r}
        rows.append(row)
        print(
            f"  {path.name:<12} "
            + "  ".join(f"{n} {row[n]['accuracy']:.2%}" for n in SETS),
            flush=True,
        )
    return rows


def shipped_markdown(rows: list[dict]) -> list[str]:
    """The shipped models' table: accuracy on each set, and F1 for one neuron."""
    head = " | ".join(SET_TITLES[n] for n in SETS)
    lines = [
        f"| model | preprocessing | {head} |",
        "|---|---|" + "---|" * len(SETS),
    ]
    for r in rows:
        cells = []
        for n in SETS:
            cell = f"{r[n]['accuracy']:.2%}"
            if "f1" in r[n]:
                cell += f", F1 {r[n]['f1']:.3f}"
            if n == "mnist" and r[n].get("roc_auc") is not None:
                cell += f", AUC {r[n]['roc_auc']:.4f}"
            cells.append(cell)
        lines.append(f"| {r['model']} | {r['preprocess']} | {' | '.join(cells)} |")
    return lines


# -- GPU -------------------------------------------------------------------------------
def gpu(quick: bool) -> dict:
    """CuPy against numpy on the same machine: samples per second on MNIST and a 10×
    synthetic set, then each shipped recipe (as its weights file records it) trained on
    both and scored on MNIST test."""
    from oneneuron.backend import BackendError, device_name, get_namespace
    from oneneuron.data import load_inputs

    try:
        xp = get_namespace("cupy")
    except BackendError as exc:
        return {"available": False, "reason": str(exc)}
    X, y = load_inputs("train", progress=False)
    rng = np.random.default_rng(0)
    big = np.concatenate([X] * 10)
    big_y = np.concatenate([y] * 10)
    big = np.where(rng.random(big.shape) < 0.02, 1 - big, big).astype(np.uint8)  # noise
    out: dict[str, Any] = {
        "available": True,
        "device": device_name(xp),
        "cpu": f"{cpu_name()}, {os.cpu_count()} cores",
        "rows": [],
        "recipes": [],
    }
    for data_name, (Xd, yd) in (
        ("MNIST 60,000", (X, y)),
        ("synthetic 600,000", (big, big_y)),
    ):
        for backend in ("numpy", "cupy"):
            for target in (6, "all"):
                epochs = 1 if quick else 3
                times = _fit_timed(
                    Xd,
                    yd,
                    {"target": target, "epochs": epochs, "batch_size": 4096},
                    backend,
                    xp,
                    1 if quick else 3,
                )[0]
                out["rows"].append(
                    {
                        "data": data_name,
                        "backend": backend,
                        "target": str(target),
                        "seconds": times,
                        "samples_per_second": len(yd) * epochs / times["median"],
                    }
                )
                print(f"  {data_name} {backend} {target}: {fmt(times)}", flush=True)
    out["recipes"] = gpu_recipes(xp, quick)
    return out


def _fit_timed(X, y, settings: dict, backend: str, xp, repeats: int, preprocess=None):
    """Train with ``settings`` on ``backend`` ``repeats`` times: (seconds, model)."""
    from oneneuron.train import TrainConfig, fit

    config = TrainConfig.from_dict({**settings, "backend": backend})

    def once():
        model = fit(X, y, config, preprocess=preprocess)
        if backend == "cupy":
            xp.cuda.Device().synchronize()
        return model

    return timed(once, repeats)


def gpu_recipes(xp, quick: bool) -> list[dict]:
    """Each shipped recipe, read back from its weights file, on numpy and on CuPy."""
    from oneneuron import load_weights, metrics
    from oneneuron.data import load_inputs
    from oneneuron.model import make_model
    from oneneuron.train import TrainConfig

    rows = []
    for path in sorted((ROOT / "site" / "weights").glob("*.json")):
        shipped = load_weights(path)
        recorded = json.loads(path.read_text())["training"]
        keep = {f for f in TrainConfig.__dataclass_fields__ if f != "backend"}
        settings = {k: v for k, v in recorded.items() if k in keep}
        if quick:
            settings["epochs"] = 1
        X, y = load_inputs("train", preprocess=shipped.preprocess, progress=False)
        Xt, yt = load_inputs("test", preprocess=shipped.preprocess, progress=False)
        for backend in ("numpy", "cupy"):
            times, model = _fit_timed(
                X,
                y,
                settings,
                backend,
                xp,
                1 if quick else 3,
                preprocess=shipped.preprocess,
            )
            host = make_model(settings["target"]).set_weights(*model.weights_numpy())
            r = metrics.evaluate(host, Xt, yt)
            rows.append(
                {
                    "model": path.name,
                    "backend": backend,
                    "epochs": settings["epochs"],
                    "batch_size": settings["batch_size"],
                    "seconds": times,
                    "test_accuracy": r["accuracy"],
                }
            )
            print(
                f"  {path.name} recipe on {backend}: {fmt(times)}, "
                f"test {r['accuracy']:.2%}",
                flush=True,
            )
    return rows


# -- browser (the page, and TensorFlow.js as the peer) ---------------------------------
def browser(quick: bool) -> dict:
    """The page in headless Chromium; see bench/browser.py."""
    try:
        from browser_bench import run as run_browser  # type: ignore[import-not-found]
    except ImportError:
        return {"measured": False, "reason": "the browser benchmark is not written yet"}
    return run_browser(quick=quick)


# -- report ----------------------------------------------------------------------------
def cpu_name() -> str:
    """The processor's model name (/proc/cpuinfo), or what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    cpu = cpu_name()
    node = subprocess.run(
        ["node", "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "node": node,
        "system": f"{platform.system()} {platform.release()}",
    }


def fmt(times: dict) -> str:
    return f"{times['median']:.3g} s ({times['min']:.3g}–{times['max']:.3g})"


def markdown(results: dict) -> str:
    m = results["machine"]
    quick = " --quick" if results["quick"] else ""
    lines = [
        f"Measured {results['date']} by `python3 build.py bench{quick}` on "
        f"{m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        f"numpy {m['numpy']}, Node {m['node']}. Times: median (min–max) over the "
        "runs shown; ratios within this run.",
        "",
        "**Training on CPython** (24×24 binary MNIST: 60,000 training images, "
        "10,000 test):",
        "",
        "| task | trainer | fit time | runs | test accuracy | time ÷ oneneuron's |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["cpython"]:
        lines.append(
            f"| {r['task']} | {r['name']} | {fmt(r['seconds'])} "
            f"| {r['seconds']['runs']} | {r['test_accuracy']:.2%} "
            f"| {r['times_slower_than_oneneuron']:.1f}× |"
        )
    if results.get("shipped"):
        lines += [
            "",
            "**The shipped models on other people's handwriting** (accuracy; one "
            "neuron: also F1 for 6, and ROC AUC on MNIST):",
            "",
            *shipped_markdown(results["shipped"]),
        ]
    b = results["browser"]
    lines += [
        "",
        "**In the browser** (headless Chromium, dist/ served from 127.0.0.1):",
        "",
    ]
    if b.get("measured"):
        lines += b["markdown"]
    else:
        lines.append(f"Not measured in this run: {b.get('reason')}.")
    lines += ["", *gpu_markdown(results["gpu"])]
    return "\n".join(lines)


def gpu_markdown(g: dict) -> list[str]:
    """CuPy against numpy on the GPU's own machine, and the shipped recipes on both."""
    lines = ["**GPU** (`train --backend cupy` against numpy):", ""]
    if not g["available"]:
        lines.append(
            f"No GPU in this run ({g['reason'].split(';')[0]}); no figure is given."
        )
        return lines
    if "date" in g:  # measured on its own, on the machine that has the GPU
        quick = " --quick" if g.get("quick") else ""
        lines += [
            f"Measured {g['date']} by `python3 bench/run.py --only gpu{quick}` on "
            f"{g['device']}; numpy on that machine's {g['cpu']}.",
            "",
        ]

    def where(r: dict) -> str:
        return g["device"] if r["backend"] == "cupy" else "cpu"

    lines += [
        "| data | backend | target | time | samples/s | ÷ numpy |",
        "|---|---|---|---|---|---|",
    ]
    numpy_rate = {
        (r["data"], r["target"]): r["samples_per_second"]
        for r in g["rows"]
        if r["backend"] == "numpy"
    }
    for r in g["rows"]:
        rate = r["samples_per_second"]
        ratio = rate / numpy_rate[(r["data"], r["target"])]
        lines.append(
            f"| {r['data']} | {r['backend']} ({where(r)}) | {r['target']} "
            f"| {fmt(r['seconds'])} | {rate:,.0f} | {ratio:.1f}× |"
        )
    if g.get("recipes"):
        lines += [
            "",
            "The shipped recipes (each read back from its weights file: same "
            "preprocessing, epochs, batch size, seed) trained on each backend, "
            "scored on MNIST test:",
            "",
            "| model | backend | epochs × batch | time | MNIST test |",
            "|---|---|---|---|---|",
        ]
        for r in g["recipes"]:
            lines.append(
                f"| {r['model']} | {r['backend']} ({where(r)}) "
                f"| {r['epochs']} × {r['batch_size']} | {fmt(r['seconds'])} "
                f"| {r['test_accuracy']:.2%} |"
            )
    return lines


def update_readme(table: str) -> None:
    text = README.read_text()
    pattern = re.compile(r"(<!-- bench:start -->\n).*?(\n<!-- bench:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(
            "README.md has no <!-- bench:start --> … <!-- bench:end --> markers"
        )
    README.write_text(pattern.sub(lambda m: m.group(1) + table + m.group(2), text))


# part → (what it measures, how); run in this order
PARTS: dict[str, tuple[str, Callable[[bool], Any]]] = {
    "cpython": ("CPython training against scikit-learn", cpython_training),
    "shipped": ("Shipped models on three sets of handwriting", lambda quick: shipped()),
    "browser": ("Browser", browser),
    "gpu": ("GPU", gpu),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="one run each (a smoke run)"
    )
    parser.add_argument(
        "--no-readme", action="store_true", help="leave README.md alone"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file (JSON)")
    parser.add_argument(
        "--only",
        choices=PARTS,
        help="measure this part alone and merge it into the results file "
        "(e.g. gpu, on a machine that has one)",
    )
    parser.add_argument(
        "--table",
        action="store_true",
        help="measure nothing: rewrite README's table from the results file",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    results: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "quick": args.quick,
    }
    try:
        before = json.loads(args.out.read_text())
    except (OSError, ValueError) as exc:
        if args.only or args.table:
            raise SystemExit(f"cannot merge into {args.out}: {exc}") from None
        before = {}
    if args.only or args.table:
        results = before
    for part in PARTS:
        if args.table or (args.only and part != args.only):
            continue
        print(PARTS[part][0] + ":", flush=True)
        measured = PARTS[part][1](args.quick)
        if part == "gpu" and not measured["available"]:
            if args.only:
                raise SystemExit(
                    f"no GPU here ({measured['reason']}); {args.out} is unchanged"
                )
            kept = before.get("gpu", {})
            if kept.get("available") and "date" in kept:  # measured on its own
                print(f"  no GPU here: kept the figures of {kept['date']}", flush=True)
                measured = kept
        elif part == "gpu" and args.only:
            measured.update(date=datetime.date.today().isoformat(), quick=args.quick)
        results[part] = measured
    if not args.only and not args.table:
        results["machine"] = machine()
    table = markdown(results)
    print("\n" + table)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    if not args.no_readme:
        update_readme(table)
        print(f"\nwrote {args.out} and README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
