"""anygrad.torch: PyTorch's names, argument conventions and results over anygrad."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import anygrad as ag
import anygrad.torch as torch
import anygrad.torch.nn as nn
import anygrad.torch.nn.functional as F
from anygrad.backends import BackendUnavailable
from anygrad.torch.utils.data import DataLoader, Dataset, TensorDataset, random_split


def _np(t):
    return np.asarray(t.numpy())


# ------------------------------------------------------------------ factories and dtypes
def test_factories_take_shapes_either_way_and_make_float32(backend):
    for make in (torch.zeros, torch.ones, torch.randn, torch.rand, torch.empty):
        a, b = make(2, 3), make((2, 3))
        assert a.shape == b.shape == (2, 3)
        assert a.dtype == b.dtype == torch.float32
        assert a.backend.name == backend
    assert torch.randn(4, 1).shape == (4, 1)
    assert torch.zeros(torch.Size([2, 2])).shape == (2, 2)
    assert torch.zeros(2, dtype=torch.long).dtype == ag.int64
    assert torch.full((2,), 1.5).dtype == torch.float32
    assert torch.full((2,), 3).dtype == torch.int64
    assert torch.eye(3).dtype == torch.float32
    assert torch.linspace(0, 1, 5).dtype == torch.float32
    assert torch.arange(5).dtype == torch.int64
    assert torch.arange(0, 1, 0.25).dtype == torch.float32
    np.testing.assert_allclose(_np(torch.arange(0, 1, 0.25)), [0, 0.25, 0.5, 0.75])


def test_tensor_infers_pytorch_dtypes(backend):
    assert torch.tensor([1.0, 2.0]).dtype == torch.float32
    assert torch.tensor(3.5).dtype == torch.float
    assert torch.tensor([1, 2]).dtype == torch.int64
    assert torch.tensor([True]).dtype == torch.bool
    assert torch.tensor(np.zeros(2)).dtype == torch.float64  # arrays keep their dtype
    assert torch.tensor([1.0], dtype=torch.double).dtype == ag.float64
    a = np.arange(3.0)
    shared = torch.from_numpy(a)
    assert shared.dtype == torch.float64 and _np(shared).tolist() == [0.0, 1.0, 2.0]


def test_legacy_constructors_and_isinstance(backend):
    assert torch.LongTensor([1, 2]).dtype == ag.int64
    assert torch.FloatTensor([1, 2]).dtype == ag.float32
    assert torch.Tensor(2, 3).shape == (2, 3) and torch.Tensor(2, 3).dtype == ag.float32
    assert torch.Tensor([1, 2]).dtype == ag.float32  # data, not a shape
    x = torch.zeros(2)
    assert isinstance(x, torch.Tensor) and isinstance(x, torch.FloatTensor)
    assert not isinstance(x, torch.LongTensor)
    assert torch.is_tensor(x) and not torch.is_tensor(np.zeros(2))
    assert torch.numel(torch.zeros(2, 3)) == 6 and torch.Size((2, 3)).numel() == 6


def test_set_default_dtype_changes_the_factories_and_restores():
    assert torch.get_default_dtype() == torch.float32
    before = ag.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float64)
        assert torch.zeros(2).dtype == ag.float64 and torch.tensor([1.0]).dtype == ag.float64
    finally:
        torch.set_default_dtype(torch.float32)
        ag.set_default_dtype(before)
    assert torch.zeros(2).dtype == ag.float32


# ------------------------------------------------------------------ devices
def test_cpu_device_is_the_current_host_backend(backend):
    d = torch.device("cpu")
    assert str(d) == "cpu" and d == "cpu" and d == torch.device(d)
    assert str(torch.device("cuda", 1)) == "cuda:1" == str(torch.device("cuda:1"))
    x = torch.ones(3, device="cpu")
    assert x.backend.name == backend
    y = torch.zeros(2, device=d)
    assert y.backend.name == backend
    assert x.to("cpu").backend.name == backend and x.cpu().backend.name == backend
    assert x.to(d, torch.float64).dtype == ag.float64
    assert x.to(torch.float64).dtype == ag.float64
    assert not x.is_cuda
    assert torch.device(x.device) == "cpu"  # any library's device object reads as one
    assert x.to(x.device).backend.name == backend


def test_set_default_device(backend):
    try:
        torch.set_default_device("cpu")
        assert torch.zeros(2).backend.name == backend
        assert torch.get_default_device() == torch.device("cpu")
    finally:
        torch.set_default_device(None)


def test_cuda_without_a_gpu_library_names_what_to_install(backend):
    try:
        ag.get_backend("cupy")
        pytest.skip("CuPy is usable here")
    except BackendUnavailable:
        pass
    assert not torch.cuda.is_available() and torch.cuda.device_count() == 0
    assert torch.accelerator.current_accelerator() is None
    torch.cuda.synchronize()  # nothing queued: returns
    with pytest.raises(BackendUnavailable, match="cupy|CUDA build"):
        torch.zeros(2, device="cuda")
    with pytest.raises(BackendUnavailable, match="cupy|CUDA build"):
        torch.ones(2).cuda()


def test_module_to_takes_pytorch_spellings(backend):
    model = nn.Linear(3, 2)
    assert model.to("cpu") is model and model.weight.backend.name == backend
    model.to(torch.device("cpu"))
    assert model.double().weight.dtype == ag.float64
    assert model.float().weight.dtype == ag.float32
    assert model.to(torch.float64).bias.dtype == ag.float64
    assert model.to("cpu", torch.float32).weight.dtype == ag.float32
    with pytest.raises(TypeError, match="one device and one dtype"):
        model.to("cpu", "cpu")


# ------------------------------------------------------------------ PyTorch's results
def test_max_min_with_dim_give_values_and_indices(backend):
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    x = torch.tensor(a)
    values, indices = torch.max(x, 1)
    np.testing.assert_array_equal(_np(values), a.max(1))
    np.testing.assert_array_equal(_np(indices), a.argmax(1))
    out = torch.min(x, dim=0, keepdim=True)
    assert out.values.shape == (1, 3)
    np.testing.assert_array_equal(_np(out.indices), a.argmin(0, keepdims=True))
    assert float(torch.max(x)) == 7.0
    np.testing.assert_array_equal(_np(torch.max(x, torch.full((2, 3), 4.0, dtype=torch.float64))),
                                  np.maximum(a, 4.0))


def test_sort_topk_return_values_and_indices(backend):
    a = np.array([[3.0, 1.0, 2.0, 5.0]])
    x = torch.tensor(a)
    values, indices = torch.sort(x, dim=1, descending=True)
    np.testing.assert_array_equal(_np(values), [[5.0, 3.0, 2.0, 1.0]])
    np.testing.assert_array_equal(_np(indices), [[3, 0, 2, 1]])
    top = x.topk(2)
    np.testing.assert_array_equal(_np(top.values), [[5.0, 3.0]])
    np.testing.assert_array_equal(_np(top.indices), [[3, 0]])
    low = torch.topk(x, 1, largest=False)
    assert _np(low.values).tolist() == [[1.0]]


def test_std_and_var_are_unbiased_by_default(backend):
    a = np.random.default_rng(0).normal(size=(4, 5))
    x = torch.tensor(a)
    np.testing.assert_allclose(_np(torch.std(x)), a.std(ddof=1))
    np.testing.assert_allclose(_np(torch.var(x, 1)), a.var(1, ddof=1))
    np.testing.assert_allclose(_np(torch.std(x, 0, unbiased=False)), a.std(0))
    np.testing.assert_allclose(_np(torch.var(x, dim=1, correction=0, keepdim=True)),
                               a.var(1, keepdims=True))
    with pytest.raises(TypeError, match="unbiased"):
        torch.std(x, unbiased=True, correction=1)


def test_reductions_and_shape_functions(backend):
    a = np.arange(24.0).reshape(2, 3, 4)
    x = torch.tensor(a)
    np.testing.assert_array_equal(_np(torch.sum(x, dim=(0, 2))), a.sum((0, 2)))
    np.testing.assert_array_equal(_np(torch.mean(x, 1, keepdim=True)), a.mean(1, keepdims=True))
    np.testing.assert_array_equal(_np(torch.cat([x, x], 1)), np.concatenate([a, a], 1))
    assert torch.stack([x, x], dim=1).shape == (2, 2, 3, 4)
    assert torch.flatten(x, 1).shape == (2, 12)
    np.testing.assert_array_equal(_np(torch.argmax(x, dim=2)), a.argmax(2))
    assert torch.einsum("ijk,ijk->i", x, x).shape == (2,)
    assert torch.bmm(x, torch.tensor(a.transpose(0, 2, 1))).shape == (2, 3, 3)
    with pytest.raises(ValueError, match="bmm"):
        torch.bmm(x[0], x[0])
    assert torch.allclose(x, x + 1e-9) and not torch.allclose(x, x + 1)
    np.testing.assert_array_equal(_np(torch.where(x > 5, x, torch.zeros_like(x))),
                                  np.where(a > 5, a, 0))
    assert torch.clamp(x, 0, 3).shape == x.shape


def test_random_functions(backend):
    torch.manual_seed(0)
    a = torch.randint(0, 5, (100,))
    assert a.dtype == torch.int64 and 0 <= int(a.min()) and int(a.max()) < 5
    p = torch.randperm(10)
    assert sorted(_np(p).tolist()) == list(range(10))
    torch.manual_seed(3)
    first = _np(torch.randn(3))
    torch.manual_seed(3)
    np.testing.assert_array_equal(first, _np(torch.randn(3)))
    assert torch.normal(0.0, 1.0, size=(2, 2)).shape == (2, 2)
    assert torch.randn_like(torch.zeros(2, 3, dtype=torch.float64)).dtype == ag.float64
    probs = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(_np(torch.multinomial(probs, 2, replacement=True)),
                                  [[1, 1], [2, 2]])


# ------------------------------------------------------------------ Tensor methods
def test_split_and_chunk_follow_pytorch_sizes(backend):
    x = torch.arange(10)
    assert [t.shape[0] for t in x.split(4)] == [4, 4, 2]
    assert [t.shape[0] for t in x.split([3, 7])] == [3, 7]
    assert [t.shape[0] for t in x.chunk(3)] == [4, 4, 2]  # ceil(10 / 3) each
    assert [t.shape[0] for t in torch.chunk(torch.arange(6), 4)] == [2, 2, 2]
    with pytest.raises(ValueError, match="add up"):
        x.split([3, 3])
    m = torch.zeros(2, 6)
    assert [t.shape for t in torch.split(m, 2, dim=1)] == [(2, 2)] * 3


def test_small_methods(backend):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.mm(x).shape == (2, 2) and x.view_as(torch.zeros(4)).shape == (4,)
    assert x.contiguous() is x and x.nelement() == 4 and x.ravel().shape == (4,)
    assert x.long().dtype == ag.int64 and x.int().dtype == ag.int32
    assert x.bool().dtype == ag.bool
    assert x.type_as(torch.zeros(1, dtype=torch.long)).dtype == ag.int64
    assert _np(x.eq(1.0)).tolist() == [[True, False], [False, False]]
    assert bool(x.gt(0).all()) and not bool(x.lt(0).any())
    assert _np(x.ge(2).all(dim=1)).tolist() == [False, True]
    assert x.new_zeros(3).dtype == x.dtype and x.new_ones((2, 1)).shape == (2, 1)
    assert float(x.new_full((2,), 7.0)[0]) == 7.0 and x.new_tensor([1, 2]).dtype == x.dtype
    assert x.size(1) == 2 and x.size() == (2, 2)
    assert sorted(_np(torch.tensor([3, 1, 3]).unique()).tolist()) == [1, 3]
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]] and x[0, 1].item() == 2.0
    assert _np(x.masked_fill(x > 2, 0.0)).tolist() == [[1.0, 2.0], [0.0, 0.0]]


def test_format_spec_on_one_element_tensors(backend):
    loss = torch.tensor(0.123456)
    assert f"{loss:.3f}" == "0.123" and "{:+.2f}".format(torch.tensor([2.0])) == "+2.00"
    with pytest.raises(TypeError):
        f"{torch.zeros(2):.3f}"


def test_masked_fill_gradient(backend):
    x = torch.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=torch.float64,
                     requires_grad=True)
    mask = torch.tensor([[True, False, True], [False, False, True]])
    assert ag.gradcheck(lambda t: (t.masked_fill(mask, 0.5) ** 2).sum(), (x,))


def test_in_place_methods(backend):
    x = torch.ones(3)
    assert x.add_(2.0) is x and _np(x).tolist() == [3.0, 3.0, 3.0]
    x.mul_(2).sub_(torch.ones(3), alpha=2).div_(2)
    assert _np(x).tolist() == [2.0, 2.0, 2.0]
    x.clamp_(max=1.5)
    assert _np(x).tolist() == [1.5, 1.5, 1.5]
    assert x.unsqueeze_(0).shape == (1, 3) and x.zero_().sum().item() == 0
    torch.manual_seed(0)
    w = torch.empty(200).normal_(2.0, 0.1)
    assert abs(float(w.mean()) - 2.0) < 0.05
    u = torch.empty(200).uniform_(-1, 1)
    assert -1 <= float(u.min()) and float(u.max()) < 1


def test_in_place_respects_gradients(backend):
    p = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        p.add_(1.0)
    with pytest.raises(RuntimeError, match="no_grad"):
        p.clamp_(0, 0.5)
    with torch.no_grad():
        p.clamp_(0, 0.5).add_(1.0)
    assert _np(p).tolist() == [1.5, 1.5, 1.5]
    # On a tensor inside a graph, an in-place method is recorded as an op.
    x = torch.tensor([-2.0, 0.5, 3.0], dtype=torch.float64, requires_grad=True)
    y = x * 2
    y.clamp_(-1, 1)
    y.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [0.0, 2.0, 0.0])
    # A graph that read a tensor before it changed in place refuses backward.
    z = x * 1.0
    w = z.exp()
    with torch.no_grad():
        z.clamp_(0, 1)
    with pytest.raises(RuntimeError):
        w.sum().backward()


# ------------------------------------------------------------------ autograd, modes, files
def test_autograd_grad_returns_a_tuple_and_function_is_pytorchs(backend):
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad((x ** 3).sum(), x)
    np.testing.assert_allclose(_np(g), 3 * np.array([1.0, 4.0]))
    assert isinstance(torch.autograd.grad((x ** 2).sum(), [x]), tuple)

    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t ** 3

        @staticmethod
        def backward(ctx, grad_output):
            (t,) = ctx.saved_tensors
            return grad_output * 3 * t ** 2

    assert ag.gradcheck(lambda t: Cube.apply(t).sum(), (x,))


def test_no_grad_as_context_and_decorator(backend):
    x = torch.ones(2, requires_grad=True)

    @torch.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and f(x).requires_grad is False
    with torch.no_grad():
        assert not (x * 2).requires_grad
        with torch.enable_grad():
            assert (x * 2).requires_grad
    assert torch.is_grad_enabled()


def test_save_and_load_state_dict(backend, tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    other = nn.Linear(3, 2)
    other.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    np.testing.assert_array_equal(_np(other.weight), _np(model.weight))


def test_parameter_data_assignment_takes_the_values(backend):
    p = nn.Parameter(torch.ones(3))
    (p * 2).sum().backward()
    p.data = p.detach() - 0.5 * p.grad  # PyTorch's spelling of a manual update
    assert not isinstance(p.array, ag.Tensor) and p.requires_grad and p.is_leaf
    assert _np(p).tolist() == [0.0, 0.0, 0.0]
    other = "numpy" if backend != "numpy" else "array_api_strict"
    with pytest.raises(TypeError, match="backend"):
        p.data = ag.ones(3, backend=other)


def test_in_place_changes_through_data_reach_the_tensor_unrecorded(backend):
    lin = nn.Linear(3, 2)
    lin.weight.data.uniform_(-0.1, 0.1)  # outside no_grad, as PyTorch programs write it
    assert np.all(np.abs(_np(lin.weight)) <= 0.1)
    lin.bias.data.fill_(0.5)
    lin.bias.data[0] = 2.0
    assert _np(lin.bias).tolist() == [2.0, 0.5]
    x = torch.ones(4, 3)
    lin(x).sum().backward()
    before = _np(lin.weight)
    for p in lin.parameters():
        p.data.add_(p.grad, alpha=-0.1)
    np.testing.assert_allclose(_np(lin.weight), before - 0.1 * _np(lin.weight.grad), rtol=1e-6)
    assert lin.weight.is_leaf and lin.weight.node is None
    d = lin.bias.data
    assert not d.requires_grad and d.node is None


def test_a_backward_through_values_changed_by_data_raises(backend):
    """PyTorch would use the new values silently; anygrad names the op instead."""
    w = nn.Parameter(torch.ones(3))
    loss = (w * w).sum()
    w.data.mul_(3.0)
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


# ------------------------------------------------------------------ names not mapped
def test_unmapped_names_say_so():
    with pytest.raises(AttributeError, match="not mapped"):
        torch.stft  # noqa: B018
    with pytest.raises(AttributeError, match="anygrad.nn"):
        nn.Bilinear  # noqa: B018
    with pytest.raises(AttributeError, match="anygrad.nn.functional"):
        F.grid_sample  # noqa: B018
    with pytest.raises(AttributeError, match="anygrad.optim"):
        torch.optim.SparseAdam  # noqa: B018
    for name in ("jit", "distributed"):
        with pytest.raises(AttributeError, match=f"no '{name}'"):
            getattr(torch, name)
    import anygrad.torch.onnx  # importable, as programs import it up front

    with pytest.raises(AttributeError, match="no ONNX export"):
        anygrad.torch.onnx.export  # noqa: B018


# ------------------------------------------------------------------ utils.data
def test_tensor_dataset_loader(backend):
    x = torch.arange(10.0).reshape(10, 1)
    y = torch.arange(10)
    dataset = TensorDataset(x, y)
    loader = DataLoader(dataset, batch_size=4, num_workers=2)
    assert loader.dataset is dataset and len(loader) == 3
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 1), (4, 1), (2, 1)]
    np.testing.assert_array_equal(np.concatenate([_np(yb) for _, yb in batches]), np.arange(10))
    dropped = DataLoader(dataset, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and len(list(dropped)) == 2
    orders = []
    for _ in range(2):
        torch.manual_seed(1)
        orders.append(np.concatenate([_np(yb) for _, yb in DataLoader(dataset, 3, shuffle=True)]))
    np.testing.assert_array_equal(orders[0], orders[1])
    assert sorted(orders[0].tolist()) == list(range(10))


class _Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return torch.tensor([float(i)]), i * i


def test_map_style_dataset_and_collate(backend):
    batches = list(DataLoader(_Squares(), batch_size=2))
    assert len(batches) == 3
    xb, yb = batches[0]
    assert xb.shape == (2, 1) and yb.dtype == ag.int64 and _np(yb).tolist() == [0, 1]
    joined = list(DataLoader(_Squares(), batch_size=5, collate_fn=lambda s: [y for _, y in s]))
    assert joined == [[0, 1, 4, 9, 16]]
    torch.manual_seed(0)
    parts = random_split(_Squares(), [3, 2])
    assert [len(p) for p in parts] == [3, 2]
    seen = sorted(y for part in parts for _, y in (part[i] for i in range(len(part))))
    assert seen == [0, 1, 4, 9, 16]
    assert [len(p) for p in random_split(_Squares(), [0.6, 0.4])] == [3, 2]


def test_split_chunk_narrow_ravel_and_view_as_give_views_as_in_pytorch(backend):
    data = np.arange(12.0).reshape(3, 4)
    expected = data.copy()
    x = torch.tensor(data)
    x.narrow(1, 1, 2)[0, 0] = 100.0
    expected[0, 1] = 100.0
    first, _ = x.chunk(2, dim=0)
    first[0, 0] = -1.0
    expected[0, 0] = -1.0
    x.split(2, dim=1)[1][2, 1] = 5.0
    expected[2, 3] = 5.0
    x.view_as(torch.zeros(12))[1] = 7.0
    expected[0, 1] = 7.0
    x.ravel()[2] = 9.0
    expected[0, 2] = 9.0
    assert x.tolist() == expected.tolist()


def test_tensor_type_names_and_casts(backend):
    x = torch.zeros(2)
    assert x.type() == "torch.FloatTensor"
    assert x.type(torch.int64).dtype == torch.int64
    assert x.type("torch.LongTensor").dtype == torch.int64
    assert x.long().type() == "torch.LongTensor"
    with pytest.raises(TypeError, match="unknown tensor type"):
        x.type("torch.NoSuchTensor")


def test_step_lr_takes_an_integral_float_step():
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    assert torch.optim.lr_scheduler.StepLR(opt, 1.0).step_size == 1
    with pytest.raises(ValueError, match="step_size"):
        torch.optim.lr_scheduler.StepLR(opt, 1.5)


# ------------------------------------------------------------------ the default dtype of layers
def _layers():
    return [nn.Linear(2, 3), nn.LayerNorm(3), nn.Embedding(4, 2), nn.LSTM(2, 3), nn.GRUCell(2, 2),
            nn.MultiheadAttention(4, 2), nn.Conv2d(1, 2, 3), nn.BatchNorm1d(3),
            nn.Transformer(4, 2, 1, 1, 6)]


def test_set_default_dtype_makes_layers_float64_too(backend):
    before = ag.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float64)
        for layer in _layers():
            for name, p in layer.named_parameters():
                assert p.dtype == ag.float64, (type(layer).__name__, name)
        assert nn.Linear(2, 2, dtype=torch.float32).weight.dtype == ag.float32  # explicit wins
        mask = nn.Transformer.generate_square_subsequent_mask(2)
        assert mask.dtype == ag.float64
        x = torch.randn(3, 2)
        assert nn.Linear(2, 1)(x).dtype == ag.float64
    finally:
        torch.set_default_dtype(torch.float32)
        ag.set_default_dtype(before)
    assert all(p.dtype == ag.float32 for layer in _layers() for p in layer.parameters())


def test_anygrads_promotion_default_leaves_layers_alone(backend):
    before = ag.get_default_dtype()
    try:
        ag.set_default_dtype("float64" if before == ag.float32 else "float32")
        assert ag.nn.Linear(2, 2).weight.dtype == ag.float32
    finally:
        ag.set_default_dtype(before)


# ------------------------------------------------------------------ out=
def test_out_receives_the_result(backend):
    a, b = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0, 5.0, 6.0])
    c = torch.zeros(3)
    assert torch.add(a, b, out=c) is c and c.tolist() == [5.0, 7.0, 9.0]
    torch.mul(a, b, out=c)
    assert c.tolist() == [4.0, 10.0, 18.0]
    torch.exp(torch.zeros(3), out=c)
    assert c.tolist() == [1.0, 1.0, 1.0]
    m = torch.zeros(2, 2)
    torch.matmul(torch.eye(2), torch.tensor([[1.0, 2.0], [3.0, 4.0]]), out=m)
    assert m.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    joined = torch.zeros(6)
    torch.cat([a, b], out=joined)
    assert joined.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    values, indices = torch.zeros(2), torch.zeros(2, dtype=torch.long)
    got = torch.max(torch.tensor([[1.0, 5.0], [7.0, 2.0]]), 1, out=(values, indices))
    assert got.values is values and values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    counts = torch.zeros(4, dtype=torch.long)
    torch.arange(4, out=counts)
    assert counts.tolist() == [0, 1, 2, 3] and counts.dtype == ag.int64
    widened = torch.zeros(2, dtype=torch.float64)
    torch.add(torch.tensor([1, 2]), 1, out=widened)  # int result into a float: allowed
    assert widened.tolist() == [2.0, 3.0]


def test_out_refuses_what_would_be_silently_wrong(backend):
    a = torch.ones(3)
    with pytest.raises(ValueError, match=r"torch.add: out= has shape \(4,\).*\(3,\)"):
        torch.add(a, a, out=torch.zeros(4))
    with pytest.raises(TypeError, match="float32 cannot be cast.*int64"):
        torch.add(a, a, out=torch.zeros(3, dtype=torch.long))
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="torch.mul: out= does not support automatic"):
        torch.mul(w, a, out=torch.zeros(3))
    with torch.no_grad():
        out = torch.zeros(3)
        torch.mul(w, a, out=out)
    assert out.tolist() == [1.0, 1.0, 1.0]


def test_out_matches_torch(backend):
    real = pytest.importorskip("torch")
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    ours, theirs = torch.zeros(2, 3), real.zeros(2, 3)
    torch.sub(torch.tensor(x), 1.5, alpha=2, out=ours)
    real.sub(real.tensor(x), 1.5, alpha=2, out=theirs)
    np.testing.assert_array_equal(_np(ours), theirs.numpy())
    ours, theirs = torch.zeros(3), real.zeros(3)
    torch.sum(torch.tensor(x), 0, out=ours)
    real.sum(real.tensor(x), 0, out=theirs)
    np.testing.assert_array_equal(_np(ours), theirs.numpy())


# ------------------------------------------------------------------ compile, onnx
def test_compile_records_functions(backend):
    def f(x, y):
        return torch.sum(torch.sin(x) * y)

    fast = torch.compile(f)
    x, y = torch.tensor([0.5, 1.0]), torch.tensor([2.0, 3.0])
    from anygrad.compile import Compiled

    assert isinstance(fast, Compiled) and fast(x, y).item() == pytest.approx(f(x, y).item())
    assert torch.compile(f, disable=True) is f


def test_compile_of_a_module_is_laid_out_as_pytorchs(backend):
    """PyTorch's OptimizedModule: the model is the child `_orig_mod`, its parameters are
    shared, state_dict keys carry the prefix, attributes and modes reach the model."""
    model = nn.Linear(2, 3)
    model.note = "kept"
    compiled = torch.compile(model)
    assert isinstance(compiled, nn.Module) and compiled._orig_mod is model
    assert compiled.weight is model.weight and compiled.note == "kept"
    assert [id(p) for p in compiled.parameters()] == [id(p) for p in model.parameters()]
    assert list(compiled.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    state = {k: v * 0 + 1 for k, v in compiled.state_dict().items()}
    compiled.load_state_dict(state)
    assert _np(model.weight).tolist() == [[1.0, 1.0]] * 3
    compiled.eval()
    assert not model.training
    compiled.train()
    assert model.training
    with pytest.raises(AttributeError, match="missing"):
        compiled.missing  # noqa: B018
    assert torch.compile(model, disable=True) is model
    wrapped = torch.compile(mode="max-autotune")(model)
    assert wrapped._orig_mod is model
    copied = copy.deepcopy(compiled)
    assert copied._orig_mod is not model
    x = torch.ones(4, 2)
    np.testing.assert_array_equal(_np(copied(x)), _np(model(x)))


class _ReadsAValue(nn.Module):
    def forward(self, x):
        return x * float(x.sum())  # Python control over a value: cannot be replayed


def test_compile_fullgraph_refuses_what_cannot_be_replayed(backend):
    x = torch.ones(3)
    with pytest.warns(RuntimeWarning):
        lenient = torch.compile(_ReadsAValue())(x)
    assert _np(lenient).tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(ag.CompileError):
        torch.compile(_ReadsAValue(), fullgraph=True)(x)


# ------------------------------------------------------------------ save and load
class _Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5, 3)
        self.head = nn.Linear(3, 5, bias=False)
        self.head.weight = self.embed.weight  # one parameter in two places
        self.register_buffer("scale", torch.tensor([2.0]))
        self.activation = F.relu

    def forward(self, i):
        return self.head(self.activation(self.embed(i)) * self.scale)


def test_save_whole_module_to_file_objects_and_paths(backend, tmp_path):
    import io

    model = _Tied()
    tokens = torch.tensor([1, 3])
    expected = _np(model(tokens))
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert type(loaded) is _Tied and loaded.head.weight is loaded.embed.weight
    assert isinstance(loaded.head.weight, nn.Parameter) and loaded.head.weight.requires_grad
    assert loaded.head.weight.backend.name == backend
    np.testing.assert_array_equal(_np(loaded(tokens)), expected)
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:  # the word_language_model idiom
        torch.save(model, f)
    with open(path, "rb") as f:
        np.testing.assert_array_equal(_np(torch.load(f, weights_only=False)(tokens)), expected)
    torch.save(model, str(path))  # a path: written atomically, no temporary left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
    np.testing.assert_array_equal(_np(torch.load(path, weights_only=False)(tokens)), expected)


def test_load_of_a_pickled_module_needs_weights_only_false_or_safe_globals(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(_Tied(), path)
    with pytest.raises(ag.CheckpointError, match=r"test_torch_namespace._Tied.*weights_only=False"):
        torch.load(path)
    allowed = [_Tied, nn.Embedding, nn.Linear, F.relu]
    with torch.serialization.safe_globals(allowed):
        assert type(torch.load(path)) is _Tied
    with pytest.raises(ag.CheckpointError, match="_Tied"):
        torch.load(path)  # the allowance ended with the block
    with torch.serialization.safe_globals(allowed[:-1]):
        with pytest.raises(ag.CheckpointError, match="relu"):
            torch.load(path)
    try:
        torch.serialization.add_safe_globals(allowed)
        assert type(torch.load(path, weights_only=True)) is _Tied
    finally:
        torch.serialization.clear_safe_globals()


def test_state_dicts_stay_unpickled_and_unpicklable_objects_are_refused(tmp_path):
    import io

    model = nn.Linear(2, 2)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "epoch": 3}, buffer)
    buffer.seek(0)
    state = torch.load(buffer)  # weights_only: no pickle needed for tensors and containers
    assert state["epoch"] == 3 and sorted(state["model"]) == ["bias", "weight"]
    model.hook = lambda x: x
    path = tmp_path / "m.pt"
    with pytest.raises(TypeError, match="cannot pickle the Linear"):
        torch.save(model, path)
    assert list(tmp_path.iterdir()) == []


def test_load_refuses_pytorch_files_clearly(tmp_path):
    real = pytest.importorskip("torch")
    path = tmp_path / "theirs.pt"
    real.save(real.nn.Linear(2, 2), path)
    with pytest.raises(ag.CheckpointError, match="PyTorch"):
        torch.load(path, weights_only=False)


# ------------------------------------------------------------------ samplers and iterable datasets
def test_samplers_give_pytorchs_orders(backend):
    from anygrad.torch.utils.data import (
        BatchSampler, RandomSampler, SequentialSampler, SubsetRandomSampler,
    )

    data = list(range(7))
    assert list(SequentialSampler(data)) == data
    assert list(BatchSampler(SequentialSampler(data), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(data, 3, False)) == 3 and len(BatchSampler(data, 3, True)) == 2
    assert sorted(RandomSampler(data)) == data
    many = list(RandomSampler(data, num_samples=16))
    assert len(many) == 16 and sorted(many[:7]) == data and sorted(many[7:14]) == data
    drawn = list(RandomSampler(data, replacement=True, num_samples=20))
    assert len(drawn) == 20 and set(drawn) <= set(data)
    assert sorted(SubsetRandomSampler([5, 1, 3])) == [1, 3, 5]
    torch.manual_seed(3)
    first = list(RandomSampler(data))
    torch.manual_seed(3)
    assert list(RandomSampler(data)) == first
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(data, 0, False)


def test_batch_sampler_matches_torch():
    real = pytest.importorskip("torch")
    from anygrad.torch.utils.data import BatchSampler, SequentialSampler

    for n, size, drop in [(7, 3, False), (7, 3, True), (6, 2, False), (1, 4, False)]:
        ours = BatchSampler(SequentialSampler(range(n)), size, drop)
        theirs = real.utils.data.BatchSampler(real.utils.data.SequentialSampler(range(n)),
                                              size, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_loader_with_sampler_and_batch_sampler(backend):
    from anygrad.torch.utils.data import BatchSampler, SubsetRandomSampler

    dataset = TensorDataset(torch.arange(10.0), torch.arange(10))
    batches = list(DataLoader(dataset, batch_size=2, sampler=SubsetRandomSampler([1, 4, 7])))
    assert [len(b[1]) for b in batches] == [2, 1]
    assert sorted(i for b in batches for i in b[1].tolist()) == [1, 4, 7]
    sampler = BatchSampler(range(2, 9), 3, drop_last=True)
    loader = DataLoader(dataset, batch_sampler=sampler)
    assert len(loader) == 2 and [b[1].tolist() for b in loader] == [[2, 3, 4], [5, 6, 7]]
    single = list(DataLoader(_Squares(), batch_size=None))
    assert len(single) == 5 and single[2][1] == 4  # unbatched: samples as they are
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(dataset, batch_size=4, batch_sampler=sampler)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(dataset, sampler=range(3), shuffle=True)


class _Stream(torch.utils.data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for i in range(self.n):
            yield torch.tensor([float(i)]), i


def test_iterable_dataset_is_batched_in_its_order(backend):
    from anygrad.torch.utils.data import get_worker_info

    loader = DataLoader(_Stream(5), batch_size=2, num_workers=0)
    batches = list(loader)
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0][0].shape == (2, 1)
    assert [b[1].tolist() for b in DataLoader(_Stream(5), batch_size=2, drop_last=True)] == [
        [0, 1], [2, 3]]
    assert [y for _, y in DataLoader(_Stream(3), batch_size=None)] == [0, 1, 2]
    chained = list(DataLoader(_Stream(2) + _Stream(1), batch_size=3))
    assert chained[0][1].tolist() == [0, 1, 0]
    assert get_worker_info() is None
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(_Stream(3), shuffle=True)


def test_iterable_loader_matches_torch():
    real = pytest.importorskip("torch")

    class Theirs(real.utils.data.IterableDataset):
        def __iter__(self):
            for i in range(5):
                yield real.tensor([float(i)]), i

    theirs = [(x.numpy(), y.tolist()) for x, y in real.utils.data.DataLoader(Theirs(), 2)]
    ours = [(_np(x), y.tolist()) for x, y in DataLoader(_Stream(5), 2)]
    assert len(ours) == len(theirs)
    for (ox, oy), (tx, ty) in zip(ours, theirs):
        np.testing.assert_array_equal(ox, tx)
        assert oy == ty
