"""Datasets as host numpy arrays (an I/O edge): bundled ones, MNIST files, synthetic.

Every split is deterministic for a given seed. Features are float32 and class labels
int64, ready for `DataLoader`.
"""
from __future__ import annotations

import gzip
import os
from typing import NamedTuple

import numpy as np


class Split(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _split(x, y, test_fraction, seed):
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return Split(x[train], y[train], x[test], y[test])


def _sklearn():
    try:
        import sklearn.datasets
    except ImportError as exc:
        raise ImportError(
            "the bundled datasets come with scikit-learn: pip install scikit-learn "
            "(in a checkout of anygrad: pip install -e \".[data]\")"
        ) from exc
    return sklearn.datasets


def load_digits(test_fraction=0.2, seed=0):
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download):
    64 features scaled to [0, 1], labels 0-9."""
    digits = _sklearn().load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    return _split(x, digits.target.astype(np.int64), test_fraction, seed)


def load_diabetes(test_fraction=0.2, seed=0):
    """scikit-learn's bundled diabetes regression data (442 patients, 10 features),
    features and target standardised with the training split's statistics. It stands in
    for the Boston housing data of the classic tutorials, which is no longer shipped."""
    data = _sklearn().load_diabetes()
    split = _split(data.data.astype(np.float64), data.target.astype(np.float64), test_fraction, seed)
    mean, std = split.x_train.mean(0), split.x_train.std(0)
    y_mean, y_std = split.y_train.mean(), split.y_train.std()
    return Split(((split.x_train - mean) / std).astype(np.float32),
                 ((split.y_train - y_mean) / y_std).astype(np.float32),
                 ((split.x_test - mean) / std).astype(np.float32),
                 ((split.y_test - y_mean) / y_std).astype(np.float32))


def make_regression(n=1000, n_features=3, noise=0.1, seed=0, test_fraction=0.2):
    """y = x @ w + b + noise for known w, b; returns (Split, w, b)."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(-3, 3, size=n_features)
    b = float(rng.uniform(-1, 1))
    x = rng.standard_normal((n, n_features))
    y = x @ w + b + noise * rng.standard_normal(n)
    split = _split(x.astype(np.float32), y.astype(np.float32)[:, None], test_fraction, seed)
    return split, w.astype(np.float32), np.float32(b)


def make_product(n=2000, seed=0, test_fraction=0.2):
    """The nonlinear toy y = x1 * x2 with x uniform in [-1, 1]^2: no linear model fits it."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = (x[:, 0] * x[:, 1])[:, None]
    return _split(x.astype(np.float32), y.astype(np.float32), test_fraction, seed)


# ------------------------------------------------------------------ MNIST (IDX files)
_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """One IDX file (raw or .gz) as a numpy array, its header checked."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"read_idx: {path} holds {len(raw)} bytes, its header says {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def load_mnist(directory):
    """The standard MNIST IDX files (raw or .gz) from `directory`: 28x28 images flattened
    to 784 features in [0, 1], labels 0-9. Nothing is downloaded."""
    parts = {}
    for key, name in _MNIST_FILES.items():
        candidates = [os.path.join(directory, name + suffix) for suffix in ("", ".gz")]
        path = next((p for p in candidates if os.path.exists(p)), None)
        if path is None:
            raise FileNotFoundError(
                f"load_mnist: {directory} has neither {name} nor {name}.gz; it needs the four "
                f"standard files: {', '.join(_MNIST_FILES.values())} (raw or .gz)"
            )
        parts[key] = read_idx(path)
    flat = {k: (parts[k].reshape(len(parts[k]), -1) / 255.0).astype(np.float32)
            for k in ("x_train", "x_test")}
    return Split(flat["x_train"], parts["y_train"].astype(np.int64),
                 flat["x_test"], parts["y_test"].astype(np.int64))
