"""Convolution and pooling over NCL / NCHW tensors, in PyTorch's layouts and argument names.

Convolutions and their transposes are the three GEMM products of
`anygrad.ops.conv_gemm` (one large matrix product per pass over the whole batch), max
pooling the running maximum of `anygrad.ops.max_pool`, and average pooling a mean over
the `unfold` op's windows (`anygrad.ops.windows`). Each op's derivative is another of
them, so gradients of gradients of every function below come for free.
"""
from __future__ import annotations


from .. import ops
from ..coercion import tensors
from ..ops import conv_gemm
from ..ops.max_pool import max_pool as _max_pool_op
from ..ops.windows import _Shape, columns, fold, geometry, ints, unfold  # noqa: F401  (fold, unfold re-exported)

__all__ = [
    "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "conv1d", "conv2d", "fold",
    "max_pool1d", "max_pool2d", "unfold",
]
__all__ += ["conv_transpose1d", "conv_transpose2d"]


def _check_rank(fn, x, nd):
    if x.ndim != nd + 2:
        layout = ("N", "C") + (("L",) if nd == 1 else ("D", "H", "W")[-nd:])
        raise ValueError(
            f"{fn}: expects a {nd + 2}-D input ({', '.join(layout)}), got shape {x.shape}"
        )


# ---------------------------------------------------------------- convolution
def _conv(fn, nd, x, weight, bias, stride, padding, dilation, groups):
    x, weight, bias = tensors(fn, x, weight, bias)
    _check_rank(fn, x, nd)
    if weight.ndim != nd + 2:
        raise ValueError(
            f"{fn}: weight must be {nd + 2}-D (out_channels, in_channels/groups, *kernel), "
            f"got shape {weight.shape}"
        )
    n, channels = x.shape[:2]
    out_channels, group_channels = weight.shape[:2]
    if not isinstance(groups, int) or groups < 1 or channels % groups or out_channels % groups:
        raise ValueError(
            f"{fn}: groups={groups} must divide both the input channels ({channels}, input "
            f"shape {x.shape}) and the output channels ({out_channels}, weight shape "
            f"{weight.shape})"
        )
    if channels != group_channels * groups:
        raise ValueError(
            f"{fn}: input has {channels} channels (shape {x.shape}) but weight of shape "
            f"{weight.shape} expects {group_channels} * groups={groups} = {group_channels * groups}"
        )
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(
            f"{fn}: bias must have shape ({out_channels},) for weight of shape {weight.shape}, "
            f"got {bias.shape}"
        )
    geo = geometry(fn, x, tuple(weight.shape[2:]), stride, padding, dilation)
    out = conv_gemm.conv(x, weight, geo=geo, groups=groups, backend=x.backend)
    if bias is not None:
        out = out + ops.reshape(bias, (out_channels,) + (1,) * nd)
    return out


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of (N, C, L) by (out, C/groups, k), as
    torch.nn.functional.conv1d; padding is an int, "same" or "valid"."""
    return _conv("conv1d", 1, x, weight, bias, stride, padding, dilation, groups)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of (N, C, H, W) by (out, C/groups, kh, kw), as
    torch.nn.functional.conv2d; padding is an int, a pair, "same" or "valid"."""
    return _conv("conv2d", 2, x, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(fn, nd, x, weight, bias, stride, padding, output_padding, groups, dilation):
    """The transpose (adjoint) of `_conv` in x: each input position scatters its weighted
    kernel into the output, exactly conv's gradient with respect to its input."""
    x, weight, bias = tensors(fn, x, weight, bias)
    _check_rank(fn, x, nd)
    if weight.ndim != nd + 2:
        raise ValueError(f"{fn}: weight must be {nd + 2}-D (in_channels, out_channels/groups, "
                         f"*kernel), got shape {weight.shape}")
    n, channels = x.shape[:2]
    if not isinstance(groups, int) or groups < 1 or channels % groups:
        raise ValueError(f"{fn}: groups={groups} must divide the input channels ({channels}, "
                         f"input shape {x.shape})")
    if weight.shape[0] != channels:
        raise ValueError(f"{fn}: input has {channels} channels (shape {x.shape}) but weight of "
                         f"shape {weight.shape} expects {weight.shape[0]}")
    kernel = tuple(weight.shape[2:])
    strides = ints(stride, nd, "stride", fn)
    pads = ints(padding, nd, "padding", fn)
    extra = ints(output_padding, nd, "output_padding", fn)
    dilations = ints(dilation, nd, "dilation", fn)
    if any(e < 0 or (e >= s and e >= d) for e, s, d in zip(extra, strides, dilations)):
        raise ValueError(f"{fn}: output_padding {extra} must be smaller than the stride "
                         f"{strides} or the dilation {dilations}")
    size = tuple((i - 1) * s - 2 * p + d * (k - 1) + e + 1
                 for i, s, p, d, k, e in zip(x.shape[2:], strides, pads, dilations, kernel, extra))
    if any(v < 1 for v in size):
        raise ValueError(f"{fn}: input shape {x.shape}, kernel {kernel}, stride {strides} and "
                         f"padding {pads} give an empty output {size}")
    out_channels = weight.shape[1] * groups
    # The convolution whose input gradient this is, from `size` to x's spatial shape.
    # An output_padding of the stride or more (allowed below the dilation) gives that
    # convolution more positions than x has: the extra ones take zeros.
    geo = geometry(fn, _Shape((n, out_channels) + size), kernel, strides, pads, dilations)
    extra_positions = tuple(o - i for o, i in zip(geo.out, x.shape[2:]))
    if any(extra_positions):
        x = ops.pad(x, ((0, 0), (0, 0)) + tuple((0, e) for e in extra_positions))
    out = conv_gemm.input_grad(x, weight, geo=geo, groups=groups, backend=x.backend)
    if bias is not None:
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"{fn}: bias must have shape ({out_channels},) for weight of "
                             f"shape {weight.shape} and groups={groups}, got {bias.shape}")
        out = out + ops.reshape(bias, (out_channels,) + (1,) * nd)
    return out


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-D convolution of (N, C, L) by (C, out/groups, k), as
    torch.nn.functional.conv_transpose1d: the gradient of conv1d with respect to its input."""
    return _conv_transpose("conv_transpose1d", 1, x, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution of (N, C, H, W) by (C, out/groups, kh, kw), as
    torch.nn.functional.conv_transpose2d: the gradient of conv2d with respect to its input."""
    return _conv_transpose("conv_transpose2d", 2, x, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# ---------------------------------------------------------------- pooling
def _pool_geometry(fn, nd, x, kernel_size, stride, padding, dilation):
    """Where the pooling windows of x lie, the arguments checked."""
    _check_rank(fn, x, nd)
    kernel = ints(kernel_size, nd, "kernel_size", fn)
    stride = kernel if stride is None else stride
    pads = ints(padding, nd, "padding", fn)
    if any(p < 0 or 2 * p > k for p, k in zip(pads, kernel)):
        raise ValueError(
            f"{fn}: padding {pads} must be at most half the kernel size {kernel} (input shape "
            f"{x.shape})"
        )
    return geometry(fn, x, kernel, stride, pads, dilation)


def _pool_windows(fn, nd, x, kernel_size, stride, padding, dilation, fill):
    """x's windows as (N, C, windows, positions), and where they lie."""
    geo = _pool_geometry(fn, nd, x, kernel_size, stride, padding, dilation)
    n, c = x.shape[:2]
    cols = ops.reshape(columns(x, geo, fill), (n, c, geo.windows, geo.positions))
    return cols, geo


def _max_pool(fn, nd, x, kernel_size, stride, padding, dilation):
    # Padding is -inf so it never wins; the gradient goes to the first maximum of each
    # window only, as in PyTorch (`anygrad.ops.max_pool`).
    (x,) = tensors(fn, x)
    geo = _pool_geometry(fn, nd, x, kernel_size, stride, padding, dilation)
    return _max_pool_op(x, geo=geo, backend=x.backend)


def _avg_pool(fn, nd, x, kernel_size, stride, padding):
    # Zero padding counts in the average (PyTorch's count_include_pad=True default).
    (x,) = tensors(fn, x)
    cols, geo = _pool_windows(fn, nd, x, kernel_size, stride, padding, 1, 0.0)
    return ops.reshape(ops.mean(cols, axis=2), tuple(x.shape[:2]) + geo.out)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1):
    """Maximum over windows of (N, C, L); stride defaults to the kernel size."""
    return _max_pool("max_pool1d", 1, x, kernel_size, stride, padding, dilation)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """Maximum over windows of (N, C, H, W); stride defaults to the kernel size."""
    return _max_pool("max_pool2d", 2, x, kernel_size, stride, padding, dilation)


def avg_pool1d(x, kernel_size, stride=None, padding=0):
    """Mean over windows of (N, C, L); stride defaults to the kernel size."""
    return _avg_pool("avg_pool1d", 1, x, kernel_size, stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over windows of (N, C, H, W); stride defaults to the kernel size."""
    return _avg_pool("avg_pool2d", 2, x, kernel_size, stride, padding)


def _adaptive_mean(x, axis, size):
    """Means over `size` windows covering `axis`: [floor(i*n/size), ceil((i+1)*n/size)),
    PyTorch's windows. Equal windows take one reshape; uneven ones a slice each."""
    n = x.shape[axis]
    if n % size == 0:
        shape = x.shape[:axis] + (size, n // size) + x.shape[axis + 1:]
        return ops.mean(ops.reshape(x, shape), axis=axis + 1)
    before = (slice(None),) * axis
    means = [
        ops.mean(x[before + (slice(i * n // size, -(-(i + 1) * n // size)), Ellipsis)],
                 axis=axis)
        for i in range(size)
    ]
    return ops.stack(means, axis=axis)


def adaptive_avg_pool2d(x, output_size):
    """Mean-pool (N, C, H, W) to `output_size` (an int, or a pair with None for "keep"),
    with PyTorch's windows. A rectangle's mean is the mean of its row means, so the
    two axes are pooled one after the other."""
    (x,) = tensors("adaptive_avg_pool2d", x)
    _check_rank("adaptive_avg_pool2d", x, 2)
    sizes = (output_size,) * 2 if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(sizes) != 2 or any(s is not None and (not isinstance(s, int) or s < 1) for s in sizes):
        raise ValueError(
            f"adaptive_avg_pool2d: output_size must be a positive int or two of them (None "
            f"keeps that size), got {output_size!r}"
        )
    for axis, size in ((2, sizes[0]), (3, sizes[1])):
        if size is not None and size != x.shape[axis]:
            x = _adaptive_mean(x, axis, size)
    return x
