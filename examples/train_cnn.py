"""A small CNN on the 8x8 digits (or MNIST), next to the MLP example on the same split.

    python examples/train_cnn.py --backend numpy
    python examples/train_cnn.py --quick                       # smoke run, a few batches
    python examples/train_cnn.py --mnist-dir ~/data/mnist      # 28x28 MNIST instead

Two convolution blocks (conv, batch norm, ReLU, max pool) then a linear classifier:
weights shared across positions see a stroke wherever it is, which is why the CNN
beats the MLP of examples/train_mlp.py on the same data. Prints both test accuracies.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import anygrad as ag  # noqa: E402
import anygrad.nn as nn  # noqa: E402
import anygrad.nn.functional as F  # noqa: E402
import train_mlp  # noqa: E402
from anygrad import data, optim  # noqa: E402
from _common import fit, parser, plot_losses, setup  # noqa: E402

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


def as_images(x, side):
    """Host rows of side*side pixels -> (N, 1, side, side), before they reach a backend."""
    return x.reshape(x.shape[0], 1, side, side)


def main(argv=None):
    p = parser(__doc__.splitlines()[0], epochs=15)
    p.add_argument("--mnist-dir", default=None, help="train on MNIST from this folder")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--no-mlp", action="store_true", help="skip the MLP comparison")
    args, backend = setup(p, argv, quick_epochs=1)

    # The MLP example's split (same loader, same seed), so the two accuracies compare.
    split = data.load_mnist(args.mnist_dir) if args.mnist_dir else data.load_digits(seed=args.seed)
    side = 28 if args.mnist_dir else 8
    x_train = as_images(split.x_train, side)
    y_train = split.y_train
    if args.quick:  # a smoke run: a few batches
        n = QUICK_BATCHES * args.batch_size
        x_train, y_train = x_train[:n], y_train[:n]
    loader = data.DataLoader(x_train, y_train, batch_size=args.batch_size, shuffle=True,
                             backend=backend)
    model = build_cnn(side, backend)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)

    x_test = ag.tensor(as_images(split.x_test, side), backend=backend)
    y_test = ag.tensor(split.y_test, backend=backend)
    start = time.perf_counter()
    curves = fit(model, loader, optimizer, F.cross_entropy, args.epochs, "cnn epochs", args.quiet,
                 test=(x_test, y_test))
    backend.synchronize()
    seconds = time.perf_counter() - start

    accuracy, test_loss = train_mlp.evaluate(model, x_test, y_test, batch_size=256)
    print(f"CNN: test accuracy {accuracy:.2%}, test loss {test_loss:.4f}, "
          f"{args.epochs} epochs in {seconds:.1f}s on {backend.name}")
    result = {"test_accuracy": accuracy, "test_loss": test_loss, "losses": curves["train"],
              "seconds": seconds}
    pictured = {f"CNN {part}": values for part, values in curves.items()}
    if not args.no_mlp:
        mlp_argv = ["--backend", args.backend, "--seed", str(args.seed), "--out", args.out]
        if args.mnist_dir:
            mlp_argv += ["--mnist-dir", args.mnist_dir]
        mlp_argv += ["--quick"] * args.quick + ["--quiet"] * args.quiet
        mlp = train_mlp.main(mlp_argv)
        result["mlp_test_accuracy"] = mlp["test_accuracy"]
        pictured.update({"MLP train": mlp["losses"], "MLP test": mlp["test_losses"]})
        print(f"MLP: test accuracy {mlp['test_accuracy']:.2%}  ->  CNN "
              f"{100 * (accuracy - mlp['test_accuracy']):+.2f} points")
    data_name = "MNIST" if args.mnist_dir else "digits"
    result["plot"] = plot_losses(pictured, Path(args.out) / "train_cnn_loss.png",
                                 f"CNN beside the MLP on {data_name} ({backend.name})"
                                 if not args.no_mlp else f"CNN on {data_name} ({backend.name})")
    return result


if __name__ == "__main__":
    main()
