"""The page in a real Chromium: dist/ served on a free port, and a person's hand.

The server is build.make_server (the one `build.py serve` uses), in a thread, for the
whole session. Chromium is Playwright's own unless ONENEURON_CHROMIUM names another
executable (build.py test sets it; "" means Playwright's own); without the variable,
Debian's /usr/bin/chromium is used when it exists.

The ``hand`` fixture draws with real pointer strokes through page.mouse, including
MNIST digits traced row by row, and reads what the page shows.
"""

from __future__ import annotations

import base64
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
sys.path.insert(0, str(ROOT))
import build  # noqa: E402  (build.py lives at the top of the repository)

FIGURES: list[str] = []  # measured figures, printed at the end of the run


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("page figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def figures() -> list[str]:
    """Lines worth reading after the run (recognition rates and the like)."""
    return FIGURES


@pytest.fixture(scope="session")
def screenshot_path():
    """Where a test saves a picture of the page: README's docs/ folder on request
    (ONENEURON_SCREENSHOT=1 python3 build.py test -- -k "screenshot or short_run"),
    else test-results/, so that test runs leave the repository as it was."""

    def path(name: str) -> Path:
        folder = (
            "docs" if os.environ.get("ONENEURON_SCREENSHOT") == "1" else "test-results"
        )
        (ROOT / folder).mkdir(exist_ok=True)
        return ROOT / folder / name

    return path


@pytest.fixture(scope="session")
def dist() -> Path:
    lock = DIST / "pyodide" / "pyodide-lock.json"
    if not (DIST / "index.html").exists() or not lock.exists():
        pytest.fail("dist/ is not built: run python3 build.py build first")
    return DIST


@pytest.fixture(scope="session")
def base_url(dist: Path):
    """Overrides pytest-base-url: every page.goto("/") goes to our server."""
    server = build.make_server(dist, port=0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    path = os.environ.get("ONENEURON_CHROMIUM")
    if path is None and Path("/usr/bin/chromium").exists():
        path = "/usr/bin/chromium"
    return {**browser_type_launch_args, **({"executable_path": path} if path else {})}


@pytest.fixture(scope="session")
def mnist_test_images():
    """Raw MNIST test images (uint8 [10000, 28, 28], ink bright) and labels."""
    from oneneuron.data import load_mnist

    return load_mnist("test", progress=False)


def strokes_of(image: np.ndarray, level: int = 128) -> list[tuple[float, float, float]]:
    """A 28×28 image as horizontal strokes: (y, x_start, x_end) in image pixels, one
    per run of pixels at least ``level`` in each row, through the pixel centres."""
    out = []
    for y, row in enumerate(np.asarray(image) >= level):
        x = 0
        while x < row.size:
            if row[x]:
                start = x
                while x + 1 < row.size and row[x + 1]:
                    x += 1
                out.append((y + 0.5, start + 0.5, x + 0.5))
            x += 1
    return out


# The answer on screen is for the ink on the pad (and the model), none is coming.
SETTLED = """(model) => {
  if (document.body.dataset.ready !== "true") return false;
  const a = document.querySelector("[data-testid=prediction]").dataset;
  return a.pending !== "true" && a.shownVersion !== undefined
    && a.shownVersion === document.getElementById("pad").dataset.version
    && (model === null || a.shownModel === model);
}"""


class Hand:
    """Draws on #pad like a person with a mouse and reads the page's answers."""

    def __init__(self, page) -> None:
        self.page = page

    def ready(self, timeout: float = 60_000) -> None:
        self.page.wait_for_selector("body[data-ready=true]", timeout=timeout)

    def box(self) -> dict:
        """The pad on screen, scrolled into view first (as a person would)."""
        pad = self.page.locator("#pad")
        pad.scroll_into_view_if_needed()
        return pad.bounding_box()

    def stroke(self, points: list[tuple[float, float]], steps: int = 1) -> None:
        """One stroke through points given as fractions (0–1) of the pad's size."""
        b = self.box()
        xy = [
            (b["x"] + px * b["width"], b["y"] + py * b["height"]) for px, py in points
        ]
        mouse = self.page.mouse
        mouse.move(*xy[0])
        mouse.down()
        for x, y in xy[1:]:
            mouse.move(x, y, steps=steps)
        mouse.up()

    def digit(self, image: np.ndarray) -> None:
        """Trace a 28×28 MNIST image onto the pad, one stroke per run of ink."""
        for y, x0, x1 in strokes_of(image):
            self.stroke([(x0 / 28, y / 28), (x1 / 28, y / 28)])

    def six(self) -> None:
        """A hand-drawn 6: down the left, round the loop at the bottom."""
        t = np.linspace(0, 1, 14)
        down = [(0.62 - 0.3 * a, 0.15 + 0.55 * a) for a in t]
        loop = [
            (0.5 - 0.2 * np.cos(a), 0.68 - 0.15 * np.sin(a))
            for a in np.linspace(0, 2 * np.pi, 24)
        ]
        self.stroke(down + loop)

    def settle(self, model: str | None = None, timeout: float = 10_000) -> None:
        """Wait until the answer on screen is for the pad as it is now."""
        self.page.wait_for_function(SETTLED, arg=model, timeout=timeout)

    def answer(self) -> dict:
        el = self.page.locator("[data-testid=prediction]")
        return {
            "digit": el.get_attribute("data-digit"),
            "probability": el.get_attribute("data-probability"),
            "state": el.get_attribute("data-state"),
        }

    def pad_ink(self) -> np.ndarray:
        """The ink the neuron gets: the alpha of the pad's input canvas (#pad-input,
        the strokes of #pad at 140 × 140), read from its pixels, uint8 [H, W]."""
        data = self.page.evaluate(
            """() => {
              const c = document.querySelector("[data-testid=pad-input]");
              const ctx = c.getContext("2d");
              const rgba = ctx.getImageData(0, 0, c.width, c.height).data;
              let s = "";
              for (let i = 3; i < rgba.length; i += 4) {
                s += String.fromCharCode(rgba[i]);
              }
              return [c.height, c.width, btoa(s)];
            }"""
        )
        h, w, b64 = data
        return np.frombuffer(base64.b64decode(b64), np.uint8).reshape(h, w)

    def seen_grid(self) -> np.ndarray:
        """The 24×24 grid shown as 'what the neuron sees', read from its pixels."""
        red = self.page.evaluate(
            """() => {
              const c = document.querySelector("[data-testid=seen]");
              const ctx = c.getContext("2d");
              const rgba = ctx.getImageData(0, 0, c.width, c.height).data;
              return Array.from({length: c.width * c.height}, (_, i) => rgba[4 * i]);
            }"""
        )
        return (np.array(red) < 128).astype(np.uint8).reshape(24, 24)


@pytest.fixture
def hand(page) -> Hand:
    """A fresh visit (new browser context) to the page, and a hand to draw with."""
    page.goto("/")
    return Hand(page)


@pytest.fixture
def hand_for():
    """Make a Hand for a page of one's own (another context, another viewport)."""
    return Hand
