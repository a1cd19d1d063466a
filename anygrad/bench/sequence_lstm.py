"""Sequence workloads: one LSTM training step against PyTorch, and what recomputation
(ag.checkpoint) costs and saves on a deep MLP.

The LSTM step is a 2-layer nn.LSTM (input 64, hidden 128, sequence 32, batch 32 by
default), mean squared error against a fixed target, backward and SGD: anygrad eager,
anygrad under ag.compile, and PyTorch eager from the same weights, timed side by side.

The recomputation figure trains a deep MLP of Linear+ReLU blocks on numpy with and
without `ag.checkpoint_sequential`, and reports the step time and tracemalloc's peak
(numpy reports every array buffer to it): during the forward, and over the whole step.
"""
from __future__ import annotations

import numpy as np

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
import anygrad.optim as optim

from . import blas, machine, memory, references
from .report import Section, _f, _mib, _spread
from .contest import AnygradStep, TorchStep, rows_against_torch
from .runner import progress
from .timing import measure

# Deep MLPs as (depth, width, batch): one where the weights' gradients outweigh the
# activations, and one where the activations dominate a step's memory.
FULL = {"lstm": (64, 128, 32, 32), "deep": ((32, 1024, 256), (16, 256, 2048)),
        "segments": (4, 8)}
QUICK = {"lstm": (8, 16, 6, 4), "deep": ((4, 64, 8),), "segments": (2,)}
LAYERS = 2


class LstmStep(AnygradStep):
    """One step of anygrad's 2-layer LSTM: forward, MSE, backward, SGD."""

    def __init__(self, shape, backend, dtype="float32", lr=0.01, compiled=False):
        n_in, hidden, _, _ = shape
        self.backend = ag.get_backend(backend)
        self.name = f"anygrad:{self.backend.name}" + (" compiled" if compiled else "")
        self.model = nn.LSTM(n_in, hidden, num_layers=LAYERS, dtype=dtype, backend=self.backend)
        self.optimizer = optim.SGD(self.model.parameters(), lr=lr)
        self.step = ag.compile(self._step) if compiled else self._step

    def set_batch(self, x, y):
        self.x = ag.as_tensor(x, backend=self.backend)
        self.y = ag.as_tensor(y, backend=self.backend)

    def _step(self):
        self.optimizer.zero_grad()
        out, _ = self.model(self.x)
        loss = F.mse_loss(out, self.y)
        loss.backward()
        self.optimizer.step()
        return loss


class TorchLstmStep(TorchStep):
    """The same step in PyTorch eager (torch.nn.LSTM, oneDNN kernels where it has them)."""

    def __init__(self, shape, dtype="float32", lr=0.01):
        import torch

        self.torch = torch
        n_in, hidden, _, _ = shape
        self.model = torch.nn.LSTM(n_in, hidden, num_layers=LAYERS).to(getattr(torch, dtype))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)

    def set_batch(self, x, y):
        self.x, self.y = self.torch.from_numpy(x), self.torch.from_numpy(y)

    def step(self):
        self.optimizer.zero_grad()
        out, _ = self.model(self.x)
        loss = self.torch.nn.functional.mse_loss(out, self.y)
        loss.backward()
        self.optimizer.step()
        return loss


def _lstm_rows(shape, backends, settings):
    n_in, hidden, steps, batch = shape
    rng = np.random.default_rng(settings.seed + 7)
    x = rng.standard_normal((steps, batch, n_in)).astype(settings.dtype)
    y = (0.5 * rng.standard_normal((steps, batch, hidden))).astype(settings.dtype)
    ag.manual_seed(settings.seed)
    template = nn.LSTM(n_in, hidden, num_layers=LAYERS, dtype=settings.dtype)
    state = {k: v.numpy() for k, v in template.state_dict().items()}
    contenders = []
    if references.torch_available():
        contenders.append(TorchLstmStep(shape, settings.dtype, settings.lr))
    for b in backends:
        contenders += [LstmStep(shape, b, settings.dtype, settings.lr),
                       LstmStep(shape, b, settings.dtype, settings.lr, compiled=True)]
    return rows_against_torch('lstm', contenders, state, (x, y), settings)


class _DeepMlp:
    """A deep Linear+ReLU stack on numpy, trained by SGD with the forward either plain
    or split into checkpointed segments."""

    def __init__(self, depth, width, batch, segments, dtype):
        ag.manual_seed(0)
        layers = []
        for _ in range(depth):
            layers += [nn.Linear(width, width, dtype=dtype, backend="numpy"), nn.ReLU()]
        self.model = nn.Sequential(*layers)
        self.optimizer = optim.SGD(self.model.parameters(), lr=1e-3)
        self.x = ag.randn((batch, width), dtype=dtype, backend="numpy")
        self.segments = segments
        self.forward_peak = None

    def forward(self):
        if self.segments:
            return ag.checkpoint_sequential(self.model, self.segments, self.x)
        return self.model(self.x)

    def step(self):
        self.optimizer.zero_grad()
        loss = ag.mean(self.forward() ** 2)
        loss.backward()
        self.optimizer.step()
        return loss


def _forward_peak(make):
    """tracemalloc's peak over one forward (graph kept) above what was resident before."""
    import gc
    import tracemalloc

    tracemalloc.start()
    try:
        contender = make()
        contender.step()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = contender.forward()
        peak = tracemalloc.get_traced_memory()[1] - before
        del out
        return peak
    finally:
        tracemalloc.stop()


def _recompute_rows(depth, width, batch, segment_counts, settings):
    rows = []
    for segments in (0,) + tuple(segment_counts):
        label = f"checkpoint, {segments} segments" if segments else "plain"
        progress(f"recompute: {depth}x{width} MLP at batch {batch}, {label}")

        def make(segments=segments):
            return _DeepMlp(depth, width, batch, segments, settings.dtype)

        profile = memory.traced_profile(make, flat=False)
        contender = make()
        timing = measure(contender.step, repeats=max(2, settings.repeats // 3), warmup=1)
        rows.append({"impl": label, "segments": segments, **timing.summary(),
                     "forward_peak_bytes": _forward_peak(make),
                     "step_peak_bytes": profile["step_peak_bytes"],
                     "peak_bytes": profile["peak_bytes"]})
    plain = rows[0]
    for r in rows:
        r["time_ratio"] = r["median_ms"] / plain["median_ms"]
        r["step_peak_ratio"] = r["step_peak_bytes"] / plain["step_peak_bytes"]
        r["forward_peak_ratio"] = r["forward_peak_bytes"] / plain["forward_peak_bytes"]
    return rows


def run(settings, backends):
    quick = settings.repeats <= 3
    shapes = QUICK if quick else FULL
    backends = [b for b in backends if not ag.get_backend(b).lazy]
    result = {"shape": dict(zip(("input", "hidden", "steps", "batch"), shapes["lstm"])),
              "layers": LAYERS, "dtype": settings.dtype,
              "lstm": _lstm_rows(shapes["lstm"], backends, settings),
              "torch_threads": machine.torch_threads(), "blas": blas.check(measure=False)}
    result["recompute"] = [
        {"depth": depth, "width": width, "batch": batch,
         "rows": _recompute_rows(depth, width, batch, shapes["segments"], settings)}
        for depth, width, batch in shapes["deep"]] if "numpy" in ag.available_backends() else []
    return result


def section(result):
    shape = result["shape"]
    s = Section(f"LSTM training step ({result['layers']} layers, input {shape['input']}, hidden "
                f"{shape['hidden']}, sequence {shape['steps']}, batch {shape['batch']}, "
                f"{result['dtype']}; forward, MSE, backward, SGD)",
                ["impl", "median ms", "IQR ms", "x torch", "max |loss - torch's|"])
    for r in result["lstm"]:
        diff = r["max_loss_difference"]
        s.rows.append([r["impl"], _f(r["median_ms"], 3), _spread(r, digits=3),
                       _f(r["ratio_to_torch"]), "-" if diff is None else f"{diff:.1e}"])
    s.notes += blas.describe(result["blas"])
    s.notes.append(f"torch threads: {result['torch_threads']}")
    for deep in result["recompute"]:
        s.notes.append(f"recomputation on numpy, {deep['depth']} Linear+ReLU blocks of "
                       f"{deep['width']} at batch {deep['batch']} (tracemalloc peaks above what "
                       "was resident; a step's includes the new gradients):")
        for r in deep["rows"]:
            s.notes.append(f"  {r['impl']}: {r['median_ms']:.1f} ms/step ({r['time_ratio']:.2f}x), "
                           f"forward peak {_mib(r['forward_peak_bytes'])} MiB "
                           f"({r['forward_peak_ratio']:.2f}x), step peak "
                           f"{_mib(r['step_peak_bytes'])} MiB ({r['step_peak_ratio']:.2f}x), "
                           f"whole footprint {_mib(r['peak_bytes'])} MiB")
    return s
