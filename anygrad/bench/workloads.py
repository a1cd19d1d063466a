"""The anygrad side of every workload, written only against anygrad's public API.

What is timed here is what a user's code would run: `nn` modules, `nn.functional`,
`optim.SGD` and `Tensor.backward`. Nothing here imports numpy or torch; host data
arrives from the runner and crosses to the device through `ag.as_tensor`, the same
call a user's data loader makes. The references that these are compared with live in
`references.py` and share the interface (`load_weights`, `set_batch`, `step`,
`parameters_host`, `sync`), so the runner treats every contender alike.
"""
from __future__ import annotations

import anygrad as ag
import anygrad.nn as nn
import anygrad.nn.functional as F
import anygrad.optim as optim


class MlpStep:
    """One training step of an MLP: forward, softmax cross-entropy, backward, SGD.

    `sizes` are the layer widths (784, 1024, 1024, 10 is 784 inputs, two hidden ReLU
    layers of 1024 and 10 classes). The batch stays on the device between steps, so a
    step moves no data across the host boundary.
    """

    def __init__(self, sizes, backend, dtype="float32", lr=0.01):
        self.backend = ag.get_backend(backend)
        self.name = f"anygrad:{self.backend.name}"
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(fan_in, fan_out, dtype=dtype, backend=self.backend))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers)
        self.optimizer = optim.SGD(self.model.parameters(), lr=lr)
        self.x = self.y = None

    def load_weights(self, host_params):
        """Copy host arrays [W1, b1, W2, b2, ...] (W as (out, in)) into the model."""
        keys = list(self.model.state_dict())
        self.model.load_state_dict(dict(zip(keys, host_params)))

    def parameters_host(self):
        return [p.numpy() for p in self.model.parameters()]

    def set_batch(self, host_x, host_y):
        """Move a host batch to the device; the runner times this call as the transfer."""
        self.x = ag.as_tensor(host_x, backend=self.backend)
        self.y = ag.as_tensor(host_y, backend=self.backend)

    def step(self):
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return loss

    def loss_value(self, loss):
        return loss.item()

    def sync(self):
        self.backend.synchronize()


# Each link of the chains multiplies, adds, or squashes: three cheap elementwise ops
# whose derivatives are cheap too, so the time measured is the per-op bookkeeping.
def _link(y, i):
    kind = i % 3
    if kind == 0:
        return y * 0.999
    if kind == 1:
        return y + 0.001
    return ag.tanh(y)


class TinyChain:
    """`n_ops` elementwise ops on a 4-element vector, then backward: per-op overhead.

    On four numbers the arithmetic is free, so the time is the framework's: recording
    each op (forward) and visiting each node (backward).
    """

    def __init__(self, backend, n_ops, dtype="float32"):
        self.backend = ag.get_backend(backend)
        self.name = f"anygrad:{self.backend.name}"
        self.n_ops = n_ops
        self.x = ag.tensor([0.1, 0.2, 0.3, 0.4], dtype=dtype, backend=self.backend,
                           requires_grad=True)

    def forward(self):
        y = self.x
        for i in range(self.n_ops - 1):  # the final sum is the last op
            y = _link(y, i)
        return ag.sum(y)

    def step(self):
        self.x.grad = None
        self.forward().backward()

    def sync(self):
        self.backend.synchronize()


class DeepChain:
    """A chain `n_ops` long, built untimed; only its backward is timed.

    `prepare()` records a fresh graph (backward frees it), `backward()` walks it. A
    walk that is linear in the graph's size costs the same per op at every length.
    """

    def __init__(self, backend, n_ops, dtype="float32"):
        self.chain = TinyChain(backend, n_ops, dtype)
        self.name = self.chain.name
        self.backend = self.chain.backend
        self.loss = None

    def prepare(self):
        self.chain.x.grad = None
        self.loss = self.chain.forward()

    def backward(self):
        self.loss.backward()
        self.loss = None

    def sync(self):
        self.backend.synchronize()


class ConvStep:
    """One conv layer: conv2d forward, a sum as the loss, backward for input, weight
    and bias. Built only when `anygrad.nn.functional.conv2d` exists."""

    def __init__(self, backend, host_x, host_w, host_b, padding=1):
        self.backend = ag.get_backend(backend)
        self.name = f"anygrad:{self.backend.name}"
        self.padding = padding
        self.x = ag.tensor(host_x, backend=self.backend, requires_grad=True)
        self.w = ag.tensor(host_w, backend=self.backend, requires_grad=True)
        self.b = ag.tensor(host_b, backend=self.backend, requires_grad=True)

    def step(self):
        self.x.grad = self.w.grad = self.b.grad = None
        out = F.conv2d(self.x, self.w, self.b, padding=self.padding)
        ag.sum(out).backward()
        return out

    def grads_host(self):
        return [t.grad.numpy() for t in (self.x, self.w, self.b)]

    def sync(self):
        self.backend.synchronize()


def has_conv2d():
    """Whether `conv2d` is in `anygrad.nn.functional`."""
    return callable(getattr(F, "conv2d", None))


class MnistCnn(nn.Module):
    """PyTorch's MNIST example network: conv 1->32 3x3, ReLU, conv 32->64 3x3, ReLU,
    max-pool 2, dropout, flatten, Linear 9216->128, ReLU, Linear 128->10, log_softmax
    (for 28x28 images; `side` sets another size)."""

    def __init__(self, dtype="float32", backend=None, side=28, p=0.25):
        super().__init__()
        where = {"dtype": dtype, "backend": backend}
        self.conv1 = nn.Conv2d(1, 32, 3, **where)
        self.conv2 = nn.Conv2d(32, 64, 3, **where)
        self.fc1 = nn.Linear(64 * ((side - 4) // 2) ** 2, 128, **where)
        self.fc2 = nn.Linear(128, 10, **where)
        self.p = p

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = F.dropout(F.max_pool2d(x, 2), self.p, self.training)
        x = F.relu(self.fc1(F.flatten(x, 1)))
        return F.log_softmax(self.fc2(x), axis=1)


class CnnContender:
    """What the MNIST-CNN step does in either library: `nll` is the library's loss."""

    nll = None

    def train(self, mode):
        self.model.train(mode)

    def step(self):
        self.model.zero_grad()
        loss = self.nll(self.model(self.x), self.y)
        loss.backward()
        return loss

    def loss_value(self, loss):
        return loss.item()

    def grads_host(self):
        return [p.grad.numpy() for p in self.model.parameters()]


class MnistCnnStep(CnnContender):
    """One forward and backward of `MnistCnn` with nll_loss (no optimizer step): the
    time a training loop spends in the network."""

    nll = staticmethod(F.nll_loss)

    def __init__(self, backend, dtype="float32", side=28):
        self.backend = ag.get_backend(backend)
        self.name = f"anygrad:{self.backend.name}"
        self.model = MnistCnn(dtype, self.backend, side)
        self.x = self.y = None

    def load_weights(self, state):
        self.model.load_state_dict(state)

    def set_batch(self, host_x, host_y):
        self.x = ag.as_tensor(host_x, backend=self.backend)
        self.y = ag.as_tensor(host_y, backend=self.backend)

    def sync(self):
        self.backend.synchronize()
