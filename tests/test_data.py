"""DataLoader, the dataset readers and the MNIST IDX format."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

import anygrad as ag
from anygrad.data import DataLoader, load_digits, load_mnist, make_product, make_regression
from anygrad.data.datasets import read_idx


def test_batches_cover_the_data_in_order(backend):
    x = np.arange(10, dtype="float32")[:, None]
    y = np.arange(10)
    loader = DataLoader(x, y, batch_size=4, backend=backend)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 1), (4, 1), (2, 1)]
    assert all(b[0].backend.name == backend for b in batches)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)


def test_drop_last(backend):
    loader = DataLoader(np.zeros((10, 2)), batch_size=4, drop_last=True, backend=backend)
    assert len(loader) == 2 and [b[0].shape[0] for b in loader] == [4, 4]


def test_shuffle_is_seeded_and_a_permutation(backend):
    x = np.arange(20, dtype="float32")
    orders = []
    for _ in range(2):
        ag.manual_seed(7)
        loader = DataLoader(x, x.copy(), batch_size=6, shuffle=True, backend=backend)
        orders.append(np.concatenate([xb.numpy() for xb, yb in loader]))
    np.testing.assert_array_equal(orders[0], orders[1])
    assert sorted(orders[0].tolist()) == x.tolist()
    assert orders[0].tolist() != x.tolist()


def test_shuffled_batches_are_the_same_on_numpy_and_strict():
    x = np.arange(30, dtype="float32")
    firsts = []
    for name in ("numpy", "array_api_strict"):
        ag.manual_seed(3)
        firsts.append(next(iter(DataLoader(x, batch_size=8, shuffle=True, backend=name)))[0].numpy())
    np.testing.assert_array_equal(*firsts)


def test_dataset_is_moved_once(backend):
    loader = DataLoader(np.ones((6, 2), dtype="float32"), batch_size=3, backend=backend)
    assert loader.tensors[0].backend.name == backend


def test_misaligned_arrays_are_rejected():
    with pytest.raises(ValueError, match=r"differ in length.*\(5, 2\).*\(4,\)"):
        DataLoader(np.zeros((5, 2)), np.zeros(4))


def test_digits_split():
    split = load_digits()
    assert split.x_train.shape == (1438, 64) and split.x_test.shape == (359, 64)
    assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int64
    assert 0.0 <= split.x_train.min() and split.x_train.max() <= 1.0
    again = load_digits()
    np.testing.assert_array_equal(split.y_test, again.y_test)


def test_synthetic_data():
    split, w, b = make_regression(n=100, n_features=2, noise=0.0)
    np.testing.assert_allclose(split.x_train @ w + b, split.y_train[:, 0], rtol=1e-5, atol=1e-5)
    toy = make_product(n=50)
    # y was computed in float64 before the cast to float32: equal to float32 precision
    np.testing.assert_allclose(toy.x_train[:, 0] * toy.x_train[:, 1], toy.y_train[:, 0], rtol=1e-6)


def _write_idx(path, array, compress):
    codes = {np.dtype("uint8"): 0x08}
    header = struct.pack(">BBBB", 0, 0, codes[array.dtype], array.ndim)
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reader(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = {"train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              "t10k": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)}
    labels = {"train": np.array([0, 1, 2, 3, 9], dtype=np.uint8),
              "t10k": np.array([4, 5, 6], dtype=np.uint8)}
    suffix = ".gz" if compress else ""
    for part in ("train", "t10k"):
        _write_idx(tmp_path / f"{part}-images-idx3-ubyte{suffix}", images[part], compress)
        _write_idx(tmp_path / f"{part}-labels-idx1-ubyte{suffix}", labels[part], compress)
    split = load_mnist(tmp_path)
    assert split.x_train.shape == (5, 784) and split.x_test.shape == (3, 784)
    np.testing.assert_allclose(split.x_train[1], images["train"][1].reshape(-1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(split.y_test, [4, 5, 6])


def test_mnist_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


def test_idx_bad_magic_and_truncation(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04" + b"\x00" * 8)
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(struct.pack(">BBBBI", 0, 0, 8, 1, 10) + b"\x00" * 3)
    with pytest.raises(ValueError, match="header says 18"):
        read_idx(short)
