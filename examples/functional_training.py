"""A functional training loop: parameters in a dict, ag.grad, a functional optimizer.

No .backward(), no .grad, no optimizer object holding the parameters: the model is a
pure function of a dict of parameters (ag.functional_call on an nn.Module), the
gradient is ag.grad of the loss with respect to that dict (a dict back), and
optim.functional.adam maps (gradients, state, parameters) to new parameters and state,
with the same arithmetic as optim.Adam. The task: y = x1 * x2, which one linear layer
cannot fit.

    python examples/functional_training.py --backend numpy
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402

import anygrad as ag  # noqa: E402
import anygrad.nn as nn  # noqa: E402
from anygrad import data, optim  # noqa: E402
from _common import add_common_flags  # noqa: E402


def main(argv=None):
    parser = add_common_flags(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="fewer epochs (tests)")
    args = parser.parse_args(argv)
    epochs = min(args.epochs, 8) if args.quick else args.epochs
    backend = ag.get_backend(args.backend)
    ag.manual_seed(args.seed)
    split = data.make_product(n=2000, seed=args.seed)
    model = nn.Sequential(nn.Linear(2, 32, backend=backend), nn.Tanh(),
                          nn.Linear(32, 1, backend=backend))
    params = {name: p.detach() for name, p in model.named_parameters()}

    def loss(params, x, y):
        return ag.mean((ag.functional_call(model, params, (x,)) - y) ** 2)

    loss_and_grad = ag.value_and_grad(loss)
    opt = optim.functional.adam(lr=0.01)
    state = opt.init(params)
    x_test = ag.tensor(split.x_test, backend=backend)
    y_test = ag.tensor(split.y_test, backend=backend)
    rng = np.random.default_rng(args.seed)
    losses = [loss(params, x_test, y_test).item()]
    for _ in range(epochs):
        order = rng.permutation(len(split.x_train))
        for start in range(0, len(order), 64):
            batch = order[start:start + 64]
            x = ag.tensor(split.x_train[batch], backend=backend)
            y = ag.tensor(split.y_train[batch], backend=backend)
            value, grads = loss_and_grad(params, x, y)
            params, state = opt.update(grads, state, params)
        losses.append(loss(params, x_test, y_test).item())
    print(f"test MSE {losses[0]:.5f} -> {losses[-1]:.5f} after {epochs} epochs "
          f"({state.step} functional Adam steps over {len(params)} named tensors)")
    return {"test_losses": losses, "params": params}


if __name__ == "__main__":
    main()
