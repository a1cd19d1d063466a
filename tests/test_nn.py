"""anygrad.nn: functions (gradients and PyTorch values), Module bookkeeping, layers,
initialisation, state dicts across backends, and a tiny model trained on each backend."""
from __future__ import annotations

import math

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
import anygrad.optim as optim
from conftest import host, make, random


# ----------------------------------------------------------------- functions
# (anygrad name, keyword arguments, smooth: whether second derivatives are checked)
ACTIVATIONS = [
    ("relu", {}, False),
    ("leaky_relu", {"negative_slope": 0.2}, False),
    ("sigmoid", {}, True),
    ("tanh", {}, True),
    ("gelu", {}, True),
    ("gelu", {"approximate": "tanh"}, True),
    ("softmax", {"dim": -1}, True),
    ("log_softmax", {"dim": 0}, True),
    ("softplus", {}, True),
    ("erf", {}, True),
]
ACTIVATION_IDS = [f"{name}{kwargs or ''}" for name, kwargs, _ in ACTIVATIONS]


@pytest.mark.parametrize("name, kwargs, smooth", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_gradients_match_finite_differences(name, kwargs, smooth, backend):
    x = make(random((3, 4), 1, -2.5, 2.5), backend)
    fn = getattr(F, name)
    assert ag.gradcheck(lambda a: fn(a, **kwargs), [x])
    if smooth:
        assert ag.gradgradcheck(lambda a: fn(a, **kwargs), [x])


@pytest.mark.parametrize("name, kwargs, smooth", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_values_and_gradients_match_torch(name, kwargs, smooth, backend):
    torch = pytest.importorskip("torch")
    # Exact zeros test the conventions at kinks (relu'(0) = 0, leaky_relu'(0) = slope).
    data = np.concatenate([random((3, 4), 2, -6, 6), np.zeros((1, 4))])
    x = make(data, backend)
    got = getattr(F, name)(x, **kwargs)
    ag.sum(got * got).backward()
    torch_fn = getattr(torch.nn.functional, name, None) or getattr(torch, name)
    tx = torch.tensor(data, requires_grad=True)
    want = torch_fn(tx, **kwargs)
    (want * want).sum().backward()
    np.testing.assert_allclose(host(got), want.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_erf_is_accurate_to_double_precision_everywhere(backend):
    points = np.concatenate([np.linspace(-10, 10, 401), [0.0, 1.0, -1.0, 8.0, 30.0, 1e4, -1e4]])
    got = host(F.erf(make(points, backend, requires_grad=False)))
    want = np.array([math.erf(v) for v in points])
    np.testing.assert_allclose(got, want, rtol=4e-16, atol=1e-16)


def test_linear_function_matches_matmul_and_checks_features(backend):
    x, w, b = make(random((5, 3), 1), backend), make(random((2, 3), 2), backend), make(random((2,), 3), backend)
    np.testing.assert_allclose(host(F.linear(x, w, b)), host(x) @ host(w).T + host(b), rtol=1e-13)
    assert ag.gradcheck(F.linear, [x, w, b])
    with pytest.raises(ValueError, match=r"linear: input of shape \(5, 3\) .*weight of shape \(3, 2\) "
                                         r"expects 2"):
        F.linear(x, ag.matrix_transpose(w))


@pytest.mark.parametrize("start, end, shape", [(1, -1, (2, 60)), (0, -1, (120,)), (1, 2, (2, 12, 5)),
                                               (2, 2, (2, 3, 4, 5))])
def test_flatten_merges_the_named_dimensions(start, end, shape, backend):
    x = make(np.zeros((2, 3, 4, 5)), backend, requires_grad=False)
    assert nn.Flatten(start, end)(x).shape == shape


# ----------------------------------------------------------------- dropout
def test_dropout_in_eval_mode_is_the_identity(backend):
    x = make(random((50,), 1), backend)
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x


def test_dropout_in_training_masks_and_rescales(backend):
    x = make(np.ones((200, 50)), backend)
    y = nn.Dropout(0.25)(x)
    values = host(y)
    kept = values != 0
    np.testing.assert_allclose(values[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02  # 10,000 draws: 5 standard deviations
    ag.sum(y).backward()
    np.testing.assert_allclose(host(x.grad), values)  # the gradient is the same mask


def test_dropout_mask_follows_the_seed(backend):
    x = make(np.ones((4, 8)), backend)
    masks = []
    for _ in range(2):
        ag.manual_seed(7)
        masks.append(host(F.dropout(x, 0.5)))
    np.testing.assert_array_equal(*masks)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_edge_probabilities(p, backend):
    x = make(random((3, 3), 1), backend)
    np.testing.assert_allclose(host(F.dropout(x, p)), host(x) * (1 - p))


# ----------------------------------------------------------------- modules
class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4, dtype="float64")
        self.scale = nn.Parameter(ag.ones((4,), dtype="float64"))
        self.register_buffer("count", ag.zeros((), dtype="int64"))
        self.register_buffer("scratch", ag.zeros((4,)), persistent=False)

    def forward(self, x):
        return F.relu(self.fc(x)) * self.scale


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = _Block()
        self.act = nn.Tanh()
        self.head = nn.Sequential(nn.Linear(4, 2, dtype="float64"), nn.Identity())

    def forward(self, x):
        return self.head(self.act(self.first(x)))


def test_parameters_are_found_in_registration_order(backend):
    # As in PyTorch: module by module, depth first, a module's own before its children's.
    names = [name for name, _ in _Net().named_parameters()]
    assert names == ["first.scale", "first.fc.weight", "first.fc.bias", "head.0.weight", "head.0.bias"]
    assert [n for n, _ in _Net().named_parameters()] == names  # the same for every instance
    assert list(_Net().state_dict()) == ["first.scale", "first.count", "first.fc.weight",
                                         "first.fc.bias", "head.0.weight", "head.0.bias"]


def test_replacing_a_parameter_keeps_its_place(backend):
    net = _Block()
    net.fc.weight = nn.Parameter(ag.zeros((4, 3), dtype="float64"))
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc.weight", "fc.bias"]


def test_shared_modules_and_parameters_are_listed_once(backend):
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(net.parameters())) == 2
    assert [type(m).__name__ for m in net.modules()] == ["Sequential", "Linear", "ReLU"]
    assert [n for n, _ in net.named_children()] == ["0", "1", "2"]


def test_train_and_eval_reach_every_submodule(backend):
    net = _Net().eval()
    assert not any(m.training for m in net.modules())
    assert all(m.training for m in net.train().modules())


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none, backend):
    net = _Net()
    ag.sum(net(make(random((5, 3), 1), backend))).backward()
    net.zero_grad(set_to_none=set_to_none)
    for p in net.parameters():
        if set_to_none:
            assert p.grad is None
        else:
            np.testing.assert_array_equal(host(p.grad), np.zeros(p.shape))


def test_parameter_is_a_leaf_that_requires_grad(backend):
    p = nn.Parameter(ag.tensor([1.0, 2.0]) * 2)
    assert p.requires_grad and p.is_leaf and p.backend.name == backend
    assert repr(p).startswith("Parameter containing:\ntensor([2., 4.]")
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        nn.Parameter(ag.tensor([1, 2]))


def test_registration_mistakes_are_explained(backend):
    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\); call super\(\).__init__\(\)"):
        Early()
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign Tensor to parameter 'weight' of Linear: wrap "
                                        r"it as nn.Parameter"):
        layer.weight = ag.zeros((2, 2))


def test_repr_shows_the_tree(backend):
    assert repr(_Net()) == (
        "_Net(\n"
        "  (first): _Block(\n"
        "    (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        "  )\n"
        "  (act): Tanh()\n"
        "  (head): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=2, bias=True)\n"
        "    (1): Identity()\n"
        "  )\n"
        ")"
    )


def test_sequential_indexing(backend):
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(net[-1], nn.Linear) and len(net) == 3
    assert [type(m).__name__ for m in net[1:]] == ["ReLU", "Linear"]
    x = make(random((4, 2), 1), backend, dtype="float32", requires_grad=False)
    np.testing.assert_allclose(host(net(x)), host(net[2](net[1](net[0](x)))))


# ----------------------------------------------------------------- layers and init
def test_linear_initialisation_follows_pytorch(backend):
    layer = nn.Linear(16, 1000)
    bound = 1 / math.sqrt(16)
    for p in (layer.weight, layer.bias):
        values = host(p)
        assert p.dtype == ag.get_backend(backend).xp.float32
        assert np.all(np.abs(values) <= bound) and np.abs(values).max() > 0.95 * bound
    assert layer.weight.shape == (1000, 16) and layer.bias.shape == (1000,)
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_matches_torch(backend):
    torch = pytest.importorskip("torch")
    layer = nn.Linear(3, 2, dtype="float64")
    x = make(random((5, 3), 1), backend)
    ag.sum(layer(x) ** 2).backward()
    tw = torch.tensor(host(layer.weight), requires_grad=True)
    tb = torch.tensor(host(layer.bias), requires_grad=True)
    tx = torch.tensor(host(x), requires_grad=True)
    (torch.nn.functional.linear(tx, tw, tb) ** 2).sum().backward()
    for ours, theirs in ((x, tx), (layer.weight, tw), (layer.bias, tb)):
        np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-12)


def test_same_seed_gives_the_same_weights_on_every_backend(backend):
    ag.manual_seed(3)
    here = host(nn.Linear(4, 3).weight)
    with ag.use_backend("numpy"):
        ag.manual_seed(3)
        reference = host(nn.Linear(4, 3).weight)
    np.testing.assert_array_equal(here, reference)


LAYER_EQUIVALENTS = [
    (nn.ReLU(), F.relu), (nn.LeakyReLU(0.1), lambda x: F.leaky_relu(x, 0.1)),
    (nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh), (nn.GELU("tanh"), lambda x: F.gelu(x, "tanh")),
    (nn.Softmax(0), lambda x: F.softmax(x, 0)), (nn.LogSoftmax(), F.log_softmax),
    (nn.Identity(), lambda x: x),
]


@pytest.mark.parametrize("layer, function", LAYER_EQUIVALENTS, ids=lambda v: type(v).__name__)
def test_parameter_free_layers_apply_their_function(layer, function, backend):
    x = make(random((3, 4), 1), backend)
    np.testing.assert_array_equal(host(layer(x)), host(function(x)))


# init function, expected std of the distribution for a (200, 300) weight (fan_in 300, fan_out 200)
INIT_STD = [
    (lambda t: nn.init.xavier_uniform_(t), math.sqrt(2 / 500)),
    (lambda t: nn.init.xavier_normal_(t, gain=2.0), 2 * math.sqrt(2 / 500)),
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda t: nn.init.uniform_(t, -2.0, 2.0), 4 / math.sqrt(12)),
    (lambda t: nn.init.normal_(t, 1.0, 0.5), 0.5),
    (lambda t: nn.init.zeros_(t), 0.0),
    (lambda t: nn.init.ones_(t), 0.0),
]


@pytest.mark.parametrize("initialise, std", INIT_STD)
def test_init_draws_with_pytorch_scales(initialise, std, backend):
    t = nn.Parameter(ag.zeros((200, 300), dtype="float32"))
    assert initialise(t) is t
    assert t.shape == (200, 300) and t.dtype == ag.get_backend(backend).xp.float32
    np.testing.assert_allclose(host(t).std(), std, rtol=0.02)  # 60,000 draws


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for args in [("linear",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                 ("leaky_relu", 0.2), ("selu",), ("conv2d",)]:
        assert nn.init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")


def test_fans_need_two_dimensions(backend):
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        nn.init.xavier_uniform_(ag.zeros((5,)))


# ----------------------------------------------------------------- state dicts
def _other(backend):
    return "array_api_strict" if backend == "numpy" else "numpy"


def test_state_dict_round_trip_across_backends(backend):
    source = _Net()
    ag.manual_seed(99)
    with ag.use_backend(_other(backend)):
        target = _Net()
    target.load_state_dict(source.state_dict())
    x = random((5, 3), 4)
    for p in target.parameters():
        assert p.backend.name == _other(backend) and p.dtype == p.backend.xp.float64
    np.testing.assert_allclose(host(target(make(x, _other(backend)))), host(source(make(x, backend))),
                               rtol=1e-14)


def test_state_dict_is_a_detached_snapshot(backend):
    net = _Net()
    state = net.state_dict()
    assert all(not t.requires_grad for t in state.values())
    before = host(state["first.fc.weight"])
    loss = ag.sum(net(make(random((5, 3), 1), backend)))
    loss.backward()
    optim.SGD(net.parameters(), lr=0.1).step()
    np.testing.assert_array_equal(host(state["first.fc.weight"]), before)


def test_load_state_dict_converts_arrays_and_dtypes(backend):
    net = nn.Linear(2, 2)  # float32
    state = {"weight": np.arange(4.0).reshape(2, 2), "bias": np.ones(2)}  # numpy float64
    net.load_state_dict(state)
    assert net.weight.dtype == net.weight.backend.xp.float32
    np.testing.assert_array_equal(host(net.weight), [[0, 1], [2, 3]])


def test_load_state_dict_names_every_problem(backend):
    net = _Net()
    state = net.state_dict()
    state["first.fc.weight"] = ag.zeros((2, 3))
    del state["head.0.bias"]
    state["head.1.weight"] = ag.zeros((1,))
    before = host(net.first.scale)
    state["first.scale"] = ag.zeros((4,))
    with pytest.raises(RuntimeError) as caught:
        net.load_state_dict(state)
    message = str(caught.value)
    assert "size mismatch for 'first.fc.weight': the checkpoint has shape (2, 3), this model has " \
           "shape (4, 3)" in message
    assert "missing key(s): 'head.0.bias'" in message
    assert "unexpected key(s): 'head.1.weight'" in message
    np.testing.assert_array_equal(host(net.first.scale), before)  # nothing was loaded


def test_load_state_dict_not_strict_reports_keys(backend):
    net = nn.Linear(2, 2)
    result = net.load_state_dict({"weight": ag.zeros((2, 2)), "extra": ag.zeros(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(host(net.weight), np.zeros((2, 2)))


def test_to_moves_parameters_in_place(backend):
    net = _Net()
    weight = net.first.fc.weight
    x = random((5, 3), 4)
    before = host(net(make(x, backend)))
    assert net.to(_other(backend)) is net
    assert net.first.fc.weight is weight and weight.backend.name == _other(backend)
    assert net.first.count.backend.name == _other(backend)
    np.testing.assert_allclose(host(net(make(x, _other(backend)))), before, rtol=1e-13)


# ----------------------------------------------------------------- training end to end
def _train_losses(backend_name, steps=5):
    """Losses of a tiny MLP trained with Adam from seed 0 on `backend_name`."""
    with ag.use_backend(backend_name):
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 3))
        opt = optim.Adam(model.parameters(), lr=1e-2)
        x = ag.tensor(random((32, 4), 1), dtype="float32", backend=backend_name)
        y = ag.tensor(np.random.default_rng(2).integers(0, 3, size=32), backend=backend_name)
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y, label_smoothing=0.05)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def test_tiny_mlp_trains_the_same_on_every_backend(backend):
    losses = _train_losses(backend)
    assert losses[-1] < losses[0]
    np.testing.assert_allclose(losses, _train_losses("numpy"), rtol=1e-5)


def test_a_deep_copy_of_a_module_is_independent_and_shares_the_backend(backend):
    # PyTorch programs copy a model for a target network or an average of weights.
    import copy

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    twin = copy.deepcopy(model)
    x = ag.randn((5, 3), dtype="float32")
    assert np.array_equal(model(x).detach().numpy(), twin(x).detach().numpy())
    assert twin[0].weight is not model[0].weight
    assert twin[0].weight.backend is model[0].weight.backend
    with ag.no_grad():
        twin[0].weight += 1.0
    assert not np.array_equal(model[0].weight.detach().numpy(), twin[0].weight.detach().numpy())
    ag.sum(twin(x)).backward()
    assert twin[0].weight.grad is not None and model[0].weight.grad is None
