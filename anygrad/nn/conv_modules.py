"""Convolution, pooling and batch-normalisation layers, PyTorch-shaped.

The layers hold parameters and state; the arithmetic is in `convolution` (conv and
pooling) or, for batch norm, a few differentiable ops below. Layers that own
parameters take `dtype`, `backend` and `device` as Linear does, and draw their initial
weights from the backend's seeded stream with PyTorch's formulas.
"""
from __future__ import annotations

import math

import anygrad as ag

from ..dtypes import parameter_dtype
from . import convolution as C
from . import init
from .module import Module, Parameter

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv1d",
    "Conv2d", "MaxPool1d", "MaxPool2d",
]
__all__ += ["ConvTranspose1d", "ConvTranspose2d"]


# ---------------------------------------------------------------- convolution
class _ConvNd(Module):
    """Weight (out, in/groups, *kernel) and bias (out,), initialised as PyTorch does:
    kaiming_uniform_ with a = sqrt(5) (so weight and bias are both uniform in
    +-1/sqrt(fan_in))."""

    _nd = 0
    _function = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, dtype=None, backend=None, device=None):
        super().__init__()
        name = type(self).__name__
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        self.kernel_size = C.ints(kernel_size, self._nd, "kernel_size", name)
        self.stride = C.ints(stride, self._nd, "stride", name)
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' needs stride 1, got stride={stride}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.padding = (padding if isinstance(padding, str)
                        else C.ints(padding, self._nd, "padding", name))
        self.dilation = C.ints(dilation, self._nd, "dilation", name)
        self.groups = groups
        shape = self._weight_shape(in_channels, out_channels, groups) + self.kernel_size
        dtype = parameter_dtype(dtype)
        self.weight = Parameter(ag.zeros(shape, dtype=dtype, backend=backend, device=device))
        if bias:
            self.bias = Parameter(ag.zeros((out_channels,), dtype=dtype, backend=backend,
                                           device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    @staticmethod
    def _weight_shape(in_channels, out_channels, groups):
        return (out_channels, in_channels // groups)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return type(self)._function(x, self.weight, self.bias, self.stride, self.padding,
                                    self.dilation, self.groups)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
        if any(d != 1 for d in self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + f", bias={self.bias is not None}"


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L); see `convolution.conv1d`."""

    _nd = 1
    _function = staticmethod(C.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W); see `convolution.conv2d`."""

    _nd = 2
    _function = staticmethod(C.conv2d)


class _ConvTransposeNd(_ConvNd):
    """Weight (in, out/groups, *kernel) and bias (out,), initialised as PyTorch does (its
    fan-in is out/groups * kernel, from the weight's second axis, as for _ConvNd)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, dtype=None,
                 backend=None, device=None):
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be numbers, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, dtype, backend, device)
        self.output_padding = C.ints(output_padding, self._nd, "output_padding",
                                     type(self).__name__)

    @staticmethod
    def _weight_shape(in_channels, out_channels, groups):
        return (in_channels, out_channels // groups)

    def forward(self, x):
        return type(self)._function(x, self.weight, self.bias, self.stride, self.padding,
                                    self.output_padding, self.groups, self.dilation)

    def extra_repr(self):
        text = super().extra_repr()
        if any(p != 0 for p in self.output_padding):
            text += f", output_padding={self.output_padding}"
        return text


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution over (N, C, L); see `convolution.conv_transpose1d`."""

    _nd = 1
    _function = staticmethod(C.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution over (N, C, H, W); see `convolution.conv_transpose2d`."""

    _nd = 2
    _function = staticmethod(C.conv_transpose2d)


# ---------------------------------------------------------------- pooling
class _Pool(Module):
    """Window arguments kept as given; `stride=None` means the kernel size."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__(kernel_size, stride, padding)
        self.dilation = dilation

    def forward(self, x):
        return type(self)._function(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        return super().extra_repr() + f", dilation={self.dilation}"


class MaxPool1d(_MaxPool):
    """The maximum over windows of `kernel_size` along the last axis of (N, C, L);
    `stride` defaults to `kernel_size`, padding counts as -inf."""

    _function = staticmethod(C.max_pool1d)


class MaxPool2d(_MaxPool):
    """The maximum over `kernel_size` windows of the last two axes of (N, C, H, W);
    `stride` defaults to `kernel_size`, padding counts as -inf."""

    _function = staticmethod(C.max_pool2d)


class _AvgPool(_Pool):
    def forward(self, x):
        return type(self)._function(x, self.kernel_size, self.stride, self.padding)


class AvgPool1d(_AvgPool):
    """The mean over windows of `kernel_size` along the last axis of (N, C, L);
    `stride` defaults to `kernel_size`."""

    _function = staticmethod(C.avg_pool1d)


class AvgPool2d(_AvgPool):
    """The mean over `kernel_size` windows of the last two axes of (N, C, H, W);
    `stride` defaults to `kernel_size`."""

    _function = staticmethod(C.avg_pool2d)


class AdaptiveAvgPool2d(Module):
    """Mean-pool to a fixed output size, whatever the input size (1 for global pooling)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return C.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


# ---------------------------------------------------------------- batch normalisation
class _BatchNorm(Module):
    """Normalise each channel by its batch statistics while training, by running
    estimates in eval mode, then scale and shift (affine weight and bias).

    As in PyTorch: the batch is normalised with its biased variance, but the running
    variance is updated with the unbiased one; running = (1 - momentum) * running +
    momentum * batch, or a cumulative average when momentum is None. running_mean,
    running_var and num_batches_tracked are buffers, so they are in state_dict.
    """

    _ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None, backend=None, device=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        where = {"dtype": parameter_dtype(dtype), "backend": backend, "device": device}
        if affine:
            self.weight = Parameter(ag.ones((num_features,), **where))
            self.bias = Parameter(ag.zeros((num_features,), **where))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", ag.zeros((num_features,), **where))
            self.register_buffer("running_var", ag.ones((num_features,), **where))
            self.register_buffer("num_batches_tracked", ag.zeros(
                (), dtype="int64", backend=backend, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked = ag.zeros_like(self.num_batches_tracked)

    def _check(self, x):
        name = type(self).__name__
        if x.ndim not in self._ranks:
            ranks = " or ".join(f"{r}-D" for r in self._ranks)
            raise ValueError(f"{name}: expects a {ranks} input (N, C, ...), got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: input of shape {x.shape} has {x.shape[1]} channels, "
                             f"expected num_features={self.num_features}")

    def forward(self, x):
        self._check(x)
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)  # broadcasts over N and space
        if self.training or not self.track_running_stats:
            count = x.size // self.num_features
            if self.training and count < 2:
                raise ValueError(f"{type(self).__name__}: training needs more than one value "
                                 f"per channel, got input of shape {x.shape}")
            mean = ag.mean(x, axis=axes, keepdims=True)
            centred = x - mean
            var = ag.mean(centred * centred, axis=axes, keepdims=True)
            if self.training and self.track_running_stats:
                self._update_running(mean, var, count)
        else:
            centred = x - ag.reshape(self.running_mean, shape)
            var = ag.reshape(self.running_var, shape)
        out = centred / ag.sqrt(var + self.eps)
        if self.affine:
            out = out * ag.reshape(self.weight, shape) + ag.reshape(self.bias, shape)
        return out

    def _update_running(self, mean, var, count):
        """Blend this batch into the running estimates, outside the graph; new arrays
        replace the old (state_dict snapshots must not change)."""
        self.num_batches_tracked = self.num_batches_tracked + 1
        momentum = self.momentum
        with ag.no_grad():
            if momentum is None:  # cumulative moving average; a device scalar, no host wait
                momentum = 1.0 / ag.astype(self.num_batches_tracked, self.running_mean.dtype)
            mean = ag.astype(ag.reshape(mean, (self.num_features,)), self.running_mean.dtype)
            unbiased = ag.astype(ag.reshape(var, (self.num_features,)) * (count / (count - 1)),
                                 self.running_var.dtype)
            self.running_mean = self.running_mean * (1.0 - momentum) + mean * momentum
            self.running_var = self.running_var * (1.0 - momentum) + unbiased * momentum

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs."""

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs."""

    _ranks = (4,)
