"""What anygrad is measured against: a hand-written numpy step and PyTorch's autograd.

`NumpyMlp` is the floor on the CPU: the same MLP step written out by hand with no
autograd at all — forward, the backward derived on paper, the SGD update — in
float32, with matmuls for the layers and in-place updates where they come naturally.
Any framework on numpy pays at least this; the ratio to it is the price of the
framework. `TorchMlp`, `TorchChain` and `TorchConv` are PyTorch's own eager autograd
on the same work, the yardstick users know.

Each class has the interface of its counterpart in `workloads.py`.
"""
from __future__ import annotations

import numpy as np


class NumpyMlp:
    """The MLP step by hand: ReLU hidden layers, softmax cross-entropy (mean), SGD."""

    name = "floor:numpy"

    def __init__(self, sizes, dtype="float32", lr=0.01):
        self.dtype = np.dtype(dtype)
        self.lr = lr
        self.weights = [np.zeros((o, i), self.dtype) for i, o in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(o, self.dtype) for o in sizes[1:]]
        self.x = self.y = self.rows = None

    def load_weights(self, host_params):
        self.weights = [np.array(w, dtype=self.dtype) for w in host_params[0::2]]
        self.biases = [np.array(b, dtype=self.dtype) for b in host_params[1::2]]

    def parameters_host(self):
        out = []
        for w, b in zip(self.weights, self.biases):
            out += [w.copy(), b.copy()]
        return out

    def set_batch(self, host_x, host_y):
        self.x = np.ascontiguousarray(host_x, dtype=self.dtype)
        self.y = np.asarray(host_y)
        self.rows = np.arange(len(self.y))

    def step(self):
        # Forward, keeping each layer's input (post-ReLU) for the weight gradients.
        inputs = []
        h = self.x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            inputs.append(h)
            h = h @ w.T
            h += b
            if i < last:
                np.maximum(h, 0, out=h)
        # Softmax cross-entropy, shifted for stability; the gradient is (p - onehot) / n.
        h -= h.max(axis=1, keepdims=True)
        p = np.exp(h)
        total = p.sum(axis=1, keepdims=True)
        loss = np.log(total[:, 0]).mean() - h[self.rows, self.y].mean()
        p /= total
        p[self.rows, self.y] -= 1
        p *= 1.0 / len(self.y)
        # Backward and the SGD update, last layer first. The next gradient is taken
        # before the weight it goes through is updated.
        g = p
        for i in range(last, -1, -1):
            a = inputs[i]
            grad_w = g.T @ a
            grad_b = g.sum(axis=0)
            if i > 0:
                upstream = g @ self.weights[i]
                upstream *= a > 0  # ReLU': its output was positive
            grad_w *= self.lr
            self.weights[i] -= grad_w
            grad_b *= self.lr
            self.biases[i] -= grad_b
            if i > 0:
                g = upstream
        return loss

    def loss_value(self, loss):
        return float(loss)

    def sync(self):
        pass


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class TorchMlp:
    """The MLP step with torch.nn, torch.nn.functional.cross_entropy and torch.optim.SGD."""

    name = "torch:autograd"

    def __init__(self, sizes, dtype="float32", lr=0.01, device=None):
        import torch

        self.torch = torch
        self.device = torch.device(device or "cpu")
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(fan_in, fan_out, dtype=getattr(torch, dtype),
                                          device=self.device))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.x = self.y = None

    def load_weights(self, host_params):
        with self.torch.no_grad():
            for p, host in zip(self.model.parameters(), host_params):
                p.copy_(self.torch.from_numpy(np.asarray(host)))

    def parameters_host(self):
        return [p.detach().cpu().numpy().copy() for p in self.model.parameters()]

    def set_batch(self, host_x, host_y):
        self.x = self.torch.from_numpy(np.asarray(host_x)).to(self.device)
        self.y = self.torch.from_numpy(np.asarray(host_y, dtype=np.int64)).to(self.device)

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.torch.nn.functional.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return loss

    def loss_value(self, loss):
        return loss.item()

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)


class TorchChain:
    """PyTorch eager on the tiny chain of `workloads.TinyChain`: the same ops, in order."""

    name = "torch:autograd"

    def __init__(self, n_ops, dtype="float32"):
        import torch

        self.torch = torch
        self.n_ops = n_ops
        self.x = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=getattr(torch, dtype),
                              requires_grad=True)

    def forward(self):
        y = self.x
        tanh = self.torch.tanh
        for i in range(self.n_ops - 1):
            kind = i % 3
            if kind == 0:
                y = y * 0.999
            elif kind == 1:
                y = y + 0.001
            else:
                y = tanh(y)
        return y.sum()

    def step(self):
        self.x.grad = None
        self.forward().backward()

    def sync(self):
        pass


class TorchDeepChain:
    """PyTorch's backward over the same long chain (graph built untimed)."""

    name = "torch:autograd"

    def __init__(self, n_ops, dtype="float32"):
        self.chain = TorchChain(n_ops, dtype)
        self.loss = None

    def prepare(self):
        self.chain.x.grad = None
        self.loss = self.chain.forward()

    def backward(self):
        self.loss.backward()
        self.loss = None

    def sync(self):
        pass


class TorchConv:
    """torch.nn.functional.conv2d forward, sum, backward for input, weight and bias."""

    name = "torch:autograd"

    def __init__(self, host_x, host_w, host_b, padding=1):
        import torch

        self.torch = torch
        self.padding = padding
        self.x, self.w, self.b = (torch.tensor(a, requires_grad=True)
                                  for a in (host_x, host_w, host_b))

    def step(self):
        self.x.grad = self.w.grad = self.b.grad = None
        out = self.torch.nn.functional.conv2d(self.x, self.w, self.b, padding=self.padding)
        out.sum().backward()
        return out

    def grads_host(self):
        return [t.grad.numpy().copy() for t in (self.x, self.w, self.b)]

    def sync(self):
        pass


def jax_available():
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


class JaxJitMlp:
    """The MLP step written directly in jax: jax.grad of the loss, the SGD update, the
    whole step under one jax.jit (a pure function: parameters in, parameters out)."""

    name = "jax:jit"

    def __init__(self, sizes, dtype="float32", lr=0.01):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.dtype = dtype
        self.params = self.x = self.y = None

        def loss(params, x, y):
            h = x
            for i in range(0, len(params), 2):
                h = h @ params[i].T + params[i + 1]
                if i + 2 < len(params):
                    h = jnp.maximum(h, 0)
            logp = jax.nn.log_softmax(h, axis=1)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        def step(params, x, y):
            value, grads = jax.value_and_grad(loss)(params, x, y)
            return value, [p - lr * g for p, g in zip(params, grads)]

        self._step = jax.jit(step)

    def load_weights(self, host_params):
        self.params = [self.jnp.asarray(np.asarray(p, dtype=self.dtype)) for p in host_params]

    def parameters_host(self):
        return [np.asarray(p).copy() for p in self.params]

    def set_batch(self, host_x, host_y):
        self.x = self.jnp.asarray(np.asarray(host_x, dtype=self.dtype))
        self.y = self.jnp.asarray(np.asarray(host_y, dtype=np.int64))

    def step(self):
        loss, self.params = self._step(self.params, self.x, self.y)
        return loss

    def loss_value(self, loss):
        return float(loss)

    def sync(self):
        for p in self.params:
            p.block_until_ready()
