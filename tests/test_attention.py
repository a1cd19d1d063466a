"""Attention and transformer layers: values and gradients against PyTorch with copied
weights (every option: masks boolean and additive, causal, key padding, batch_first,
norm_first, need_weights, activations), gradient checks of first and second order,
fully masked rows, state dicts and errors. Shapes are tiny, so the file runs in seconds.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
from _layer_oracle import compare, compare_parameters, load_from_torch, skip_float32_on_jax
from conftest import make, random

DTYPES = ["float32", "float64"]


def _masks(shape, seed):
    allowed = np.random.default_rng(seed).random(shape) > 0.35
    allowed[..., 0] = True  # no fully masked row here; those are tested on their own
    return allowed


# ----------------------------------------------------------------- scaled_dot_product_attention
SDPA_CASES = {
    "plain": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), {}),
    "bool_mask_broadcast": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), {"mask": ("bool", (3, 5))}),
    "bool_mask_batched": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4),
                          {"mask": ("bool", (2, 1, 3, 5))}),
    "additive_mask": ((1, 3, 4, 2), (1, 3, 4, 2), (1, 3, 4, 2), {"mask": ("float", (3, 4, 4))}),
    "additive_with_inf": ((2, 4, 3), (2, 4, 3), (2, 4, 3), {"mask": ("inf", (4, 4))}),
    "causal": ((2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 3), {"is_causal": True}),
    "causal_longer_keys": ((1, 3, 3), (1, 5, 3), (1, 5, 2), {"is_causal": True}),
    "scale": ((2, 3, 4), (2, 5, 4), (2, 5, 4), {"scale": 0.3}),
    "broadcast_batch": ((2, 3, 3, 4), (1, 3, 5, 4), (1, 3, 5, 4), {}),
}


def _sdpa_kwargs(spec, backend, dtype, seed=3):
    kwargs = {k: v for k, v in spec.items() if k != "mask"}
    if "mask" not in spec:
        return kwargs, kwargs
    kind, shape = spec["mask"]
    allowed = _masks(shape, seed)
    if kind == "bool":
        host = allowed
    elif kind == "inf":
        host = np.where(allowed, 0.0, -np.inf).astype(dtype)
    else:
        host = random(shape, seed).astype(dtype)
    import torch

    return ({**kwargs, "attn_mask": ag.tensor(host, backend=backend)},
            {**kwargs, "attn_mask": torch.tensor(host)})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_sdpa_matches_torch(backend, case, dtype):
    skip_float32_on_jax(backend, dtype)
    torch = pytest.importorskip("torch")
    qs, ks, vs, spec = SDPA_CASES[case]
    ours_kw, theirs_kw = _sdpa_kwargs(spec, backend, dtype)
    arrays = [random(s, seed=i) for i, s in enumerate((qs, ks, vs))]
    compare(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **ours_kw),
            lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, **theirs_kw),
            arrays, backend, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["bool", "inf"])
def test_sdpa_fully_masked_row_gives_zeros_as_torch(backend, kind, dtype):
    skip_float32_on_jax(backend, dtype)
    torch = pytest.importorskip("torch")
    allowed = _masks((3, 4), 1)
    allowed[1] = False
    host = allowed if kind == "bool" else np.where(allowed, 0.0, -np.inf).astype(dtype)
    arrays = [random((2, 3, 4), 1), random((2, 4, 4), 2), random((2, 4, 2), 3)]
    mask = ag.tensor(host, backend=backend)
    out, = compare(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                   lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
                       q, k, v, attn_mask=torch.tensor(host)),
                   arrays, backend, dtype)
    assert np.all(out.numpy()[:, 1] == 0.0)


@pytest.mark.parametrize("spec", [{}, {"is_causal": True}, {"mask": ("bool", (3, 3))},
                                  {"mask": ("inf", (3, 3))}],
                         ids=["plain", "causal", "bool", "inf"])
def test_sdpa_gradients(backend, spec):
    if "mask" in spec:
        kind, shape = spec["mask"]
        allowed = _masks(shape, 4)
        allowed[2] = False  # a fully masked row must stay differentiable (zero)
        host = allowed if kind == "bool" else np.where(allowed, 0.0, -np.inf)
        kwargs = {"attn_mask": ag.tensor(host, backend=backend)}
    else:
        kwargs = spec
    q, k, v = (make(random((1, 2, 3, 2), seed=s), backend) for s in (5, 6, 7))

    def f(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, **kwargs)

    assert ag.gradcheck(f, [q, k, v])
    assert ag.gradgradcheck(f, [q, k, v])


def test_sdpa_dropout(backend):
    q, k, v = (make(random((2, 3, 4), seed=s), backend, "float32") for s in (1, 2, 3))
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0.0)
    ag.manual_seed(1)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    assert not np.allclose(a, F.scaled_dot_product_attention(q, k, v).numpy())


def test_sdpa_errors(backend):
    q = make(random((2, 3, 4)), backend)
    with pytest.raises(ValueError, match="attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ag.ones((3, 3), dtype="bool"),
                                       is_causal=True)
    with pytest.raises(TypeError, match="boolean or floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ag.ones((3, 3), dtype="int64"))
    with pytest.raises(TypeError, match="query's dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ag.zeros((3, 3), dtype="float32"))
    with pytest.raises(ValueError, match="must share E"):
        F.scaled_dot_product_attention(q, make(random((2, 3, 5)), backend), q)


# ----------------------------------------------------------------- MultiheadAttention
def _mha_pair(dtype, backend, **kwargs):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(**kwargs).to(getattr(torch, dtype))
    if theirs.in_proj_bias is not None:  # PyTorch starts biases at zero: make them count
        with torch.no_grad():
            theirs.in_proj_bias.uniform_(-0.5, 0.5)
            theirs.out_proj.bias.uniform_(-0.5, 0.5)
    ours = nn.MultiheadAttention(**kwargs, dtype=dtype, backend=backend)
    load_from_torch(ours, theirs)
    return ours, theirs


MHA_CASES = {
    "self_seq_first": ({"embed_dim": 4, "num_heads": 2}, "self", {}),
    "self_batch_first_weights_per_head": ({"embed_dim": 6, "num_heads": 3, "batch_first": True},
                                          "self", {"average_attn_weights": False}),
    "cross_kdim_vdim": ({"embed_dim": 4, "num_heads": 2, "kdim": 3, "vdim": 5,
                         "batch_first": True}, "cross", {}),
    "cross_no_bias": ({"embed_dim": 4, "num_heads": 1, "bias": False}, "cross", {}),
    "key_padding_bool": ({"embed_dim": 4, "num_heads": 2, "batch_first": True}, "cross",
                         {"key_padding_mask": "bool"}),
    "key_padding_float_no_weights": ({"embed_dim": 4, "num_heads": 2}, "self",
                                     {"key_padding_mask": "float", "need_weights": False}),
    "attn_mask_bool_2d": ({"embed_dim": 4, "num_heads": 2}, "cross", {"attn_mask": "bool"}),
    "attn_mask_float_3d_and_padding": ({"embed_dim": 4, "num_heads": 2, "batch_first": True},
                                       "self", {"attn_mask": "float3", "key_padding_mask": "bool"}),
    "causal_hint": ({"embed_dim": 4, "num_heads": 2, "batch_first": True}, "self",
                    {"attn_mask": "causal", "is_causal": True, "need_weights": False}),
    "unbatched": ({"embed_dim": 4, "num_heads": 2}, "unbatched", {"attn_mask": "bool"}),
}


def _mha_masks(call, n, heads, length, source, dtype, backend):
    """The call's masks for anygrad and PyTorch (True = left out, as MultiheadAttention)."""
    import torch

    ours, theirs = {}, {}
    for name in ("need_weights", "average_attn_weights", "is_causal"):
        if name in call:
            ours[name] = theirs[name] = call[name]
    hosts = {}
    kind = call.get("key_padding_mask")
    if kind:
        left_out = ~_masks((n, source), 7)
        hosts["key_padding_mask"] = left_out if kind == "bool" else \
            np.where(left_out, -np.inf, 0.0).astype(dtype)
    kind = call.get("attn_mask")
    if kind == "bool":
        hosts["attn_mask"] = ~_masks((length, source), 8)
    elif kind == "float3":
        hosts["attn_mask"] = random((n * heads, length, source), 9).astype(dtype)
    elif kind == "causal":
        hosts["attn_mask"] = np.triu(np.ones((length, source), bool), k=1)
    for name, host in hosts.items():
        ours[name] = ag.tensor(host, backend=backend)
        theirs[name] = torch.tensor(host)
    return ours, theirs


# PyTorch deprecates a boolean key_padding_mask next to a float attn_mask; that is a case.
@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("case,dtype", [(c, "float64") for c in MHA_CASES] + [
    (c, "float32") for c in ("self_seq_first", "cross_kdim_vdim", "attn_mask_float_3d_and_padding",
                             "causal_hint")])
def test_multihead_attention_matches_torch(backend, case, dtype):
    skip_float32_on_jax(backend, dtype)
    kwargs, inputs, call = MHA_CASES[case]
    ours, theirs = _mha_pair(dtype, backend, **kwargs)
    e, heads = kwargs["embed_dim"], kwargs["num_heads"]
    n, length, source = 2, 3, 4
    first = kwargs.get("batch_first", False)

    def shape(length, features):
        if inputs == "unbatched":
            return (length, features)
        return (n, length, features) if first else (length, n, features)

    if inputs in ("self", "unbatched") and "kdim" not in kwargs:
        source = length
    if inputs == "unbatched":
        n = 1
    ours_kw, theirs_kw = _mha_masks(call, n, heads, length, source, dtype, backend)
    if inputs == "self":
        arrays = [random(shape(length, e), 1)]
        forward = (lambda x: ours(x, x, x, **ours_kw), lambda x: theirs(x, x, x, **theirs_kw))
    else:
        arrays = [random(shape(length, e), 1), random(shape(source, kwargs.get("kdim", e)), 2),
                  random(shape(source, kwargs.get("vdim", e)), 3)]
        forward = (lambda q, k, v: ours(q, k, v, **ours_kw),
                   lambda q, k, v: theirs(q, k, v, **theirs_kw))
    weights = call.get("need_weights", True)
    got = compare(*forward, arrays, backend, dtype, outputs=(0, 1) if weights else (0,))
    if not weights:
        assert got[1] is None
    compare_parameters(ours, theirs, dtype)


@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention_fully_padded_sequence_gives_zeros(backend, need_weights):
    # PyTorch gives zeros (plus out_proj's bias) without weights, NaN with them; anygrad
    # gives the zeros on both paths.
    torch = pytest.importorskip("torch")
    ours, theirs = _mha_pair("float64", backend, embed_dim=4, num_heads=2, batch_first=True)
    x = random((2, 3, 4), 1)
    padding = np.array([[True, True, True], [False, True, False]])
    out, w = ours(*(ag.tensor(x, backend=backend),) * 3,
                  key_padding_mask=ag.tensor(padding, backend=backend), need_weights=need_weights)
    expected, _ = theirs(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(padding),
                         need_weights=False)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-10)
    assert np.all(np.isfinite(out.numpy()))
    if need_weights:
        assert np.all(w.numpy()[0] == 0.0) and np.allclose(w.numpy()[1].sum(-1), 1.0)


def _required_backends_only(backend):
    # Whole layers are gradchecked on the always-on backends; on jax every fresh shape
    # of every op compiles, which makes a layer's gradcheck take many seconds there.
    if backend not in ("numpy", "array_api_strict"):
        pytest.skip("layer gradchecks run on numpy and array_api_strict")


def test_multihead_attention_gradients(backend):
    _required_backends_only(backend)
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, batch_first=True, dtype="float64")
    padding = ag.tensor(np.array([[False, False, True]]), backend=backend)
    q, k, v = (make(random(s, seed=i), backend) for i, s in
               enumerate(((1, 2, 4), (1, 3, 3), (1, 3, 2))))

    def f(q, k, v):
        return mha(q, k, v, key_padding_mask=padding)[0]

    assert ag.gradcheck(f, [q, k, v])
    assert ag.gradgradcheck(f, [q, k, v])


def test_multihead_attention_parameters_and_errors(backend):
    torch = pytest.importorskip("torch")
    for kwargs in ({"embed_dim": 6, "num_heads": 2}, {"embed_dim": 6, "num_heads": 3, "kdim": 2},
                   {"embed_dim": 4, "num_heads": 1, "bias": False}):
        ours = nn.MultiheadAttention(**kwargs)
        theirs = torch.nn.MultiheadAttention(**kwargs)
        assert [(n, p.shape) for n, p in ours.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(5, 2)
    mha = nn.MultiheadAttention(4, 2, dtype="float64")
    x = make(random((3, 2, 4)), backend)
    with pytest.raises(ValueError, match="needs attn_mask"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="key_padding_mask must have shape"):
        mha(x, x, x, key_padding_mask=ag.zeros((3, 2), dtype="bool"))
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        mha(x, x, x, attn_mask=ag.zeros((2, 2), dtype="bool"))


# ----------------------------------------------------------------- transformer layers
LAYER_CASES = {
    "encoder_relu": ("encoder", {}, {}),
    "encoder_gelu_norm_first_batch_first": (
        "encoder", {"activation": "gelu", "norm_first": True, "batch_first": True},
        {"src_key_padding_mask": True}),
    "encoder_causal_mask": ("encoder", {"batch_first": True}, {"causal": True}),
    "encoder_no_bias_callable": ("encoder", {"bias": False, "activation": "silu"}, {}),
    "decoder_relu_masks": ("decoder", {}, {"causal": True, "memory_key_padding_mask": True}),
    "decoder_gelu_norm_first_batch_first": (
        "decoder", {"activation": "gelu", "norm_first": True, "batch_first": True},
        {"tgt_key_padding_mask": True}),
}


def _layer_pair(kind, kwargs, dtype, backend, stack=False):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    name = "TransformerEncoderLayer" if kind == "encoder" else "TransformerDecoderLayer"
    ours_kw, theirs_kw = dict(kwargs), dict(kwargs)
    if kwargs.get("activation") == "silu":  # a callable activation
        ours_kw["activation"], theirs_kw["activation"] = F.silu, torch.nn.functional.silu
    common = {"d_model": 4, "nhead": 2, "dim_feedforward": 6, "dropout": 0.1}
    theirs = getattr(torch.nn, name)(**common, **theirs_kw)
    ours = getattr(nn, name)(**common, **ours_kw, dtype=dtype, backend=backend)
    if stack:
        stack_name = name.replace("Layer", "")
        theirs = getattr(torch.nn, stack_name)(theirs, 2, norm=torch.nn.LayerNorm(4))
        ours = getattr(nn, stack_name)(ours, 2, norm=nn.LayerNorm(4, dtype=dtype,
                                                                  backend=backend))
        for p in theirs.parameters():  # distinct weights per layer, so the copies matter
            with torch.no_grad():
                p.uniform_(-0.6, 0.6)
    theirs = theirs.to(getattr(torch, dtype)).eval()
    load_from_torch(ours, theirs)
    ours.eval()
    return ours, theirs


def _layer_call(kind, call, first, n, length, source, backend):
    import torch

    ours, theirs = {}, {}
    masks = {}
    if call.get("causal"):
        masks["src_mask" if kind == "encoder" else "tgt_mask"] = \
            np.triu(np.full((length, length), -np.inf), k=1)
    for name, size in (("src_key_padding_mask", length), ("tgt_key_padding_mask", length),
                       ("memory_key_padding_mask", source)):
        if call.get(name):
            masks[name] = ~_masks((n, size), 11)
    for name, host in masks.items():
        ours[name] = ag.tensor(host, backend=backend)
        theirs[name] = torch.tensor(host)
    return ours, theirs


# Every layer case in float64, a few in float32, and the stacks (which add copies of the
# layer and a final norm) on one encoder and one decoder case.
@pytest.mark.parametrize("case,dtype,stack", [(c, "float64", False) for c in LAYER_CASES] + [
    ("encoder_gelu_norm_first_batch_first", "float32", False),
    ("decoder_relu_masks", "float32", False),
    ("encoder_causal_mask", "float64", True),
    ("decoder_gelu_norm_first_batch_first", "float64", True),
])
def test_transformer_layers_match_torch(backend, case, dtype, stack):
    skip_float32_on_jax(backend, dtype)
    kind, kwargs, call = LAYER_CASES[case]
    ours, theirs = _layer_pair(kind, kwargs, dtype, backend, stack)
    n, length, source = 2, 3, 4
    first = kwargs.get("batch_first", False)
    ours_kw, theirs_kw = _layer_call(kind, call, first, n, length, source, backend)
    if dtype == "float32":  # masks of the same dtype as the inputs, as PyTorch wants
        for d in (ours_kw, theirs_kw):
            for k, v in list(d.items()):
                if k.endswith("_mask") and "padding" not in k:
                    d[k] = ag.astype(v, "float32") if isinstance(v, ag.Tensor) else v.float()

    def shape(length):
        return (n, length, 4) if first else (length, n, 4)

    if kind == "encoder":
        arrays = [random(shape(length), 1)]
        forward = (lambda x: ours(x, **ours_kw), lambda x: theirs(x, **theirs_kw))
    else:
        arrays = [random(shape(length), 1), random(shape(source), 2)]
        forward = (lambda t, m: ours(t, m, **ours_kw), lambda t, m: theirs(t, m, **theirs_kw))
    if stack:
        for d in (ours_kw, theirs_kw):
            for old, new in (("src_mask", "mask"),):
                if old in d:
                    d[new] = d.pop(old)
    compare(*forward, arrays, backend, dtype)
    compare_parameters(ours, theirs, dtype)


def test_transformer_layer_submodule_names_as_torch():
    torch = pytest.importorskip("torch")
    for name in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        ours = getattr(nn, name)(8, 2, dim_feedforward=16)
        theirs = getattr(torch.nn, name)(8, 2, dim_feedforward=16)
        assert sorted((k, tuple(v.shape)) for k, v in ours.state_dict().items()) == \
            sorted((k, tuple(v.shape)) for k, v in theirs.state_dict().items())
        assert {n for n, _ in ours.named_children()} >= {
            n for n, _ in theirs.named_children() if n != "activation"}
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 3, norm=nn.LayerNorm(8))
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16), 3,
                                         norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    assert list(enc.state_dict()) == list(theirs.state_dict())


def test_transformer_training_mode_dropout_and_gradients(backend):
    _required_backends_only(backend)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True, dtype="float64")
    mask = ag.tensor(np.triu(np.full((3, 3), -np.inf), k=1), backend=backend)
    x = make(random((1, 3, 4), 2), backend)
    assert ag.gradcheck(lambda x: layer(x, src_mask=mask, is_causal=True), [x])
    dropping = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.5, batch_first=True,
                                          dtype="float64")
    dropping.load_state_dict(layer.state_dict())
    assert not np.allclose(dropping(x).numpy(), layer(x).numpy())
    dropping.eval()
    np.testing.assert_allclose(dropping(x).numpy(), layer.eval()(x).numpy(), rtol=1e-12)


def test_transformer_errors():
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(TypeError, match="TransformerEncoderLayer"):
        nn.TransformerEncoder(nn.Linear(2, 2), 2)
    assert math.isclose(nn.TransformerEncoderLayer(4, 2).dropout.p, 0.1)
