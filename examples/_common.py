"""What the examples share: their common flags, a progress bar, and a loss plot."""
from __future__ import annotations

import argparse
import pathlib
import sys

import anygrad as ag

BACKENDS = ("numpy", "cupy", "torch", "jax", "array_api_strict", "auto")


def parser(description, epochs):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--backend", default="numpy", choices=BACKENDS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--out", default="runs", help="folder for the loss-curve PNG")
    p.add_argument("--quick", action="store_true", help="a smoke run of a few steps (tests)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def setup(p, argv, quick_epochs):
    """Parse the flags, shorten a --quick run, seed every backend: (args, backend)."""
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = min(args.epochs, quick_epochs)
    backend = ag.get_backend(args.backend)
    ag.manual_seed(args.seed)
    return args, backend


def fit(model, loader, optimizer, loss_fn, epochs, desc, quiet=False):
    """The training loop of the small examples; returns the mean loss of each epoch."""
    losses = []
    for _ in progress(range(epochs), epochs, desc, quiet):
        total = 0.0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach()  # summed on the device: one host read per epoch
        losses.append(total.item() / len(loader))
    return losses


def progress(iterable, total, desc, quiet=False):
    """tqdm when installed; otherwise a one-line counter on stderr."""
    if quiet:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return _plain_progress(iterable, total, desc)
    return tqdm(iterable, total=total, desc=desc, leave=False)


def _plain_progress(iterable, total, desc):
    for i, item in enumerate(iterable, 1):
        print(f"\r{desc}: {i}/{total}", end="", file=sys.stderr, flush=True)
        yield item
    print(file=sys.stderr)


def plot_losses(curves, path, title):
    """Write a PNG of each named loss curve when matplotlib is installed; return its path."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)
