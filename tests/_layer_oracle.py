"""Compare an anygrad layer with its PyTorch counterpart: same weights, same inputs, then
outputs and the gradients of every input and every parameter, by name."""
from __future__ import annotations

import numpy as np

import anygrad as ag

# Tolerances of the comparisons with PyTorch, per dtype.
TOL = {"float32": 1e-5, "float64": 1e-10}


def skip_float32_on_jax(backend, dtype):
    """jax compiles every op afresh for each new shape and dtype, which makes each of
    these comparisons take seconds there; float32 agreement is checked on the other
    backends and jax is compared in float64."""
    if backend == "jax" and dtype == "float32":
        import pytest

        pytest.skip("float32 comparisons run on numpy, array_api_strict and torch")


def load_from_torch(module, torch_module):
    """Copy a PyTorch module's state dict into `module` (as host arrays)."""
    module.load_state_dict({k: v.detach().numpy() for k, v in torch_module.state_dict().items()})


def compare(ours, theirs, arrays, backend, dtype, seed=99, outputs=None):
    """Run `ours(*tensors)` and `theirs(*torch_tensors)` on the same float `arrays`
    (None entries pass through; bool arrays pass without gradient), back-propagate the
    same random cotangent from every output and check values and gradients. `outputs`
    picks the outputs that are compared (default: all). Returns the anygrad outputs."""
    import torch

    tol = TOL[dtype]
    mine, ref = [], []
    for a in arrays:
        if a is None or not np.issubdtype(np.asarray(a).dtype, np.floating):
            mine.append(None if a is None else ag.tensor(a, backend=backend))
            ref.append(None if a is None else torch.tensor(a))
            continue
        a = np.asarray(a, dtype=dtype)
        mine.append(ag.tensor(a, backend=backend, requires_grad=True))
        ref.append(torch.tensor(a, requires_grad=True))
    got, expected = ours(*mine), theirs(*ref)
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    keep = range(len(expected)) if outputs is None else outputs
    rng = np.random.default_rng(seed)
    loss_ours, loss_theirs = 0.0, 0.0
    for i in keep:
        g, e = got[i], expected[i]
        assert e is not None and g is not None, f"output {i}: {g} vs {e}"
        np.testing.assert_allclose(g.numpy(), e.detach().numpy(), rtol=tol, atol=tol,
                                   err_msg=f"output {i}")
        cot = rng.standard_normal(tuple(e.shape)).astype(dtype)
        loss_ours = loss_ours + ag.sum(g * ag.tensor(cot, backend=backend))
        loss_theirs = loss_theirs + (e * torch.tensor(cot)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    for i, (m, r) in enumerate(zip(mine, ref)):
        if m is not None and m.requires_grad:
            np.testing.assert_allclose(m.grad.numpy(), r.grad.numpy(), rtol=tol, atol=tol,
                                       err_msg=f"gradient of input {i}")
    return got


def compare_parameters(module, torch_module, dtype):
    """Gradients of every parameter, matched by name (and the names must agree)."""
    tol = TOL[dtype]
    named = dict(module.named_parameters())
    theirs = dict(torch_module.named_parameters())
    assert sorted(named) == sorted(theirs)
    for name, p in theirs.items():
        assert p.grad is not None, name
        np.testing.assert_allclose(named[name].grad.numpy(), p.grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=f"gradient of {name}")
