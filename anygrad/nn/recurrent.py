"""Recurrent layers: RNN, LSTM and GRU, and their single-step cells, PyTorch-shaped.

Parameter names, shapes, gate order (i, f, g, o for LSTM; r, z, n for GRU) and
initialisation follow PyTorch, so that a PyTorch state dict loads and gives the same
outputs. A layer projects the inputs of every time step at once (one matmul over the
whole sequence per layer and direction), so the loop over time carries only the hidden
projection and the gate arithmetic.
"""
from __future__ import annotations

import math

import anygrad as ag

from . import functional as F
from . import init
from ..dtypes import parameter_dtype
from ..engine import Op
from .module import Module, Parameter

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ----------------------------------------------------------------- one time step
# An LSTM step's gate arithmetic is one op, `_lstm_cell`: a dozen elementwise ops and
# four slices recorded per step would cost more in bookkeeping than in arithmetic. Its
# output is [h, c] side by side (an op has one output); the rules recompute the gates
# from the op's inputs, with the namespace they are given, so they hold with
# create_graph too.
def _sigmoid(ns, x):
    # Through tanh: one transcendental and no overflow at either end.
    return ns.tanh(x * 0.5) * 0.5 + 0.5


def _gates(ns, gates, size):
    act = _sigmoid(ns, gates)
    return (act[..., :size], act[..., size:2 * size], ns.tanh(gates[..., 2 * size:3 * size]),
            act[..., 3 * size:])


def _cell_forward(xp, gates, c):
    i, f, g, o = _gates(xp, gates, c.shape[-1])
    c = f * c + i * g
    return xp.concat([o * xp.tanh(c), c], axis=-1)


def _cell_vjp_gates(ns, grad, ans, gates, c):
    # From the output gradient [gh, gc]: c's total gradient gc, then each gate's.
    size = c.shape[-1]
    i, f, g, o = _gates(ns, gates, size)
    tanh_c = ns.tanh(ans[..., size:])
    gh = grad[..., :size]
    gc = grad[..., size:] + gh * o * (1 - tanh_c * tanh_c)
    return ns.concat([gc * g * i * (1 - i), gc * c * f * (1 - f), gc * i * (1 - g * g),
                      gh * tanh_c * o * (1 - o)], axis=-1)


def _cell_vjp_c(ns, grad, ans, gates, c):
    size = c.shape[-1]
    f = _sigmoid(ns, gates[..., size:2 * size])
    o = _sigmoid(ns, gates[..., 3 * size:])
    tanh_c = ns.tanh(ans[..., size:])
    gh = grad[..., :size]
    return (grad[..., size:] + gh * o * (1 - tanh_c * tanh_c)) * f


_lstm_cell = Op("lstm_cell", _cell_forward, _cell_vjp_gates, _cell_vjp_c, batch="last_axis")


# A whole LSTM layer in one direction is one op too, `_lstm_layer`: the time loop runs on
# arrays, and backward is one loop back through time. Slicing a recorded (time, batch,
# gates) projection step by step would give each step's gradient as a full-size array,
# so backward would cost time squared; here each step's gradient is one row of the
# stacked result. The output holds every step's h, c and activated gates side by side
# (time, batch, 6 hidden), which backward reads rather than recomputes.
def _layer_forward(xp, projected, h, c, w_hh):
    size = c.shape[-1]
    w_t = xp.matrix_transpose(w_hh)
    steps = []
    for t in range(projected.shape[0]):
        i, f, g, o = _gates(xp, projected[t, ...] + xp.matmul(h, w_t), size)
        c = f * c + i * g
        h = o * xp.tanh(c)
        steps.append(xp.concat([h, c, i, f, g, o], axis=-1))
    return xp.stack(steps, axis=0)


# The engine asks for each input's gradient in turn (in input order, with the same `g`
# and `ans`); the loop back through time gives all four at once, so it runs once per
# node and backward.
_layer_cache = [None, None, None]


def _layer_grads(ns, grad, ans, projected, h0, c0, w_hh):
    if _layer_cache[0] is grad and _layer_cache[1] is ans:
        return _layer_cache[2]
    size = c0.shape[-1]
    steps = projected.shape[0]
    hs = ans[..., :size]
    dh = dc = None
    d_gates = [None] * steps
    for t in range(steps - 1, -1, -1):
        c_prev = ans[t - 1, :, size:2 * size] if t else c0
        i, f, g, o = (ans[t, :, k * size:(k + 1) * size] for k in range(2, 6))
        tanh_c = ns.tanh(ans[t, :, size:2 * size])
        gh = grad[t, :, :size] if dh is None else grad[t, :, :size] + dh
        gc = grad[t, :, size:2 * size] + gh * o * (1 - tanh_c * tanh_c)
        if dc is not None:
            gc = gc + dc
        # The stored gates are outputs too: gradients of gradients reach them.
        gi, gf, gg, go = (grad[t, :, k * size:(k + 1) * size] for k in range(2, 6))
        d = ns.concat([(gc * g + gi) * i * (1 - i), (gc * c_prev + gf) * f * (1 - f),
                       (gc * i + gg) * (1 - g * g), (gh * tanh_c + go) * o * (1 - o)], axis=-1)
        d_gates[t] = d
        dh = ns.matmul(d, w_hh)
        dc = gc * f
    d_projected = ns.stack(d_gates, axis=0)
    h_prevs = ns.concat([ns.expand_dims(h0, axis=0), hs[:-1, ...]], axis=0)
    rows = steps * h0.shape[0]
    d_w = ns.matmul(ns.matrix_transpose(ns.reshape(d_projected, (rows, 4 * size))),
                    ns.reshape(h_prevs, (rows, size)))
    found = (d_projected, dh, dc, d_w)
    _layer_cache[:] = [grad, ans, found]
    return found


def _layer_rule(k):
    def rule(ns, grad, ans, *inputs):
        found = _layer_grads(ns, grad, ans, *inputs)[k]
        if k == 3:  # the weight's rule comes last: let the arrays go
            _layer_cache[:] = [None, None, None]
        return found
    return rule


_lstm_layer = Op("lstm_layer", _layer_forward, *(_layer_rule(k) for k in range(4)), batch="loop")


def _rnn_step(xw, h, w_hh, activation):
    # xw carries both biases, so it rides in linear's bias slot: one op for the step.
    return activation(ag.linear(h, w_hh, xw))


def _lstm_step(xw, state, w_hh, w_hr):
    h, c = state
    size = c.shape[-1]
    hc = _lstm_cell(ag.linear(h, w_hh, xw), c)
    h, c = hc[..., :size], hc[..., size:]
    if w_hr is not None:
        h = ag.linear(h, w_hr)
    return h, c


def _gru_step(xw, h, w_hh, b_hh):
    hw = ag.linear(h, w_hh, b_hh)
    size = h.shape[-1]
    rz = ag.sigmoid(xw[..., :2 * size] + hw[..., :2 * size])
    r = rz[..., :size]
    z = rz[..., size:]
    n = ag.tanh(xw[..., 2 * size:] + r * hw[..., 2 * size:])
    return n + z * (h - n)  # (1 - z) n + z h


def _activation(mode):
    return ag.relu if mode == "RNN_RELU" else ag.tanh


# ----------------------------------------------------------------- multi-layer layers
class RNNBase(Module):
    """The stacked, optionally bidirectional recurrence shared by RNN, LSTM and GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 dtype=None, backend=None, device=None):
        super().__init__()
        name = type(self).__name__
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{name}: hidden_size and num_layers must be positive, got "
                             f"hidden_size={hidden_size}, num_layers={num_layers}")
        if proj_size < 0 or (proj_size and mode != "LSTM"):
            raise ValueError(f"{name}: proj_size must be 0, or positive for LSTM, got {proj_size}")
        if proj_size >= hidden_size and proj_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) must be smaller than "
                             f"hidden_size ({hidden_size})")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        out_size = proj_size or hidden_size
        gate_size = _GATES[mode] * hidden_size

        dtype = parameter_dtype(dtype)

        def new(*shape):
            return Parameter(ag.zeros(shape, dtype=dtype, backend=backend, device=device))

        # Registered in PyTorch's order, so state dicts list the same names in the same order.
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                setattr(self, "weight_ih" + suffix, new(gate_size, layer_in))
                setattr(self, "weight_hh" + suffix, new(gate_size, out_size))
                if bias:
                    setattr(self, "bias_ih" + suffix, new(gate_size))
                    setattr(self, "bias_hh" + suffix, new(gate_size))
                if proj_size:
                    setattr(self, "weight_hr" + suffix, new(proj_size, hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """Kept for PyTorch compatibility: the weights need no repacking here."""

    def _weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(getattr(self, name + suffix, None)
                     for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def _check(self, x, hx):
        name = type(self).__name__
        if x.ndim not in (2, 3):
            raise ValueError(f"{name}: expected a 2-D (unbatched) or 3-D input, got shape "
                             f"{x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input of shape {x.shape} has {x.shape[-1]} features, "
                             f"but input_size is {self.input_size}")
        if hx is None:
            return
        states = hx if self.mode == "LSTM" else (hx,)
        if self.mode == "LSTM" and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{name}: the initial state must be a pair (h0, c0)")
        batch = () if x.ndim == 2 else (x.shape[0 if self.batch_first else 1],)
        layers = self.num_layers * (2 if self.bidirectional else 1)
        sizes = (self.proj_size or self.hidden_size, self.hidden_size)
        for label, state, size in zip(("h0", "c0"), states, sizes):
            want = (layers,) + batch + (size,)
            if tuple(state.shape) != want:
                raise ValueError(f"{name}: {label} has shape {tuple(state.shape)}, expected "
                                 f"{want} for input of shape {tuple(x.shape)}")

    def forward(self, input, hx=None):
        x = input if isinstance(input, ag.Tensor) else ag.as_tensor(input)
        self._check(x, hx)
        lstm = self.mode == "LSTM"
        unbatched = x.ndim == 2
        if unbatched:
            x = ag.expand_dims(x, axis=1)
            if hx is not None:
                hx = tuple(ag.expand_dims(s, axis=1) for s in hx) if lstm else \
                    ag.expand_dims(hx, axis=1)
        elif self.batch_first:
            x = ag.permute_dims(x, (1, 0, 2))
        directions = 2 if self.bidirectional else 1
        batch = x.shape[1]
        out_size = self.proj_size or self.hidden_size
        if hx is None:
            zeros = ag.zeros((self.num_layers * directions, batch, out_size), dtype=x.dtype,
                             backend=x.backend, device=x.device)
            if lstm:
                cells = zeros if not self.proj_size else ag.zeros(
                    (self.num_layers * directions, batch, self.hidden_size), dtype=x.dtype,
                    backend=x.backend, device=x.device)
                hx = (zeros, cells)
            else:
                hx = zeros
        finals = []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout, training=True)
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                state = (hx[0][k], hx[1][k]) if lstm else hx[k]
                seq, state = self._direction(x, state, layer, direction)
                outputs.append(seq)
                finals.append(state)
            x = outputs[0] if directions == 1 else ag.concat(outputs, axis=-1)
        if lstm:
            h_n = ag.stack([s[0] for s in finals], axis=0)
            c_n = ag.stack([s[1] for s in finals], axis=0)
        else:
            h_n = ag.stack(finals, axis=0)
        if unbatched:
            x = ag.squeeze(x, axis=1)
            h_n = ag.squeeze(h_n, axis=1)
            if lstm:
                c_n = ag.squeeze(c_n, axis=1)
        elif self.batch_first:
            x = ag.permute_dims(x, (1, 0, 2))
        return (x, (h_n, c_n)) if lstm else (x, h_n)

    def _direction(self, x, state, layer, direction):
        """One layer in one direction over the whole sequence x (time, batch, features):
        the stacked outputs in time order, and the final state."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
        if b_ih is not None and self.mode != "GRU":  # GRU's b_hn sits inside r * (...)
            b_ih, b_hh = b_ih + b_hh, None
        projected = ag.linear(x, w_ih, b_ih)  # every step's x @ W_ih.T in one matmul
        if self.mode == "LSTM" and w_hr is None:
            return self._lstm_direction(projected, state, w_hh, direction)
        projected = ag.unstack(projected, axis=0)
        if direction:
            projected = projected[::-1]
        outputs = []
        if self.mode == "LSTM":
            for xw in projected:
                state = _lstm_step(xw, state, w_hh, w_hr)
                outputs.append(state[0])
        elif self.mode == "GRU":
            for xw in projected:
                state = _gru_step(xw, state, w_hh, b_hh)
                outputs.append(state)
        else:
            activation = _activation(self.mode)
            for xw in projected:
                state = _rnn_step(xw, state, w_hh, activation)
                outputs.append(state)
        if direction:
            outputs.reverse()
        return ag.stack(outputs, axis=0), state

    def _lstm_direction(self, projected, state, w_hh, direction):
        """An LSTM layer without projection, in one direction, through `_lstm_layer`."""
        h, c = state
        if direction:
            projected = ag.flip(projected, axis=0)
        out = _lstm_layer(projected, h, c, w_hh)
        if direction:
            out = ag.flip(out, axis=0)
        size = self.hidden_size
        last = 0 if direction else -1
        return out[..., :size], (out[last, :, :size], out[last, :, size:2 * size])

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, dropout=0.0, bidirectional=False); returns (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None,
                 backend=None, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype, backend=backend, device=device)


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o; returns (output, (h_n, c_n)).

    With proj_size > 0 the hidden state is projected by weight_hr after each step
    (PyTorch's LSTM with projections)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, dtype=None, backend=None,
                 device=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, dtype=dtype, backend=backend,
                         device=device)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n with n = tanh(W_in x + b_in + r (W_hn h + b_hn));
    returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None, backend=None, device=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype, backend=backend, device=device)


# ----------------------------------------------------------------- cells
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, gates, dtype, backend, device):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias

        dtype = parameter_dtype(dtype)

        def new(*shape):
            return Parameter(ag.zeros(shape, dtype=dtype, backend=backend, device=device))

        self.weight_ih = new(gates * hidden_size, input_size)
        self.weight_hh = new(gates * hidden_size, hidden_size)
        if bias:
            self.bias_ih = new(gates * hidden_size)
            self.bias_hh = new(gates * hidden_size)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _prepare(self, input, states):
        """Input and states with a batch axis (added for unbatched input), zero states
        where none are given, and whether the batch axis was added."""
        name = type(self).__name__
        x = input if isinstance(input, ag.Tensor) else ag.as_tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (batch, {self.input_size}) or "
                             f"({self.input_size},), got {tuple(x.shape)}")
        unbatched = x.ndim == 1
        if unbatched:
            x = ag.expand_dims(x, axis=0)
        shape = (x.shape[0], self.hidden_size)
        out = []
        for s in states:
            if s is None:
                s = ag.zeros(shape, dtype=x.dtype, backend=x.backend, device=x.device)
            elif unbatched:
                s = ag.expand_dims(s, axis=0)
            if tuple(s.shape) != shape:
                raise ValueError(f"{name}: state of shape {tuple(s.shape)} does not match "
                                 f"input of shape {tuple(input.shape)}")
            out.append(s)
        return x, out, unbatched

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


def _cell_projection(cell, x):
    """x @ W_ih.T with both biases (the hidden projection then adds none)."""
    xw = ag.linear(x, cell.weight_ih, cell.bias_ih)
    return xw if cell.bias_hh is None else xw + cell.bias_hh


def _squeezed(t, unbatched):
    return ag.squeeze(t, axis=0) if unbatched else t


class RNNCell(RNNCellBase):
    """One Elman step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh",
                 dtype=None, backend=None, device=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', "
                             f"got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, dtype, backend, device)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._prepare(input, (hx,))
        xw = _cell_projection(self, x)
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return _squeezed(_rnn_step(xw, h, self.weight_hh, _activation(mode)), unbatched)


class LSTMCell(RNNCellBase):
    """One LSTM step; forward(input, (h, c)) returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, backend=None,
                 device=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype, backend, device)

    def forward(self, input, hx=None):
        x, (h, c), unbatched = self._prepare(input, hx if hx is not None else (None, None))
        h, c = _lstm_step(_cell_projection(self, x), (h, c), self.weight_hh, None)
        return _squeezed(h, unbatched), _squeezed(c, unbatched)


class GRUCell(RNNCellBase):
    """One GRU step: h' = (1 - z) n + z h."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, backend=None,
                 device=None):
        super().__init__(input_size, hidden_size, bias, 3, dtype, backend, device)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._prepare(input, (hx,))
        xw = ag.linear(x, self.weight_ih, self.bias_ih)
        return _squeezed(_gru_step(xw, h, self.weight_hh, self.bias_hh), unbatched)
