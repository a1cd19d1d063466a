"""The MNIST CNN step against PyTorch eager, at the default thread count and at one.

PyTorch's MNIST example network (`workloads.MnistCnn`) on a batch of 64 28x28 images,
float32: forward, nll_loss, backward, no optimizer step. Every contender starts from
the same weights and batch; with dropout off, its loss and every parameter's gradient
must match PyTorch's before any is timed. The timed steps train (dropout on).

Each thread setting is a separate round: numpy's BLAS is limited through threadpoolctl
and PyTorch through `torch.set_num_threads`, and both are restored afterwards. Within a
round the contenders of one library are timed interleaved, the libraries one after the
other (see `timing`); the machine's load average is recorded beside the figures, since
on a shared machine it moves every ratio.
"""
from __future__ import annotations

import contextlib
import os

import numpy as np

import anygrad as ag

from . import blas, machine, references, verify, workloads
from .report import Section, _f, _spread
from .runner import _measure, progress

TORCH = "torch eager"
FULL = {"batch": 64, "side": 28}
QUICK = {"batch": 4, "side": 12}
# float32 sums of a few thousand products in other orders; a wrong rule is far off.
GRAD_RTOL = 1e-3


class TorchMnistCnnStep(workloads.CnnContender):
    """The same network and step in PyTorch eager."""

    name = TORCH

    def __init__(self, dtype="float32", side=28):
        import torch

        self.torch = torch
        self.nll = torch.nn.functional.nll_loss
        nn = torch.nn
        pooled = (side - 4) // 2
        self.model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Dropout(0.25), nn.Flatten(), nn.Linear(64 * pooled * pooled, 128), nn.ReLU(),
            nn.Linear(128, 10), nn.LogSoftmax(dim=1)).to(getattr(torch, dtype))
        self._keys = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                      "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
        self.x = self.y = None

    def load_weights(self, state):
        ours = dict(zip(self._keys, self.model.state_dict()))
        self.model.load_state_dict({ours[k]: self.torch.from_numpy(np.array(v))
                                    for k, v in state.items()})

    def set_batch(self, x, y):
        self.x, self.y = self.torch.from_numpy(x), self.torch.from_numpy(y)

    def sync(self):
        pass


@contextlib.contextmanager
def threads(count):
    """numpy's BLAS and PyTorch limited to `count` threads (None: as they are). Yields
    False where the BLAS cannot be limited (threadpoolctl missing)."""
    if count is None:
        yield True
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    torch = None
    if references.torch_available():
        import torch
        before = torch.get_num_threads()
        torch.set_num_threads(count)
    try:
        with threadpool_limits(count):
            yield True
    finally:
        if torch is not None:
            torch.set_num_threads(before)


def _check(contenders, reference):
    """Loss and gradients of one dropout-free step against PyTorch's."""
    for c in contenders + [reference]:
        c.train(False)
    expected = reference.step()
    want_loss, want_grads = reference.loss_value(expected), reference.grads_host()
    checks = {}
    for c in contenders:
        loss = c.loss_value(c.step())
        error = max(verify._relative_error(a, b) for a, b in zip(c.grads_host(), want_grads))
        checks[c.name] = {"loss_difference": abs(loss - want_loss), "max_grad_error": error,
                          "ok": error <= GRAD_RTOL and abs(loss - want_loss) <= GRAD_RTOL}
    for c in contenders + [reference]:
        c.train(True)
    return checks


def _round(label, contenders, settings):
    load = os.getloadavg()[0]
    progress(f"cnn: {label}, {len(contenders)} contenders, {settings.repeats} repeats")
    timings = _measure(contenders, settings)
    torch_ms = timings[TORCH].median * 1e3 if TORCH in timings else None
    rows = []
    for c in contenders:
        row = {"impl": c.name, "threads": label, **timings[c.name].summary()}
        row["ratio_to_torch"] = row["median_ms"] / torch_ms if torch_ms else None
        rows.append(row)
    return rows, {"threads": label, "load_before": load, "load_after": os.getloadavg()[0]}


def run(settings, backends):
    shape = QUICK if settings.repeats <= 3 else FULL
    rng = np.random.default_rng(settings.seed + 11)
    x = rng.standard_normal((shape["batch"], 1, shape["side"], shape["side"]))
    x = x.astype(settings.dtype)
    y = rng.integers(0, 10, shape["batch"]).astype(np.int64)
    ag.manual_seed(settings.seed)
    template = workloads.MnistCnn(settings.dtype, side=shape["side"])
    state = {k: v.numpy() for k, v in template.state_dict().items()}
    backends = [b for b in backends if not ag.get_backend(b).lazy]
    contenders = [workloads.MnistCnnStep(b, settings.dtype, shape["side"]) for b in backends]
    for c in contenders:
        c.load_weights(state)
        c.set_batch(x, y)
    result = {**shape, "dtype": settings.dtype, "checks": {}, "rows": [], "load": [],
              "torch_threads": machine.torch_threads(), "blas": blas.check(measure=False)}
    if references.torch_available():
        reference = TorchMnistCnnStep(settings.dtype, shape["side"])
        reference.load_weights(state)
        reference.set_batch(x, y)
        result["checks"] = _check(contenders, reference)
        contenders = [c for c in contenders if result["checks"][c.name]["ok"]] + [reference]
    for count in (None, 1):
        with threads(count) as limited:
            if not limited:
                result["load"].append({"threads": count, "skipped": "threadpoolctl is missing"})
                continue
            label = "default" if count is None else str(count)
            rows, load = _round(label, contenders, settings)
        result["rows"] += rows
        result["load"].append(load)
    return result


def torch_ratio(result, threads):
    """anygrad on numpy over PyTorch eager at a thread setting ("default" or "1")."""
    for row in (result or {}).get("rows", []):
        if row["impl"] == "anygrad:numpy" and row["threads"] == threads:
            return row["ratio_to_torch"]
    return None


def section(result):
    s = Section(f"MNIST CNN forward + backward (PyTorch's example network), batch "
                f"{result['batch']}, {result['side']}x{result['side']}, {result['dtype']}",
                ["impl", "threads", "median ms", "IQR ms", "x torch", "max grad error vs torch"])
    for r in result["rows"]:
        check = result["checks"].get(r["impl"])
        s.rows.append([r["impl"], r["threads"], _f(r["median_ms"]), _spread(r),
                       _f(r["ratio_to_torch"]),
                       "-" if check is None else f"{check['max_grad_error']:.1e}"])
    for name, check in result["checks"].items():
        if not check["ok"]:
            s.notes.append(f"{name} FAILED the check against PyTorch (gradient error "
                           f"{check['max_grad_error']:.1e}, loss difference "
                           f"{check['loss_difference']:.1e}) and was not timed")
    s.notes += blas.describe(result["blas"])
    s.notes.append(f"default torch threads: {result['torch_threads']}; load average (1 min), "
                   + ", ".join(f"threads {r['threads']}: {r['load_before']:.2f} before, "
                               f"{r['load_after']:.2f} after" for r in result["load"]
                               if "load_before" in r))
    return s
