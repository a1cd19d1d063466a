"""Per-op overhead on one-row tensors: the ops of the char-RNN step, one at a time, and
in-place updates against their out-of-place spelling.

Each row times one call of an op in microseconds (the median over rounds, each round
many calls), anygrad eager on numpy and PyTorch eager side by side: the rounds
alternate between them, so a change of the machine's load reaches both. `backward` is
timed alone, on graphs built before the clock starts. The in-place rows compare
anygrad with anygrad: `x -= y` on a tensor in a graph against `x = x - y`, and a write
through a slice against the same update spelled with `concat`.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F

from . import references

TORCH = "torch eager"
ANYGRAD = "anygrad eager"
INPLACE = "in place"
OUT_OF_PLACE = "out of place"


def _timer(fn, calls):
    """A sampler: seconds per call of `fn` over `calls` calls."""
    def sample():
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls
    return sample


def _backward_timer(make, calls):
    """A sampler of backward alone: `calls` graphs are built first, off the clock."""
    def sample():
        losses = [make() for _ in range(calls)]
        start = time.perf_counter()
        for loss in losses:
            loss.backward()
        return (time.perf_counter() - start) / calls
    return sample


def _anygrad_cases(letters, hidden, calls):
    rng = np.random.default_rng(0)
    backend = "numpy"
    linear = nn.Linear(hidden, hidden, backend=backend)
    x = ag.tensor(rng.standard_normal((1, hidden)).astype("float32"), requires_grad=True,
                  backend=backend)
    letter = ag.as_tensor(np.eye(letters, dtype="float32")[:1], backend=backend)
    logits = ag.tensor(rng.standard_normal((1, letters)).astype("float32"),
                       requires_grad=True, backend=backend)
    log_probs = F.log_softmax(logits, dim=1)
    target = ag.as_tensor(np.array([1]), backend=backend)

    def graph():
        return F.nll_loss(F.log_softmax(linear(x)[:, :letters], dim=1), target)

    return {
        f"Linear {hidden}->{hidden} on (1, {hidden})": _timer(lambda: linear(x), calls),
        f"cat (1, {letters}) + (1, {hidden})": _timer(
            lambda: ag.concat([letter, x], axis=1), calls),
        f"log_softmax (1, {letters})": _timer(lambda: F.log_softmax(logits, dim=1), calls),
        f"nll_loss (1, {letters})": _timer(lambda: F.nll_loss(log_probs, target), calls),
        "backward (Linear, slice, log_softmax, nll_loss)": _backward_timer(graph, calls),
    }


def _torch_cases(letters, hidden, calls):
    import torch

    rng = np.random.default_rng(0)
    linear = torch.nn.Linear(hidden, hidden)
    x = torch.from_numpy(rng.standard_normal((1, hidden)).astype("float32")).requires_grad_()
    letter = torch.from_numpy(np.eye(letters, dtype="float32")[:1])
    logits = torch.from_numpy(rng.standard_normal((1, letters)).astype("float32")).requires_grad_()
    log_probs = torch.log_softmax(logits, dim=1)
    target = torch.tensor([1])

    def graph():
        out = torch.log_softmax(linear(x)[:, :letters], dim=1)
        return torch.nn.functional.nll_loss(out, target)

    return [
        _timer(lambda: linear(x), calls),
        _timer(lambda: torch.cat([letter, x], 1), calls),
        _timer(lambda: torch.log_softmax(logits, dim=1), calls),
        _timer(lambda: torch.nn.functional.nll_loss(log_probs, target), calls),
        _backward_timer(graph, calls),
    ]


def _inplace_cases(hidden, calls, updates=20):
    """`updates` updates of a tensor in a graph per call, each way."""
    rng = np.random.default_rng(1)
    w = ag.tensor(rng.standard_normal((1, hidden)), requires_grad=True)
    y = ag.tensor(rng.standard_normal((1, hidden)))
    inner = y[:, 1:-1]

    def subtract_in_place():
        x = w * 1.0
        for _ in range(updates):
            x -= y

    def subtract():
        x = w * 1.0
        for _ in range(updates):
            x = x - y

    def slice_in_place():
        x = w * 1.0
        for _ in range(updates):
            x[:, 1:-1] -= inner

    def slice_concat():
        x = w * 1.0
        for _ in range(updates):
            x = ag.concat([x[:, :1], x[:, 1:-1] - inner, x[:, -1:]], axis=1)

    per = calls // updates or 1
    return {
        f"x -= y, (1, {hidden}) in a graph (per update)": (
            _timer(subtract_in_place, per), _timer(subtract, per)),
        f"x[:, 1:-1] -= y, (1, {hidden}) in a graph (per update)": (
            _timer(slice_in_place, per), _timer(slice_concat, per)),
    }, updates


def _medians(samplers, rounds):
    """Median seconds per call of each sampler, the samplers alternating round by round."""
    samples = {k: [] for k in samplers}
    for sample in samplers.values():
        sample()  # warm-up
    for _ in range(rounds):
        for k, sample in samplers.items():
            samples[k].append(sample())
    return {k: statistics.median(v) for k, v in samples.items()}


def run(shape, settings, quick=False):
    letters, hidden, _ = shape
    calls = 20 if quick else 200
    rounds = 3 if quick else max(settings.repeats, 15)
    rows = []
    ours = _anygrad_cases(letters, hidden, calls)
    theirs = _torch_cases(letters, hidden, calls) if references.torch_available() else None
    for i, (name, sampler) in enumerate(ours.items()):
        samplers = {ANYGRAD: sampler}
        if theirs is not None:
            samplers[TORCH] = theirs[i]
        t = _medians(samplers, rounds)
        torch_us = t[TORCH] * 1e6 if TORCH in t else None
        rows.append({"op": name, "anygrad_us": t[ANYGRAD] * 1e6, "torch_us": torch_us,
                     "ratio": None if torch_us is None else t[ANYGRAD] * 1e6 / torch_us})
    inplace, updates = _inplace_cases(hidden, calls)
    for name, (in_place, out_of_place) in inplace.items():
        t = _medians({INPLACE: in_place, OUT_OF_PLACE: out_of_place}, rounds)
        rows.append({"op": name, "inplace_us": t[INPLACE] * 1e6 / updates,
                     "out_of_place_us": t[OUT_OF_PLACE] * 1e6 / updates,
                     "ratio": t[INPLACE] / t[OUT_OF_PLACE]})
    return rows


def describe(rows):
    """The table as report notes (µs per call, medians)."""
    lines = ["per-op time in µs (medians, anygrad eager on numpy vs PyTorch eager, interleaved):"]
    for r in rows:
        if "anygrad_us" in r:
            torch_part = "-" if r["torch_us"] is None else \
                f"{r['torch_us']:.1f} (x{r['ratio']:.2f})"
            lines.append(f"  {r['op']}: anygrad {r['anygrad_us']:.1f}, torch {torch_part}")
        else:
            lines.append(f"  {r['op']}: in place {r['inplace_us']:.1f}, out of place "
                         f"{r['out_of_place_us']:.1f} (x{r['ratio']:.2f})")
    return lines
