"""Drawings added to the training set are kept in the browser (issue 23), in Chromium:
across a reload and a browser restart, until removed; a damaged entry is dropped alone;
a full storage is said and the page goes on.

Oracles: the thumbnails (Python's inputs of the drawings) before and after, and a
training run, whose count of your drawings says what Python was given back.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

COUNT = "#examples-count"
STATUS = "[data-testid=train-status]"
KEYS = """() => Object.keys(localStorage)
  .filter((k) => k.startsWith("oneneuron.drawing.")).sort()"""
THUMBNAILS = """() => [...document.querySelectorAll("#examples-list img")]
  .map((img) => [img.alt, img.src])"""


def _add(page, hand, draw: str, label: int, count: int) -> None:
    """Draw on a clear pad, say which digit it is, and add it, as a person does."""
    page.click("#clear")
    if draw == "six":
        hand.six()
    else:  # a one: a single stroke down
        hand.stroke([(0.5, 0.15), (0.52, 0.85)])
    hand.settle()
    page.locator("#example-label").scroll_into_view_if_needed()
    page.select_option("#example-label", str(label))
    page.click("#example-add")
    page.wait_for_selector(f"{COUNT}[data-count='{count}']")


def _two_kept(page, hand) -> list:
    hand.ready()
    _add(page, hand, "six", 6, 1)
    _add(page, hand, "one", 1, 2)
    assert page.get_attribute(COUNT, "data-kept") == "2"
    assert "this browser keeps them until you remove them" in page.inner_text(COUNT)
    assert len(page.evaluate(KEYS)) == 2
    return page.evaluate(THUMBNAILS)


def test_kept_drawings_come_back_after_a_reload_until_removed(page, hand):
    shown = _two_kept(page, hand)
    page.reload()
    hand.ready()
    page.wait_for_selector(f"{COUNT}[data-count='2']")
    assert page.evaluate(THUMBNAILS) == shown  # the same inputs, in the same order
    assert page.get_attribute(COUNT, "data-kept") == "2"
    # Python has them back: a run learns from them
    for name, value in {"samples": "500", "epochs": "1", "batch_size": "256"}.items():
        page.fill(f"[name={name}]", value)
    page.click("#train-start")
    page.wait_for_selector(f"{STATUS}[data-state=done]", timeout=120_000)
    assert page.get_attribute(STATUS, "data-examples") == "2"
    page.click("#example-clear")
    page.wait_for_selector(f"{COUNT}[data-count='0']")
    assert page.evaluate(KEYS) == []
    page.reload()
    hand.ready()
    hand.six()
    hand.settle()
    assert page.get_attribute(COUNT, "data-count") == "0"
    assert page.locator("#examples-list img").count() == 0


def test_kept_drawings_survive_a_browser_restart(
    browser_type, browser_type_launch_args, base_url, hand_for, tmp_path
):
    profile = tmp_path / "profile"

    def visit():
        context = browser_type.launch_persistent_context(
            str(profile), **browser_type_launch_args
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(base_url + "/")
        hand = hand_for(page)
        hand.ready()
        return context, page, hand

    context, page, hand = visit()
    try:
        _add(page, hand, "six", 6, 1)
        shown = page.evaluate(THUMBNAILS)
    finally:
        context.close()
    context, page, hand = visit()  # a new browser on the same profile
    try:
        page.wait_for_selector(f"{COUNT}[data-count='1']")
        assert page.evaluate(THUMBNAILS) == shown
    finally:
        context.close()


def test_a_damaged_kept_drawing_is_dropped_and_the_others_stay(page, hand):
    shown = _two_kept(page, hand)
    good = page.evaluate(KEYS)
    damaged = {
        "oneneuron.drawing.7": "{ not json",
        "oneneuron.drawing.8": json.dumps(
            {"version": 1, "label": 4, "width": 140, "height": 140, "ink": "AAAA"}
        ),
    }
    page.evaluate(
        "(entries) => { for (const [k, v] of Object.entries(entries))"
        " localStorage.setItem(k, v); }",
        damaged,
    )
    page.reload()
    hand.ready()
    page.wait_for_function(
        "() => document.getElementById('examples-count').textContent"
        ".includes('could not be read')"
    )
    assert page.get_attribute(COUNT, "data-count") == "2"
    assert "2 kept drawings could not be read and were dropped." in page.inner_text(
        COUNT
    )
    assert page.evaluate(THUMBNAILS) == shown
    assert page.evaluate(KEYS) == good  # the damaged ones are gone, the others stay


def test_a_full_storage_says_the_drawing_could_not_be_kept(page, hand):
    hand.ready()
    filled = page.evaluate(
        """() => {
          localStorage.clear();
          let chunk = "x".repeat(1 << 20), n = 0;
          for (;;) {
            try {
              localStorage.setItem(`fill-${n}`, chunk);
              n += 1;
            } catch {
              if (chunk.length === 1) return n;
              chunk = chunk.slice(chunk.length / 2);
            }
          }
        }"""
    )
    assert filled > 0
    _add(page, hand, "six", 6, 1)
    text = page.inner_text(COUNT)
    assert (
        "This browser could not keep this drawing for your next visit "
        "(its storage is full): it is gone when you leave." in text
    )
    assert page.get_attribute(COUNT, "data-kept") == "0"
    assert "this browser keeps none of them" in text
    # the page goes on: the drawing is in the next run, and there is room again later
    page.evaluate("localStorage.clear()")
    _add(page, hand, "one", 1, 2)
    assert page.get_attribute(COUNT, "data-kept") == "1"
    assert "this browser keeps 1 of them until you remove them" in page.inner_text(
        COUNT
    )
    assert len(page.evaluate(KEYS)) == 1
