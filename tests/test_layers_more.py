"""GELU (tanh), RMSNorm, GroupNorm, ConvTranspose1d/2d, interpolate and Upsample: values
and gradients against PyTorch with copied weights, gradient checks of first and second
order, parameter layouts and errors. Shapes are tiny, so the file runs in seconds.
"""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
from _layer_oracle import compare, compare_parameters, load_from_torch, skip_float32_on_jax
from conftest import make, random

# name, anygrad layer factory, torch layer factory, input shape
LAYERS = {
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"),
                  lambda t: t.nn.GELU(approximate="tanh"), (2, 5)),
    "rms_norm": (lambda **w: nn.RMSNorm((3, 4), **w), lambda t: t.nn.RMSNorm((3, 4)), (2, 3, 4)),
    "rms_norm_eps_no_affine": (lambda **w: nn.RMSNorm(4, eps=1e-3, elementwise_affine=False, **w),
                               lambda t: t.nn.RMSNorm(4, eps=1e-3, elementwise_affine=False),
                               (3, 4)),
    "group_norm": (lambda **w: nn.GroupNorm(2, 4, **w), lambda t: t.nn.GroupNorm(2, 4),
                   (2, 4, 3, 2)),
    "group_norm_1d_no_affine": (lambda **w: nn.GroupNorm(3, 3, eps=1e-3, affine=False, **w),
                                lambda t: t.nn.GroupNorm(3, 3, eps=1e-3, affine=False), (2, 3, 5)),
    "conv_transpose1d": (lambda **w: nn.ConvTranspose1d(4, 3, 3, stride=2, padding=1,
                                                        output_padding=1, **w),
                         lambda t: t.nn.ConvTranspose1d(4, 3, 3, stride=2, padding=1,
                                                        output_padding=1), (2, 4, 5)),
    "conv_transpose1d_groups_dilation": (
        lambda **w: nn.ConvTranspose1d(4, 6, 2, groups=2, dilation=2, bias=False, **w),
        lambda t: t.nn.ConvTranspose1d(4, 6, 2, groups=2, dilation=2, bias=False), (1, 4, 3)),
    "conv_transpose2d": (lambda **w: nn.ConvTranspose2d(2, 3, (3, 2), stride=(2, 3),
                                                        padding=(1, 0), output_padding=(1, 2), **w),
                         lambda t: t.nn.ConvTranspose2d(2, 3, (3, 2), stride=(2, 3), padding=(1, 0),
                                                        output_padding=(1, 2)), (2, 2, 3, 2)),
    "conv_transpose2d_groups": (lambda **w: nn.ConvTranspose2d(4, 2, 2, stride=2, groups=2, **w),
                                lambda t: t.nn.ConvTranspose2d(4, 2, 2, stride=2, groups=2),
                                (1, 4, 2, 3)),
    "upsample_nearest_scale": (lambda: nn.Upsample(scale_factor=2),
                               lambda t: t.nn.Upsample(scale_factor=2), (1, 2, 2, 3)),
    "upsample_nearest_size": (lambda: nn.Upsample(size=(5, 2)),
                              lambda t: t.nn.Upsample(size=(5, 2)), (1, 2, 3, 3)),
    "upsample_nearest_fraction_1d": (lambda: nn.Upsample(scale_factor=1.7),
                                     lambda t: t.nn.Upsample(scale_factor=1.7), (2, 1, 4)),
    "upsample_bilinear": (lambda: nn.Upsample(scale_factor=(1.5, 2), mode="bilinear"),
                          lambda t: t.nn.Upsample(scale_factor=(1.5, 2), mode="bilinear"),
                          (1, 2, 3, 3)),
    "upsample_bilinear_align_corners": (
        lambda: nn.Upsample(size=(4, 5), mode="bilinear", align_corners=True),
        lambda t: t.nn.Upsample(size=(4, 5), mode="bilinear", align_corners=True), (2, 1, 3, 2)),
    "upsample_bilinear_down": (lambda: nn.Upsample(size=(2, 3), mode="bilinear"),
                               lambda t: t.nn.Upsample(size=(2, 3), mode="bilinear"), (1, 1, 5, 4)),
    "upsample_linear_1d": (lambda: nn.Upsample(scale_factor=2.5, mode="linear"),
                           lambda t: t.nn.Upsample(scale_factor=2.5, mode="linear"), (1, 2, 3)),
}
PARAMETRIC = {"rms_norm", "group_norm", "conv_transpose1d", "conv_transpose1d_groups_dilation",
              "conv_transpose2d", "conv_transpose2d_groups", "rms_norm_eps_no_affine",
              "group_norm_1d_no_affine"}


def _pair(case, dtype, backend):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ours_factory, theirs_factory, shape = LAYERS[case]
    theirs = theirs_factory(torch).to(getattr(torch, dtype))
    if case in PARAMETRIC:
        ours = ours_factory(dtype=dtype, backend=backend)
        with torch.no_grad():  # away from the initial ones and zeros, so they count
            for p in theirs.parameters():
                p.uniform_(-1.0, 1.0)
        load_from_torch(ours, theirs)
    else:
        ours = ours_factory()
    return ours, theirs, shape


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(LAYERS))
def test_layer_matches_torch(backend, case, dtype):
    skip_float32_on_jax(backend, dtype)
    ours, theirs, shape = _pair(case, dtype, backend)
    compare(ours, theirs, [random(shape, seed=1)], backend, dtype)
    if case in PARAMETRIC and any(True for _ in theirs.parameters()):
        compare_parameters(ours, theirs, dtype)


# Functions with every parameter an input: first and second order.
FUNCTIONS = {
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), [(2, 3)]),
    "rms_norm": (lambda x, w: F.rms_norm(x, (3,), w), [(2, 3), (3,)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 2), (4,), (4,)]),
    "conv_transpose1d": (lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1,
                                                            output_padding=1),
                         [(1, 2, 3), (2, 2, 2), (2,)]),
    "conv_transpose2d_groups": (lambda x, w: F.conv_transpose2d(x, w, stride=(1, 2), groups=2,
                                                                dilation=(2, 1)),
                                [(1, 2, 2, 2), (2, 1, 2, 2)]),
    "interpolate_nearest": (lambda x: F.interpolate(x, scale_factor=1.5), [(1, 1, 2, 3)]),
    "interpolate_bilinear": (lambda x: F.interpolate(x, size=(3, 4), mode="bilinear"),
                             [(1, 1, 2, 3)]),
    "interpolate_bilinear_align": (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear",
                                                           align_corners=True), [(1, 1, 2, 2)]),
}


def _required_backends_only(backend):
    # Second-order checks compose many ops; on jax each fresh shape compiles, so they
    # run on the always-on backends.
    if backend not in ("numpy", "array_api_strict"):
        pytest.skip("second-order checks run on numpy and array_api_strict")


@pytest.mark.parametrize("case", list(FUNCTIONS))
def test_function_gradients(backend, case):
    fn, shapes = FUNCTIONS[case]
    inputs = [make(random(s, seed=i + 1), backend) for i, s in enumerate(shapes)]
    assert ag.gradcheck(fn, inputs)
    _required_backends_only(backend)
    assert ag.gradgradcheck(fn, inputs)


def test_conv_transpose_is_the_gradient_of_conv(backend):
    # <conv(x), y> = <x, conv_transpose(y)>: the two are adjoint, same weight, same arguments.
    x = make(random((2, 4, 7, 6), 1), backend, requires_grad=False)
    y = make(random((2, 6, 4, 2), 2), backend, requires_grad=False)
    w = make(random((6, 2, 3, 3), 3), backend, requires_grad=False)
    kwargs = {"stride": (2, 3), "padding": 1, "groups": 2, "dilation": (1, 2)}
    left = ag.sum(F.conv2d(x, w, **kwargs) * y)
    right = ag.sum(x * F.conv_transpose2d(y, w, **kwargs))
    np.testing.assert_allclose(left.numpy(), right.numpy(), rtol=1e-12)


def test_layer_parameter_layouts_as_torch():
    torch = pytest.importorskip("torch")
    for case in PARAMETRIC:
        ours_factory, theirs_factory, _ = LAYERS[case]
        ours, theirs = ours_factory(), theirs_factory(torch)
        assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    # ConvTranspose initialises as PyTorch: uniform in +-1/sqrt(out/groups * kernel).
    layer = nn.ConvTranspose2d(8, 6, 3, groups=2)
    bound = 1.0 / np.sqrt(3 * 9)
    for p in (layer.weight, layer.bias):
        values = p.numpy()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.5 * bound


def test_errors(backend):
    x = make(random((1, 2, 3, 3)), backend)
    w = make(random((2, 1, 2, 2)), backend)
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="input has 2 channels"):
        F.conv_transpose2d(x, make(random((3, 1, 2, 2)), backend))
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="bilinear' expects a 4-D"):
        F.interpolate(make(random((1, 2, 3)), backend), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="mode must be"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="GroupNorm: expects"):
        nn.GroupNorm(1, 4, dtype="float64")(x)
    with pytest.raises(ValueError, match="normalized_shape"):
        F.rms_norm(x, (2,))
