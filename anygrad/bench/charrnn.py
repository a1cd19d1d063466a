"""The char-RNN step of PyTorch's name-generation tutorial, and the small ops it is made of.

Tensors of one row, where a step's time is per-op overhead rather than arithmetic: per
character, `cat` of the one-hot input and the hidden state, three small `Linear`s (i2h,
i2o, then o2o on their joined outputs), `log_softmax` and `nll_loss`; after the word,
backward and an SGD step. anygrad eager, anygrad under `ag.compile` and PyTorch eager
start from the same weights; their losses are compared before they are timed side by
side. The op-by-op table beside it (`small_ops`) says where a step's time goes.
"""
from __future__ import annotations

import os

import numpy as np

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
import anygrad.optim as optim

from . import blas, machine, references, small_ops
from .contest import AnygradStep, TorchStep, rows_against_torch
from .report import Section, _f, _spread

# (letters, hidden, characters per word): the tutorial's 57 letters and 128 hidden units.
FULL = (57, 128, 10)
QUICK = (8, 16, 3)


class CharRnn(nn.Module):
    def __init__(self, letters, hidden, dtype="float32", backend=None):
        super().__init__()
        self.i2h = nn.Linear(letters + hidden, hidden, dtype=dtype, backend=backend)
        self.i2o = nn.Linear(letters + hidden, letters, dtype=dtype, backend=backend)
        self.o2o = nn.Linear(hidden + letters, letters, dtype=dtype, backend=backend)

    def forward(self, letter, hidden):
        joined = ag.concat([letter, hidden], axis=1)
        hidden = self.i2h(joined)
        out = self.o2o(ag.concat([hidden, self.i2o(joined)], axis=1))
        return F.log_softmax(out, dim=1), hidden


class CharRnnStep(AnygradStep):
    """One word: forward character by character, summed nll_loss, backward, SGD."""

    def __init__(self, shape, backend, dtype="float32", lr=0.005, compiled=False):
        letters, hidden, _ = shape
        self.backend = ag.get_backend(backend)
        self.name = f"anygrad:{self.backend.name}" + (" compiled" if compiled else "")
        self.hidden, self.dtype = hidden, dtype
        self.model = CharRnn(letters, hidden, dtype, self.backend)
        self.optimizer = optim.SGD(self.model.parameters(), lr=lr)
        self.step = ag.compile(self._step) if compiled else self._step

    def set_batch(self, letters, targets):
        self.letters = [ag.as_tensor(x, backend=self.backend) for x in letters]
        self.targets = [ag.as_tensor(y, backend=self.backend) for y in targets]
        self.h0 = ag.zeros((1, self.hidden), dtype=self.dtype, backend=self.backend)

    def _step(self):
        self.optimizer.zero_grad()
        hidden, loss = self.h0, 0.0
        for letter, target in zip(self.letters, self.targets):
            out, hidden = self.model(letter, hidden)
            loss = loss + F.nll_loss(out, target)
        loss.backward()
        self.optimizer.step()
        return loss


class TorchCharRnnStep(TorchStep):
    def __init__(self, shape, dtype="float32", lr=0.005):
        import torch

        self.torch = torch
        letters, hidden, _ = shape
        self.hidden = hidden
        kind = getattr(torch, dtype)

        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.i2h = torch.nn.Linear(letters + hidden, hidden, dtype=kind)
                self.i2o = torch.nn.Linear(letters + hidden, letters, dtype=kind)
                self.o2o = torch.nn.Linear(hidden + letters, letters, dtype=kind)

            def forward(self, letter, h):
                joined = torch.cat([letter, h], 1)
                h = self.i2h(joined)
                out = self.o2o(torch.cat([h, self.i2o(joined)], 1))
                return torch.log_softmax(out, dim=1), h

        self.model = Model()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.kind = kind

    def set_batch(self, letters, targets):
        self.letters = [self.torch.from_numpy(x) for x in letters]
        self.targets = [self.torch.from_numpy(y) for y in targets]
        self.h0 = self.torch.zeros((1, self.hidden), dtype=self.kind)

    def step(self):
        self.optimizer.zero_grad()
        hidden, loss = self.h0, 0.0
        for letter, target in zip(self.letters, self.targets):
            out, hidden = self.model(letter, hidden)
            loss = loss + self.torch.nn.functional.nll_loss(out, target)
        loss.backward()
        self.optimizer.step()
        return loss


def _word(shape, dtype, seed):
    """One-hot letters (1, letters) and each next letter's index (1,)."""
    letters, _, length = shape
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, letters, length + 1)
    onehots = [np.eye(letters, dtype=dtype)[i:i + 1] for i in ids[:-1]]
    return onehots, [np.array([i], dtype=np.int64) for i in ids[1:]]


def run(settings, backends):
    quick = settings.repeats <= 3
    shape = QUICK if quick else FULL
    backends = [b for b in backends if not ag.get_backend(b).lazy]
    if quick:  # a check that it runs: the reference backend only
        backends = [b for b in backends if b == "numpy"]
    ag.manual_seed(settings.seed)
    template = CharRnn(shape[0], shape[1], settings.dtype)
    state = {k: v.numpy() for k, v in template.state_dict().items()}
    contenders = []
    if references.torch_available():
        contenders.append(TorchCharRnnStep(shape, settings.dtype))
    for b in backends:
        contenders += [CharRnnStep(shape, b, settings.dtype),
                       CharRnnStep(shape, b, settings.dtype, compiled=True)]
    rows = rows_against_torch("charrnn", contenders, state,
                              _word(shape, settings.dtype, settings.seed), settings)
    return {"shape": dict(zip(("letters", "hidden", "characters"), shape)),
            "dtype": settings.dtype, "rows": rows,
            "ops": small_ops.run(shape, settings, quick),
            "torch_threads": machine.torch_threads(), "blas": blas.check(measure=False),
            "load": machine_load()}


def machine_load():
    """The 1-minute load average when the run ended (timings on a shared machine)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def section(result):
    shape = result["shape"]
    s = Section(f"char-RNN step (PyTorch's tutorial: {shape['letters']} letters, hidden "
                f"{shape['hidden']}, {shape['characters']} characters, one row, "
                f"{result['dtype']}; cat, 3 Linear, log_softmax, nll_loss, backward, SGD)",
                ["impl", "median ms", "IQR ms", "x torch", "max |loss - torch's|"])
    for r in result["rows"]:
        diff = r["max_loss_difference"]
        s.rows.append([r["impl"], _f(r["median_ms"], 3), _spread(r, digits=3),
                       _f(r["ratio_to_torch"]), "-" if diff is None else f"{diff:.1e}"])
    s.notes += small_ops.describe(result["ops"])
    s.notes += blas.describe(result["blas"])
    s.notes.append(f"torch threads: {result['torch_threads']}; load average at the end: "
                   f"{_f(result['load'])}")
    return s
