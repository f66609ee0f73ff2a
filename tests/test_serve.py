"""tools/server.py (build.py serve): what a browser, or a stranger, gets over a socket.

Each test serves a small folder from a real server on 127.0.0.1 (port 0) and talks to
it with http.client or a raw socket.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.client
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.cpython_only

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools import server as served  # noqa: E402  (tools/server.py)

POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'"
PAGE = f"""<!doctype html>
<html><head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{POLICY}">
<title>t</title></head><body>hello</body></html>
"""
SCRIPT = b"export const answer = 42;\n" * 50


@functools.cache
def brotli(data: bytes, decompress: bool = False) -> bytes:
    """Node's zlib Brotli (CPython's standard library has none): the build's own
    compressor, and the decoder that checks what the server sent."""
    if shutil.which("node") is None:
        pytest.fail(
            "node is not installed: the build needs it (apt-get install nodejs)"
        )
    way = "brotliDecompressSync" if decompress else "brotliCompressSync"
    script = (
        f"process.stdout.write(require('zlib').{way}(require('fs').readFileSync(0)))"
    )
    return subprocess.run(
        ["node", "-e", script], input=data, capture_output=True, check=True
    ).stdout


def decode(coding: str, body: bytes) -> bytes:
    decoders = {"identity": bytes, "gzip": gzip.decompress, "br": unbrotli}
    return decoders[coding](body)


def unbrotli(data: bytes) -> bytes:
    return brotli(data, decompress=True)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """index.html with a CSP meta, app.js with its .gz and .br, a folder with and one
    without an index.html."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(PAGE)
    (root / "app.js").write_bytes(SCRIPT)
    (root / "app.js.gz").write_bytes(gzip.compress(SCRIPT, mtime=0))
    (root / "app.js.br").write_bytes(brotli(SCRIPT))
    (root / "files").mkdir()
    (root / "files" / "secret-name.txt").write_text("x")
    (root / "docs").mkdir()
    (root / "docs" / "index.html").write_text("docs page")
    return root


@contextlib.contextmanager
def serving(directory: Path, **options):
    server = served.make_server(directory, port=0, quiet=True, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def get(port: int, path: str, headers: dict | None = None):
    """(status, headers, body) of GET ``path``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def raw(port: int, request: bytes) -> bytes:
    """Everything the server sends back for ``request``, until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data


# -- no directory listings ------------------------------------------------------------
@pytest.mark.parametrize("path", ["/files/", "/files", "/files/?C=M;O=A"])
def test_a_folder_without_index_html_is_404_not_a_listing(site, path):
    with serving(site) as port:
        status, _, body = get(port, path)
    assert status == 404
    assert b"secret-name" not in body


def test_a_folder_with_index_html_serves_it(site):
    with serving(site) as port:
        status, headers, _ = get(port, "/docs")
        assert (status, headers["Location"]) == (301, "/docs/")
        status, _, body = get(port, "/docs/")
        assert (status, body) == (200, b"docs page")
        status, _, body = get(port, "/")
        assert (status, body) == (200, PAGE.encode())


# -- bad paths ------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/%00", "/a%00b", "/app.js%00.txt", "/%ED%A0%80"])
def test_a_path_no_file_can_have_is_400_not_a_dropped_connection(site, path):
    with serving(site) as port:
        reply = raw(port, f"GET {path} HTTP/1.0\r\n\r\n".encode())
        assert reply.split(b"\r\n", 1)[0].split()[1] == b"400", reply[:200]
        assert get(port, "/app.js")[0] == 200  # and the server is still there


# -- idle connections and the connection cap ----------------------------------------
def test_an_idle_connection_is_closed_by_the_server(site):
    with (
        serving(site, timeout=0.5) as port,
        socket.create_connection(("127.0.0.1", port)) as s,
    ):
        s.settimeout(10)
        start = time.monotonic()
        assert s.recv(1024) == b""  # closed, without a word
        assert 0.4 < time.monotonic() - start < 5


def test_connections_beyond_the_cap_are_refused_with_503_and_slots_come_back(site):
    with serving(site, max_connections=2) as port:
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        time.sleep(0.2)  # both accepted, each holding a slot
        reply = raw(port, b"GET /app.js HTTP/1.0\r\n\r\n")
        assert reply.startswith(b"HTTP/1.0 503 "), reply[:100]
        for s in idle:
            s.close()
        deadline = time.monotonic() + 5
        while get(port, "/app.js")[0] != 200:  # the closed ones give their slots back
            assert time.monotonic() < deadline, "slots were not released"
            time.sleep(0.05)


def test_make_server_defaults_close_idle_connections_within_a_minute():
    server = served.make_server(ROOT, port=0, quiet=True)
    try:
        handler = server.RequestHandlerClass.func  # partial(handler, directory=...)
        assert 0 < handler.timeout <= 60
        assert server.slots.acquire(blocking=False)  # a cap exists and is not zero
    finally:
        server.server_close()


# -- content coding -------------------------------------------------------------------
# -- content coding: Brotli, then gzip, then the file as it is -------------------------
@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip, deflate, br, zstd", "br"),  # Chromium over HTTPS
        ("gzip, deflate", "gzip"),  # Chromium over plain http, even on 127.0.0.1
        ("br", "br"),
        ("BR", "br"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0.4, gzip;q=0.5", "gzip"),
        ("gzip", "gzip"),
        ("GZip", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip;q=0", "identity"),
        ("gzip; q=0.000", "identity"),
        ("gzip;Q=0, deflate", "identity"),
        ("br;q=0, gzip;q=0", "identity"),
        ("gzip;q=0.001", "gzip"),
        ("*", "br"),
        ("*;q=0", "identity"),
        ("*, br;q=0", "gzip"),
        ("*, br;q=0, gzip;q=0", "identity"),
        ("gzip;q=0.5, identity", "identity"),
        ("identity;q=0.2, gzip;q=0.5", "gzip"),
        ("deflate, zstd", "identity"),
        ("gzip;q=2", "identity"),  # out of range: not a weight
        ("gzip;q=high", "identity"),
    ],
)
def test_the_best_coding_the_request_accepts_is_sent(site, accept, coding):
    with serving(site) as port:
        status, headers, body = get(
            port, "/app.js", {} if accept is None else {"Accept-Encoding": accept}
        )
    assert status == 200
    assert headers.get("Content-Encoding", "identity") == coding
    assert headers["Content-Type"] == "text/javascript"
    assert headers["Vary"] == "Accept-Encoding"
    assert int(headers["Content-Length"]) == len(body)
    assert decode(coding, body) == SCRIPT


@pytest.mark.parametrize(("stale", "fresh"), [("br", "gzip"), ("gzip", "br")])
def test_a_compressed_copy_older_than_its_file_is_not_sent(site, stale, fresh):
    """A file rewritten after the build (by a test, by hand) with only one of its
    compressed copies: the other, older one would answer with the old bytes."""
    new = b"export const answer = 43;\n" * 50
    (site / "app.js").write_bytes(new)
    compress = {"gzip": lambda b: gzip.compress(b, mtime=0), "br": brotli}
    suffix = {"gzip": ".gz", "br": ".br"}
    (site / f"app.js{suffix[fresh]}").write_bytes(compress[fresh](new))
    older = (site / "app.js").stat().st_mtime_ns - 10**9
    os.utime(site / f"app.js{suffix[stale]}", ns=(older, older))
    with serving(site) as port:
        _, headers, body = get(port, "/app.js", {"Accept-Encoding": stale})
        assert "Content-Encoding" not in headers
        assert body == new
        _, headers, body = get(port, "/app.js", {"Accept-Encoding": "br, gzip"})
        assert headers["Content-Encoding"] == fresh
        assert decode(fresh, body) == new


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, br", "br"),  # equal weights: the server's order
        ("br;q=0.5, gzip", "gzip"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("*;q=0.5, gzip;q=0", "br"),
        ("deflate", "identity"),
        ("identity, *;q=0", "identity"),
    ],
)
def test_choose_encoding_weighs_several_codings(accept, coding):
    assert served.choose_encoding(accept, ["br", "gzip"]) == coding


def test_a_file_without_its_gz_is_sent_as_it_is(site):
    (site / "plain.js").write_bytes(SCRIPT)
    with serving(site) as port:
        status, headers, body = get(port, "/plain.js", {"Accept-Encoding": "br, gzip"})
    assert (status, body) == (200, SCRIPT)
    assert "Content-Encoding" not in headers


# -- Content-Security-Policy ----------------------------------------------------------
def test_every_response_carries_the_pages_policy_and_forbids_framing(site):
    want = POLICY + "; frame-ancestors 'none'"
    with serving(site) as port:
        for path in ("/", "/index.html", "/app.js", "/missing", "/files/"):
            _, headers, _ = get(port, path, {"Accept-Encoding": "gzip"})
            assert headers["Content-Security-Policy"] == want, path
        reply = raw(port, b"GET /%00 HTTP/1.0\r\n\r\n")
    assert f"Content-Security-Policy: {want}\r\n".encode() in reply


def test_the_policy_follows_the_page_when_a_rebuild_changes_it(site):
    with serving(site) as port:
        (site / "index.html").write_text(
            PAGE.replace(POLICY, "default-src 'none'") + "\n"
        )
        _, headers, _ = get(port, "/app.js")
    assert headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )


def test_a_page_without_a_policy_is_served_without_one_and_a_warning(site, capsys):
    (site / "index.html").write_text("<!doctype html><title>t</title>")
    with serving(site) as port:
        status, headers, _ = get(port, "/")
    assert status == 200
    assert "Content-Security-Policy" not in headers
    err = capsys.readouterr().err
    assert "warning" in err and "Content-Security-Policy" in err
    assert str(site / "index.html") in err


def test_page_policy_keeps_a_frame_ancestors_the_page_gives(tmp_path):
    page = tmp_path / "index.html"
    page.write_text(
        '<META HTTP-EQUIV="content-security-policy" '
        "content=\"default-src 'self'; frame-ancestors 'self';\">"
    )
    assert served.page_policy(page) == "default-src 'self'; frame-ancestors 'self'"
