"""The nonlinear toy y = x1 * x2: one Linear layer cannot fit it; Linear-Sigmoid-Linear can.

    python examples/nonlinear_toy.py --backend numpy
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


def train_and_test(model, split, backend, epochs, quiet, name):
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    loader = data.DataLoader(split.x_train, split.y_train, batch_size=64, shuffle=True,
                             backend=backend)
    test = (ag.tensor(split.x_test, backend=backend), ag.tensor(split.y_test, backend=backend))
    curves = fit(model, loader, optimizer, F.mse_loss, epochs, name, quiet, test)
    return curves, curves["test"][-1]


def main(argv=None):
    args, backend = setup(parser(__doc__.splitlines()[0], epochs=60), argv, quick_epochs=8)
    split = data.make_product(n=2000, seed=args.seed)
    linear = nn.Linear(2, 1, backend=backend)
    two_layer = nn.Sequential(nn.Linear(2, 16, backend=backend), nn.Sigmoid(),
                              nn.Linear(16, 1, backend=backend))
    linear_losses, linear_test = train_and_test(linear, split, backend, args.epochs, args.quiet, "linear")
    mlp_losses, mlp_test = train_and_test(two_layer, split, backend, args.epochs, args.quiet, "two-layer")
    print(f"test MSE, one Linear layer:            {linear_test:.5f}")
    print(f"test MSE, Linear-Sigmoid-Linear (16):  {mlp_test:.5f}  "
          f"({linear_test / mlp_test:.0f}x lower)")
    curves = {f"{model} {part}": values for model, c in (("Linear", linear_losses),
                                                          ("Linear-Sigmoid-Linear", mlp_losses))
              for part, values in c.items()}
    plot = plot_losses(curves,
                       Path(args.out) / "nonlinear_toy_loss.png", f"y = x1 * x2 ({backend.name})")
    return {"linear_test_mse": linear_test, "two_layer_test_mse": mlp_test, "plot": plot}


if __name__ == "__main__":
    main()
