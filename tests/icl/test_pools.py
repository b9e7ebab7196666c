"""Pools: the splits, Fashion-MNIST from Debian, and the one-line error when it is missing."""

import gzip

import numpy as np
import pytest

from dgm.errors import DgmError
from icl_host import pools

FASHION = pools.FASHION_DEFAULT


def test_digits_split_is_a_partition():
    tr, he, al = (pools.load_pool(n) for n in ("digits_train", "digits_heldout", "digits_all"))
    assert len(tr) + len(he) == len(al) == 1797
    assert abs(len(tr) / len(al) - 0.6) < 0.01
    assert np.array_equal(np.bincount(tr.y) + np.bincount(he.y), np.bincount(al.y))
    x_tr, x_te, _, _ = pools._digits_split()  # raw rows: every sample is on exactly one side
    raw = [tuple(r) for r in np.concatenate([x_tr, x_te])]
    from sklearn.datasets import load_digits
    assert sorted(raw) == sorted(tuple(r) for r in load_digits().data)


def test_pools_are_standardized():
    for name in ("wine", "iris", "breast_cancer", "digits_heldout"):
        p = pools.load_pool(name)
        np.testing.assert_allclose(p.x.mean(axis=0), 0, atol=1e-4)
        assert p.n_cls <= 10


def test_missing_fashion_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("DGM_FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(pools.MissingPool) as exc:
        pools.load_pool("fashion_mnist_test")
    msg = str(exc.value)
    assert "\n" not in msg and "dataset-fashion-mnist" in msg and "apt-get install" in msg
    assert isinstance(exc.value, DgmError)


def test_missing_pool_surfaces_from_the_suite(tmp_path, monkeypatch, make_suite):
    monkeypatch.setenv("DGM_FASHION_MNIST_DIR", str(tmp_path))
    suite = make_suite({"pools": ["fashion_mnist_test"], "tasks": 2})
    with pytest.raises(pools.MissingPool, match="dataset-fashion-mnist"):
        suite.plan(0)


def _write_idx(path, arr):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def test_fashion_reader_pools_4x4(tmp_path, monkeypatch):
    imgs = np.zeros((20, 28, 28), np.uint8)
    imgs[:, :4, :4] = 255  # only the first 4x4 block is lit
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", imgs)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(20) % 10)
    x, y = pools.load_fashion("test", tmp_path)
    assert x.shape == (20, 49) and np.allclose(x[:, 0], 1.0) and np.allclose(x[:, 1:], 0.0)
    assert list(y[:3]) == [0, 1, 2]
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\0\0\x08\x01" + (5).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="header says"):
        pools.read_idx(bad)


@pytest.mark.skipif(not (FASHION / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist():
    p = pools.load_pool("fashion_mnist_test")
    assert p.x.shape == (10000, 49) and p.n_cls == 10
    assert np.array_equal(np.bincount(p.y), np.full(10, 1000))
