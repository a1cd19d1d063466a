"""Convolution forward + backward: anygrad vs PyTorch's CPU autograd, as a table.

    python benchmarks/conv_bench.py [--repeats 20] [--backends numpy,torch]

Each row times one training step of a layer (forward, a sum as the loss, backward for
input, weight and bias) on float32 data and reports the median of the repeats, next
to torch.nn.functional.conv2d on the same data. Temporary: it moves into the benchmark
module when that lands.

On a small shared VM, for steady figures pin both libraries to one thread and keep
freed memory in the heap (numpy's large temporaries are otherwise page-faulted afresh
on every step):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MALLOC_MMAP_THRESHOLD_=1073741824 \
    MALLOC_TRIM_THRESHOLD_=4294967296 python benchmarks/conv_bench.py
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import anygrad as ag
from anygrad.nn import convolution as F

# name, input shape (N, C, H, W), weight shape (out, C/groups, kh, kw), conv arguments
CASES = [
    ("3x3 pad 1, 16->32, 28x28", (32, 16, 28, 28), (32, 16, 3, 3), {"padding": 1}),
    ("5x5 valid, 1->8, 28x28", (32, 1, 28, 28), (8, 1, 5, 5), {}),
    ("3x3 stride 2, 32->64, 14x14", (32, 32, 14, 14), (64, 32, 3, 3), {"stride": 2, "padding": 1}),
    ("3x3 groups 4, 32->32, 14x14", (32, 32, 14, 14), (32, 8, 3, 3), {"padding": 1, "groups": 4}),
]


def _median_seconds(step, repeats, sync=lambda: None, warmup=3):
    for _ in range(warmup):  # lazy imports, and the first touch of freshly mapped memory
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def anygrad_step(backend, x, w, b, kwargs):
    be = ag.get_backend(backend)
    xt = ag.tensor(x, backend=backend, requires_grad=True)
    wt = ag.tensor(w, backend=backend, requires_grad=True)
    bt = ag.tensor(b, backend=backend, requires_grad=True)

    def step():
        xt.grad = wt.grad = bt.grad = None
        ag.sum(F.conv2d(xt, wt, bt, **kwargs)).backward()

    return step, be.synchronize


def torch_step(x, w, b, kwargs):
    import torch

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)

    def step():
        xt.grad = wt.grad = bt.grad = None
        torch.nn.functional.conv2d(xt, wt, bt, **kwargs).sum().backward()

    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--backend", default="numpy", help="anygrad backend to time")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    rows = []
    print(f"conv2d forward+backward, float32, median of {args.repeats} (ms)")
    print(f"{'layer':32} {'anygrad/' + args.backend:>16} {'torch cpu':>10} {'ratio':>7}")
    for name, xshape, wshape, kwargs in CASES:
        x = rng.standard_normal(xshape, dtype=np.float32)
        w = rng.standard_normal(wshape, dtype=np.float32) * 0.1
        b = rng.standard_normal(wshape[0], dtype=np.float32)
        step, sync = anygrad_step(args.backend, x, w, b, kwargs)
        ours = _median_seconds(step, args.repeats, sync)
        theirs = float("nan")
        if torch is not None:
            theirs = _median_seconds(torch_step(x, w, b, kwargs), args.repeats)
        rows.append((name, ours, theirs))
        print(f"{name:32} {ours * 1e3:16.2f} {theirs * 1e3:10.2f} {ours / theirs:7.2f}")
    if torch is not None:
        print(f"(torch {torch.__version__}, {torch.get_num_threads()} threads)")
    return rows


if __name__ == "__main__":
    main()
