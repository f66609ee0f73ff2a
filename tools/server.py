"""The static server of ``python3 build.py serve`` and of the tests: dist/ as a host
should serve it.

Precompressed Brotli and gzip chosen by the request's Accept-Encoding (RFC 9110
q-values), revalidation, the page's Content-Security-Policy as a header, no
directory listings, and a bound on connections. Standard library only, like
build.py, which imports it before any virtual environment exists.
"""

from __future__ import annotations

import html.parser
import http.server
import os
import stat
import sys
import threading
import urllib.parse
from functools import partial
from pathlib import Path
from typing import ClassVar

# Precompressed files the server may send instead, in the server's order of preference
# (the build writes a .br and a .gz beside each compressible file: tools/compress.py).
ENCODINGS = {"br": ".br", "gzip": ".gz"}


def choose_encoding(accept_encoding: str | None, available: list[str]) -> str:
    """The content coding to send: one of ``available``, or ``"identity"``.

    ``accept_encoding`` is the request's Accept-Encoding header (None when absent);
    ``available`` lists the codings at hand in the server's order of preference.
    Per RFC 9110 (12.5.3): names are case-insensitive, ``x-gzip`` is ``gzip``, ``q=0``
    refuses a coding, ``*`` stands for every coding the header does not name, and the
    highest weight wins, ties going to the server's order. No header, or no acceptable
    coding, gives ``"identity"`` (the file as it is).

    Examples
    --------
    >>> choose_encoding("gzip, deflate, br", ["gzip"])
    'gzip'
    >>> choose_encoding("gzip;q=0", ["gzip"])
    'identity'
    >>> choose_encoding("*;q=0.5, gzip;q=0", ["br", "gzip"])
    'br'
    """
    if accept_encoding is None:
        return "identity"
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        name = {"x-gzip": "gzip"}.get(name.lower(), name.lower())
        if not name:
            continue
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0  # a malformed weight accepts nothing
                if not 0 <= weight <= 1:
                    weight = 0.0
        weights[name] = weight
    star = weights.get("*", 0.0)
    best, best_weight = "identity", 0.0
    for coding in available:
        weight = weights.get(coding, star)
        if weight > best_weight:
            best, best_weight = coding, weight
    if "identity" in weights and weights["identity"] > best_weight:
        return "identity"
    return best


class _MetaPolicy(html.parser.HTMLParser):
    """Finds the content of <meta http-equiv="Content-Security-Policy">."""

    def __init__(self) -> None:
        super().__init__()
        self.policy: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        equiv = values.get("http-equiv", "").lower()
        if tag == "meta" and equiv == "content-security-policy" and not self.policy:
            self.policy = values.get("content", "").strip() or None


def page_policy(index_html: Path) -> str | None:
    """The Content-Security-Policy header for a build: the policy of its page's meta
    tag (site/index.html is the one place it is written), plus
    ``frame-ancestors 'none'``, which a meta tag cannot say. None if there is no meta.

    Examples
    --------
    >>> import tempfile
    >>> page = Path(tempfile.mkdtemp()) / "index.html"
    >>> _ = page.write_text(
    ...     '<meta http-equiv="Content-Security-Policy" '
    ...     'content="default-src &#39;self&#39;">'
    ... )
    >>> page_policy(page)
    "default-src 'self'; frame-ancestors 'none'"
    """
    parser = _MetaPolicy()
    parser.feed(index_html.read_text(encoding="utf-8", errors="replace"))
    if parser.policy is None:
        return None
    directives = [d.strip() for d in parser.policy.split(";") if d.strip()]
    if not any(d.split()[0].lower() == "frame-ancestors" for d in directives):
        directives.append("frame-ancestors 'none'")
    return "; ".join(directives)


class _BuildPolicy:
    """The policy of the build being served, read again when its index.html changes
    (a rebuild swaps dist/ under a running server)."""

    def __init__(self, directory: Path) -> None:
        self.index = Path(directory) / "index.html"
        self.lock = threading.Lock()
        self.key: tuple | None = None
        self.value: str | None = None
        self.get()

    def get(self) -> str | None:
        try:
            st = os.stat(self.index)
            key: tuple | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            key = None
        with self.lock:
            if key != self.key:
                self.key = key
                self.value = page_policy(self.index) if key else None
                if self.value is None:
                    print(
                        f"build.py serve: warning: {self.index} has no "
                        '<meta http-equiv="Content-Security-Policy">; '
                        "serving without a Content-Security-Policy header",
                        file=sys.stderr,
                        flush=True,
                    )
            return self.value


def _fresh(variant: str, path: str) -> bool:
    """Whether the precompressed ``variant`` of ``path`` exists and is not older than
    it: a file changed after the build (its .gz rewritten, its .br not) is never
    answered with its old bytes."""
    try:
        kept, source = os.stat(variant), os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(kept.st_mode) and kept.st_mtime_ns >= source.st_mtime_ns


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the right MIME types, precompressed Brotli and gzip,
    revalidation, the page's Content-Security-Policy, and no directory listings."""

    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".json": "application/json",
        ".whl": "application/zip",
        ".bin": "application/octet-stream",
        ".zip": "application/zip",
    }
    quiet = False
    timeout = 30  # seconds a connection may stay silent (socket timeout)
    policy: _BuildPolicy | None = None

    def send_head(self):  # type: ignore[override]
        path = self.translate_path(self.path)
        try:
            os.fsencode(path)
            bad = "\0" in path
        except UnicodeError:
            bad = True
        if bad:  # a NUL or an unencodable name: no file has it
            self.send_error(400, "Bad request path")
            return None
        if os.path.isdir(path):
            index = os.path.join(path, "index.html")
            if not os.path.isfile(index):  # no directory listings
                self.send_error(404, "File not found")
                return None
            if not urllib.parse.urlsplit(self.path).path.endswith("/"):
                return super().send_head()  # the base class redirects to "dir/"
            path = index
        if not os.path.isfile(path):
            self.send_error(404, "File not found")
            return None
        available = [c for c, end in ENCODINGS.items() if _fresh(path + end, path)]
        coding = choose_encoding(self.headers.get("Accept-Encoding"), available)
        try:
            f = open(path + ENCODINGS.get(coding, ""), "rb")  # noqa: SIM115
        except OSError:
            self.send_error(404, "File not found")
            return None
        modified = self.date_time_string(int(os.fstat(f.fileno()).st_mtime))
        if self.headers.get("If-Modified-Since") == modified:
            f.close()
            self.send_response(304)
            self.end_headers()
            return None
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        if coding != "identity":
            self.send_header("Content-Encoding", coding)
        self.send_header("Content-Length", str(os.fstat(f.fileno()).st_size))
        self.send_header("Last-Modified", modified)
        self.end_headers()
        return f

    def list_directory(self, path):  # never reached; refuse rather than list
        self.send_error(404, "File not found")

    def end_headers(self) -> None:
        self.send_header("Vary", "Accept-Encoding")
        # revalidate; the service worker caches
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        policy = self.policy.get() if self.policy else None
        if policy:
            self.send_header("Content-Security-Policy", policy)
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if not self.quiet:
            super().log_message(format, *args)


class _Server(http.server.ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` at once: one more is
    answered 503 and closed, instead of holding a thread."""

    def __init__(self, address, handler, max_connections: int) -> None:
        self.slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            try:
                request.settimeout(1)
                request.sendall(
                    b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\n"
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def make_server(
    directory: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    quiet: bool = False,
    timeout: float = 30,
    max_connections: int = 64,
):
    """A threading HTTP server for ``directory`` (port 0 picks a free port).

    ``timeout`` closes a connection silent for that many seconds; at most
    ``max_connections`` are served at once. ``directory`` may be the dist/ link:
    each request resolves it, so a rebuild swaps in under a running server.
    """
    attrs = {"quiet": quiet, "timeout": timeout, "policy": _BuildPolicy(directory)}
    handler = type("DistHandler", (Handler,), attrs)
    return _Server(
        (host, port), partial(handler, directory=str(directory)), max_connections
    )
