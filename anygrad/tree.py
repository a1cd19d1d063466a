"""Pytrees: nested tuples, lists, dicts and namedtuples of tensors, as `ag.tree`.

    params = [(W1, b1), (W2, b2)]
    leaves, treedef = ag.tree.flatten(params)      # [W1, b1, W2, b2]
    ag.tree.unflatten(treedef, leaves)             # the same structure again
    ag.tree.map(lambda p, g: p - 0.1 * g, params, grads)
    vector, unravel = ag.tree.ravel(params)        # one flat vector, and back

The shapes of `jax.tree` and `jax.flatten_util.ravel_pytree`. Containers are tuple,
list, dict (and OrderedDict) and namedtuple; None is an empty subtree (no leaves);
anything else is a leaf (Tensors, backend arrays, numbers). Dicts keep their keys in
insertion order, unlike JAX, which sorts them: a model's `named_parameters()` order is
the one users expect to see, and two dicts with the same keys in another order are
different structures. The transforms (`ag.grad`, `ag.vjp`, ...) take and return pytrees
through this module.
"""
from __future__ import annotations

import builtins
import math
from collections import OrderedDict

__all__ = ["TreeDef", "flatten", "unflatten", "map", "leaves", "structure", "ravel"]


class TreeDef:
    """The structure of a pytree without its leaves: comparable, printable."""

    __slots__ = ("kind", "meta", "children", "num_leaves")

    def __init__(self, kind, meta, children):
        self.kind = kind  # "leaf", "none", tuple, list, dict, OrderedDict or a namedtuple type
        self.meta = meta  # a dict's keys
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def __eq__(self, other):
        return (isinstance(other, TreeDef) and self.kind == other.kind
                and self.meta == other.meta and self.children == other.children)

    def __hash__(self):
        return hash((str(self.kind), self.meta, tuple(self.children)))

    def __repr__(self):
        return f"TreeDef({_describe(self)})"

    @property
    def is_leaf(self):
        return self.kind == "leaf"


_LEAF = TreeDef("leaf", None, ())
_NONE = TreeDef("none", None, ())


def _describe(d):
    if d.kind == "leaf":
        return "*"
    if d.kind == "none":
        return "None"
    inner = [_describe(c) for c in d.children]
    if d.kind in (dict, OrderedDict):
        body = ", ".join(f"{k!r}: {v}" for k, v in zip(d.meta, inner))
        return "{" + body + "}" if d.kind is dict else f"OrderedDict({{{body}}})"
    if d.kind is list:
        return "[" + ", ".join(inner) + "]"
    if d.kind is tuple:
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
    return f"{d.kind.__name__}(" + ", ".join(inner) + ")"


def _is_namedtuple(kind):
    return issubclass(kind, tuple) and hasattr(kind, "_fields")


def flatten(tree):
    """`(leaves, treedef)`: the leaves in order (dicts in insertion order) and the
    structure, for `unflatten`."""
    out = []
    return out, _flatten(tree, out)


def _flatten(tree, out):
    if tree is None:
        return _NONE
    kind = type(tree)
    if kind is tuple or kind is list:
        return TreeDef(kind, None, [_flatten(c, out) for c in tree])
    if kind is dict or kind is OrderedDict:
        return TreeDef(kind, tuple(tree), [_flatten(c, out) for c in tree.values()])
    if _is_namedtuple(kind):
        return TreeDef(kind, None, [_flatten(c, out) for c in tree])
    out.append(tree)
    return _LEAF


def unflatten(treedef, leaves):
    """The pytree of structure `treedef` holding `leaves` (as many as it has)."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"tree.unflatten: {len(leaves)} leaves for a structure of "
                         f"{treedef.num_leaves}: {_describe(treedef)}")
    return _build(treedef, iter(leaves))


def _build(d, it):
    if d.kind == "leaf":
        return next(it)
    if d.kind == "none":
        return None
    children = [_build(c, it) for c in d.children]
    if d.kind in (dict, OrderedDict):
        return d.kind(zip(d.meta, children))
    if d.kind is tuple or d.kind is list:
        return d.kind(children)
    return d.kind(*children)  # a namedtuple


def leaves(tree):
    """The leaves of `tree` in flattening order: `flatten(tree)[0]`."""
    return flatten(tree)[0]


def structure(tree):
    """The structure of `tree` without its leaves (`flatten(tree)[1]`), for `unflatten`."""
    return flatten(tree)[1]


def map(f, tree, *rest):
    """`f` applied leaf by leaf: `f(leaf, *leaves of rest at the same place)`. Every tree
    in `rest` must have `tree`'s structure."""
    found, treedef = flatten(tree)
    others = []
    for k, other in enumerate(rest):
        more, d = flatten(other)
        if d != treedef:
            raise ValueError(f"tree.map: tree {k + 1} has structure {_describe(d)}, but the "
                             f"first has {_describe(treedef)}")
        others.append(more)
    return unflatten(treedef, [f(*xs) for xs in zip(found, *others)])


def ravel(tree):
    """`(vector, unravel)`: the leaves reshaped and concatenated into one 1-D tensor (of
    their promoted dtype, differentiable), and the function mapping such a vector (a
    tensor or any array, e.g. from scipy.optimize) back to the tree, each leaf in its own
    shape, dtype and backend."""
    from . import ops
    from .creation import as_tensor

    found, treedef = flatten(tree)
    tensors = [as_tensor(x) for x in found]
    if not tensors:
        raise ValueError("tree.ravel: the tree has no leaves")
    backends = {t.backend.name for t in tensors}
    if len(backends) > 1:
        raise TypeError(f"tree.ravel: the leaves live on several backends ({sorted(backends)}); "
                        "move them to one first")
    shapes = [tuple(t.shape) for t in tensors]
    sizes = [math.prod(s) for s in shapes]
    vector = ops.concat([ops.reshape(t, (-1,)) for t in tensors], axis=0)
    first = tensors[0]
    total = builtins.sum(sizes)

    def unravel(v):
        v = as_tensor(v, first.backend) if not _on(v, first.backend) else as_tensor(v)
        if tuple(v.shape) != (total,):
            raise ValueError(f"tree.ravel's unravel: expected a vector of shape ({total},), got "
                             f"{tuple(v.shape)}")
        pieces, start = [], 0
        for t, shape, size in zip(tensors, shapes, sizes):
            piece = ops.reshape(v[start:start + size], shape)
            if piece.dtype != t.dtype:
                piece = ops.astype(piece, t.dtype)
            pieces.append(piece)
            start += size
        return unflatten(treedef, pieces)

    return vector, unravel


def _on(v, backend):
    from .tensor import Tensor

    return isinstance(v, Tensor) and v.backend is backend
