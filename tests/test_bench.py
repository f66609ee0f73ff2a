"""`build.py bench --quick` end to end, so the benchmark tool does not rot.

It is a smoke test: the figures are not judged (machines are noisy), only that every
part ran, measured something plausible, and reported it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.cpython_only, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_runs_every_part_and_reports(tmp_path):
    out = tmp_path / "results.json"
    cmd = [sys.executable, "bench/run.py", "--quick", "--no-readme", "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200, env=env
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    r = json.loads(out.read_text())

    tasks = {(row["task"], row["name"].split(" ")[0]) for row in r["cpython"]}
    assert tasks == {
        (task, who)
        for task in ("one neuron (6)", "ten neurons", "hidden layer of 64")
        for who in ("oneneuron", "scikit-learn")
    }
    for row in r["cpython"]:
        assert row["seconds"]["median"] > 0
        assert row["test_accuracy"] > (0.97 if "(6)" in row["task"] else 0.88)

    # every shipped model on the three sets, each through its own preprocessing
    shipped = {row["model"]: row for row in r["shipped"]}
    assert set(shipped) == {"six.json", "digits.json", "hidden.json"}
    for row in shipped.values():
        assert row["mnist"]["accuracy"] > 0.9
        assert 0.3 < row["optdigits"]["accuracy"] <= 1  # foreign: worse, far from 0
        assert 0.3 < row["mfeat"]["accuracy"] <= 1
    assert 0 < shipped["six.json"]["mfeat"]["f1"] <= 1
    assert "| six.json |" in result.stdout

    b = r["browser"]
    assert b["measured"], b.get("reason")
    assert 0 < b["load"]["first_visit_s"]["median"] < 60
    assert 1e6 < b["load"]["bytes_before_first_prediction"]["median"] < 50e6
    gz = b["load"]["bytes_before_first_prediction"]["median"]
    assert 1e6 < b["load"]["bytes_before_first_prediction_br"]["median"] < gz
    t = b["throttled"]
    assert t["network"]["downloadThroughput"] == 1_250_000
    # the throttle held: no faster than the bytes allow at 10 Mbit/s
    assert t["first_prediction_s"]["median"] >= t["bytes"]["median"] / 1_250_000
    assert t["first_prediction_s"]["median"] > t["ready_s"]["median"]
    assert 0 < t["tfjs_first_prediction_s"]["median"] < 60
    assert t["tfjs_bytes"]["median"] > 1e5  # TensorFlow.js itself came over the wire
    assert "phone's network" in "\n".join(b["markdown"])
    assert b["stroke"]["strokes"] >= 5
    assert b["stroke_hidden"]["strokes"] >= 5  # with the hidden layer chosen
    assert b["stroke_hidden"]["switch_longest_task_ms"] is not None  # and choosing it
    assert b["stroke"]["visits"] == b["stroke_hidden"]["visits"] > 1
    for name, peer in b["peers"].items():  # the hidden layer: 5 epochs of batch 512
        assert peer["test_accuracy"] > (0.9 if "hidden" in name else 0.97), name
    for run in b["training"].values():  # the page's own training panel
        assert run["seconds"]["median"] > 0
        assert run["test_accuracy"] > 0.9

    gpu = r["gpu"]
    assert gpu["available"] or "cupy" in gpu["reason"]
    assert "| one neuron (6) | oneneuron" in result.stdout  # the table was printed


def test_gpu_table_gives_each_backend_against_numpy_on_the_same_machine():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from run import gpu_markdown  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "bench"))
    secs = {"median": 2.0, "min": 1.9, "max": 2.2, "runs": 3}
    rows = [
        {"data": "MNIST 60,000", "backend": b, "target": "6", "seconds": secs,
         "samples_per_second": rate}
        for b, rate in (("numpy", 1000.0), ("cupy", 25000.0))
    ]  # fmt: skip
    recipe = {"model": "six.json", "epochs": 20, "batch_size": 128, "seconds": secs,
              "test_accuracy": 0.9886}  # fmt: skip
    recipes = [{**recipe, "backend": "numpy"}, {**recipe, "backend": "cupy"}]
    g = {
        "available": True,
        "device": "NVIDIA H100 80GB HBM3",
        "cpu": "X, 16 cores",
        "rows": rows,
        "date": "2026-11-28",
        "quick": False,
        "recipes": recipes,
    }
    text = "\n".join(gpu_markdown(g))
    assert "| MNIST 60,000 | cupy (NVIDIA H100 80GB HBM3) | 6 " in text
    assert "| 25,000 | 25.0× |" in text and "| 1,000 | 1.0× |" in text
    assert "numpy on that machine's X, 16 cores" in text
    assert "| six.json | cupy (NVIDIA H100 80GB HBM3) | 20 × 128 |" in text
    assert "98.86%" in text
    missing = gpu_markdown({"available": False, "reason": "backend 'cupy' is not ..."})
    assert "No GPU in this run" in missing[-1]
