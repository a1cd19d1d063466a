"""Values and gradients against PyTorch's autograd, where torch is installed.

Each case is the same computation written twice, once with anygrad and once with
torch; both are differentiated with a random output cotangent.
"""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
from conftest import random

torch = pytest.importorskip("torch")

CASES = [
    ("broadcast_arith", lambda a, b: (a * b - a / (b * b + 1)) ** 2,
     lambda a, b: (a * b - a / (b * b + 1)) ** 2, [(3, 4), (4,)]),
    ("exp_log", lambda a: ag.log(ag.exp(a) + 1.0), lambda a: torch.log(torch.exp(a) + 1.0), [(5,)]),
    ("tanh_sigmoid", lambda a: ag.tanh(a) * ag.sigmoid(a), lambda a: torch.tanh(a) * torch.sigmoid(a),
     [(2, 3)]),
    ("relu_abs", lambda a: ag.relu(a) + ag.abs(a), lambda a: torch.relu(a) + torch.abs(a), [(7,)]),
    ("softmax", lambda a: ag.softmax(a, axis=0), lambda a: torch.softmax(a, dim=0), [(4, 3)]),
    ("log_softmax", lambda a: ag.log_softmax(a, axis=-1), lambda a: torch.log_softmax(a, dim=-1),
     [(4, 3)]),
    ("logsumexp", lambda a: ag.logsumexp(a, axis=1, keepdims=True),
     lambda a: torch.logsumexp(a, dim=1, keepdim=True), [(4, 3)]),
    ("matmul_batched", ag.matmul, torch.matmul, [(2, 3, 4), (4, 5)]),
    ("matmul_vector", ag.matmul, torch.matmul, [(3, 4), (4,)]),
    ("max_axis", lambda a: ag.max(a, axis=1), lambda a: torch.amax(a, dim=1), [(3, 5)]),
    ("var_std", lambda a: ag.var(a, axis=0, correction=1) + ag.std(a),
     lambda a: torch.var(a, dim=0, correction=1) + torch.std(a, correction=0), [(4, 3)]),
    ("clip", lambda a: ag.clip(a, -0.3, 0.4), lambda a: torch.clamp(a, -0.3, 0.4), [(9,)]),
    ("maximum", ag.maximum, torch.maximum, [(3, 4), (4,)]),
    ("where", lambda a, b: ag.where(a > b, a * 2.0, b), lambda a, b: torch.where(a > b, a * 2.0, b),
     [(3, 4), (3, 4)]),
    ("shapes", lambda a: ag.permute_dims(ag.reshape(a, (2, 3, 2)), (2, 0, 1))[1:, :, ::2],
     lambda a: torch.permute(torch.reshape(a, (2, 3, 2)), (2, 0, 1))[1:, :, ::2], [(3, 4)]),
    ("concat_stack", lambda a, b: ag.stack([ag.concat([a, b], axis=0), ag.concat([b, a], axis=0)]),
     lambda a, b: torch.stack([torch.cat([a, b], 0), torch.cat([b, a], 0)]), [(2, 3), (2, 3)]),
    ("expm1_log1p_sqrt", lambda a: ag.expm1(a) + ag.log1p(a * a) + ag.sqrt(a * a + 1.0),
     lambda a: torch.expm1(a) + torch.log1p(a * a) + torch.sqrt(a * a + 1.0), [(6,)]),
    ("sin_cos_pow", lambda a, b: ag.sin(a) * ag.cos(b) + ag.abs(a) ** b,
     lambda a, b: torch.sin(a) * torch.cos(b) + torch.abs(a) ** b, [(5,), (5,)]),
    # inputs in (-1, 1): inside every domain below once shifted or scaled
    ("trig_hyperbolic", lambda a: ag.tan(a) + ag.sinh(a) * ag.cosh(a) + ag.asin(a * 0.9)
     - ag.acos(a * 0.8) + ag.atan(a * 3.0) + ag.asinh(a * 2.0) + ag.acosh(a + 2.0)
     + ag.atanh(a * 0.9),
     lambda a: torch.tan(a) + torch.sinh(a) * torch.cosh(a) + torch.asin(a * 0.9)
     - torch.acos(a * 0.8) + torch.atan(a * 3.0) + torch.asinh(a * 2.0) + torch.acosh(a + 2.0)
     + torch.atanh(a * 0.9), [(7,)]),
    ("atan2_hypot", lambda a, b: ag.atan2(a, b) * ag.hypot(a, b),
     lambda a, b: torch.atan2(a, b) * torch.hypot(a, b), [(3, 4), (4,)]),
    ("logs_reciprocal", lambda a, b: ag.log2(a * a + 0.5) + ag.log10(b * b + 0.5)
     + ag.logaddexp(a * 20.0, b) * ag.reciprocal(b + 2.0),
     lambda a, b: torch.log2(a * a + 0.5) + torch.log10(b * b + 0.5)
     + torch.logaddexp(a * 20.0, b) * torch.reciprocal(b + 2.0), [(2, 5), (5,)]),
    # qr of wide matrices and in complete mode, svd with full_matrices (singular vectors
    # squared: they are defined up to sign), einsum's ellipses and diagonals, pad's modes
    ("linalg_qr_wide", lambda a: _flat(*ag.linalg.qr(a)),
     lambda a: _torch_flat(*torch.linalg.qr(a)), [(2, 3, 5)]),
    ("linalg_qr_complete", lambda a: _flat(*ag.linalg.qr(a, mode="complete")),
     lambda a: _torch_flat(*torch.linalg.qr(a, mode="complete")), [(3, 4)]),
    ("linalg_svd_full", lambda a: (lambda r: _flat(r.U[..., :3] ** 2, r.S, r.Vh ** 2))(
        ag.linalg.svd(a)), lambda a: (lambda r: _torch_flat(r.U[..., :3] ** 2, r.S, r.Vh ** 2))(
        torch.linalg.svd(a)), [(2, 5, 3)]),
    ("einsum_ellipsis_diagonal", lambda a, b: ag.einsum("...ii,...ij->...j", a, b),
     lambda a, b: torch.einsum("...ii,...ij->...j", a, b), [(2, 3, 3), (3, 4)]),
    ("einsum_trace_and_private", lambda a, b: ag.einsum("iij,jk,l", a, b, b[0]),
     lambda a, b: torch.einsum("iij,jk,l", a, b, b[0]), [(3, 3, 2), (2, 4)]),
    ("pad_reflect", lambda a: ag.pad(a, ((0, 0), (2, 1), (1, 3)), mode="reflect"),
     lambda a: torch.nn.functional.pad(a, (1, 3, 2, 1), mode="reflect"), [(2, 3, 4)]),
    ("pad_replicate", lambda a: ag.pad(a, ((0, 0), (1, 2), (3, 0)), mode="replicate"),
     lambda a: torch.nn.functional.pad(a, (3, 0, 1, 2), mode="replicate"), [(2, 3, 4)]),
    ("pad_circular", lambda a: ag.pad(a, ((0, 0), (3, 1), (0, 2)), mode="circular"),
     lambda a: torch.nn.functional.pad(a, (0, 2, 3, 1), mode="circular"), [(2, 3, 4)]),
]


def _flat(*tensors):
    return ag.concat([ag.reshape(t, (-1,)) for t in tensors])


def _torch_flat(*tensors):
    return torch.cat([t.reshape(-1) for t in tensors])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict"])
def test_matches_torch(case, backend_name):
    name, ours, theirs, shapes = case
    data = [random(s, seed=k) for k, s in enumerate(shapes)]
    xs = [ag.tensor(d, requires_grad=True, backend=backend_name) for d in data]
    ts = [torch.tensor(d, requires_grad=True) for d in data]
    out, ref = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    cotangent = random(tuple(ref.shape), seed=99)
    out.backward(ag.tensor(cotangent, backend=backend_name))
    ref.backward(torch.tensor(cotangent))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_indexing_with_repeats_matches_torch():
    data = random((5, 3))
    idx = np.array([4, 0, 4, 4, 1])
    x = ag.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    ag.sum(ag.take(x, ag.tensor(idx), axis=0) ** 2).backward()
    (t[torch.tensor(idx)] ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
