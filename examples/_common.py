"""What the examples share: their common flags, a progress bar, and a loss plot."""
from __future__ import annotations

import argparse
import os
import pathlib
import sys

import anygrad as ag

BACKENDS = ("numpy", "cupy", "torch", "jax", "array_api_strict", "auto")


def add_common_flags(p):
    """--backend (default: $ANYGRAD_BACKEND, else numpy) and --seed."""
    p.add_argument("--backend", default=os.environ.get("ANYGRAD_BACKEND", "numpy"),
                   choices=BACKENDS, help="default: $ANYGRAD_BACKEND, else numpy")
    p.add_argument("--seed", type=int, default=0)
    return p


def parser(description, epochs):
    p = add_common_flags(argparse.ArgumentParser(description=description))
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


def fit(model, loader, optimizer, loss_fn, epochs, desc, quiet=False, test=None):
    """The training loop of the small examples: {"train": mean loss of each epoch}, and
    "test": the loss on `test` = (x, y) tensors after each epoch, when given."""
    curves = {"train": []}
    if test is not None:
        curves["test"] = []
    for _ in progress(range(epochs), epochs, desc, quiet):
        total = 0.0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach()  # summed on the device: one host read per epoch
        curves["train"].append(total.item() / len(loader))
        if test is not None:
            curves["test"].append(test_loss(model, loss_fn, *test))
    return curves


def test_loss(model, loss_fn, x, y):
    """The mean loss over held-out tensors, in eval mode and without a graph."""
    model.eval()
    with ag.no_grad():
        value = loss_fn(model(x), y).item()
    model.train()
    return value


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
    """Write a PNG of each named loss curve when matplotlib is installed, say where,
    and return its path. Curves named "... test" are drawn dashed in the colour of
    the curve they follow."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no loss picture: matplotlib is not installed (pip install matplotlib, or "
              "pip install -e \".[examples]\" in a checkout)")
        return None
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    colours = {}
    for name, values in curves.items():
        model = name.rsplit(" ", 1)[0] if " " in name else ""
        style = "--" if name.endswith("test") else "-"
        line, = ax.plot(range(1, len(values) + 1), values, style, label=name,
                        color=colours.get(model))
        colours.setdefault(model, line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote the loss picture to {path}")
    return str(path)
