"""Recurrent layers and cells against PyTorch (copied weights, same inputs: outputs and
every gradient), gradient checks on every backend, state-dict loading; and the small
PyTorch-spelled functions that sequence models use (one_hot, pad, Embedding padding)."""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F

TOL = {"float32": 1e-5, "float64": 1e-10}

LAYER_CASES = [
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"batch_first": True, "bias": False}),
    ("LSTM", {"proj_size": 3, "num_layers": 2, "bidirectional": True}),
    ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("GRU", {"batch_first": True}),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}),
    ("RNN", {"num_layers": 2, "batch_first": True}),
]


def _torch_copy(torch, layer, torch_layer):
    """`layer` loaded with `torch_layer`'s state dict, as host arrays."""
    layer.load_state_dict({k: v.detach().numpy() for k, v in torch_layer.state_dict().items()})
    return layer


def _pair(torch, kind, kw, dtype):
    tdtype = getattr(torch, dtype)
    t = getattr(torch.nn, kind)(4, 5, **kw).to(tdtype)
    a = _torch_copy(torch, getattr(nn, kind)(4, 5, dtype=dtype, **kw), t)
    return t, a


def _states(kind, kw, batch, layers, rng, dtype):
    directions = 2 if kw.get("bidirectional") else 1
    shape = (layers * directions,) + batch
    h = rng.standard_normal(shape + (kw.get("proj_size") or 5,)).astype(dtype)
    if kind == "LSTM":
        return h, rng.standard_normal(shape + (5,)).astype(dtype)
    return (h,)


def _flat(out):
    """Output and final states of a layer as one list."""
    seq, state = out
    return [seq] + (list(state) if isinstance(state, tuple) else [state])


@pytest.mark.parametrize("kind,kw", LAYER_CASES)
@pytest.mark.parametrize("dtype,initial,unbatched", [
    ("float32", False, False), ("float64", False, False), ("float64", True, False),
    ("float32", True, True),
])
def test_layer_matches_torch(kind, kw, dtype, initial, unbatched):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    t, a = _pair(torch, kind, kw, dtype)
    rng = np.random.default_rng(1)
    layers = kw.get("num_layers", 1)
    x_shape = (6, 4) if unbatched else ((3, 6, 4) if kw.get("batch_first") else (6, 3, 4))
    x = rng.standard_normal(x_shape).astype(dtype)
    states = _states(kind, kw, () if unbatched else (3,), layers, rng, dtype) if initial else ()
    tx = torch.tensor(x, requires_grad=True)
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    ax = ag.tensor(x, requires_grad=True)
    as_ = [ag.tensor(s, requires_grad=True) for s in states]
    if initial:
        t_out = t(tx, tuple(ts) if kind == "LSTM" else ts[0])
        a_out = a(ax, tuple(as_) if kind == "LSTM" else as_[0])
    else:
        t_out, a_out = t(tx), a(ax)
    t_flat, a_flat = _flat(t_out), _flat(a_out)
    assert len(t_flat) == len(a_flat)
    weights = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in t_flat]
    for got, want in zip(a_flat, t_flat):
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=TOL[dtype],
                                   atol=TOL[dtype])
    sum(torch.sum(o * torch.tensor(w)) for o, w in zip(t_flat, weights)).backward()
    ag.sum(ag.stack([ag.sum(o * w) for o, w in zip(a_flat, weights)])).backward()
    pairs = [(ax, tx)] + list(zip(as_, ts)) + list(zip(a.parameters(), t.parameters()))
    for mine, theirs in pairs:
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=TOL[dtype],
                                   atol=TOL[dtype])


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("unbatched", [False, True])
def test_cell_matches_torch(kind, unbatched):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    t = getattr(torch.nn, kind)(4, 5).double()
    a = _torch_copy(torch, getattr(nn, kind)(4, 5, dtype="float64"), t)
    assert list(a.state_dict()) == list(t.state_dict())
    rng = np.random.default_rng(2)
    batch = () if unbatched else (3,)
    x = rng.standard_normal(batch + (4,))
    states = [rng.standard_normal(batch + (5,)) for _ in range(2 if kind == "LSTMCell" else 1)]
    tx, ax = torch.tensor(x, requires_grad=True), ag.tensor(x, requires_grad=True)
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    as_ = [ag.tensor(s, requires_grad=True) for s in states]
    t_out = t(tx, tuple(ts) if kind == "LSTMCell" else ts[0])
    a_out = a(ax, tuple(as_) if kind == "LSTMCell" else as_[0])
    t_out = list(t_out) if isinstance(t_out, tuple) else [t_out]
    a_out = list(a_out) if isinstance(a_out, tuple) else [a_out]
    for got, want in zip(a_out, t_out):
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-10)
    sum(torch.sum(o * o) for o in t_out).backward()
    ag.sum(ag.stack([ag.sum(o * o) for o in a_out])).backward()
    for mine, theirs in [(ax, tx)] + list(zip(as_, ts)) + list(zip(a.parameters(), t.parameters())):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-10)


def _with_parameters(layer, values, *args):
    """layer(*args) with its parameters replaced by the tensors `values` (gradcheck hands
    perturbed copies), in named_parameters order."""
    names = [n for n, _ in layer.named_parameters()]
    kept = dict(layer._parameters)
    try:
        layer._parameters.update(zip(names, values))
        return layer(*args)
    finally:
        layer._parameters.update(kept)


@pytest.mark.parametrize("kind,kw", [("LSTM", {"bidirectional": True}), ("GRU", {}),
                                     ("RNN", {"num_layers": 2}),
                                     ("LSTM", {"proj_size": 2, "batch_first": True})])
def test_layer_gradcheck(backend, kind, kw):
    layer = getattr(nn, kind)(2, 3, dtype="float64", **kw)
    params = list(layer.parameters())
    x = ag.randn((2, 1, 2), dtype="float64", requires_grad=True)

    def f(x, *ps):
        out, state = _with_parameters(layer, ps, x)
        h = state[0] if isinstance(state, tuple) else state
        return out, h

    assert ag.gradcheck(f, [x] + params)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_gradgradcheck(backend, kind):
    cell = getattr(nn, kind)(2, 3, dtype="float64")
    x = ag.randn((2, 2), dtype="float64", requires_grad=True)
    h = ag.randn((2, 3), dtype="float64", requires_grad=True)
    w = cell.weight_hh

    def f(x, h, w):
        state = (h, h * 0.5) if kind == "LSTMCell" else h
        out = _with_parameters(cell, (cell.weight_ih, w, cell.bias_ih, cell.bias_hh), x, state)
        return out[1] if kind == "LSTMCell" else out

    assert ag.gradcheck(f, (x, h, w))
    assert ag.gradgradcheck(f, (x, h, w))


def test_lstm_gradgradcheck(backend):
    layer = nn.LSTM(2, 2, dtype="float64")
    x = ag.randn((3, 1, 2), dtype="float64", requires_grad=True)
    assert ag.gradgradcheck(lambda x: layer(x)[0], (x,))


def test_torch_state_dict_through_safetensors(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    t = torch.nn.GRU(4, 5, num_layers=2, bidirectional=True)
    path = tmp_path / "gru.safetensors"
    st.save_file({k: v.contiguous() for k, v in t.state_dict().items()}, str(path))
    a = nn.GRU(4, 5, num_layers=2, bidirectional=True)
    a.load_state_dict(ag.load(str(path)))
    x = np.random.default_rng(0).standard_normal((5, 2, 4)).astype("float32")
    out, h = a(ag.tensor(x))
    t_out, t_h = t(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h.numpy(), t_h.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_parameter_names_and_init(backend):
    layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    names = [n for n, _ in layer.named_parameters()]
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                         "weight_ih_l0_reverse"]
    assert tuple(layer.weight_ih_l1.shape) == (16, 8)
    bound = 1 / 2  # 1 / sqrt(hidden_size)
    for p in layer.parameters():
        values = p.numpy()
        assert values.min() >= -bound and values.max() <= bound and values.std() > 0.1


def test_dropout_between_layers_only_while_training(backend):
    layer = nn.GRU(3, 4, num_layers=2, dropout=0.5, dtype="float64")
    x = ag.randn((5, 2, 3), dtype="float64")
    layer.eval()
    a, b = layer(x)[0].numpy(), layer(x)[0].numpy()
    np.testing.assert_array_equal(a, b)
    layer.train()
    assert not np.allclose(layer(x)[0].numpy(), a)


def test_bad_shapes_are_named():
    layer = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="input_size is 3"):
        layer(ag.zeros((2, 1, 5)))
    with pytest.raises(ValueError, match="h0 has shape"):
        layer(ag.zeros((2, 1, 3)), (ag.zeros((1, 2, 4)), ag.zeros((1, 1, 4))))


# ----------------------------------------------------------------- functions
def test_one_hot_and_pad_match_torch(backend):
    torch = pytest.importorskip("torch")
    idx = np.array([[0, 3], [2, 1]])
    got = F.one_hot(ag.tensor(idx))
    assert got.dtype == ag.int64
    np.testing.assert_array_equal(got.numpy(), torch.nn.functional.one_hot(torch.tensor(idx)))
    np.testing.assert_array_equal(F.one_hot(ag.tensor(idx), 6).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(idx), 6))
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    for mode, widths in [("constant", (1, 2, 0, 1)), ("constant", (0, 1, 2, 0, 1, 1)),
                         ("reflect", (1, 2, 2, 1)), ("replicate", (1, 3, 0, 2)),
                         ("circular", (2, 1, 1, 2))]:
        extra = {"value": 1.5} if mode == "constant" else {}
        want = torch.nn.functional.pad(torch.tensor(x), widths, mode=mode, **extra)
        np.testing.assert_array_equal(F.pad(ag.tensor(x), widths, mode=mode, **extra).numpy(),
                                      want.numpy())


def test_pad_gradcheck(backend):
    x = ag.randn((2, 3, 4), dtype="float64", requires_grad=True)
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert ag.gradcheck(lambda x: F.pad(x, (1, 2, 2, 1), mode=mode), (x,))
    with pytest.raises(ValueError, match="even length"):
        F.pad(x, (1, 2, 3))


def test_embedding_padding_idx(backend):
    emb = nn.Embedding(5, 3, padding_idx=-1, dtype="float64")
    assert emb.padding_idx == 4
    np.testing.assert_array_equal(emb.weight.numpy()[4], np.zeros(3))
    emb.weight.array = ag.randn((5, 3), dtype="float64").array  # a nonzero padding row still reads
    idx = ag.tensor([[4, 1], [4, 4]])
    out = emb(idx)
    np.testing.assert_array_equal(out.numpy()[0, 0], emb.weight.numpy()[4])
    ag.sum(out * out).backward()
    grad = emb.weight.grad.numpy()
    np.testing.assert_array_equal(grad[4], np.zeros(3))
    np.testing.assert_allclose(grad[1], 2 * emb.weight.numpy()[1])


def test_embedding_padding_idx_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.nn.Embedding(6, 2, padding_idx=2).double()
    a = nn.Embedding(6, 2, padding_idx=2, dtype="float64")
    a.load_state_dict({"weight": t.weight.detach().numpy()})
    idx = np.array([2, 0, 2, 5])
    t_out = t(torch.tensor(idx))
    (t_out ** 3).sum().backward()
    a_out = a(ag.tensor(idx))
    ag.sum(a_out ** 3).backward()
    np.testing.assert_array_equal(a_out.numpy(), t_out.detach().numpy())
    np.testing.assert_allclose(a.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-12)


def test_compiled_training_step_matches_eager(backend):
    def run(compiled):
        ag.manual_seed(0)
        layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype="float64")
        opt = ag.optim.SGD(layer.parameters(), lr=0.1)
        x = ag.randn((5, 2, 3), dtype="float64")

        def step(x):
            opt.zero_grad()
            out, (h, c) = layer(x)
            loss = ag.mean(out * out) + ag.mean(c)
            loss.backward()
            opt.step()
            return loss

        step = ag.compile(step, strict=True) if compiled else step
        return [step(x).item() for _ in range(4)] + [p.numpy() for p in layer.parameters()]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(a, b)
