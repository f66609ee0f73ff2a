"""Hostile weights files up to the size limit: refused, in time linear in their size.

Each case is built at the full limit (weights.MAX_BYTES, 4 MB) and at a quarter of
it, in the same run: the outcome is asserted at full size, and the time for 4× the
text must grow about 4× (linear), not 16× (quadratic, as the old nesting check did:
3.5 s for 32 KB of backslash-quotes).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from oneneuron import weights
from oneneuron.model import Neuron

LIMIT = weights.MAX_BYTES


def _good_around(placeholder: str = "@@") -> tuple[bytes, bytes]:
    """A valid weights file's text split where training.note's value goes."""
    d = weights.to_dict(
        Neuron(target=6).set_weights(np.zeros((1, 576)), [0.0]),
        training={"epochs": 1, "note": placeholder},
    )
    head, tail = json.dumps(d).split(json.dumps(placeholder))
    return head.encode(), tail.encode()


HEAD, TAIL = _good_around()


def _fill(head: bytes, unit: bytes, tail: bytes, n: int) -> bytes:
    """``head``, as many ``unit`` as fit, ``tail``, then spaces up to ``n`` bytes."""
    text = head + unit * ((n - len(head) - len(tail)) // len(unit)) + tail
    return text + b" " * (n - len(text))


# name → (unit repeated up to the size, what the refusal says)
CASES = {
    "unterminated string of backslash-quotes": (
        lambda n: _fill(b'"', b'\\"', b"", n),
        "not valid JSON: Unterminated string",
    ),
    "unterminated string after a valid start": (
        lambda n: _fill(HEAD + b'"', b"a", b"", n),
        "not valid JSON: Unterminated string",
    ),
    "backslashes in a text": (
        lambda n: _fill(HEAD + b'"', b"\\\\", b'"' + TAIL, n),
        r"training\.note must be a text of at most 10,000 characters",
    ),
    "brackets and quotes in a text": (
        lambda n: _fill(HEAD + b'"', b'[{\\"', b'"' + TAIL, n),
        r"training\.note must be a text of at most",
    ),
    "deep lists": (lambda n: _fill(b"", b"[", b"", n), "nested too deeply"),
    "deep objects": (lambda n: _fill(b"", b'{"a":', b"", n), "nested too deeply"),
    "deep, closed": (
        lambda n: b"[" * (n // 2) + b"]" * (n - n // 2),
        "nested too deeply",
    ),
    "many tiny numbers": (
        lambda n: _fill(HEAD + b"[", b"0,", b"0]" + TAIL, n),
        r"training\.note must have at most 1,000 entries",
    ),
    "many tiny numbers after a long one": (
        lambda n: _fill(HEAD + b"[" + b"1" * 50 + b",", b"0,", b"0]" + TAIL, n),
        r"training\.note must have at most 1,000 entries",
    ),
    "many floats in the weights": (
        lambda n: _fill(b'{"weights": [[', b"-0.123456789,", b"0]]}", n),
        "missing the field",
    ),
    "one huge integer": (
        lambda n: _fill(HEAD, b"9", TAIL, n),
        r"training\.note must be a number within ±2\^53, got inf",
    ),
    "many long integers": (
        lambda n: _fill(HEAD + b"[", b"9" * 4299 + b",", b"0]" + TAIL, n),
        r"training\.note\[0\] must be a number within ±2\^53",
    ),
    "long integers as weights": (
        lambda n: _fill(b'{"weights": [[', b"9" * 4299 + b",", b"0]]}", n),
        "missing the field",
    ),
    "only spaces": (lambda n: b" " * n, "not valid JSON: Expecting value"),
    "not UTF-8": (lambda n: _fill(HEAD + b'"', b"\xff", b'"' + TAIL, n), "not text"),
}


def _refusal(text: bytes) -> tuple[float, str]:
    """CPU seconds that weights.loads takes to refuse ``text``, and what it says.

    CPU time of this process, not wall time: other programs on a shared machine
    slow the clock on the wall, not the work counted here.
    """
    start = time.process_time()
    with pytest.raises(ValueError) as info:
        weights.loads(text)
    return time.process_time() - start, str(info.value)


@pytest.mark.parametrize("case", CASES)
def test_hostile_text_is_refused(case):
    # At the full size, here and inside Pyodide (where deep text once crashed json).
    make, match = CASES[case]
    full = make(LIMIT)
    assert len(full) == LIMIT
    message = _refusal(full)[1]
    assert re.search(match, message), message
    assert "\n" not in message and len(message) < 200


@pytest.mark.cpython_only  # timing: in CPython only, the Pyodide run is long enough
@pytest.mark.parametrize("case", CASES)
def test_hostile_text_is_refused_in_linear_time(case):
    make = CASES[case][0]
    full, part = make(LIMIT), make(LIMIT // 16)
    # Best of three each, in the same run: 16× the text, about 16× the CPU time.
    # The allowance (48× and 50 ms) absorbs a busy machine with room to spare;
    # quadratic work gives 256×.
    full_s = min(_refusal(full)[0] for _ in range(3))
    part_s = min(_refusal(part)[0] for _ in range(3))
    assert full_s < 48 * part_s + 0.05, (case, part_s, full_s)


def test_a_valid_file_of_the_largest_size_loads():
    n = weights.MAX_STRING
    ok = _fill(HEAD + b'"' + b"x" * n + b'"' + TAIL, b" ", b"", LIMIT)
    assert len(ok) == LIMIT
    assert weights.loads(ok)["training"]["note"] == "x" * n


@pytest.mark.cpython_only
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_weights_file_is_refused():
    with pytest.raises(ValueError, match=r"/dev/zero is too big to be a weights file"):
        weights.read("/dev/zero")


@pytest.mark.cpython_only
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_cli_on_an_endless_weights_file(command, tmp_path):
    image = tmp_path / "x.pgm"
    image.write_bytes(b"P5 2 2 255\n\0\0\0\0")
    argv = ["--weights", "/dev/zero"] + ([str(image)] if command == "predict" else [])
    result = subprocess.run(
        [sys.executable, "-m", "oneneuron", command, *argv],
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard only: it answers in about a second
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "oneneuron: error: /dev/zero is too big to be a weights file: "
        "over 4,000,000 bytes (ours are under 100 kB)"
    ]
