"""The data pools: scikit-learn's bundled sets and Debian's Fashion-MNIST, host side only.

Every pool is standardized feature-wise with its own statistics (labels are
not used). Meta-training pools: ``digits_train`` (60 % of digits, stratified,
fixed split) and ``fashion_mnist_train``. Meta-test pools: ``digits_heldout``
(the other 40 %), ``digits_all`` (unseen when meta-training on Fashion-MNIST),
``fashion_mnist_test`` (4×4 average-pooled to 49 dimensions), ``wine``,
``iris``, ``breast_cancer``.
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from dgm.errors import DgmError
from icl_harness.taskgen import Pool

FASHION_DEFAULT = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                 "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
TRAIN_POOLS = ("digits_train", "fashion_mnist_train")
POOLS = ("digits_train", "digits_heldout", "digits_all", "fashion_mnist_train",
         "fashion_mnist_test", "wine", "iris", "breast_cancer")
DIGITS_SPLIT_SEED = 0


class MissingPool(DgmError):
    """A pool's data is not installed on this machine."""


def fashion_dir() -> Path:
    return Path(os.environ.get("DGM_FASHION_MNIST_DIR") or FASHION_DEFAULT)


def _standardize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=0)
    return ((x - x.mean(axis=0)) / np.where(sd < 1e-8, 1.0, sd)).astype(np.float32)


def read_idx(path: Path) -> np.ndarray:
    """An idx file (optionally gzipped) as a uint8 array of its declared shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"{path}: holds {arr.size} values, its header says {shape}")
    return arr.reshape(shape)


def load_fashion(split: str, folder: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST ``split`` as (x [N, 49] float in [0, 1], y [N]); 4×4 average pooling."""
    folder = Path(folder) if folder else fashion_dir()
    img_name, lab_name = FASHION_FILES[split]
    paths = [folder / img_name, folder / lab_name]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise MissingPool(
            f"pool fashion_mnist_{split} needs Fashion-MNIST, but {folder} lacks {', '.join(missing)}: "
            "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) "
            "or set DGM_FASHION_MNIST_DIR to a folder holding its idx .gz files")
    imgs = read_idx(paths[0]).astype(np.float32) / 255.0
    labels = read_idx(paths[1]).astype(np.int64)
    x = imgs.reshape(len(imgs), 7, 4, 7, 4).mean(axis=(2, 4)).reshape(len(imgs), 49)
    return x, labels


def _digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    x, y = load_digits(return_X_y=True)
    return train_test_split(x, y, train_size=0.6, stratify=y, random_state=DIGITS_SPLIT_SEED)


def _raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets
    if name == "digits_train":
        x_tr, _, y_tr, _ = _digits_split()
        return x_tr, y_tr
    if name == "digits_heldout":
        _, x_te, _, y_te = _digits_split()
        return x_te, y_te
    if name == "digits_all":
        return datasets.load_digits(return_X_y=True)
    if name.startswith("fashion_mnist_"):
        return load_fashion(name.removeprefix("fashion_mnist_"))
    loader = {"wine": datasets.load_wine, "iris": datasets.load_iris,
              "breast_cancer": datasets.load_breast_cancer}[name]
    return loader(return_X_y=True)


@lru_cache(maxsize=16)
def _load(name: str, fashion: str) -> Pool:
    x, y = _raw(name)
    return Pool(_standardize(x), y, name=name)


def load_pool(name: str) -> Pool:
    """A standardized pool by name; MissingPool (one line) when its data is absent."""
    if name not in POOLS:
        raise DgmError(f"unknown icl pool {name!r}; known pools: {', '.join(POOLS)}")
    return _load(name, str(fashion_dir()) if name.startswith("fashion") else "")


def write_train_pool(name: str, path: Path) -> None:
    """Write a meta-training pool for the sandbox: x, y and its name, nothing else."""
    if name not in TRAIN_POOLS:
        raise DgmError(f"{name!r} is not a meta-training pool; choose one of {', '.join(TRAIN_POOLS)}")
    pool = load_pool(name)
    np.savez(path, x=pool.x, y=pool.y, name=np.asarray(name))
