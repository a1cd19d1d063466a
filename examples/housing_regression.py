"""Tabular regression in the miniflow style: a 2-layer sigmoid MLP, mini-batch SGD.

The classic used the Boston housing data, which scikit-learn no longer ships; this uses
its bundled diabetes data instead (442 patients, 10 features, standardised target), and
reports the test MSE next to a closed-form linear least-squares baseline. On 442 patients
a small MLP is about on par with the linear fit (test MSE 0.46 against 0.48 with the
defaults); trained much longer than 50 epochs it overfits.

    python examples/housing_regression.py --backend numpy
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import anygrad as ag  # noqa: E402
import anygrad.nn as nn  # noqa: E402
import anygrad.nn.functional as F  # noqa: E402
from anygrad import data, optim  # noqa: E402
from _common import fit, parser, plot_losses, setup  # noqa: E402


def least_squares_mse(split, backend):
    """Closed-form baseline: solve the normal equations (X^T X) w = X^T y with a bias column,
    by a few steps of conjugate gradients on anygrad tensors (the standard has no solve
    outside its optional linalg extension)."""
    def with_bias(x):
        x = ag.tensor(x, dtype="float64", backend=backend)
        return ag.concat([x, ag.ones((x.shape[0], 1), dtype="float64", backend=backend)], axis=1)

    x, x_test = with_bias(split.x_train), with_bias(split.x_test)
    y = ag.tensor(split.y_train, dtype="float64", backend=backend)
    y_test = ag.tensor(split.y_test, dtype="float64", backend=backend)
    a, b = x.T @ x, x.T @ y
    w = ag.zeros(b.shape, dtype="float64", backend=backend)
    r = b - a @ w
    p = r
    for _ in range(x.shape[1] * 3):  # CG converges in <= n steps in exact arithmetic
        rr = ag.sum(r * r)
        if rr.item() < 1e-24:
            break
        ap = a @ p
        alpha = rr / ag.sum(p * ap)
        w = w + alpha * p
        r = r - alpha * ap
        p = r + (ag.sum(r * r) / rr) * p
    return ag.mean((x_test @ w - y_test) ** 2).item()


def main(argv=None):
    p = parser(__doc__.splitlines()[0], epochs=50)
    p.add_argument("--hidden", type=int, default=10)
    args, backend = setup(p, argv, quick_epochs=10)
    split = data.load_diabetes(seed=args.seed)
    y_train, y_test = split.y_train[:, None], split.y_test[:, None]
    model = nn.Sequential(nn.Linear(10, args.hidden, backend=backend), nn.Sigmoid(),
                          nn.Linear(args.hidden, 1, backend=backend))
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    loader = data.DataLoader(split.x_train, y_train, batch_size=16, shuffle=True, backend=backend)
    test = (ag.tensor(split.x_test, backend=backend), ag.tensor(y_test, backend=backend))
    curves = fit(model, loader, optimizer, F.mse_loss, args.epochs, "epochs", args.quiet, test)
    losses, test_mse = curves["train"], curves["test"][-1]
    baseline = least_squares_mse(split._replace(y_train=y_train, y_test=y_test), backend)
    print(f"diabetes, standardised target: test MSE of the sigmoid MLP {test_mse:.4f}, "
          f"of closed-form linear least squares {baseline:.4f}")
    plot = plot_losses(curves, Path(args.out) / "housing_regression_loss.png",
                       f"2-layer sigmoid MLP on diabetes ({backend.name})")
    return {"test_mse": test_mse, "baseline_mse": baseline, "losses": losses, "plot": plot}


if __name__ == "__main__":
    main()
