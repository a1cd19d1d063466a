"""Check that every contender computes the same training step before any is timed.

A benchmark of a wrong computation is worthless, and a fast wrong gradient is the
easiest way to look good. Every contender starts from the same weights and batch and
takes a few SGD steps; its losses and its final parameters must match the hand-written
numpy floor to float32 accuracy. The parameters after the steps carry the gradients'
correctness (a wrong gradient moves them elsewhere), the losses the forward's.
"""
from __future__ import annotations

import numpy as np

# float32 matmuls of width ~1000 in different BLAS orders differ by ~1e-6 relative; a
# wrong derivative is off by far more than this.
RTOL = 1e-4
ATOL = 1e-5


def _relative_error(ours, reference):
    ours = np.asarray(ours, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    scale = max(float(np.max(np.abs(reference))), ATOL / RTOL)
    return float(np.max(np.abs(ours - reference))) / scale


def check_mlp(contenders, reference, host_params, host_x, host_y, steps=3):
    """Run `steps` steps of each contender and of `reference` from the same start.

    Returns {name: {"losses", "max_loss_error", "max_param_error", "ok", "error"?}};
    a contender that raises is recorded as failed with the exception's text.
    """
    expected_losses, expected_params = _trajectory(reference, host_params, host_x, host_y, steps)
    report = {reference.name: {"losses": expected_losses, "max_loss_error": 0.0,
                               "max_param_error": 0.0, "ok": True}}
    for contender in contenders:
        try:
            losses, params = _trajectory(contender, host_params, host_x, host_y, steps)
        except Exception as exc:  # reported, and the contender is not timed
            report[contender.name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            continue
        loss_error = max(_relative_error(a, b) for a, b in zip(losses, expected_losses))
        param_error = max(_relative_error(a, b) for a, b in zip(params, expected_params))
        report[contender.name] = {
            "losses": losses, "max_loss_error": loss_error, "max_param_error": param_error,
            "ok": loss_error <= RTOL and param_error <= RTOL,
        }
    return report


def _trajectory(contender, host_params, host_x, host_y, steps):
    contender.load_weights(host_params)
    contender.set_batch(host_x, host_y)
    losses = [contender.loss_value(contender.step()) for _ in range(steps)]
    return losses, contender.parameters_host()


def check_grads(contender, reference):
    """Gradients of one conv step against PyTorch's (same inputs): the worst relative
    error over input, weight and bias, and whether it is within float32 accuracy."""
    contender.step()
    reference.step()
    error = max(_relative_error(a, b)
                for a, b in zip(contender.grads_host(), reference.grads_host()))
    return {"max_grad_error": error, "ok": error <= 1e-3}
