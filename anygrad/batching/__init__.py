"""Batching: what `ag.vmap` runs on.

A batched tensor (`BatchedTensor`) holds one tensor whose leading axis is the batch of
one `vmap` call (its level), and shows every function the shape of one example. An op
that meets batched tensors goes through its batching rule (`rules`), which calls the
same op on the underlying tensors with that axis in front and its parameters shifted:
the graph recorded is an ordinary anygrad graph, so gradients through vmap come free.
`dispatch` is the interpreter the engine hands such ops and backward passes to.
"""
from __future__ import annotations

from .tensor import BatchedTensor, is_batched  # noqa: F401
from .rules import UNSUPPORTED  # noqa: F401
