"""The page's "other people's handwriting" panel (issue 14, item 3; issue 22: every
model side by side), in Chromium.

Oracles: :func:`oneneuron.metrics.evaluate` in CPython on MNIST's test images and on
the foreign sets as their own loaders give them (not the page's packed copies), each
image made into an input by each shipped model's ``to_input``; the requests the
browser really made.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from oneneuron import metrics, weights
from oneneuron.digitsets import load_digitset

pytestmark = pytest.mark.browser

DIST = Path(__file__).resolve().parents[2] / "dist"
PANEL = "[data-testid=handwriting]"
ANSWER = "[data-testid=prediction]"
MODELS = ("six", "digits", "hidden")  # page.SHIPPED: the switch, and the columns


@pytest.fixture(scope="module")
def raw_sets(dist, mnist_test_images):
    """name → (raw uint8 images [N, 28, 28], labels), as the loaders give them, in
    the order of the panel's rows: MNIST's test digits, then data/mnist.json's sets
    in its order."""
    out = {"mnist": mnist_test_images}
    for name in json.loads((dist / "data" / "mnist.json").read_text())["sets"]:
        out[name] = load_digitset(name)
    return out


def _oracle(model_name: str, raw_sets) -> dict[str, dict]:
    model = weights.load_weights(DIST / "weights" / f"{model_name}.json")
    out = {}
    for name, (images, labels) in raw_sets.items():
        X = model.to_input(images).reshape(len(labels), -1)
        out[name] = metrics.evaluate(model, X, np.asarray(labels))
    return out


def _cells(page) -> dict[str, dict]:
    """set → its count and, for each model's column, what its cell says."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(
            "[data-testid=handwriting] tr[data-set]")].map((tr) => [tr.dataset.set, {
              count: tr.querySelector("td:not([data-model])").textContent.trim(),
              models: Object.fromEntries([...tr.querySelectorAll("td[data-model]")].map(
                (td) => [td.dataset.model, {
                  accuracy: td.dataset.accuracy, f1: td.dataset.f1,
                  value: td.querySelector(".hand-value").textContent.trim(),
                  f1Text: td.querySelector(".hand-f1")?.textContent.trim() ?? null,
                }])),
            }]))"""
    )


def _measured(page, active: str) -> None:
    page.wait_for_function(
        """(model) => {
          const d = document.querySelector("[data-testid=handwriting]").dataset;
          return d.state === "done" && d.model === model;
        }""",
        arg=active,
        timeout=180_000,
    )


def test_the_panel_loads_nothing_until_asked_and_compares_the_models_like_cpython(
    page, hand_for, raw_sets
):
    # the page's and its worker's requests (the service worker's install, which keeps
    # the build's small files for offline use, is not the page asking)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/")
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    button = page.locator("#hand-run")
    assert button.is_disabled()  # never before the first prediction
    hand = hand_for(page)
    hand.six()
    hand.settle(model="six")
    page.wait_for_function("() => !document.getElementById('hand-run').disabled")
    page.wait_for_timeout(500)  # anything the page would fetch by itself has started
    data = [u for u in requested if "/data/" in u]
    assert data == [], f"data requested before the button was pressed: {data}"
    assert not page.is_visible(PANEL)
    assert not [u for u in requested if u.endswith("/weights/hidden.json")]

    button.scroll_into_view_if_needed()
    button.click()
    _measured(page, "six")
    # every shipped model side by side, in the switch's order, each with its own
    # preprocessing; the sets in data/mnist.json's order
    assert page.get_attribute(PANEL, "data-models") == " ".join(MODELS)
    heads = page.locator("#hand-head th.hand-model").all_inner_texts()
    assert heads == page.locator("#model-switch .switch-option").all_inner_texts()
    cells = _cells(page)
    sets = list(raw_sets)
    assert list(cells) == sets
    for model in MODELS:
        want = _oracle(model, raw_sets)
        for name in sets:
            got = cells[name]["models"][model]
            assert float(got["accuracy"]) == want[name]["accuracy"], (model, name)
            assert got["value"] == f"{100 * want[name]['accuracy']:.1f} %"
            assert cells[name]["count"] == f"{want[name]['samples']:,}"
            if model == "six":  # one neuron: its F1 for 6 too
                assert float(got["f1"]) == want[name]["f1"]
                assert got["f1Text"] == f"F1 for 6: {want[name]['f1']:.3f}"
            else:
                assert got["f1Text"] is None
    assert page.is_visible("#hand-f1-note")
    # what was fetched: the raw test images, the two sets and the models not held yet,
    # no training images
    fetched = {u.rsplit("/", 1)[1] for u in requested if "/data/" in u}
    assert {"test-images.bin", "optdigits-images.bin", "mfeat-images.bin"} <= fetched
    assert not [f for f in fetched if f.startswith("train-")], fetched
    assert [u for u in requested if u.endswith("/weights/hidden.json")]

    # misread digits of the model answering drawings: at most 8 a set, each saying
    # what it was and how it was read
    for name in sets:
        thumbs = page.locator(f"{PANEL} figure[data-set={name}] li")
        assert 1 <= thumbs.count() <= 8
        text = thumbs.first.inner_text()
        assert " read as " in text and "6" in text, text
    assert "One neuron: is it a 6?" in page.inner_text("#hand-mistakes-title")
    shift = page.inner_text("#hand-shift")
    assert "distribution shift" in shift
    assert "the hidden layer buys" in shift  # its numbers are the table's

    # another model becomes active: the same columns, that model's misread digits
    page.locator("#model-switch").get_by_text("Ten neurons: which digit?").click()
    _measured(page, "digits")
    assert _cells(page) == cells
    shown = page.locator(f"{PANEL} figure[data-set=optdigits] li").first.inner_text()
    assert shown.startswith(("a ", "an ")) and " read as a" in shown
    assert [u for u in requested if "/data/train-" in u] == []
