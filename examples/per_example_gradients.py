"""Per-example gradients of a model with ag.vmap, e.g. to clip each one (as DP-SGD does).

    python examples/per_example_gradients.py --backend numpy
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402

import anygrad as ag  # noqa: E402
import anygrad.nn as nn  # noqa: E402
import anygrad.nn.functional as F  # noqa: E402
from _common import add_common_flags  # noqa: E402


def main(argv=None):
    p = add_common_flags(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--batch", type=int, default=32)
    args = p.parse_args(argv)
    backend = ag.get_backend(args.backend)
    ag.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    model = nn.Sequential(nn.Linear(20, 32, backend=backend), nn.ReLU(),
                          nn.Linear(32, 3, backend=backend))
    params = {name: p.detach() for name, p in model.named_parameters()}
    x = ag.tensor(rng.normal(size=(args.batch, 20)).astype("float32"), backend=backend)
    y = ag.tensor(rng.integers(0, 3, size=args.batch), backend=backend)

    def loss(p, xi, yi):  # one example: the model sees a batch of one
        logits = ag.functional_call(model, p, (ag.expand_dims(xi, axis=0),))
        return F.cross_entropy(logits, ag.expand_dims(yi, axis=0))

    start = time.perf_counter()
    grads = ag.vmap(ag.grad(loss), in_axes=(None, 0, 0))(params, x, y)
    vmapped = time.perf_counter() - start
    start = time.perf_counter()
    looped = [ag.grad(loss)(params, x[i], y[i]) for i in range(args.batch)]
    loop = time.perf_counter() - start

    # Each example's gradient norm over all parameters, then clipped to norm 1.
    squares = sum(ag.sum(ag.reshape(g, (args.batch, -1)) ** 2, axis=1) for g in grads.values())
    norms = ag.sqrt(squares)
    scale = ag.minimum(1.0 / norms, 1.0)
    clipped = {k: ag.mean(g * ag.reshape(scale, (-1,) + (1,) * (g.ndim - 1)), axis=0)
               for k, g in grads.items()}
    difference = max(float(np.max(np.abs(grads[k].numpy()[i] - looped[i][k].numpy())))
                     for k in grads for i in range(args.batch))
    print(f"per-example gradients of {sum(g.size for g in params.values())} parameters, "
          f"batch {args.batch}, on {backend.name}")
    print(f"  ag.vmap(ag.grad): {vmapped * 1e3:.1f} ms; a loop of ag.grad: {loop * 1e3:.1f} ms; "
          f"largest difference {difference:.1e}")
    print(f"  gradient norms: min {float(ag.min(norms).item()):.3f}, "
          f"max {float(ag.max(norms).item()):.3f}; clipped to 1 and averaged")
    return {"grads": grads, "looped": looped, "norms": norms.numpy(), "clipped": clipped,
            "difference": difference}


if __name__ == "__main__":
    main()
