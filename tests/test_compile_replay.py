"""ag.compile where users put it: steps over plain tensors replay, arrays are inputs, and
a compiled forward's backward (recorded ahead of time) runs outside it as eager's would.

Each comparison runs the same computation eagerly and compiled from equal starting
values: bitwise equal on numpy, to float tolerance elsewhere.
"""
from __future__ import annotations

import gc
import tracemalloc
import warnings

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
import anygrad.optim as optim

STEPS = 5


def _same(a, b, backend):
    a, b = np.asarray(a), np.asarray(b)
    if backend == "numpy":
        assert np.array_equal(a, b), np.max(np.abs(a - b))
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _data(backend, seed=0, batch=6, features=4, classes=3):
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.normal(size=(batch, features)), backend=backend)
    y = ag.tensor(rng.integers(0, classes, size=batch), backend=backend)
    return x, y


def _params(backend, features=4, classes=3):
    rng = np.random.default_rng(1)
    return {"W": ag.tensor(rng.normal(size=(features, classes)), backend=backend,
                           requires_grad=True),
            "b": ag.tensor(rng.normal(size=(classes,)), backend=backend, requires_grad=True)}


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager would warn
        return fn(*args)


# ------------------------------------------------------------------ plain tensors replay
_P = {}  # parameters reached through a global


def _global_step(x, y):
    loss = F.cross_entropy(x @ _P["W"] + _P["b"], y)
    _P["opt"].zero_grad()
    loss.backward()
    _P["opt"].step()
    return loss


class _Trainer:
    def __init__(self, p):
        self.p = p
        self.opt = optim.SGD(list(p.values()), lr=0.1, momentum=0.9)

    def step(self, x, y):
        loss = F.cross_entropy(x @ self.p["W"] + self.p["b"], y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss


def _make_step(kind, p):
    """The step over parameter dict `p`, reached through a global, a closure or self."""
    if kind == "global":
        _P.clear()
        _P.update(p, opt=optim.SGD(list(p.values()), lr=0.1, momentum=0.9))
        return _global_step
    if kind == "self":
        return _Trainer(p).step
    opt = optim.SGD(list(p.values()), lr=0.1, momentum=0.9)

    def step(x, y):
        loss = F.cross_entropy(x @ p["W"] + p["b"], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


@pytest.mark.parametrize("kind", ["global", "closure", "self"])
def test_a_step_over_plain_tensors_replays_and_equals_eager(backend, kind):
    runs = {}
    for compiled in (False, True):
        p = _params(backend)
        step = _make_step(kind, p)
        fn = ag.compile(step) if compiled else step
        losses = []
        for i in range(STEPS):
            losses.append(_quiet(fn, *_data(backend, seed=i)).numpy())
        runs[compiled] = (losses, [t.numpy() for t in p.values()])
        if compiled:
            assert fn.stats == {"recordings": 2, "replays": STEPS - 2, "eager": 0}
            assert "p['W']" in str(fn.program) or "['W']" in str(fn.program)
    for a, b in zip(runs[False][0] + runs[False][1], runs[True][0] + runs[True][1]):
        _same(a, b, backend)


def test_a_tensor_replaced_in_the_dict_is_read_at_replay():
    p = _params("numpy")
    f = ag.compile(lambda x: ag.sum(x @ p["W"]))
    x, _ = _data("numpy")
    with ag.no_grad():
        for _ in range(3):
            f(x)
        p["W"] = ag.tensor(np.ones((4, 3)), requires_grad=True)
        assert f(x).item() == ag.sum(x @ p["W"]).item()
    assert f.stats["replays"] == 2


_scale = 1.0  # a Python number the functions below read from their globals


def test_a_function_that_never_settles_runs_eagerly_naming_what_changed():
    global _scale
    w = ag.tensor([1.0, 2.0])
    g = ag.compile(lambda x: ag.sum(x * w * _scale))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(30):
            _scale = float(i)
            assert g(ag.tensor([1.0, 1.0])).item() == 3.0 * i
    messages = [str(c.message) for c in caught]
    assert len(messages) == 1
    assert "the global '_scale' changed from" in messages[0]
    assert "running eagerly" in messages[0]
    assert g.stats["recordings"] == 10 and g.stats["eager"] == 20


def test_a_function_that_never_settles_raises_in_strict_mode():
    global _scale
    g = ag.compile(lambda x: x * _scale, strict=True)
    with pytest.raises(ag.CompileError, match="_scale"):
        for i in range(30):
            _scale = float(i)
            g(ag.tensor([1.0]))


def test_differing_recordings_name_the_line():
    def f(x):
        return ag.sum(ag.tensor(x.array * 2.0) * x)  # the raw product is invisible

    g = ag.compile(f)
    with pytest.warns(RuntimeWarning,
                      match=r"outside tensor 0 .* first read at test_compile_replay"):
        for k in range(4):
            g(ag.tensor([1.0, 2.0]) * k)


# ------------------------------------------------------------------ arrays as inputs
def test_arrays_are_inputs_not_constants(backend):
    w = ag.tensor([1.0, -2.0, 3.0], backend=backend)
    f = ag.compile(lambda a, b: ag.sum(a * w) + b)
    be = ag.get_backend(backend)
    for i in range(5):
        host = np.arange(3.0) * (i + 1)
        a = be.asarray(host)
        out = _quiet(f, a, be.asarray(float(i)))
        assert isinstance(out, ag.Tensor) and out.backend.name == backend
        assert out.item() == float(np.sum(host * [1.0, -2.0, 3.0]) + i)
    assert f.stats["replays"] == 3


def test_numpy_arrays_on_the_numpy_backend_and_their_shapes_in_the_signature():
    f = ag.compile(lambda a: a * 2.0)
    for n in (2, 2, 2, 3, 3, 3):
        a = np.arange(float(n))
        out = f(a)
        assert np.array_equal(out.numpy(), a * 2.0)
    assert f.stats == {"recordings": 4, "replays": 2, "eager": 0}
    twice = ag.compile(lambda a, b: a - b)
    a = np.ones(2)
    for _ in range(3):
        assert np.array_equal(twice(a, a).numpy(), [0.0, 0.0])
        assert np.array_equal(twice(a, np.zeros(2)).numpy(), [1.0, 1.0])


# ------------------------------------------------------------------ backward outside
def _mlp(backend):
    ag.manual_seed(4)
    return nn.Sequential(nn.Linear(4, 5, dtype="float64", backend=backend), nn.Tanh(),
                         nn.Linear(5, 3, dtype="float64", backend=backend))


def _grads(tensors):
    return [t.grad.numpy() for t in tensors]


def test_a_compiled_model_with_the_loss_outside_gives_eagers_gradients(backend):
    model = _mlp(backend)
    cmodel = ag.compile(model)
    params = list(model.parameters())
    for i in range(STEPS):
        x, y = _data(backend, seed=i)
        got = {}
        for name, fn in (("eager", model), ("compiled", cmodel)):
            model.zero_grad()
            loss = F.cross_entropy(_quiet(fn, x), y)
            loss.backward()
            got[name] = [loss.numpy()] + _grads(params)
        for a, b in zip(got["eager"], got["compiled"]):
            _same(a, b, backend)
    assert cmodel.stats == {"recordings": 2, "replays": STEPS - 2, "eager": 0}


def _mixed(p, model):
    """A function of an argument that requires grad, plain tensors and a module."""

    def f(x, y):
        h = ag.tanh(x @ p["W"] + p["b"])
        return F.cross_entropy(model(h), y)

    return f


def test_plain_tensors_arguments_and_modules_get_eagers_gradients(backend):
    p = _params(backend)
    model = nn.Linear(3, 3, dtype="float64", backend=backend)
    f = _mixed(p, model)
    cf = ag.compile(f)
    leaves = [*p.values(), *model.parameters()]
    for i in range(STEPS):
        x, y = _data(backend, seed=i)
        got = {}
        for name, fn in (("eager", f), ("compiled", cf)):
            for t in leaves:
                t.grad = None
            xg = x.detach().requires_grad_()
            loss = _quiet(fn, xg, y)
            loss.backward()
            got[name] = [loss.numpy(), xg.grad.numpy()] + _grads(leaves)
        for a, b in zip(got["eager"], got["compiled"]):
            _same(a, b, backend)
    assert cf.stats["replays"] == STEPS - 2


def test_gradcheck_through_a_compiled_forward(backend):
    w = ag.tensor(np.array([0.3, -0.7, 1.1]), backend=backend, requires_grad=True)
    cf = ag.compile(lambda x, y: ag.sum(ag.tanh(x * w) * y, axis=0))
    x = ag.tensor(np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]]), backend=backend,
                  requires_grad=True)
    y = ag.tensor(np.array([[1.0, 2.0, -1.0], [0.5, 0.1, 0.2]]), backend=backend,
                  requires_grad=True)
    for _ in range(3):  # recorded, confirmed: the check runs on replays
        cf(x, y)
    assert ag.gradcheck(cf, (x, y))
    assert cf.stats["replays"] > 1


def test_against_torch_autograd(backend):
    torch = pytest.importorskip("torch")
    w = ag.tensor(np.array([0.3, -0.7, 1.1]), backend=backend, requires_grad=True)
    cf = ag.compile(lambda x: ag.sum(ag.exp(x * w) / (1.0 + x * x)))
    xs = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]])
    for _ in range(3):
        w.grad = None
        x = ag.tensor(xs, backend=backend, requires_grad=True)
        cf(x).backward()
    tw = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64, requires_grad=True)
    tx = torch.tensor(xs, requires_grad=True)
    torch.sum(torch.exp(tx * tw) / (1.0 + tx * tx)).backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def _two(w, b):
    def f(x):
        h = ag.tanh(x * w)
        return h * b, ag.sum(h)

    return f


@pytest.mark.parametrize("use", ["both", "first", "second", "first twice"])
def test_several_outputs_any_of_them_used(backend, use):
    w = ag.tensor(np.array([0.3, -0.7, 1.1]), backend=backend, requires_grad=True)
    b = ag.tensor(np.array([2.0, 0.5, -1.0]), backend=backend, requires_grad=True)
    f = _two(w, b)
    cf = ag.compile(f)

    def loss_of(o1, o2):
        if use == "both":
            return ag.sum(o1 * o1) + 3.0 * o2
        if use == "first":
            return ag.sum(o1)
        if use == "second":
            return o2
        return ag.sum(o1 * ag.exp(o1))  # an output used twice

    for i in range(4):
        x = ag.tensor(np.array([0.5, -1.0, 2.0]) * (i + 1), backend=backend, requires_grad=True)
        got = {}
        for name, fn in (("eager", f), ("compiled", cf)):
            w.grad = b.grad = x.grad = None
            loss_of(*_quiet(fn, x)).backward()
            got[name] = [None if t.grad is None else t.grad.numpy() for t in (w, b, x)]
        for a, c in zip(got["eager"], got["compiled"]):
            assert (a is None) == (c is None)
            if a is not None:
                _same(a, c, backend)
    assert cf.stats["replays"] == 2


def test_an_argument_computed_by_an_outside_graph(backend):
    w = ag.tensor(np.array([0.3, -0.7]), backend=backend, requires_grad=True)
    f = lambda h: ag.sum(ag.sin(h * w))  # noqa: E731
    cf = ag.compile(f)
    v = ag.tensor(np.array([1.0, 2.0]), backend=backend, requires_grad=True)
    for _ in range(4):
        got = {}
        for name, fn in (("eager", f), ("compiled", cf)):
            v.grad = w.grad = None
            _quiet(fn, v * v + 1.0).backward()
            got[name] = _grads([v, w])
        for a, c in zip(got["eager"], got["compiled"]):
            _same(a, c, backend)
    assert cf.stats["replays"] == 2


def test_parameter_hooks_run_where_eager_runs_them(backend):
    model = _mlp(backend)
    cmodel = ag.compile(model)
    x, y = _data(backend)
    weight = model[0].weight
    for _ in range(3):
        F.cross_entropy(cmodel(x), y).backward()
    seen = []
    handle = weight.register_hook(lambda g: seen.append(1) or g * 10.0)
    got = {}
    for name, fn in (("eager", model), ("compiled", cmodel)):
        model.zero_grad()
        F.cross_entropy(_quiet(fn, x), y).backward()
        got[name] = _grads(model.parameters())
    handle.remove()
    assert seen == [1, 1]
    for a, c in zip(got["eager"], got["compiled"]):
        _same(a, c, backend)
    assert cmodel.stats == {"recordings": 2, "replays": 2, "eager": 0}


def test_a_hook_inside_the_function_runs_it_eagerly():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []

    def f(x):
        h = x * w
        h.register_hook(lambda g: seen.append(1))
        return ag.sum(h * h)

    cf = ag.compile(f)
    with pytest.warns(RuntimeWarning, match="hook"):
        cf(ag.tensor([1.0, 1.0])).backward()
    cf(ag.tensor([1.0, 1.0])).backward()
    assert seen == [1, 1] and cf.stats["eager"] == 1


def test_create_graph_gives_right_gradients_that_refuse_to_be_differentiated(backend):
    w = ag.tensor(np.array([0.3, -0.7]), backend=backend, requires_grad=True)
    f = lambda x: ag.sum(ag.sin(x * w))  # noqa: E731
    cf = ag.compile(f)
    several = ag.compile(_two(w, w))
    x = ag.tensor(np.array([1.0, 2.0]), backend=backend)
    for _ in range(3):
        cf(x), several(x)
    got = {}
    for name, fn in (("eager", f), ("compiled", cf)):
        w.grad = None
        fn(x).backward(create_graph=True)
        got[name] = w.grad.numpy()
        if name == "compiled":
            with pytest.raises(RuntimeError, match=r"ag.compile\(.*\): a gradient through the "
                                                   "outputs of a compiled function was "
                                                   "differentiated again"):
                ag.sum(w.grad * w.grad).backward()
    _same(got["eager"], got["compiled"], backend)
    _same(ag.grad(cf)(x).numpy(), ag.grad(f)(x).numpy(), backend)  # w captured: recorded
    recorded = []  # calls of a new signature (x requires grad) are recorded, eagerly
    with pytest.raises(RuntimeError, match="differentiated again"):
        for _ in range(3):
            recorded.append(ag.hessian(cf)(x).numpy())
    assert recorded
    for h in recorded:
        _same(h, ag.hessian(f)(x).numpy(), backend)
    w.grad = None
    o1, o2 = several(x)
    (ag.sum(o1) + o2).backward(create_graph=True)
    with pytest.raises(RuntimeError, match="differentiated again"):
        ag.sum(w.grad).backward()
    assert cf.stats["replays"] >= 3 and several.stats["replays"] == 2


def test_retain_graph_and_a_second_backward(backend):
    w = ag.tensor(np.array([0.3, -0.7]), backend=backend, requires_grad=True)
    f = lambda x: ag.sum(ag.sin(x * w))  # noqa: E731
    cf = ag.compile(f)
    x = ag.tensor(np.array([1.0, 2.0]), backend=backend)
    for _ in range(2):
        cf(x)
    got = {}
    for name, fn in (("eager", f), ("compiled", cf)):
        w.grad = None
        out = fn(x)
        out.backward(retain_graph=True)
        out.backward()
        got[name] = w.grad.numpy()
        with pytest.raises(RuntimeError, match="second time"):
            out.backward()
    _same(got["eager"], got["compiled"], backend)


def test_each_call_keeps_its_own_saved_values(backend):
    w = ag.tensor(np.array([0.3, -0.7]), backend=backend, requires_grad=True)
    f = lambda x: ag.sum(ag.exp(x * w))  # noqa: E731
    cf = ag.compile(f)
    xs = [ag.tensor(np.array([1.0, 2.0]) * k, backend=backend) for k in range(1, 5)]
    got = {}
    for name, fn in (("eager", f), ("compiled", cf)):
        outs = [fn(x) for x in xs]  # all alive at once, then differentiated in reverse
        grads = []
        for out in reversed(outs):
            w.grad = None
            out.backward()
            grads.append(w.grad.numpy())
        got[name] = grads
    assert cf.stats["replays"] == 2
    for a, c in zip(got["eager"], got["compiled"]):
        _same(a, c, backend)


def test_a_parameter_updated_before_backward_is_refused_as_eagerly():
    model = _mlp("numpy")
    opt = optim.SGD(model.parameters(), lr=0.1)
    cmodel = ag.compile(model)
    x, y = _data("numpy")
    for fn in (model, cmodel, cmodel, cmodel):
        opt.zero_grad()
        F.cross_entropy(fn(x), y).backward()
        opt.step()
        loss = F.cross_entropy(fn(x), y)
        opt.step()  # changes the weights the pending backward needs
        with pytest.raises(RuntimeError, match="changed in place"):
            loss.backward()


def test_no_memory_growth_over_a_thousand_calls():
    w = ag.tensor(np.linspace(-1.0, 1.0, 64), requires_grad=True)

    def f(x):
        for _ in range(5):
            x = ag.tanh(x * w)
        return ag.sum(x)

    cf = ag.compile(f)
    x = ag.tensor(np.ones(64))
    for _ in range(10):
        cf(x).backward()
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(100):
            w.grad = None
            cf(x).backward()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            w.grad = None
            cf(x).backward()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 16_000  # a leak of one array per call would be 512 kB
    assert cf.stats["replays"] == 1108


def test_the_backward_program_is_shown(backend):
    cmodel = ag.compile(_mlp(backend))
    x, y = _data(backend)
    for _ in range(3):
        F.cross_entropy(cmodel(x), y).backward()
    text = str(cmodel.program)
    assert "saved for the backward" in text
    backward = str(cmodel.program.backward)
    assert "gradient of output 0" in backward and "saved by the forward" in backward


def test_jit_hands_the_forward_and_backward_to_jax():
    pytest.importorskip("jax")
    model = _mlp("jax")
    cmodel = ag.compile(model, jit=True)
    x, y = _data("jax")
    for _ in range(3):
        model.zero_grad()
        F.cross_entropy(cmodel(x), y).backward()
    assert cmodel.program.jitted is not None
    assert cmodel.program.backward.program.jitted is not None
    got = _grads(model.parameters())
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    for a, c in zip(_grads(model.parameters()), got):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


def test_an_operation_computed_twice_is_computed_once(backend):
    w = ag.tensor(np.array([0.3, -0.7]), backend=backend, requires_grad=True)

    def f(x):
        a = ag.exp(x * w)
        b = ag.exp(x * w)  # the same ops on the same values
        return ag.sum(a * b), b * 1.0

    cf = ag.compile(f)
    x = ag.tensor(np.array([1.0, 2.0]), backend=backend)
    for _ in range(3):
        w.grad = None
        loss, b = cf(x)
        loss.backward()
    assert "(again exp)" in str(cf.program)
    got = w.grad.numpy()
    w.grad = None
    loss_e, b_e = f(x)
    loss_e.backward()
    _same(loss.numpy(), loss_e.numpy(), backend)
    _same(b.numpy(), b_e.numpy(), backend)
    _same(got, w.grad.numpy(), backend)


def test_an_argument_read_only_through_detach_gets_no_gradient(backend):
    w = ag.tensor(np.array([0.3, -0.7]), backend=backend, requires_grad=True)
    f = lambda x: ag.sum(ag.exp(x.detach() * w) * x.detach())  # noqa: E731
    cf = ag.compile(f)
    for i in range(4):
        x = ag.tensor(np.array([1.0, 2.0]) * (i + 1), backend=backend, requires_grad=True)
        got = {}
        for name, fn in (("eager", f), ("compiled", cf)):
            w.grad = None
            _quiet(fn, x).backward()
            got[name] = w.grad.numpy()
            assert x.grad is None
        _same(got["eager"], got["compiled"], backend)
    assert cf.stats["replays"] == 2


def test_dropout_and_batchnorm_in_a_compiled_model(backend):
    def build():
        ag.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 8, dtype="float64", backend=backend),
                             nn.Dropout(0.5), nn.ReLU(),
                             nn.BatchNorm1d(8, dtype="float64", backend=backend),
                             nn.Linear(8, 3, dtype="float64", backend=backend))

    runs = {}
    for compiled in (False, True):
        model = build()
        ag.manual_seed(1)  # the same dropout masks for both
        fn = ag.compile(model) if compiled else model
        seen = []
        for i in range(4):
            x, y = _data(backend, seed=i)
            model.zero_grad()
            F.cross_entropy(_quiet(fn, x), y).backward()
            seen += _grads(model.parameters()) + [model[3].running_mean.numpy()]
        runs[compiled] = seen
    for a, b in zip(runs[False], runs[True]):
        _same(a, b, backend)
