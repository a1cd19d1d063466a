"""Gradients of ordinary array code, then a few steps of gradient descent.

    python examples/quickstart.py --backend numpy
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import anygrad as ag  # noqa: E402
from _common import add_common_flags  # noqa: E402


def main(argv=None):
    parser = add_common_flags(argparse.ArgumentParser(description=__doc__))
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    ag.set_backend(args.backend)
    ag.manual_seed(args.seed)

    # d/dx of sum(x * exp(x)) is exp(x) * (x + 1)
    x = ag.tensor([0.0, 0.5, 1.0], requires_grad=True)
    ag.sum(x * ag.exp(x)).backward()
    print("gradient of sum(x*exp(x)) at", x.tolist(), "=", [round(v, 4) for v in x.grad.tolist()])

    # Fit y = 3x - 2 by gradient descent on a mean squared error.
    xs = ag.arange(-1.0, 1.0, 0.1, dtype="float32")
    ys = 3.0 * xs - 2.0
    w = ag.zeros((), dtype="float32", requires_grad=True)
    b = ag.zeros((), dtype="float32", requires_grad=True)
    for _ in range(args.steps):
        loss = ag.mean((w * xs + b - ys) ** 2)
        loss.backward()
        with ag.no_grad():
            w = (w - 0.1 * w.grad).detach().requires_grad_()
            b = (b - 0.1 * b.grad).detach().requires_grad_()
    print(f"fitted w={w.item():.3f} b={b.item():.3f} (true 3, -2), loss={loss.item():.2e}")
    return w.item(), b.item()


if __name__ == "__main__":
    main()
