"""oneneuron.data: IDX parsing, checksums, the download path, the real MNIST files."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tracemalloc
import zlib

import numpy as np
import pytest

from oneneuron import data, files, pagedata
from oneneuron.data import DataError, parse_idx, read_idx


def idx_bytes(a: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes holding ``a`` (written by hand, not by data.py)."""
    a = np.asarray(a, np.uint8)
    header = bytes([0, 0, 0x08, a.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in a.shape)
    return header + a.tobytes()


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (3, 5, 4), dtype=np.uint8)


# -- reading ---------------------------------------------------------------------------
def test_read_raw_idx(tmp_path, images):
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(idx_bytes(images))
    got = read_idx(p)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, images)


def test_read_gz_idx_equals_raw(tmp_path, images):
    raw = idx_bytes(images)
    p = tmp_path / "x-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(raw))
    md5 = hashlib.md5(raw).hexdigest()  # the MD5 is of the uncompressed bytes
    np.testing.assert_array_equal(read_idx(p, md5=md5, shape=(3, 5, 4)), images)


def test_read_labels_and_str_path(tmp_path):
    p = tmp_path / "labels-idx1-ubyte"
    p.write_bytes(idx_bytes(np.array([7, 2, 1, 0])))
    assert read_idx(str(p), shape=(4,)).tolist() == [7, 2, 1, 0]


def test_wrong_md5_names_file_and_expected(tmp_path, images):
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(idx_bytes(images))
    want = "0" * 32
    with pytest.raises(DataError, match=f"x-idx3-ubyte.*expected {want}"):
        read_idx(p, md5=want)


@pytest.mark.parametrize("cut", [1, 7])
def test_truncated_data(tmp_path, images, cut):
    p = tmp_path / "cut-idx3-ubyte"
    p.write_bytes(idx_bytes(images)[:-cut])
    with pytest.raises(DataError, match=r"cut-idx3-ubyte is truncated.*promises 60"):
        read_idx(p)


def test_padded_data(tmp_path, images):
    p = tmp_path / "pad-idx3-ubyte"
    p.write_bytes(idx_bytes(images) + b"\0")
    with pytest.raises(DataError, match=r"pad-idx3-ubyte is truncated or padded"):
        read_idx(p)


def test_truncated_header(tmp_path, images):
    p = tmp_path / "head-idx3-ubyte"
    p.write_bytes(idx_bytes(images)[:10])  # magic + 1.5 of the 3 sizes
    with pytest.raises(DataError, match=r"head-idx3-ubyte .*header needs 16 bytes"):
        read_idx(p)


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(100),
        b"hello, this is text\n",
        bytes([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]),  # IDX of float32, not ours
        bytes([0, 0, 0x08, 0]),  # zero dimensions
        b"",
    ],
    ids=["png", "text", "float-idx", "0-dim", "empty"],
)
def test_not_idx(tmp_path, content):
    p = tmp_path / "thing.bin"
    p.write_bytes(content)
    with pytest.raises(DataError, match=r"thing\.bin is not an IDX file of unsigned"):
        read_idx(p)


def test_wrong_shape(tmp_path):
    p = tmp_path / "labels-idx1-ubyte"
    p.write_bytes(idx_bytes(np.arange(3)))
    with pytest.raises(
        DataError, match=r"labels-idx1-ubyte has shape \(3,\), expected \(4,\)"
    ):
        read_idx(p, shape=(4,))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"cannot read .*nothing-here"):
        read_idx(tmp_path / "nothing-here")


def _compressible_idx() -> bytes:
    return idx_bytes(np.tile(np.arange(10, dtype=np.uint8), 100))


def test_truncated_gzip(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(_compressible_idx())[:-12])
    with pytest.raises(DataError, match=r"x\.gz is a damaged gzip file"):
        read_idx(p)


def test_corrupted_deflate_stream(tmp_path):
    # Flipping the first byte after the 10-byte gzip header breaks the deflate
    # block type; gzip raises zlib.error there (not OSError), which must be mapped.
    gz = bytearray(gzip.compress(_compressible_idx()))
    gz[10] ^= 0x55
    p = tmp_path / "x.gz"
    p.write_bytes(bytes(gz))
    with pytest.raises(DataError, match=r"x\.gz is a damaged gzip file"):
        read_idx(p)


def test_corrupted_gzip_crc(tmp_path):
    gz = bytearray(gzip.compress(_compressible_idx()))
    gz[-8] ^= 0xFF  # the CRC32 of the content
    p = tmp_path / "x.gz"
    p.write_bytes(bytes(gz))
    with pytest.raises(DataError, match=r"x\.gz is a damaged gzip file"):
        read_idx(p)


def test_parse_idx_is_read_only_view():
    a = parse_idx(idx_bytes(np.arange(6).reshape(2, 3)))
    assert a.shape == (2, 3) and a.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_pack_roundtrip():
    X = (np.random.default_rng(1).random((5, 576)) < 0.3).astype(np.uint8)
    raw = pagedata.pack_inputs(X)
    assert len(raw) == 5 * 72
    np.testing.assert_array_equal(pagedata.unpack_inputs(raw), X)
    with pytest.raises(DataError, match="multiple of 72"):
        pagedata.unpack_inputs(raw[:-1])


# -- finding the files -----------------------------------------------------------------
def test_load_mnist_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        data.load_mnist("validation")


def test_data_dir_without_files(tmp_path):
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte .*not found in"):
        data.load_mnist("test", data_dir=tmp_path, progress=False)


def test_data_dir_with_a_wrong_file(tmp_path):
    # A file of the right name but the wrong content is refused by its MD5.
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 28, 28))))
    with pytest.raises(DataError, match="expected 2646ac647ad5339dbf082846283269ea"):
        data.load_mnist("test", data_dir=tmp_path, progress=False)


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ONENEURON_CACHE", str(tmp_path / "c"))
    assert files.cache_dir("mnist") == tmp_path / "c"
    monkeypatch.delenv("ONENEURON_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert files.cache_dir("mnist") == tmp_path / "xdg" / "oneneuron" / "mnist"


# -- downloading (a real HTTP server on localhost) -------------------------------------
@pytest.fixture
def mirror(tmp_path):
    """A local HTTP mirror serving tmp_path/www; yields (folder, base URL)."""
    import functools
    import http.server
    import threading

    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep the test output clean
            pass

    handler = functools.partial(Quiet, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def cache(monkeypatch, tmp_path):
    folder = tmp_path / "cache"
    monkeypatch.setenv("ONENEURON_CACHE", str(folder))
    return folder


@pytest.mark.cpython_only
def test_download_verifies_and_caches(mirror, cache):
    www, url = mirror
    raw = _compressible_idx()
    (www / "tiny-idx1-ubyte.gz").write_bytes(gzip.compress(raw))
    got = data.download(
        "tiny-idx1-ubyte",
        hashlib.md5(raw).hexdigest(),
        mirrors=(url,),
        progress=False,
    )
    assert got == cache / "tiny-idx1-ubyte"
    assert got.read_bytes() == raw  # cached uncompressed, ready for read_idx
    assert [p.name for p in cache.iterdir()] == ["tiny-idx1-ubyte"]  # no temp file


@pytest.mark.cpython_only
@pytest.mark.parametrize("damage", ["wrong-content", "cut-gzip", "not-gzip-not-idx"])
def test_download_refuses_bad_file_and_caches_nothing(mirror, cache, damage):
    www, url = mirror
    raw = _compressible_idx()
    served = {
        "wrong-content": gzip.compress(raw[:-1] + b"\x01"),
        "cut-gzip": gzip.compress(raw)[:-20],
        "not-gzip-not-idx": b"<html>Not Found</html>",
    }[damage]
    (www / "tiny-idx1-ubyte.gz").write_bytes(served)
    with pytest.raises(DataError, match=r"could not get tiny-idx1-ubyte.*valid copy"):
        data.download(
            "tiny-idx1-ubyte",
            hashlib.md5(raw).hexdigest(),
            mirrors=(url,),
            progress=False,
        )
    assert not cache.exists() or list(cache.iterdir()) == []


@pytest.mark.cpython_only
def test_download_falls_back_to_the_next_mirror(mirror, cache):
    www, url = mirror
    raw = _compressible_idx()
    (www / "good").mkdir()
    (www / "good" / "tiny-idx1-ubyte.gz").write_bytes(gzip.compress(raw))
    got = data.download(
        "tiny-idx1-ubyte",
        hashlib.md5(raw).hexdigest(),
        mirrors=(url + "missing/", url + "good/"),  # the first answers 404
        progress=False,
    )
    assert got.read_bytes() == raw


@pytest.mark.cpython_only
def test_download_error_lists_every_mirror(mirror, cache):
    _, url = mirror
    with pytest.raises(DataError) as info:
        data.download(
            "nope", "0" * 32, mirrors=(url + "a/", url + "b/"), progress=False
        )
    text = str(info.value)
    assert f"{url}a/nope.gz" in text and f"{url}b/nope.gz" in text
    assert "404" in text


# -- the real MNIST files --------------------------------------------------------------
@pytest.mark.cpython_only
def test_real_mnist_files(mnist_images):
    # load_mnist checks the canonical MD5s from DESIGN.md on the way in.
    for split, n in (("train", 60000), ("test", 10000)):
        images, labels = mnist_images[split]
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.uint8
        assert sorted(np.unique(labels).tolist()) == list(range(10))
    _, test_labels = mnist_images["test"]
    assert int(np.sum(test_labels == 6)) == 958  # "always not 6" scores 90.42 %
    assert mnist_images["train"][0][0].max() == 255  # ink is bright


@pytest.mark.cpython_only
def test_real_mnist_from_data_dir_with_gz(tmp_path, mnist_images):
    # --data-dir with one file gzip-compressed: the MD5 is of the uncompressed bytes.
    source = next(
        d
        for d in data._local_dirs()
        if (d / data.FILES["test-labels"][0]).is_file()
        or (d / (data.FILES["test-labels"][0] + ".gz")).is_file()
    )
    images_name, _, _ = data.FILES["test-images"]
    labels_name, _, _ = data.FILES["test-labels"]
    found = data._in_dir(source, images_name)
    shutil.copy(found, tmp_path / found.name)
    labels_raw = read_idx(data._in_dir(source, labels_name)).tobytes()
    header = idx_bytes(np.zeros(10000))[:8]
    (tmp_path / (labels_name + ".gz")).write_bytes(gzip.compress(header + labels_raw))
    images, labels = data.load_mnist("test", data_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(images, mnist_images["test"][0])
    np.testing.assert_array_equal(labels, mnist_images["test"][1])


@pytest.mark.cpython_only
def test_load_inputs_is_to_input_of_the_images(mnist_images, mnist_test):
    from oneneuron.preprocess import to_input

    images, labels = mnist_images["test"]
    X, y = mnist_test
    assert X.shape == (10000, 576) and X.dtype == np.uint8
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(X[:50], to_input(images[:50]).reshape(50, -1))


# -- limits: sizes are Python ints, decompression stops at the expected size -----------
def test_header_sizes_that_would_wrap_int64():
    # 65536⁴ = 2⁶⁴ wraps to 0 as a numpy int64 product: that "matched" an empty body
    raw = bytes([0, 0, 0x08, 4]) + (65536).to_bytes(4, "big") * 4
    with pytest.raises(DataError, match=r"promises 18446744073709551616 data bytes"):
        parse_idx(raw, name="wrap")


def _gzip_of_zeros(n: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    block = bytes(1 << 20)
    body = b"".join(z.compress(block) for _ in range(n >> 20))
    return body + z.compress(bytes(n % (1 << 20))) + z.flush()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """200 MB of zeros in about 200 kB of gzip."""
    return _gzip_of_zeros(200_000_000)


@pytest.mark.parametrize(
    ("shape", "limit"), [((10000,), "10,008"), (None, f"{data.MAX_IDX_BYTES:,}")]
)
def test_gzip_bomb_is_refused_without_decompressing_it(tmp_path, bomb, shape, limit):
    p = tmp_path / "t10k-labels-idx1-ubyte.gz"
    p.write_bytes(bomb)
    assert len(bomb) < 300_000
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=f"holds more than the {limit} bytes"):
            read_idx(p, md5="0" * 32, shape=shape)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # at most the limit, plus a chunk of input and one of output
    assert peak < (data.MAX_IDX_BYTES if shape is None else 0) + 8 * 2**20


def test_raw_file_longer_than_its_shape_is_refused(tmp_path):
    p = tmp_path / "labels-idx1-ubyte"
    p.write_bytes(idx_bytes(np.arange(5)))
    with pytest.raises(DataError, match=r"holds more than the 12 bytes expected"):
        read_idx(p, shape=(4,))


@pytest.mark.cpython_only
def test_data_dir_with_a_gzip_bomb(tmp_path, bomb):
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(bomb)
    with pytest.raises(DataError, match=r"holds more than the 7,840,016 bytes"):
        data.load_mnist("test", data_dir=tmp_path, progress=False)


def test_gzip_of_several_members(tmp_path, images):
    raw = idx_bytes(images)
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(raw[:7]) + gzip.compress(raw[7:]))
    np.testing.assert_array_equal(read_idx(p, shape=images.shape), images)
    p.write_bytes(gzip.compress(raw) + b"trailing garbage")
    with pytest.raises(DataError, match=r"x\.gz is a damaged gzip file"):
        read_idx(p)


@pytest.mark.cpython_only
@pytest.mark.parametrize("kind", ["gzip bomb", "endless raw"])
def test_download_stops_at_the_expected_size(mirror, cache, kind):
    www, url = mirror
    served = _gzip_of_zeros(2_000_000) if kind == "gzip bomb" else bytes(3_000_000)
    (www / "t10k-labels-idx1-ubyte.gz").write_bytes(served)
    with pytest.raises(DataError) as info:
        data.download(
            "t10k-labels-idx1-ubyte",
            data.FILES["test-labels"][1],
            size=data.idx_size((10000,)),
            mirrors=(url,),
            progress=False,
        )
    want = "holds more than the 10,008 bytes" if kind == "gzip bomb" else "sends more"
    assert want in str(info.value)
    assert not cache.exists() or list(cache.iterdir()) == []


@pytest.mark.cpython_only
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs POSIX resource limits")
def test_failed_cache_write_leaves_no_file(mirror, cache):
    # A real write error: the child process may write files of at most 100 bytes
    # (Python ignores SIGXFSZ, so write() fails with EFBIG), the IDX file is 1,008.
    import resource

    www, url = mirror
    raw = _compressible_idx()
    (www / "tiny-idx1-ubyte.gz").write_bytes(gzip.compress(raw))
    cache.mkdir()
    code = (
        "from oneneuron import data; "
        f"data.download('tiny-idx1-ubyte', {hashlib.md5(raw).hexdigest()!r}, "
        f"mirrors=({url!r},), progress=False)"
    )

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "ONENEURON_CACHE": str(cache)},
        preexec_fn=small_files,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "File too large" in result.stderr
    assert list(cache.iterdir()) == []
