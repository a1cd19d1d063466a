"""Linear regression on data made from known weights plus noise: the fit recovers them.

    python examples/linear_regression.py --backend numpy
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


def main(argv=None):
    args, backend = setup(parser(__doc__.splitlines()[0], epochs=20), argv, quick_epochs=5)
    split, true_w, true_b = data.make_regression(n=2000, n_features=3, noise=0.1, seed=args.seed)
    model = nn.Linear(3, 1, backend=backend)
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    loader = data.DataLoader(split.x_train, split.y_train, batch_size=32, shuffle=True,
                             backend=backend)
    test = (ag.tensor(split.x_test, backend=backend), ag.tensor(split.y_test, backend=backend))
    curves = fit(model, loader, optimizer, F.mse_loss, args.epochs, "epochs", args.quiet, test)
    losses = curves["train"]

    learned_w = model.weight.numpy()[0]
    learned_b = float(model.bias.numpy()[0])
    print("          true     learned")
    for i, (t, l) in enumerate(zip(true_w, learned_w)):
        print(f"  w[{i}]  {t:8.4f}  {l:8.4f}")
    print(f"  b     {true_b:8.4f}  {learned_b:8.4f}")
    print(f"final MSE: training {losses[-1]:.5f}, test {curves['test'][-1]:.5f} (noise variance 0.01)")
    plot = plot_losses(curves, Path(args.out) / "linear_regression_loss.png",
                       f"linear regression ({backend.name})")
    return {"true_w": true_w, "learned_w": learned_w, "true_b": float(true_b),
            "learned_b": learned_b, "losses": losses, "plot": plot}


if __name__ == "__main__":
    main()
