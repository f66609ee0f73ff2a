"""The page's "other people's handwriting" panel (issue 14, item 3), in Chromium.

Oracles: :func:`oneneuron.metrics.evaluate` in CPython on MNIST's test images and on
the foreign sets as their own loaders give them (not the page's packed copies), each
image made into an input by the shipped model's ``to_input``; the requests the
browser really made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oneneuron import metrics, weights
from oneneuron.digitsets import load_digitset

pytestmark = pytest.mark.browser

DIST = Path(__file__).resolve().parents[2] / "dist"
PANEL = "[data-testid=handwriting]"
ANSWER = "[data-testid=prediction]"
SETS = ("mnist", "optdigits", "mfeat")


@pytest.fixture(scope="module")
def raw_sets(mnist_test_images):
    """name → (raw uint8 images [N, 28, 28], labels), as the loaders give them."""
    out = {"mnist": mnist_test_images}
    for name in SETS[1:]:
        out[name] = load_digitset(name)
    return out


def _oracle(model_name: str, raw_sets) -> dict[str, dict]:
    model = weights.load_weights(DIST / "weights" / f"{model_name}.json")
    out = {}
    for name, (images, labels) in raw_sets.items():
        X = model.to_input(images).reshape(len(labels), -1)
        out[name] = metrics.evaluate(model, X, np.asarray(labels))
    return out


def _rows(page) -> dict[str, dict]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(
            "[data-testid=handwriting] tr[data-set]")].map((tr) => [tr.dataset.set, {
              accuracy: tr.dataset.accuracy,
              cells: [...tr.querySelectorAll("td")].map((td) => td.textContent.trim()),
            }]))"""
    )


def _measured(page, model: str) -> None:
    page.wait_for_function(
        """(model) => {
          const d = document.querySelector("[data-testid=handwriting]").dataset;
          return d.state === "done" && d.model === model;
        }""",
        arg=model,
        timeout=120_000,
    )


def test_the_panel_loads_nothing_until_asked_and_measures_like_cpython(
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

    button.scroll_into_view_if_needed()
    button.click()
    _measured(page, "six")
    rows = _rows(page)
    assert list(rows) == list(SETS)
    want = _oracle("six", raw_sets)
    for name in SETS:
        assert float(rows[name]["accuracy"]) == want[name]["accuracy"], name
        count, right, f1 = rows[name]["cells"]
        assert count == f"{want[name]['samples']:,}"
        assert right == f"{100 * want[name]['accuracy']:.1f} %"
        assert f1 == f"{want[name]['f1']:.3f}"
    # what was fetched: the raw test images and the two sets, no training images
    fetched = {u.rsplit("/", 1)[1] for u in requested if "/data/" in u}
    assert {"test-images.bin", "optdigits-images.bin", "mfeat-images.bin"} <= fetched
    assert not [f for f in fetched if f.startswith("train-")], fetched

    # misread digits: at most 8 a set, each saying what it was and how it was read
    for name in SETS:
        thumbs = page.locator(f"{PANEL} figure[data-set={name}] li")
        assert 1 <= thumbs.count() <= 8
        text = thumbs.first.inner_text()
        assert " read as " in text and "6" in text, text
    assert "distribution shift" in page.inner_text("#hand-shift")

    # another model becomes active: the panel measures it, with its own numbers
    page.get_by_text("Ten neurons: which digit?", exact=True).click()
    _measured(page, "digits")
    rows = _rows(page)
    want = _oracle("digits", raw_sets)
    for name in SETS:
        assert float(rows[name]["accuracy"]) == want[name]["accuracy"], name
        assert len(rows[name]["cells"]) == 2  # no F1 for ten neurons
    shown = page.locator(f"{PANEL} figure[data-set=optdigits] li").first.inner_text()
    assert shown.startswith(("a ", "an ")) and " read as a" in shown
    assert [u for u in requested if "/data/train-" in u] == []
