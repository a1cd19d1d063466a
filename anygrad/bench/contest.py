"""Training steps timed side by side against PyTorch eager, after their losses agree.

The sequence workloads (LSTM, GPT) share this: every contender starts from the same
weights and batch, takes four steps whose losses are kept (and compared with PyTorch's),
gets its weights back, and is then timed with the others in one interleaved run.
"""
from __future__ import annotations

import numpy as np

from .runner import _measure, progress

TORCH = "torch eager"


class AnygradStep:
    """What the anygrad contenders share: a `model` on `backend`, loaded from host arrays."""

    def load_weights(self, state):
        self.model.load_state_dict(state)

    def loss_value(self, loss):
        return loss.item()

    def sync(self):
        self.backend.synchronize()


class TorchStep:
    """What the PyTorch eager contenders share: a `model` loaded from host arrays; their
    CPU kernels finish before they return."""

    name = TORCH

    def load_weights(self, state):
        self.model.load_state_dict({k: self.torch.from_numpy(v) for k, v in state.items()})

    def loss_value(self, loss):
        return loss.item()

    def sync(self):
        pass


def rows_against_torch(label, contenders, state, batch, settings):
    """One row per contender: timing summary, losses, ratio to PyTorch eager's median and
    the largest difference from PyTorch's losses (None where PyTorch is absent)."""
    losses = {}
    for c in contenders:
        c.load_weights(state)
        c.set_batch(*batch)
        losses[c.name] = [c.loss_value(c.step()) for _ in range(4)]
        c.load_weights(state)
    progress(f"{label}: {len(contenders)} contenders, {settings.repeats} repeats")
    timings = _measure(contenders, settings)
    torch_ms = timings[TORCH].median * 1e3 if TORCH in timings else None
    reference = losses.get(TORCH)
    rows = []
    for c in contenders:
        row = {"impl": c.name, **timings[c.name].summary(), "losses": losses[c.name]}
        row["ratio_to_torch"] = row["median_ms"] / torch_ms if torch_ms else None
        row["max_loss_difference"] = None if reference is None else float(
            np.max(np.abs(np.array(losses[c.name]) - np.array(reference))))
        rows.append(row)
    return rows
