"""The page shows each step by which the active model makes a drawing into its input
(issue 14, item 2), in Chromium with real pointer strokes.

Oracles: CPython's ``Preprocess.steps`` and ``to_input`` of the very pixels the page
predicted from (the pad's input canvas), with the preprocessing of the weights file
the page loaded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from oneneuron import metrics, weights
from oneneuron.preprocess import Preprocess

pytestmark = pytest.mark.browser

DIST = Path(__file__).resolve().parents[2] / "dist"
STEPS = "[data-testid=steps]"
ANSWER = "[data-testid=prediction]"

# The steps on screen are for the ink on the pad now, by this model, none coming.
STEPS_SETTLED = """(model) => {
  const s = document.querySelector("[data-testid=steps]").dataset;
  return s.model === model && s.pending !== "true"
    && s.version === document.getElementById("pad").dataset.version;
}"""


def _settle_steps(page, model: str) -> None:
    page.wait_for_function(STEPS_SETTLED, arg=model, timeout=15_000)


def _shown_steps(page) -> list[dict]:
    """Each step picture on screen: its key and its ink levels 0–1 read back from its
    pixels (painted as 255 − 233·ink)."""
    shown = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=steps] canvas[data-step]")]
          .map((c) => {
            const rgba = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            const red = Array.from({length: c.width * c.height}, (_, i) => rgba[4 * i]);
            return {step: c.dataset.step, height: c.height, width: c.width, red};
          })"""
    )
    for s in shown:
        red = np.array(s.pop("red"), np.float64).reshape(s["height"], s["width"])
        s["image"] = (255 - red) / 233
    return shown


def _shipped(name: str = "six") -> Preprocess:
    return weights.load_weights(DIST / "weights" / f"{name}.json").preprocess


def _flipped_file(tmp_path) -> tuple[Path, Preprocess]:
    """six.json's weights with deskewing switched (on if it is off, off if on): a
    version-2 weights file, and its preprocessing."""
    six = weights.load_weights(DIST / "weights" / "six.json")
    coef, intercept = six.weights_numpy()
    flipped = dataclasses.replace(six.preprocess, deskew=not six.preprocess.deskew)
    model = type(six)(target=6, preprocess=flipped).set_weights(coef, intercept)
    path = tmp_path / "six-flipped.json"
    weights.write(path, model)
    assert weights.read(path)["version"] == 2
    return path, flipped


def _slanted_one(hand) -> None:
    """A 1 leaning well to the right, in two strokes: deskewing changes it."""
    hand.stroke([(0.35, 0.85), (0.5, 0.5), (0.65, 0.15)], steps=6)
    hand.stroke([(0.55, 0.2), (0.65, 0.15)], steps=2)


def _check_against_cpython(hand, preprocess: Preprocess) -> list[str]:
    """The steps shown are CPython's steps of the same pixels, picture for picture,
    and end in the grid shown as what the neuron sees; their keys."""
    ink = hand.pad_ink()
    want = preprocess.steps(ink)
    got = _shown_steps(hand.page)
    assert [s["step"] for s in got] == [s["step"] for s in want]
    for g, w in zip(got, want, strict=True):
        # painted with 233 grey levels: each pixel within half a level of CPython's
        np.testing.assert_allclose(
            g["image"], w["image"], atol=0.5 / 233 + 1e-9, err_msg=g["step"]
        )
    last = (got[-1]["image"] > 0.5).astype(np.uint8)
    np.testing.assert_array_equal(last, hand.seen_grid())
    np.testing.assert_array_equal(last, preprocess.to_input(ink))
    return [s["step"] for s in got]


def test_the_steps_of_a_drawing_end_in_what_the_neuron_sees(page, hand):
    hand.ready()
    assert page.locator(f"{STEPS} canvas").count() == 0  # nothing drawn yet
    hand.six()
    hand.settle(model="six")
    _settle_steps(page, "six")
    shipped = _shipped()
    keys = _check_against_cpython(hand, shipped)
    assert keys[0] == "ink" and "thresholded" in keys
    assert ("deskewed" in keys) is shipped.deskew
    # a caption each, the box drawn over the ink, the sentence from Python
    assert page.locator(f"{STEPS} .steps-caption").count() == len(keys)
    assert page.locator(f"{STEPS} .steps-box").count() == 1
    assert "placed in the 24×24 grid" in page.inner_text("#steps-describe")

    # another stroke: new steps for the new ink; Clear: none
    hand.stroke([(0.2, 0.1), (0.8, 0.1)], steps=4)
    hand.settle(model="six")
    _settle_steps(page, "six")
    _check_against_cpython(hand, shipped)
    page.click("#clear")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=steps]').dataset.model === ''"
    )
    assert page.locator(f"{STEPS} canvas").count() == 0


def test_a_model_that_deskews_shows_the_deskewed_step(page, hand, tmp_path):
    """Switching between six.json and the same weights with deskewing switched:
    each model's own steps, and "deskewed" only for the one that deskews."""
    path, flipped = _flipped_file(tmp_path)
    shipped = _shipped()
    hand.ready()
    _slanted_one(hand)
    hand.settle(model="six")
    _settle_steps(page, "six")
    keys = _check_against_cpython(hand, shipped)
    before = _shown_steps(page)
    assert ("deskewed" in keys) is shipped.deskew

    page.set_input_files("#import", path)
    hand.settle(model="file")
    _settle_steps(page, "file")
    keys = _check_against_cpython(hand, flipped)
    assert ("deskewed" in keys) is flipped.deskew
    after = _shown_steps(page)
    assert not np.array_equal(before[-1]["image"], after[-1]["image"])
    card = page.inner_text("#model-card")
    assert ("sheared upright (deskewed)" in card) is flipped.deskew, card

    # back to the shipped model: its own steps again
    page.get_by_text("One neuron: is it a 6?", exact=True).click()
    page.wait_for_selector(f"{ANSWER}[data-model=six]")
    hand.settle(model="six")
    _settle_steps(page, "six")
    assert ("deskewed" in _check_against_cpython(hand, shipped)) is shipped.deskew


def test_steps_are_not_asked_for_while_a_stroke_is_drawn(page, hand):
    """The live prediction goes first: no steps request while the pen is down, one
    when it lifts."""
    hand.ready()
    hand.six()
    hand.settle(model="six")
    _settle_steps(page, "six")

    def requests() -> tuple[int, int]:
        steps = page.get_attribute(STEPS, "data-requests")
        return int(page.get_attribute(ANSWER, "data-requests")), int(steps)

    predictions, steps = requests()
    b = hand.box()
    mouse = page.mouse
    mouse.move(b["x"] + 0.2 * b["width"], b["y"] + 0.9 * b["height"])
    mouse.down()
    for i in range(1, 13):
        mouse.move(b["x"] + (0.2 + 0.05 * i) * b["width"], b["y"] + 0.9 * b["height"])
        page.wait_for_timeout(30)
    hand.settle(model="six")
    during = requests()
    assert during[0] > predictions, "the stroke was predicted live"
    assert during[1] == steps
    mouse.up()
    _settle_steps(page, "six")
    assert requests()[1] == steps + 1
    _check_against_cpython(hand, _shipped())


# -- the training panel's deskew switch ------------------------------------------------
STATUS = "[data-testid=train-status]"
DESKEW = "[data-setting=deskew]"


def _train_short(page, deskew: bool) -> dict:
    """A short run (3,000 images, one epoch) with the switch as given; the weights
    file the page then exports."""
    page.fill("[data-setting=samples]", "3000")
    page.fill("[data-setting=epochs]", "1")
    page.set_checked(DESKEW, deskew)
    page.click("#train-start")
    page.wait_for_selector(f"{STATUS}[data-state=done]", timeout=120_000)
    with page.expect_download() as info:
        page.click("#export")
    return weights.loads(Path(info.value.path()).read_bytes())


def test_the_deskew_switch_picks_the_training_images_and_is_recorded(
    page, hand, mnist_test_images
):
    requested: list[str] = []
    page.context.on("request", lambda r: requested.append(r.url))
    images, labels = mnist_test_images
    hand.ready()
    page.locator("#train").scroll_into_view_if_needed()
    # the switch starts at the shipped ten neurons' choice
    shipped = _shipped("digits")
    page.wait_for_selector(f"{DESKEW}[data-shipped]")
    assert page.is_checked(DESKEW) == shipped.deskew

    for deskew in (True, False):
        exported = _train_short(page, deskew)
        assert exported["preprocess"]["deskew"] is deskew
        card = page.inner_text("#model-card")
        assert ("sheared upright (deskewed)" in card) is deskew, card
        assert "Preprocessing" in card
        # the page measured the model through its own preprocessing, as CPython does
        model = weights.from_dict(exported)
        X = model.to_input(images).reshape(len(labels), -1)
        want = metrics.evaluate(model, X, labels)["accuracy"]
        shown = float(page.get_attribute(STATUS, "data-test-accuracy"))
        assert shown == pytest.approx(want, abs=2e-4)
        # only the variant the run used was downloaded, each once
        train = sorted(u.rsplit("/", 1)[1] for u in requested if "/data/train-" in u)
        kind = "deskew" if deskew else "plain"
        assert [f for f in train if f != "train-labels.bin"][-1].startswith(
            f"train-{kind}-"
        )
        if deskew:
            assert not [f for f in train if f.startswith("train-plain-")], train


def test_an_early_train_waits_for_the_switchs_shipped_default(
    browser, browser_context_args, hand_for
):
    """The deskew default comes from digits.json, which the worker fetches when the
    panel is seen; a Train pressed before it arrives (here: digits.json held until
    Train was pressed) still uses it. No service worker: one that has taken the page
    over answers digits.json from its cache, before the held route could hold it."""
    shipped = _shipped("digits")
    context = browser.new_context(**browser_context_args, service_workers="block")
    held = []
    # held until Train was pressed (below)
    context.route("**/weights/digits.json", lambda route: held.append(route))
    try:
        page = context.new_page()
        page.goto("/")
        hand = hand_for(page)
        hand.ready()
        page.locator("#train").scroll_into_view_if_needed()
        page.fill("[data-setting=samples]", "3000")
        page.fill("[data-setting=epochs]", "1")
        page.click("#train-start")  # before the default is known
        assert page.get_attribute(DESKEW, "data-shipped") is None
        for _ in range(600):  # the worker asks for digits.json once the panel is seen
            if held:
                break
            page.wait_for_timeout(50)
        assert held, "digits.json was not asked for: the test did not test the race"
        held[0].continue_()
        page.wait_for_selector(f"{DESKEW}[data-shipped]", state="attached")
        page.wait_for_selector(f"{STATUS}[data-state=done]", timeout=120_000)
        with page.expect_download() as info:
            page.click("#export")
        exported = weights.loads(Path(info.value.path()).read_bytes())
        assert exported["preprocess"]["deskew"] is shipped.deskew is True
    finally:
        context.close()
