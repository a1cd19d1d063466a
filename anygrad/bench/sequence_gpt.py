"""A transformer workload: one training step of a small character-level GPT against
PyTorch eager.

The model is the one of examples/train_gpt.py: token and position embeddings, 4 pre-norm
`TransformerEncoderLayer`s (d_model 128, 4 heads, feed-forward 512, tanh GELU, no
dropout) under a causal mask, a final layer norm and a linear read-out over 96
characters; context 64, batch 32, float32, cross-entropy, backward and AdamW. anygrad
eager, anygrad under ag.compile and PyTorch eager start from the same weights (PyTorch's
state dict loads as it is) and are timed side by side; their losses over four steps are
compared first.
"""
from __future__ import annotations

import numpy as np

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
import anygrad.optim as optim

from . import blas, machine, references
from .report import Section, _f, _spread
from .contest import AnygradStep, TorchStep, rows_against_torch

# vocab, context, d_model, heads, layers, batch
FULL = (96, 64, 128, 4, 4, 32)
QUICK = (16, 8, 16, 2, 1, 4)


class Gpt(nn.Module):
    """Decoder-only transformer; submodule names match `_torch_gpt`'s."""

    def __init__(self, vocab, context, d_model, heads, layers, dtype, backend):
        super().__init__()
        where = {"dtype": dtype, "backend": backend}
        self.tokens = nn.Embedding(vocab, d_model, **where)
        self.positions = nn.Embedding(context, d_model, **where)
        block = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.0,
                                           activation=nn.GELU("tanh"), batch_first=True,
                                           norm_first=True, **where)
        self.blocks = nn.TransformerEncoder(block, layers)
        self.norm = nn.LayerNorm(d_model, **where)
        self.head = nn.Linear(d_model, vocab, **where)
        backend = self.head.weight.backend
        rows = ag.reshape(ag.arange(context, backend=backend), (context, 1))
        self.mask = ag.reshape(ag.arange(context, backend=backend), (1, context)) > rows
        self.where = ag.arange(context, backend=backend)

    def forward(self, idx):
        x = self.tokens(idx) + self.positions(self.where)
        return self.head(self.norm(self.blocks(x, mask=self.mask, is_causal=True)))


def _torch_gpt(vocab, context, d_model, heads, layers, dtype):
    import torch

    class TorchGpt(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = torch.nn.Embedding(vocab, d_model)
            self.positions = torch.nn.Embedding(context, d_model)
            block = torch.nn.TransformerEncoderLayer(
                d_model, heads, 4 * d_model, dropout=0.0, activation=torch.nn.GELU("tanh"),
                batch_first=True, norm_first=True)
            self.blocks = torch.nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
            self.norm = torch.nn.LayerNorm(d_model)
            self.head = torch.nn.Linear(d_model, vocab)
            self.register_buffer("mask", torch.triu(
                torch.ones(context, context, dtype=torch.bool), 1), persistent=False)

        def forward(self, idx):
            x = self.tokens(idx) + self.positions.weight[:idx.shape[1]]
            return self.head(self.norm(self.blocks(x, mask=self.mask, is_causal=True)))

    return TorchGpt().to(getattr(torch, dtype))


class GptStep(AnygradStep):
    """One anygrad step: forward, cross-entropy, backward, AdamW."""

    def __init__(self, shape, backend, dtype="float32", lr=1e-3, compiled=False):
        self.backend = ag.get_backend(backend)
        self.name = f"anygrad:{self.backend.name}" + (" compiled" if compiled else "")
        self.model = Gpt(*shape[:5], dtype, self.backend)
        self.optimizer = optim.AdamW(self.model.parameters(), lr=lr)
        self.step = ag.compile(self._step) if compiled else self._step

    def set_batch(self, x, y):
        self.x = ag.as_tensor(x, backend=self.backend)
        self.y = ag.as_tensor(np.reshape(y, (-1,)), backend=self.backend)

    def _step(self):
        self.optimizer.zero_grad()
        logits = self.model(self.x)
        loss = F.cross_entropy(ag.reshape(logits, (-1, logits.shape[-1])), self.y)
        loss.backward()
        self.optimizer.step()
        return loss


class TorchGptStep(TorchStep):
    """The same step in PyTorch eager."""

    def __init__(self, shape, dtype="float32", lr=1e-3):
        import torch

        self.torch = torch
        self.model = _torch_gpt(*shape[:5], dtype)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr)

    def set_batch(self, x, y):
        self.x = self.torch.from_numpy(x)
        self.y = self.torch.from_numpy(np.reshape(y, (-1,)))

    def step(self):
        self.optimizer.zero_grad()
        logits = self.model(self.x)
        loss = self.torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                      self.y)
        loss.backward()
        self.optimizer.step()
        return loss


def _rows(shape, backends, settings):
    vocab, context, _, _, _, batch = shape
    rng = np.random.default_rng(settings.seed + 11)
    x = rng.integers(0, vocab, size=(batch, context))
    y = rng.integers(0, vocab, size=(batch, context))
    ag.manual_seed(settings.seed)
    template = Gpt(*shape[:5], settings.dtype, "numpy")
    noise = np.random.default_rng(settings.seed + 12)
    for p in template.parameters():  # away from LayerNorm's ones and zeros
        p.array = p.array + (0.02 * noise.standard_normal(p.shape)).astype(settings.dtype)
    state = {k: v.numpy() for k, v in template.state_dict().items()}
    contenders = []
    if references.torch_available():
        contenders.append(TorchGptStep(shape, settings.dtype))
    for b in backends:
        contenders += [GptStep(shape, b, settings.dtype),
                       GptStep(shape, b, settings.dtype, compiled=True)]
    return rows_against_torch('gpt', contenders, state, (x, y), settings)


def run(settings, backends):
    shape = QUICK if settings.repeats <= 3 else FULL
    backends = [b for b in backends if not ag.get_backend(b).lazy]
    names = ("vocab", "context", "d_model", "heads", "layers", "batch")
    return {"shape": dict(zip(names, shape)), "dtype": settings.dtype,
            "rows": _rows(shape, backends, settings),
            "torch_threads": machine.torch_threads(), "blas": blas.check(measure=False)}


def section(result):
    s = result["shape"]
    out = Section(f"GPT training step ({s['layers']} layers, d_model {s['d_model']}, "
                  f"{s['heads']} heads, context {s['context']}, batch {s['batch']}, vocab "
                  f"{s['vocab']}, {result['dtype']}; forward, cross-entropy, backward, AdamW)",
                  ["impl", "median ms", "IQR ms", "x torch", "max |loss - torch's|"])
    for r in result["rows"]:
        diff = r["max_loss_difference"]
        out.rows.append([r["impl"], _f(r["median_ms"], 3), _spread(r, digits=3),
                         _f(r["ratio_to_torch"]), "-" if diff is None else f"{diff:.1e}"])
    out.notes += blas.describe(result["blas"])
    out.notes.append(f"torch threads: {result['torch_threads']}")
    return out
