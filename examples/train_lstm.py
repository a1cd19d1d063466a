"""An LSTM that predicts the next value of noisy sine waves (no download).

    python examples/train_lstm.py --backend numpy
    python examples/train_lstm.py --quick                     # smoke run, a few batches

Each sequence is a sine of random frequency and phase with Gaussian noise; the model
reads 24 noisy values and predicts the clean value that comes next. Repeating the last
value (the baseline) is off by the step's change plus the noise; the LSTM learns the
wave's frequency and phase from the whole window and beats it. Prints both test MSEs.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import anygrad as ag  # noqa: E402
import anygrad.nn as nn  # noqa: E402
import anygrad.nn.functional as F  # noqa: E402
from anygrad import data, optim  # noqa: E402
from _common import fit, parser, plot_losses, setup  # noqa: E402

QUICK_BATCHES = 4


def sine_waves(n, length, seed, noise=0.1):
    """n noisy windows (n, length, 1) and the clean next value of each (n, 1), float32."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.15, 0.45, size=(n, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n, 1))
    t = np.arange(length + 1)[None, :]
    clean = np.sin(freq * t + phase)
    noisy = clean[:, :length] + noise * rng.standard_normal((n, length))
    return noisy[:, :, None].astype("float32"), clean[:, length:].astype("float32")


class NextValue(nn.Module):
    """LSTM over the window (batch first), a linear read-out of the last hidden state."""

    def __init__(self, hidden, backend):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True, backend=backend)
        self.head = nn.Linear(hidden, 1, backend=backend)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


def main(argv=None):
    p = parser(__doc__.splitlines()[0], epochs=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--length", type=int, default=24)
    p.add_argument("--train-size", type=int, default=1536)
    p.add_argument("--lr", type=float, default=1e-2)
    args, backend = setup(p, argv, quick_epochs=2)

    x_train, y_train = sine_waves(args.train_size, args.length, args.seed)
    x_test, y_test = sine_waves(512, args.length, args.seed + 1)
    if args.quick:
        n = QUICK_BATCHES * args.batch_size
        x_train, y_train = x_train[:n], y_train[:n]
    loader = data.DataLoader(x_train, y_train, batch_size=args.batch_size, shuffle=True,
                             backend=backend)
    model = NextValue(args.hidden, backend)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    test = (ag.tensor(x_test, backend=backend), ag.tensor(y_test, backend=backend))

    start = time.perf_counter()
    curves = fit(model, loader, optimizer, F.mse_loss, args.epochs, "lstm epochs", args.quiet,
                 test=test)
    backend.synchronize()
    seconds = time.perf_counter() - start

    baseline = float(np.mean((x_test[:, -1, :] - y_test) ** 2))
    test_mse = curves["test"][-1]
    print(f"LSTM: test MSE {test_mse:.4f} (repeating the last value: {baseline:.4f}), "
          f"{args.epochs} epochs in {seconds:.1f}s on {backend.name}")
    plot = plot_losses({"LSTM train": curves["train"], "LSTM test": curves["test"]},
                       Path(args.out) / "train_lstm_loss.png",
                       f"LSTM next value of sine waves ({backend.name})")
    return {"test_mse": test_mse, "baseline_mse": baseline, "losses": curves["train"],
            "seconds": seconds, "plot": plot}


if __name__ == "__main__":
    main()
