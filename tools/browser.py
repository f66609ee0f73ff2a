"""Find a Chromium for the browser tests, installing one where it can; print its path.

    python tools/browser.py

Run by build.py (test, bench) with the virtual environment's Python. Playwright's own
Chromium where its download works (printed as an empty line: Playwright finds it),
else $CHROMIUM or /usr/bin/chromium, else, as root on Debian, Debian's chromium package
through apt-get. Its messages go to stderr; stdout is the answer. A failure ends with
one line on stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def find_browser() -> str:
    """An executable path, or "" for Playwright's own browser."""
    own = subprocess.run(
        [sys.executable, "-m", "playwright", "install", "chromium"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if own.returncode == 0:
        say("browser: Playwright's own Chromium")
        return ""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            say(f"browser: {candidate} (Playwright could not download its own)")
            return candidate
    if os.geteuid() == 0 and Path("/etc/debian_version").exists():
        say("browser: installing Debian's chromium package (apt-get)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for args in (["update", "-qq"], ["install", "-y", "-qq", "chromium"]):
            cmd = ["apt-get", *args]
            try:  # apt-get's own messages go to stderr: stdout is the answer
                subprocess.run(cmd, env=env, check=True, stdout=sys.stderr)
            except subprocess.CalledProcessError as exc:
                status = f"apt-get {args[0]} exited with {exc.returncode}"
                raise SystemExit(status) from None
        return "/usr/bin/chromium"
    raise SystemExit(
        "no Chromium for the browser tests: Playwright could not download its own; "
        "install Debian's 'chromium' package or set CHROMIUM=/path/to/chromium"
    )


if __name__ == "__main__":
    print(find_browser())
