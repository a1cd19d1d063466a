"""A straight-through estimator: a layer whose weights are rounded to a few levels.

Rounding has a zero derivative almost everywhere, so a quantised network cannot learn
through it. The straight-through estimator keeps the rounding in the forward pass and
passes the gradient through unchanged in the backward pass (ag.custom_vjp, declared
linear: the rule ignores its input). The network (64-32-10 on scikit-learn's 8x8
digits) has weights on the grid {-1, -7/8, ..., 7/8, 1}, 4 bits, and still learns.

    python examples/straight_through.py --backend numpy
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import anygrad as ag  # noqa: E402
import anygrad.nn as nn  # noqa: E402
import anygrad.nn.functional as F  # noqa: E402
from anygrad import data, optim  # noqa: E402
from _common import add_common_flags  # noqa: E402

LEVELS = 8.0  # steps per unit: weights on multiples of 1/8 in [-1, 1]


@ag.custom_vjp(linear=True)
def quantise(w):
    return ag.clip(ag.round(w * LEVELS), -LEVELS, LEVELS) / LEVELS


quantise.defvjp(lambda w: (quantise.fun(w), None), lambda _, g: g)


class QuantisedLinear(nn.Linear):
    """nn.Linear whose weight is quantised on the way in; the float weight is what the
    optimizer updates."""

    def forward(self, x):
        return x @ ag.matrix_transpose(quantise(self.weight)) + self.bias


def main(argv=None):
    parser = add_common_flags(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="fewer steps (tests)")
    args = parser.parse_args(argv)
    steps = min(args.steps, 40) if args.quick else args.steps
    backend = ag.get_backend(args.backend)
    ag.manual_seed(args.seed)
    split = data.load_digits(seed=args.seed)
    x, y = ag.tensor(split.x_train, backend=backend), ag.tensor(split.y_train, backend=backend)
    x_test = ag.tensor(split.x_test, backend=backend)
    model = nn.Sequential(QuantisedLinear(64, 32, backend=backend), nn.ReLU(),
                          QuantisedLinear(32, 10, backend=backend))
    opt = optim.Adam(model.parameters(), lr=0.02)
    first = None
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    with ag.no_grad():
        predicted = ag.argmax(model(x_test), axis=1).numpy()
    accuracy = float((predicted == split.y_test).mean())
    levels = sorted({round(v * LEVELS) for v in quantise(model[0].weight).numpy().ravel()})
    print(f"loss {first:.3f} -> {loss.item():.3f}; test accuracy {accuracy:.3f} with weights on "
          f"{len(levels)} levels of 1/{LEVELS:.0f}")
    return {"accuracy": accuracy, "first_loss": first, "last_loss": loss.item(),
            "levels": levels}


if __name__ == "__main__":
    main()
