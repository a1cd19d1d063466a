"""The encoder-decoder `nn.Transformer`: values and gradients (inputs and every
parameter, by name) against `torch.nn.Transformer` with copied weights, for masks,
key-padding masks, batch_first and norm_first; a gradient check in float64; the causal
mask; the initialisation; and the errors. Shapes are tiny so the file runs in seconds.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
from _layer_oracle import compare, compare_parameters, load_from_torch, skip_float32_on_jax
from conftest import random

D, HEADS, FF = 8, 2, 12
CASES = {
    "plain": {},
    "batch_first": {"batch_first": True},
    "norm_first": {"norm_first": True},
    "masks": {"masks": True},
    "masks_batch_first_norm_first": {"masks": True, "batch_first": True, "norm_first": True},
}


def _shapes(batch_first, src_len=4, tgt_len=3, batch=2):
    if batch_first:
        return (batch, src_len, D), (batch, tgt_len, D)
    return (src_len, batch, D), (tgt_len, batch, D)


def _mask_arrays(src_len=4, tgt_len=3, batch=2):
    """A causal target mask (additive), a boolean memory mask and key-padding masks that
    leave every query at least one key."""
    rng = np.random.default_rng(5)
    causal = np.triu(np.full((tgt_len, tgt_len), -np.inf), 1)
    memory = rng.random((tgt_len, src_len)) > 0.6
    memory[:, 0] = False
    src_pad = np.zeros((batch, src_len), bool)
    src_pad[1, -1] = True
    tgt_pad = np.zeros((batch, tgt_len), bool)
    tgt_pad[0, -1] = True
    return causal, memory, src_pad, tgt_pad


def _pair(backend, dtype, **options):
    import torch

    torch.manual_seed(0)
    theirs = torch.nn.Transformer(D, HEADS, 2, 2, FF, dropout=0.0, **options).to(
        getattr(torch, dtype))
    ours = nn.Transformer(D, HEADS, 2, 2, FF, dropout=0.0, dtype=dtype, backend=backend,
                          **options)
    load_from_torch(ours, theirs)
    return ours, theirs


# Every case in float64; float32 once, with every option on (the file stays fast).
@pytest.mark.parametrize("case, dtype", [(c, "float64") for c in CASES]
                         + [("masks_batch_first_norm_first", "float32")])
def test_transformer_matches_torch(backend, case, dtype):
    skip_float32_on_jax(backend, dtype)
    torch = pytest.importorskip("torch")
    spec = dict(CASES[case])
    masks = spec.pop("masks", False)
    ours, theirs = _pair(backend, dtype, **spec)
    src_shape, tgt_shape = _shapes(spec.get("batch_first", False))
    kw_ours, kw_theirs = {}, {}
    if masks:
        causal, memory, src_pad, tgt_pad = _mask_arrays()
        for name, host in (("tgt_mask", causal.astype(dtype)), ("memory_mask", memory),
                           ("src_key_padding_mask", src_pad),
                           ("tgt_key_padding_mask", tgt_pad),
                           ("memory_key_padding_mask", src_pad)):
            kw_ours[name] = ag.tensor(host, backend=backend)
            kw_theirs[name] = torch.tensor(host)
    compare(lambda s, t: ours(s, t, **kw_ours), lambda s, t: theirs(s, t, **kw_theirs),
            [random(src_shape, seed=1), random(tgt_shape, seed=2)], backend, dtype)
    compare_parameters(ours, theirs, dtype)


def test_transformer_gradcheck(backend):
    model = nn.Transformer(4, 2, 1, 1, 6, dropout=0.0, dtype="float64", backend=backend)
    src = ag.tensor(random((3, 1, 4), seed=1), backend=backend, requires_grad=True)
    tgt = ag.tensor(random((2, 1, 4), seed=2), backend=backend, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(2, dtype="float64", backend=backend)
    assert ag.gradcheck(lambda s, t: model(s, t, tgt_mask=mask), (src, tgt))


def test_square_subsequent_mask_is_causal(backend):
    mask = nn.Transformer.generate_square_subsequent_mask(4, backend=backend)
    expected = np.where(np.arange(4)[None, :] > np.arange(4)[:, None], -np.inf, 0.0)
    assert mask.dtype == ag.float32 and mask.shape == (4, 4)
    np.testing.assert_array_equal(mask.numpy(), expected)


def test_square_subsequent_mask_matches_torch():
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(5).numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(5).numpy())


def test_transformer_structure_and_initialisation(backend):
    model = nn.Transformer(D, HEADS, 3, 2, FF, backend=backend)
    assert len(model.encoder.layers) == 3 and len(model.decoder.layers) == 2
    assert isinstance(model.encoder.norm, nn.LayerNorm)
    assert isinstance(model.decoder.norm, nn.LayerNorm)
    weight = model.encoder.layers[0].linear1.weight  # (FF, D): xavier-uniform's bound
    bound = math.sqrt(6.0 / (D + FF))
    values = weight.numpy()
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.5 * bound
    # The stacks start from copies of one layer, then every matrix is drawn afresh.
    first, second = (model.encoder.layers[k].linear1.weight.numpy() for k in (0, 1))
    assert not np.array_equal(first, second)


def test_transformer_state_dict_names_match_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Transformer(D, HEADS, 1, 1, FF)
    theirs = torch.nn.Transformer(D, HEADS, 1, 1, FF)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_custom_encoder_and_decoder_are_used(backend):
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, HEADS, FF, backend=backend), 1)
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, HEADS, FF, backend=backend), 1)
    model = nn.Transformer(D, HEADS, custom_encoder=enc, custom_decoder=dec, backend=backend)
    assert model.encoder is enc and model.decoder is dec


def test_transformer_errors_name_the_shapes(backend):
    model = nn.Transformer(D, HEADS, 1, 1, FF, backend=backend)
    src = ag.zeros((4, 2, D), dtype="float32", backend=backend)
    with pytest.raises(ValueError, match=r"batch size.*\(4, 2, 8\).*\(3, 3, 8\)"):
        model(src, ag.zeros((3, 3, D), dtype="float32", backend=backend))
    with pytest.raises(ValueError, match="d_model=8"):
        model(src, ag.zeros((3, 2, 6), dtype="float32", backend=backend))
