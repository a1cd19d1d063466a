"""ag.vmap against a Python loop over the examples, for every op of the gradcheck table.

Each row of `test_ops_gradcheck.CASES` is run batched (every input mapped, and the last
one unmapped), and so are its gradients both ways round: the gradient of a function
that calls vmap, and vmap of a gradient (per-example gradients).
"""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import anygrad as ag
from anygrad.batching import UNSUPPORTED
from anygrad.engine import Op
from conftest import make, random
from test_ops_gradcheck import CASES, INDEX_CASES

BATCH = 3


def _batched_inputs(shapes, rng_kw, backend, batch=BATCH):
    return [make(random((batch,) + tuple(s), seed=k, **rng_kw), backend)
            for k, s in enumerate(shapes)]


def _close(a, b):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def _loop(fn, args, axes):
    """The reference: fn on each example, stacked."""
    rows = [fn(*[a if axis is None else a[i] for a, axis in zip(args, axes)])
            for i in range(BATCH)]
    return ag.stack(rows)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_vmap_matches_loop(case, backend):
    name, fn, shapes, rng_kw = case
    args = _batched_inputs(shapes, rng_kw, backend)
    axes = (0,) * len(args)
    _close(ag.vmap(fn)(*args), _loop(fn, args, axes))
    if len(args) > 1:  # the last input shared by every example
        args[-1] = args[-1][0]
        axes = (0,) * (len(args) - 1) + (None,)
        _close(ag.vmap(fn, in_axes=axes)(*args), _loop(fn, args, axes))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradients_through_and_of_vmap(case, backend):
    name, fn, shapes, rng_kw = case
    args = _batched_inputs(shapes, rng_kw, backend)
    weights = make(random((BATCH,), seed=9), backend, requires_grad=False)

    def loss(*xs):  # one number per example, weighted so that the rows differ
        return ag.sum(fn(*xs) ** 2)

    batched = ag.grad(lambda *xs: ag.sum(ag.vmap(loss)(*xs) * weights),
                      argnums=tuple(range(len(args))))(*args)
    looped = ag.grad(lambda *xs: ag.sum(_loop(loss, xs, (0,) * len(xs)) * weights),
                     argnums=tuple(range(len(args))))(*args)
    for g, r in zip(batched, looped):
        _close(g, r)
    # per-example gradients with respect to the first input, the others shared
    shared = [args[0]] + [a[0] for a in args[1:]]
    axes = (0,) + (None,) * (len(args) - 1)
    per_example = ag.vmap(ag.grad(loss), in_axes=axes)(*shared)
    _close(per_example, _loop(ag.grad(loss), shared, axes))


@pytest.mark.parametrize("case", INDEX_CASES, ids=[c[0] for c in INDEX_CASES])
def test_vmap_indexing_with_a_shared_index(case, backend):
    name, fn, shape, index = case
    x = make(random((BATCH,) + shape), backend)
    idx = ag.tensor(np.asarray(index, dtype="int64"), backend=backend)
    f = lambda a: fn(a, idx)  # noqa: E731
    _close(ag.vmap(f)(x), _loop(f, [x], (0,)))
    _close(ag.vmap(ag.grad(lambda a: ag.sum(f(a) ** 2)))(x),
           _loop(ag.grad(lambda a: ag.sum(f(a) ** 2)), [x], (0,)))


def test_gradgradcheck_through_vmap(backend):
    x = make(random((BATCH, 4)), backend)
    w = make(random((4, 2), seed=1), backend)
    f = lambda x, w: ag.vmap(lambda r: ag.tanh(r @ w), in_axes=0)(x)  # noqa: E731
    assert ag.gradcheck(f, [x, w])
    assert ag.gradgradcheck(f, [x, w])


# ----------------------------------------------------------------- in_axes and out_axes
def test_in_axes_and_out_axes(backend):
    x = make(random((4, BATCH, 2)), backend, requires_grad=False)
    y = make(random((2, BATCH), seed=1), backend, requires_grad=False)
    out = ag.vmap(lambda a, b: a * b, in_axes=(1, 1), out_axes=2)(x, y)
    expected = np.moveaxis(np.moveaxis(x.numpy(), 1, 0) * y.numpy().T[:, None, :], 0, 2)
    assert out.shape == (4, 2, BATCH)
    np.testing.assert_allclose(out.numpy(), expected)
    neg = ag.vmap(lambda a: ag.sum(a, axis=0), in_axes=-2, out_axes=-1)(x)
    np.testing.assert_allclose(neg.numpy(), np.sum(x.numpy(), axis=0).T)


def test_nested_pytree_in_axes_and_outputs(backend):
    params = {"w": make(random((3, 2)), backend), "b": make(random((2,), seed=1), backend)}
    xs = make(random((BATCH, 3), seed=2), backend)

    def f(p, x):
        h = x @ p["w"] + p["b"]
        return {"h": h, "s": (ag.sum(h), x)}

    out = ag.vmap(f, in_axes=({"w": None, "b": None}, 0))(params, xs)
    expected = xs.numpy() @ params["w"].numpy() + params["b"].numpy()
    np.testing.assert_allclose(out["h"].numpy(), expected)
    np.testing.assert_allclose(out["s"][0].numpy(), expected.sum(axis=1))
    np.testing.assert_allclose(out["s"][1].numpy(), xs.numpy())
    # out_axes None for an output that does not depend on the batch
    same = ag.vmap(lambda x: (x * 2, params["b"]), out_axes=(0, None))(xs)
    np.testing.assert_allclose(same[1].numpy(), params["b"].numpy())


def test_unbatched_output_is_broadcast(backend):
    c = make(random((2,)), backend)
    out = ag.vmap(lambda x: c * 2.0)(make(random((BATCH, 5)), backend))
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(c.numpy() * 2.0, (BATCH, 2)))


def test_nested_vmaps(backend):
    a = make(random((BATCH, 4)), backend)
    b = make(random((5, 4), seed=1), backend)
    # all pairs: outer over a's rows, inner over b's rows
    pairs = ag.vmap(lambda r: ag.vmap(lambda s: ag.sum(r * s))(b))(a)
    np.testing.assert_allclose(pairs.numpy(), a.numpy() @ b.numpy().T, rtol=1e-12)
    twice = ag.vmap(ag.vmap(lambda x: ag.sin(x) * x))(a)
    np.testing.assert_allclose(twice.numpy(), np.sin(a.numpy()) * a.numpy())
    # per-example gradients inside an outer vmap
    inner = ag.vmap(ag.vmap(ag.grad(lambda r, s: ag.sum(ag.tanh(r * s)))), in_axes=(None, 0))
    got = inner(a, ag.stack([b[:BATCH], b[1:BATCH + 1]]))
    for k, bb in enumerate([b[:BATCH], b[1:BATCH + 1]]):
        for i in range(BATCH):
            ref = ag.grad(lambda r, s: ag.sum(ag.tanh(r * s)))(a[i], bb[i])
            _close(got[k, i], ref)


@pytest.mark.parametrize("requires_grad", [True, False])
def test_per_example_gradients_of_an_mlp(backend, requires_grad):
    # Parameters requiring grad reach ag.grad through an alias, detached ones as new
    # leaves: both take the shared-matrix product.
    rng = np.random.default_rng(0)
    params = [[make(rng.normal(size=s), backend, requires_grad=requires_grad) for s in shapes]
              for shapes in (((4, 6), (6,)), ((6, 3), (3,)))]
    x = make(rng.normal(size=(5, 4)), backend, requires_grad=False)
    y = make(np.eye(3)[[0, 2, 1, 1, 0]], backend, requires_grad=False)

    def loss(p, xi, yi):
        h = ag.tanh(xi @ p[0][0] + p[0][1])
        logits = h @ p[1][0] + p[1][1]
        return -ag.sum(ag.log_softmax(logits, axis=-1) * yi)

    grads = ag.vmap(ag.grad(loss), in_axes=(None, 0, 0))(params, x, y)
    for i in range(5):
        ref = ag.grad(loss)(params, x[i], y[i])
        for (g, b), (rg, rb) in zip(grads, ref):
            _close(g[i], rg)
            _close(b[i], rb)


def test_per_example_gradients_against_torch_func(backend):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w, x = rng.normal(size=(4, 3)), rng.normal(size=(BATCH, 4))
    ours = ag.vmap(ag.grad(lambda w, x: ag.sum(ag.sin(x @ w) ** 2)), in_axes=(None, 0))(
        make(w, backend), make(x, backend))
    theirs = torch.func.vmap(torch.func.grad(lambda w, x: torch.sum(torch.sin(x @ w) ** 2)),
                             in_dims=(None, 0))(torch.tensor(w), torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("example_shape", [(4,), (2, 4)])
def test_functional_call_per_example_gradients(backend, example_shape):
    model = ag.nn.Sequential(ag.nn.Linear(4, 5), ag.nn.Tanh(), ag.nn.Linear(5, 2))
    model.to(backend=backend, dtype="float64")
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = make(random((BATCH,) + example_shape), backend, requires_grad=False)

    def loss(p, xi):
        return ag.sum(ag.functional_call(model, p, (xi,)) ** 2)

    grads = ag.vmap(ag.grad(loss), in_axes=(None, 0))(params, x)
    for i in range(BATCH):
        ref = ag.grad(loss)(params, x[i])
        for k in params:
            _close(grads[k][i], ref[k])


def test_lstm_inside_vmap(backend):
    lstm = ag.nn.LSTM(3, 4, dtype="float64", backend=backend)
    x = make(random((BATCH, 5, 2, 3)), backend, requires_grad=False)
    with pytest.warns(RuntimeWarning, match="once per example"):  # the layer op loops
        out = ag.vmap(lambda xi: lstm(xi)[0])(x)
    _close(out, _loop(lambda xi: lstm(xi)[0], [x], (0,)))


def test_compiled_vmap_of_grad_replays_new_values(backend, recwarn):
    w = make(random((3, 2)), backend, requires_grad=False)
    per_example = ag.vmap(ag.grad(lambda w, x: ag.sum(ag.tanh(x @ w))), in_axes=(None, 0))
    compiled = ag.compile(per_example)
    for seed in range(3):
        x = make(random((BATCH, 3), seed=seed), backend, requires_grad=False)
        _close(compiled(w, x), per_example(w, x))
    jac = ag.jacobian(lambda v: ag.sin(v) * 2.0)
    compiled_jac = ag.compile(jac)
    for seed in range(3):
        v = make(random((3,), seed=seed), backend, requires_grad=False)
        _close(compiled_jac(v), jac(v))
    assert not [w for w in recwarn if "eagerly" in str(w.message)]  # replayed, not eager


# ----------------------------------------------------------------- jacobians by vmap
def test_jacobian_and_hessian_by_vmap_match_the_loop(backend, monkeypatch):
    import anygrad.transforms as transforms

    a = make(random((4, 5)), backend, requires_grad=False)
    x = make(random((5,), seed=1), backend)
    f = lambda x: ag.tanh(a @ x) * ag.sum(x * x)  # noqa: E731
    h = lambda x: ag.sum(ag.sin(x) ** 3) * ag.sum(x)  # noqa: E731
    fast = [ag.jacobian(f)(x), ag.jacobian(f, mode="forward")(x), ag.hessian(h)(x)]
    monkeypatch.setattr(transforms, "_vmappable", lambda lin, mapped: False)
    slow = [ag.jacobian(f)(x), ag.jacobian(f, mode="forward")(x), ag.hessian(h)(x)]
    for got, ref in zip(fast, slow):
        _close(got, ref)


def test_jacobian_uses_vmap(backend, monkeypatch):
    import anygrad.transforms as transforms

    def refuse(lin, k):
        raise AssertionError("the Jacobian was built one row at a time")

    monkeypatch.setattr(transforms, "_basis", refuse)
    x = make(random((3,)), backend)
    assert ag.jacobian(lambda x: ag.exp(x) * 2.0)(x).shape == (3, 3)


def test_jacobian_inside_vmap(backend):
    x = make(random((BATCH, 3)), backend)
    jac = ag.vmap(ag.jacobian(lambda r: ag.sin(r) * ag.sum(r)))(x)
    for i in range(BATCH):
        _close(jac[i], ag.jacobian(lambda r: ag.sin(r) * ag.sum(r))(x[i]))


def test_vjp_and_jvp_inside_vmap(backend):
    x = make(random((BATCH, 3)), backend)
    u = make(random((BATCH, 3), seed=1), backend)
    f = lambda r: ag.exp(r) * r[0]  # noqa: E731
    pulled = ag.vmap(lambda r, v: ag.vjp(f, r)[1](v)[0])(x, u)
    pushed = ag.vmap(lambda r, v: ag.jvp(f, (r,), (v,))[1])(x, u)
    for i in range(BATCH):
        _close(pulled[i], ag.vjp(f, x[i])[1](u[i])[0])
        _close(pushed[i], ag.jvp(f, (x[i],), (u[i],))[1])


# ----------------------------------------------------------------- errors
def test_errors_name_the_problem(backend):
    x = make(random((BATCH, 3)), backend)
    with pytest.raises(ValueError, match="different sizes"):
        ag.vmap(lambda a, b: a + b)(x, make(random((4, 3)), backend))
    with pytest.raises(ValueError, match="no argument is mapped"):
        ag.vmap(lambda a: a, in_axes=None)(x)
    with pytest.raises(ValueError, match="out of range"):
        ag.vmap(lambda a: a, in_axes=2)(x)
    with pytest.raises(ValueError, match="in_axes has 2 entries"):
        ag.vmap(lambda a: a, in_axes=(0, 0))(x)
    with pytest.raises(TypeError, match="ints or None"):
        ag.vmap(lambda a: a, in_axes=0.5)
    with pytest.raises(RuntimeError, match="vmap: .*batched tensor"):
        ag.vmap(lambda a: a if float(a[0]) > 0 else -a)(x)
    with pytest.raises(RuntimeError, match="vmap: .*batched tensor"):
        ag.vmap(lambda a: ag.tensor(a.numpy()))(x)
    with pytest.raises(NotImplementedError, match="unique_values"):
        ag.vmap(ag.unique_values)(x)
    with pytest.raises(ValueError, match="out_axes is None"):
        ag.vmap(lambda a: a, out_axes=None)(x)
    with pytest.raises(RuntimeError, match="backward"):
        ag.vmap(lambda a: ag.sum(a * a).backward())(x)
    with pytest.raises(RuntimeError, match="in-place"):
        ag.vmap(lambda a: a.__iadd__(1.0))(x)
    with pytest.raises(ValueError, match="randomness"):
        ag.vmap(lambda a: a, randomness="sometimes")


def test_batched_tensor_escaping_its_vmap_is_refused(backend):
    kept = []
    ag.vmap(lambda a: kept.append(a) or a)(make(random((BATCH, 2)), backend))
    with pytest.raises(RuntimeError, match="after its vmap returned"):
        kept[0] + 1.0


# ----------------------------------------------------------------- registry
def _all_ops():
    """Every Op anygrad declares: the registry's and the private ones of each module."""
    import anygrad

    found = {}
    for info in pkgutil.walk_packages(anygrad.__path__, "anygrad."):
        if info.name.split(".")[1] in ("bench", "torch", "distributed", "compile", "data"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            continue
        for value in vars(module).values():
            if isinstance(value, Op):
                found[id(value)] = value
    return list(found.values())


def test_every_op_has_a_batching_rule_or_is_listed_unsupported():
    from anygrad.batching import rules

    missing = [op.name for op in _all_ops()
               if op.batch is None and op.name not in UNSUPPORTED]
    assert missing == [], f"ops with no batching rule, not listed in UNSUPPORTED: {missing}"
    unknown = [(op.name, op.batch) for op in _all_ops()
               if isinstance(op.batch, str) and op.batch not in rules.RULES]
    assert unknown == []


# ----------------------------------------------------------------- randomness
def test_randomness(backend):
    x = make(np.ones((4, 50)), backend, requires_grad=False)

    def noisy(a):
        return a + ag.randn(50, dtype="float64", backend=backend)

    def dropped(a):
        return ag.nn.functional.dropout(a, 0.5)

    for f in (noisy, dropped):
        with pytest.raises(RuntimeError, match="randomness='error'"):
            ag.vmap(f)(x)
        different = ag.vmap(f, randomness="different")(x).numpy()
        same = ag.vmap(f, randomness="same")(x).numpy()
        assert (different != different[0]).any()
        assert (same == same[0]).all()
    # an outer "same" level and an inner "different" one
    nested = ag.vmap(ag.vmap(noisy, randomness="different"), randomness="same")(
        make(np.ones((2, 3, 50)), backend, requires_grad=False)).numpy()
    assert (nested == nested[0]).all() and (nested[0] != nested[0, 0]).any()


def test_set_functions_loop_over_examples_only_when_they_must(backend):
    x = make(random((BATCH, 4)), backend, requires_grad=False)
    table = make(np.sort(random((6,), seed=1)), backend, requires_grad=False)
    _close(ag.vmap(lambda v: ag.searchsorted(table, v))(x),
           _loop(lambda v: ag.searchsorted(table, v), [x], (0,)))
    rows = make(np.sort(random((BATCH, 6), seed=2), axis=1), backend, requires_grad=False)
    with pytest.warns(RuntimeWarning, match="once per example"):
        found = ag.vmap(lambda t, v: ag.searchsorted(t, v))(rows, x)
    _close(found, _loop(lambda t, v: ag.searchsorted(t, v), [rows, x], (0, 0)))
    with pytest.warns(RuntimeWarning, match="once per example"):
        hits = ag.vmap(lambda v, t: ag.isin(v, t))(x, rows)
    assert (hits.numpy() == _loop(lambda v, t: ag.isin(v, t), [x, rows], (0, 0)).numpy()).all()


@pytest.mark.parametrize("case", [c for c in INDEX_CASES if not c[0].startswith("getitem")],
                         ids=[c[0] for c in INDEX_CASES if not c[0].startswith("getitem")])
def test_vmap_indexing_with_an_index_per_example(case, backend):
    name, fn, shape, index = case
    x = make(random((BATCH,) + shape), backend)
    rng = np.random.default_rng(3)
    idx = ag.tensor(rng.integers(0, 3, size=(BATCH,) + np.shape(index)), backend=backend)
    _close(ag.vmap(fn)(x, idx), _loop(fn, [x, idx], (0, 0)))
    loss = lambda a, i: ag.sum(fn(a, i) ** 2)  # noqa: E731
    _close(ag.vmap(ag.grad(loss))(x, idx), _loop(ag.grad(loss), [x, idx], (0, 0)))
    # refused where the key is read (numpy-style libraries) or where it is gathered with
    with pytest.raises(RuntimeError, match="vmap: "):
        ag.vmap(lambda a, i: a[i])(x, idx)
    with pytest.raises(RuntimeError, match="vmap: "):  # x not batched
        ag.vmap(lambda i: x[0][i])(idx)
