"""A small CNN on the 8x8 digits (or MNIST), next to the MLP example on the same split.

    python examples/train_cnn.py --backend numpy
    python examples/train_cnn.py --quick                       # smoke run, a few batches
    python examples/train_cnn.py --mnist-dir ~/data/mnist      # 28x28 MNIST instead

Two convolution blocks (conv, batch norm, ReLU, max pool) then a linear classifier:
weights shared across positions see a stroke wherever it is, which is why the CNN
beats the MLP of examples/train_mlp.py on the same data. Prints both test accuracies.
"""
from __future__ import annotations

import argparse
import importlib.util
import pathlib
import time

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
from anygrad import optim

try:
    from tqdm import tqdm
except ImportError:  # progress bars are optional
    tqdm = None

QUICK_BATCHES = 8


def build_cnn(side, backend, channels=(16, 32)):
    """conv-BN-ReLU-pool twice, then linear: (N, 1, side, side) -> (N, 10) logits."""
    c1, c2 = channels
    flat = c2 * (side // 4) * (side // 4)
    # No conv bias: the batch norm right after subtracts any constant per channel.
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, bias=False, backend=backend),
        nn.BatchNorm2d(c1, backend=backend), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, bias=False, backend=backend),
        nn.BatchNorm2d(c2, backend=backend), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(flat, 10, backend=backend),
    )


def load(mnist_dir):
    """(x_train, y_train, x_test, y_test) as host arrays, images flattened, and the side."""
    from anygrad import data

    if mnist_dir:
        return (*data.load_mnist(mnist_dir), 28)
    return (*data.load_digits(), 8)


def images(x, side):
    return ag.reshape(x, (x.shape[0], 1, side, side))


def accuracy(model, x, y, side, backend, batch_size=256):
    from anygrad.data import DataLoader

    model.eval()
    correct = total = 0
    with ag.no_grad():
        for xb, yb in DataLoader(x, y, batch_size=batch_size, shuffle=False, backend=backend):
            predicted = ag.argmax(model(images(xb, side)), axis=1)
            correct += int(ag.sum(ag.astype(predicted == yb, "int64")).item())
            total += yb.shape[0]
    model.train()
    return correct / total


def train(model, x, y, side, args):
    from anygrad.data import DataLoader

    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(x, y, batch_size=args.batch_size, shuffle=True, backend=args.backend)
    epochs = 1 if args.quick else args.epochs
    for epoch in range(epochs):
        batches = enumerate(loader)
        if tqdm is not None:
            total = len(loader) if hasattr(loader, "__len__") else None
            batches = tqdm(batches, total=total, desc=f"cnn epoch {epoch + 1}/{epochs}",
                           leave=False, disable=args.quiet)
        for step, (xb, yb) in batches:
            if args.quick and step == QUICK_BATCHES:
                break
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images(xb, side)), yb)
            loss.backward()
            optimizer.step()
    return float(loss.item())


def run_mlp(args):
    """The MLP example's own main, on the same backend, seed and data."""
    path = pathlib.Path(__file__).with_name("train_mlp.py")
    spec = importlib.util.spec_from_file_location("train_mlp", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = ["--backend", args.backend, "--seed", str(args.seed)]
    if args.mnist_dir:
        argv += ["--mnist-dir", args.mnist_dir]
    if args.quick:
        argv.append("--quick")
    if args.quiet:
        argv.append("--quiet")
    return module.main(argv)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--mnist-dir", default=None, help="train on MNIST from this folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: a few batches")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--no-mlp", action="store_true", help="skip the MLP comparison")
    args = parser.parse_args(argv)

    with ag.use_backend(args.backend):  # for this run only: main() is called from tests too
        ag.manual_seed(args.seed)
        x_train, y_train, x_test, y_test, side = load(args.mnist_dir)
        model = build_cnn(side, args.backend)
        start = time.perf_counter()
        loss = train(model, x_train, y_train, side, args)
        seconds = time.perf_counter() - start
        result = {
            "test_accuracy": accuracy(model, x_test, y_test, side, args.backend),
            "train_accuracy": accuracy(model, x_train, y_train, side, args.backend),
            "final_loss": loss,
            "train_seconds": seconds,
        }
    print(f"CNN: test accuracy {result['test_accuracy']:.4f} "
          f"(train {result['train_accuracy']:.4f}, {seconds:.1f}s on {args.backend})")
    if not args.no_mlp:
        mlp = run_mlp(args)
        result["mlp_test_accuracy"] = mlp["test_accuracy"]
        print(f"MLP: test accuracy {mlp['test_accuracy']:.4f}  ->  CNN "
              f"{'+' if result['test_accuracy'] >= mlp['test_accuracy'] else ''}"
              f"{100 * (result['test_accuracy'] - mlp['test_accuracy']):.2f} points")
    return result


if __name__ == "__main__":
    main()
