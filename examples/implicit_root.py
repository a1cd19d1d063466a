"""Implicit differentiation through a scipy root finder, with ag.custom_vjp.

The root x*(a, b) of x^3 + a x - b = 0 comes from scipy.optimize.brentq, outside the
graph. Its gradient comes from the implicit function theorem: with F(x, a, b) = 0 at
x*, dx*/dtheta = -(dF/dtheta) / (dF/dx). The example checks that gradient against
central differences, then tunes (a, b) by gradient descent so that the root hits 0.8.

    python examples/implicit_root.py --backend numpy
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

import anygrad as ag  # noqa: E402
from _common import add_common_flags  # noqa: E402


def residual(x, a, b):
    return x * x * x + a * x - b


@ag.custom_vjp
def cubic_root(a, b):
    """The real root of x^3 + a x - b (a > 0: exactly one)."""
    return _solve(a, b)


def _solve(a, b):
    a0, b0 = float(a.item()), float(b.item())
    root = brentq(lambda x: x ** 3 + a0 * x - b0, -10.0, 10.0, xtol=1e-14)
    return ag.tensor(np.asarray(root, dtype=np.float64), backend=a.backend)


def _fwd(a, b):
    x = _solve(a, b)
    return x, (x, a, b)


def _bwd(res, g):
    x, a, b = res
    dfdx = 3.0 * x * x + a  # dF/dx at the root, with anygrad's ops
    return -g * x / dfdx, g / dfdx  # -g dF/da / dF/dx and -g dF/db / dF/dx


cubic_root.defvjp(_fwd, _bwd)


def main(argv=None):
    parser = add_common_flags(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args(argv)
    backend = ag.get_backend(args.backend)
    a = ag.tensor(np.float64(2.0), backend=backend)
    b = ag.tensor(np.float64(1.0), backend=backend)

    ga, gb = ag.grad(cubic_root, argnums=(0, 1))(a, b)
    eps = 1e-6
    fd_a = (cubic_root(a + eps, b).item() - cubic_root(a - eps, b).item()) / (2 * eps)
    fd_b = (cubic_root(a, b + eps).item() - cubic_root(a, b - eps).item()) / (2 * eps)
    print(f"root at a=2, b=1: {cubic_root(a, b).item():.6f}")
    print(f"d root/da: implicit {ga.item():+.8f}, central differences {fd_a:+.8f}")
    print(f"d root/db: implicit {gb.item():+.8f}, central differences {fd_b:+.8f}")
    implicit = (ga.item(), gb.item())

    params = (a, b)
    loss = lambda a, b: (cubic_root(a, b) - 0.8) ** 2  # noqa: E731
    for _ in range(args.steps):
        ga, gb = ag.grad(loss, argnums=(0, 1))(*params)
        params = (params[0] - 0.5 * ga, params[1] - 0.5 * gb)
    root = cubic_root(*params).item()
    print(f"after {args.steps} steps: a={params[0].item():.4f} b={params[1].item():.4f}, "
          f"root {root:.6f} (target 0.8)")
    return {"implicit": implicit, "central": (fd_a, fd_b), "root": root,
            "a": params[0].item()}


if __name__ == "__main__":
    main()
