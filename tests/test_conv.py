"""Convolution, pooling, unfold and fold: gradients (first and second order), values
against PyTorch, max-pool ties, the backend fast path, every error, and the CNN example.

Shapes are tiny so that gradcheck stays element-wise and the file runs in seconds.
"""
from __future__ import annotations

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn as nn
from anygrad.nn import convolution as C
from conftest import make, random

# ----------------------------------------------------------------- convolution table
# name, function name, x shape, weight shape, bias?, keyword arguments
CONVS = [
    ("1d_plain", "conv1d", (2, 2, 5), (3, 2, 2), True, {}),
    ("1d_stride_pad", "conv1d", (1, 2, 6), (2, 2, 3), True, {"stride": 2, "padding": 1}),
    ("1d_same_dilated", "conv1d", (1, 1, 6), (2, 1, 3), False, {"padding": "same", "dilation": 2}),
    ("1d_groups", "conv1d", (1, 4, 4), (2, 2, 2), True, {"groups": 2}),
    ("2d_plain", "conv2d", (1, 2, 4, 3), (2, 2, 2, 2), True, {}),
    ("2d_stride_pad_pair", "conv2d", (1, 1, 5, 4), (2, 1, 3, 2), True,
     {"stride": (2, 1), "padding": (1, 0)}),
    ("2d_same_even_kernel", "conv2d", (1, 1, 4, 3), (1, 1, 2, 2), True, {"padding": "same"}),
    ("2d_valid_dilated", "conv2d", (1, 1, 5, 5), (1, 1, 2, 2), False,
     {"padding": "valid", "dilation": 2}),
    ("2d_groups_depthwise", "conv2d", (1, 2, 3, 3), (4, 1, 2, 2), True, {"groups": 2}),
    ("2d_batch2_odd", "conv2d", (2, 1, 3, 5), (1, 1, 3, 3), True, {"padding": 1, "stride": 2}),
    ("2d_groups_stride_dilation", "conv2d", (2, 4, 6, 5), (6, 2, 2, 2), True,
     {"groups": 2, "stride": (2, 1), "dilation": (1, 2), "padding": 1}),
    ("2d_1x1_batch1", "conv2d", (1, 3, 2, 3), (2, 3, 1, 1), True, {}),
]


def _conv_inputs(backend, xshape, wshape, with_bias):
    inputs = [make(random(xshape, 1), backend), make(random(wshape, 2), backend)]
    if with_bias:
        inputs.append(make(random(wshape[:1], 3), backend))
    return inputs


def _conv_fn(fname, kwargs):
    fn = getattr(C, fname)
    return lambda x, w, b=None: fn(x, w, b, **kwargs)


@pytest.mark.parametrize("name,fname,xshape,wshape,with_bias,kwargs", CONVS,
                         ids=[c[0] for c in CONVS])
def test_conv_gradients(backend, name, fname, xshape, wshape, with_bias, kwargs):
    inputs = _conv_inputs(backend, xshape, wshape, with_bias)
    assert ag.gradcheck(_conv_fn(fname, kwargs), inputs)


# Second order on a subset: each case costs a gradcheck of a gradient.
GRADGRAD = [c for c in CONVS if c[0] in {
    "1d_stride_pad", "2d_stride_pad_pair", "2d_groups_depthwise", "2d_same_even_kernel",
    "2d_groups_stride_dilation"}]


@pytest.mark.parametrize("name,fname,xshape,wshape,with_bias,kwargs", GRADGRAD,
                         ids=[c[0] for c in GRADGRAD])
def test_conv_second_order(backend, name, fname, xshape, wshape, with_bias, kwargs):
    inputs = _conv_inputs(backend, xshape, wshape, with_bias)
    assert ag.gradgradcheck(_conv_fn(fname, kwargs), inputs)


# ----------------------------------------------------------------- pooling and unfold table
POOLS = [
    ("max1d", lambda x: C.max_pool1d(x, 2), (2, 2, 5)),
    ("max1d_pad_stride", lambda x: C.max_pool1d(x, 3, stride=2, padding=1), (1, 2, 6)),
    ("max2d", lambda x: C.max_pool2d(x, 2), (1, 2, 4, 5)),
    ("max2d_overlap_pad", lambda x: C.max_pool2d(x, 3, stride=1, padding=1), (1, 1, 4, 3)),
    ("max2d_dilated", lambda x: C.max_pool2d(x, 2, stride=1, dilation=2), (1, 1, 4, 4)),
    ("avg1d", lambda x: C.avg_pool1d(x, 3, stride=2, padding=1), (2, 1, 5)),
    ("avg2d", lambda x: C.avg_pool2d(x, (2, 3), stride=(1, 2)), (1, 2, 3, 5)),
    ("avg2d_pad", lambda x: C.avg_pool2d(x, 2, padding=1), (1, 1, 3, 3)),
    ("adaptive_1x1", lambda x: C.adaptive_avg_pool2d(x, 1), (2, 2, 3, 3)),
    ("adaptive_divisible", lambda x: C.adaptive_avg_pool2d(x, (2, 1)), (1, 2, 4, 3)),
    ("adaptive_uneven", lambda x: C.adaptive_avg_pool2d(x, (2, None)), (1, 1, 5, 3)),
    ("unfold", lambda x: C.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
     (1, 2, 3, 4)),
    ("fold", lambda c: C.fold(c, (3, 4), 2, padding=1, stride=2), (1, 8, 6)),
]


@pytest.mark.parametrize("name,fn,shape", POOLS, ids=[p[0] for p in POOLS])
def test_pool_gradients(backend, name, fn, shape):
    # Distinct, well separated values: a max pool's argmax must not flip under the
    # finite-difference step.
    values = np.random.default_rng(4).permutation(int(np.prod(shape))).reshape(shape) / 4.0
    assert ag.gradcheck(fn, [make(values, backend)])


@pytest.mark.parametrize("name,fn,shape", [p for p in POOLS if p[0] in {
    "max2d_overlap_pad", "avg2d_pad", "adaptive_uneven", "unfold", "fold"}],
    ids=["max2d_overlap_pad", "avg2d_pad", "adaptive_uneven", "unfold", "fold"])
def test_pool_second_order(backend, name, fn, shape):
    values = np.random.default_rng(4).permutation(int(np.prod(shape))).reshape(shape) / 4.0
    assert ag.gradgradcheck(lambda x: fn(x) * fn(x), [make(values, backend)])


def test_max_pool_tie_sends_gradient_to_first_maximum(backend):
    x = make(np.ones((1, 1, 4, 4)), backend)
    ag.sum(C.max_pool2d(x, 2)).backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1.0  # the first element of each 2x2 window, and only it
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_max_pool_overlapping_ties_accumulate_per_window(backend):
    # Stride 1 over a constant row: every window's first element is a different one.
    x = make(np.ones((1, 1, 4)), backend)
    ag.sum(C.max_pool1d(x, 2, stride=1)).backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [1.0, 1.0, 1.0, 0.0])


# ----------------------------------------------------------------- values against PyTorch
def _torch_cases():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    # name, ours, theirs, input shapes
    return torch, [
        ("conv2d",
         lambda x, w, b: C.conv2d(x, w, b, stride=(2, 1), padding=(2, 1), dilation=(1, 2)),
         lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(2, 1), dilation=(1, 2)),
         [(2, 4, 9, 8), (6, 4, 3, 2), (6,)]),
        ("conv2d_same_groups",
         lambda x, w, b: C.conv2d(x, w, b, padding="same", groups=2),
         lambda x, w, b: F.conv2d(x, w, b, padding="same", groups=2),
         [(2, 4, 6, 7), (4, 2, 4, 3), (4,)]),
        ("conv1d",
         lambda x, w, b: C.conv1d(x, w, b, stride=3, padding=2, groups=3),
         lambda x, w, b: F.conv1d(x, w, b, stride=3, padding=2, groups=3),
         [(3, 3, 11), (6, 1, 4), (6,)]),
        ("conv2d_1x1_batch1", lambda x, w, b: C.conv2d(x, w, b),
         lambda x, w, b: F.conv2d(x, w, b), [(1, 5, 4, 7), (3, 5, 1, 1), (3,)]),
        ("conv2d_groups4_stride2_dilation2_nonsquare",
         lambda x, w, b: C.conv2d(x, w, b, stride=2, padding=(1, 2), dilation=2, groups=4),
         lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=(1, 2), dilation=2, groups=4),
         [(2, 8, 9, 7), (8, 2, 3, 2), (8,)]),
        ("conv_transpose2d_groups_dilation",
         lambda x, w, b: C.conv_transpose2d(x, w, b, 2, 1, 1, 2, (1, 2)),
         lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2, (1, 2)),
         [(2, 4, 3, 4), (4, 3, 3, 2), (6,)]),
        ("conv_transpose1d", lambda x, w, b: C.conv_transpose1d(x, w, b, 3, 2, 1),
         lambda x, w, b: F.conv_transpose1d(x, w, b, 3, 2, 1), [(1, 2, 5), (2, 3, 4), (3,)]),
        ("conv_transpose1d_output_padding_under_dilation",
         lambda x, w, b: C.conv_transpose1d(x, w, b, 1, 1, 1, 1, 2),
         lambda x, w, b: F.conv_transpose1d(x, w, b, 1, 1, 1, 1, 2), [(2, 2, 4), (2, 3, 3), (3,)]),
        ("max_pool2d_nonsquare_dilated",
         lambda x: C.max_pool2d(x, (3, 2), (2, 1), (1, 0), (1, 2)),
         lambda x: F.max_pool2d(x, (3, 2), (2, 1), (1, 0), (1, 2)), [(2, 3, 8, 7)]),
        ("max_pool2d", lambda x: C.max_pool2d(x, 3, 2, 1), lambda x: F.max_pool2d(x, 3, 2, 1),
         [(2, 3, 7, 6)]),
        ("max_pool1d", lambda x: C.max_pool1d(x, 2, 1, 1, 2), lambda x: F.max_pool1d(x, 2, 1, 1, 2),
         [(2, 3, 7)]),
        ("avg_pool2d", lambda x: C.avg_pool2d(x, (3, 2), (2, 1), (1, 1)),
         lambda x: F.avg_pool2d(x, (3, 2), (2, 1), (1, 1)), [(2, 3, 7, 6)]),
        ("avg_pool1d", lambda x: C.avg_pool1d(x, 4), lambda x: F.avg_pool1d(x, 4), [(2, 3, 9)]),
        ("adaptive_avg_pool2d", lambda x: C.adaptive_avg_pool2d(x, (3, 4)),
         lambda x: F.adaptive_avg_pool2d(x, (3, 4)), [(2, 3, 7, 6)]),
        ("unfold", lambda x: C.unfold(x, (2, 3), 2, 1, (1, 2)),
         lambda x: F.unfold(x, (2, 3), 2, 1, (1, 2)), [(2, 3, 7, 6)]),
        ("fold", lambda c: C.fold(c, (7, 6), (2, 3), 1, 1, 2),
         lambda c: F.fold(c, (7, 6), (2, 3), 1, 1, 2), [(2, 18, 12)]),
    ]


TORCH_NAMES = ["conv2d", "conv2d_same_groups", "conv1d", "conv2d_1x1_batch1",
               "conv2d_groups4_stride2_dilation2_nonsquare", "conv_transpose2d_groups_dilation",
               "conv_transpose1d", "conv_transpose1d_output_padding_under_dilation",
               "max_pool2d_nonsquare_dilated", "max_pool2d", "max_pool1d", "avg_pool2d",
               "avg_pool1d", "adaptive_avg_pool2d", "unfold", "fold"]


# torch warns that it pads a copy for 'same' with an even kernel; that is the case tested.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name", TORCH_NAMES)
def test_matches_torch(backend, name):
    torch, cases = _torch_cases()
    _, ours, theirs, shapes = next(c for c in cases if c[0] == name)
    arrays = [random(s, seed=10 + i) for i, s in enumerate(shapes)]
    mine = [make(a, backend) for a in arrays]
    ref = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours(*mine), theirs(*ref)
    cotangent = random(tuple(expected.shape), seed=99)
    out.backward(ag.tensor(cotangent, backend=backend))
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    for t, r in zip(mine, ref):
        np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_mnist_network_matches_torch_in_float32(backend):
    # The layouts the products take at realistic sizes (many channels, a batch, pooling
    # after a convolution), in the precision networks train in.
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    arrays = [random(s, seed=20 + i).astype("float32") for i, s in enumerate(
        [(3, 1, 12, 12), (8, 1, 3, 3), (8,), (16, 8, 3, 3), (16,)])]
    mine = [make(a, backend, dtype="float32") for a in arrays]
    ref = [torch.tensor(a, requires_grad=True) for a in arrays]

    def net(lib, x, w1, b1, w2, b2):
        h = lib.max_pool2d(lib.relu(lib.conv2d(lib.relu(lib.conv2d(x, w1, b1)), w2, b2)), 2)
        return h * h

    out, expected = net(nn.functional, *mine), net(F, *ref)
    ag.sum(out).backward()
    expected.sum().backward()
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-5)
    for t, r in zip(mine[1:], ref[1:]):
        scale = np.abs(r.grad.numpy()).max()
        np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), rtol=1e-4, atol=1e-5 * scale)


def test_convolution_is_one_matrix_product_per_pass(monkeypatch):
    # Forward, input gradient and weight gradient: one 2-D product each over the whole
    # batch, not one per example.
    backend = ag.get_backend("numpy")
    shapes = []
    matmul = backend.ops.matmul

    def spy(a, b):
        shapes.append((a.ndim, b.ndim))
        return matmul(a, b)

    monkeypatch.setattr(backend.ops, "matmul", spy)
    x = make(random((4, 3, 6, 5), seed=7), "numpy")
    w = make(random((5, 3, 3, 3), seed=8), "numpy")
    ag.sum(C.conv2d(x, w, padding=1) ** 2).backward()
    assert shapes == [(2, 2)] * 3


# Per-example weights and per-example weight gradients batch as groups; a batch of
# inputs joins N. name, function of one example, in_axes (None: shared).
VMAPS = [
    ("inputs", lambda x, w: C.conv2d(x, w, padding=1, groups=2), (0, None)),
    ("weights", lambda x, w: C.conv2d(x, w, stride=2, groups=2), (None, 0)),
    ("both", lambda x, w: C.conv_transpose2d(x, w[:4], stride=2, groups=2, dilation=2), (0, 0)),
    ("per_example_grads", ag.grad(
        lambda x, w: ag.sum(C.max_pool2d(C.conv2d(x, w, padding=1, groups=2), 2) ** 2), 1),
     (0, None)),
]


@pytest.mark.parametrize("name,fn,in_axes", VMAPS, ids=[v[0] for v in VMAPS])
def test_vmap_matches_a_loop(backend, name, fn, in_axes):
    x = make(random((3, 2, 4, 5, 4), seed=11), backend)
    w = make(random((3, 6, 2, 3, 3), seed=12), backend)
    args = [a if axis is not None else a[0] for a, axis in zip((x, w), in_axes)]
    batched = ag.vmap(fn, in_axes=in_axes)(*args).numpy()
    looped = [fn(*[a[i] if axis is not None else a for a, axis in zip(args, in_axes)]).numpy()
              for i in range(3)]
    np.testing.assert_allclose(batched, np.stack(looped), rtol=1e-12, atol=1e-12)


def test_max_pool_jacobian_matches_torch(backend):
    torch = pytest.importorskip("torch")
    x = random((1, 2, 5, 4), seed=13)
    x[0, 0, 1, 1] = x[0, 0, 1, 2]  # a tie inside a window: the first one gets it

    def ours(t):
        return C.max_pool2d(t, 3, stride=2, padding=1)

    def theirs(t):
        return torch.nn.functional.max_pool2d(t, 3, stride=2, padding=1)

    expected = torch.autograd.functional.jacobian(theirs, torch.tensor(x)).numpy()
    for mode in ("reverse", "forward"):
        jac = ag.jacobian(ours, mode=mode)(make(x, backend)).numpy()
        np.testing.assert_array_equal(jac, expected)
    hess = ag.hessian(lambda t: ag.sum(ours(t) ** 3))(make(x, backend)).numpy()
    want = torch.autograd.functional.hessian(lambda t: (theirs(t) ** 3).sum(), torch.tensor(x))
    np.testing.assert_allclose(hess, want.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool_sends_the_gradient_to_a_nan_as_torch(backend):
    torch = pytest.importorskip("torch")
    x = np.array([[[[1.0, np.nan, 0.5], [3.0, 2.0, 4.0]]]])  # both windows hold the NaN
    ours = make(x, backend)
    out = C.max_pool2d(ours, 2, stride=1)
    ag.sum(out).backward()
    theirs = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.max_pool2d(theirs, 2, stride=1)
    expected.sum().backward()
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


# ----------------------------------------------------------------- the numpy fast path
@pytest.mark.parametrize("kwargs", [{}, {"padding": 1, "stride": 2},
                                    {"dilation": (2, 1), "padding": (0, 2)}])
def test_sliding_window_fast_path_is_identical(kwargs, monkeypatch):
    x = ag.tensor(random((2, 3, 7, 6), seed=5).astype("float32"), backend="numpy")
    fast = C.unfold(x, (3, 2), **kwargs).numpy()
    backend = ag.get_backend("numpy")
    monkeypatch.setattr(backend, "sliding_windows", lambda *args: None)
    portable = C.unfold(x, (3, 2), **kwargs).numpy()
    np.testing.assert_array_equal(fast, portable)


def test_backends_without_views_have_no_fast_path():
    assert ag.get_backend("array_api_strict").sliding_windows(None, (2,), (0,)) is None


# ----------------------------------------------------------------- layers
LAYERS = [
    # layer, the function it must equal, input shape
    (lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, dtype="float64"),
     lambda m, x: C.conv1d(x, m.weight, m.bias, 2, 1, 1, 2), (2, 4, 7)),
    (lambda: nn.Conv2d(2, 3, (3, 2), padding="same", bias=False, dtype="float64"),
     lambda m, x: C.conv2d(x, m.weight, None, padding="same"), (1, 2, 5, 4)),
    (lambda: nn.MaxPool1d(2), lambda m, x: C.max_pool1d(x, 2), (1, 2, 6)),
    (lambda: nn.MaxPool2d(3, stride=1, padding=1), lambda m, x: C.max_pool2d(x, 3, 1, 1),
     (1, 2, 4, 4)),
    (lambda: nn.AvgPool1d(3, stride=2), lambda m, x: C.avg_pool1d(x, 3, 2), (1, 2, 7)),
    (lambda: nn.AvgPool2d(2), lambda m, x: C.avg_pool2d(x, 2), (1, 2, 4, 4)),
    (lambda: nn.AdaptiveAvgPool2d(1), lambda m, x: C.adaptive_avg_pool2d(x, 1), (2, 3, 3, 5)),
]


@pytest.mark.parametrize("make_layer,function,shape", LAYERS,
                         ids=[type(m()).__name__ for m, _, _ in LAYERS])
def test_layers_apply_their_function(backend, make_layer, function, shape):
    layer = make_layer()
    x = make(random(shape, seed=6), backend)
    np.testing.assert_array_equal(layer(x).numpy(), function(layer, x).numpy())


@pytest.mark.parametrize("cls,kernel", [("Conv1d", 5), ("Conv2d", (3, 2))])
def test_conv_layers_initialise_as_pytorch(cls, kernel):
    layer = getattr(nn, cls)(6, 8, kernel, groups=2)
    bound = 1.0 / np.sqrt(3 * np.prod(kernel))  # fan_in = in/groups * kernel size
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.shape == (8, 3, *np.atleast_1d(kernel)) and layer.weight.dtype == np.float32
    for p in (layer.weight.numpy(), layer.bias.numpy()):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.5 * bound


def test_conv_layer_weights_are_the_same_on_every_backend(backend):
    ag.manual_seed(3)
    ours = nn.Conv2d(2, 4, 3, backend=backend).weight.numpy()
    ag.manual_seed(3)
    np.testing.assert_array_equal(ours, nn.Conv2d(2, 4, 3, backend="numpy").weight.numpy())


def test_conv_layer_rejects_bad_groups():
    with pytest.raises(ValueError, match="Conv2d: groups=2 must divide in_channels=3"):
        nn.Conv2d(3, 4, 3, groups=2)


# ----------------------------------------------------------------- errors
# function, input shape, further arguments (tuples become zero tensors of that shape),
# keywords, words the message must hold besides the function's name
ERRORS = [
    ("conv2d", (1, 3, 5, 5), [(2, 4, 3, 3)], {}, ["3 channels", "(1, 3, 5, 5)", "(2, 4, 3, 3)"]),
    ("conv2d", (1, 3, 5, 5), [(2, 1, 3, 3)], {"groups": 2}, ["groups=2", "(1, 3, 5, 5)"]),
    ("conv2d", (1, 3, 5, 5), [(2, 3, 7, 7)], {}, ["larger than the padded input", "(1, 3, 5, 5)"]),
    ("conv2d", (1, 3, 5), [(2, 3, 3, 3)], {}, ["4-D input", "(1, 3, 5)"]),
    ("conv1d", (1, 3, 5, 5), [(2, 3, 3)], {}, ["3-D input", "(1, 3, 5, 5)"]),
    ("conv2d", (1, 3, 5, 5), [(2, 3, 3)], {}, ["weight must be 4-D", "(2, 3, 3)"]),
    ("conv2d", (1, 3, 5, 5), [(2, 3, 3, 3), (3,)], {}, ["bias", "(2,)"]),
    ("conv2d", (1, 3, 5, 5), [(2, 3, 3, 3)], {"stride": 2, "padding": "same"},
     ["'same'", "stride"]),
    ("conv2d", (1, 3, 5, 5), [(2, 3, 3, 3)], {"padding": "full"}, ["'full'"]),
    ("conv2d", (1, 3, 5, 5), [(2, 3, 3, 3)], {"stride": [1, 2, 3]}, ["stride", "2 ints"]),
    ("max_pool2d", (1, 3, 5, 5), [2], {"padding": 2}, ["half the kernel", "(1, 3, 5, 5)"]),
    ("max_pool2d", (1, 3, 5, 5), [7], {}, ["larger than the padded input"]),
    ("avg_pool1d", (1, 3, 5, 5), [2], {}, ["3-D input", "(1, 3, 5, 5)"]),
    ("adaptive_avg_pool2d", (1, 3, 5, 5), [0], {}, ["output_size"]),
    ("unfold", (2, 3), [2], {}, ["3-D, 4-D or 5-D", "(2, 3)"]),
    ("fold", (1, 7, 4), [[3, 3], 2], {}, ["(1, 7, 4)"]),
    ("fold", (1, 4, 5), [[3, 3], 2], {}, ["5 windows", "has 4"]),
]


@pytest.mark.parametrize("fname,shape,args,kwargs,words", ERRORS,
                         ids=[f"{e[0]}: {e[4][0]}" for e in ERRORS])
def test_errors_name_the_function_and_shapes(fname, shape, args, kwargs, words):
    args = [ag.zeros(a) if isinstance(a, tuple) else a for a in args]
    with pytest.raises(ValueError) as info:
        getattr(C, fname)(ag.zeros(shape), *args, **kwargs)
    for word in [fname, *words]:
        assert word in str(info.value)


# ----------------------------------------------------------------- the CNN example
@pytest.mark.parametrize("name", ["numpy", "array_api_strict"])
def test_train_cnn_example_quick(name):
    pytest.importorskip("sklearn")
    pytest.importorskip("anygrad.data", reason="the data loaders (anygrad.data) are not here yet")
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "examples" / "train_cnn.py"
    spec = importlib.util.spec_from_file_location("train_cnn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--quick", "--backend", name, "--no-mlp"])
    assert 0.0 <= result["test_accuracy"] <= 1.0
    assert result["test_accuracy"] > 0.3  # well above chance (0.1) after a few batches
