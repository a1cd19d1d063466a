"""`ag.vmap`: a function of one example, mapped over a batch axis.

    per_example = ag.vmap(ag.grad(loss), in_axes=(None, 0, 0))(params, x, y)

As JAX's `vmap` and `torch.func.vmap`. The function runs once, on batched tensors that
show it one example's shape; every op it calls goes through that op's batching rule
(see `anygrad.batching`), so the batch is computed in one go. vmap composes with the
transforms both ways: `vmap(grad(f))` gives per-example gradients, `grad` of a function
that calls vmap differentiates through it, and vmaps nest.
"""
from __future__ import annotations

import functools

from . import ops
from . import tree as _tree
from .batching.tensor import BatchedTensor, enter, leave
from .creation import as_tensor
from .tensor import Tensor

__all__ = ["vmap"]

_RANDOMNESS = ("error", "different", "same")


def vmap(f, in_axes=0, out_axes=0, randomness="error"):
    """A function that applies `f` to each slice of its arguments along `in_axes` and
    stacks the results along `out_axes`.

    `in_axes`: an int (the batch axis of every argument), None (not mapped), or a tuple
    with one entry per positional argument, each an int, None, or a pytree of those
    matching that argument (a prefix of it). Keyword arguments are not mapped.
    `out_axes`: likewise for the output (None: the output must not depend on the batch).
    `randomness`: what random draws inside f do: "error" raises, "different" gives each
    example its own numbers, "same" gives every example the same ones.
    """
    if randomness not in _RANDOMNESS:
        raise ValueError(f"vmap: randomness must be one of {_RANDOMNESS}, not {randomness!r}")
    _check_axes_spec(in_axes, "in_axes")
    _check_axes_spec(out_axes, "out_axes")

    @functools.wraps(f)
    def vmapped(*args, **kwargs):
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(
                f"vmap: in_axes has {len(in_axes)} entries for {len(args)} positional arguments"
            )
        specs = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
        leaves, treedef = _tree.flatten(list(args))
        axes = []
        for arg, spec in zip(args, specs):
            axes.extend(_axes_for(spec, arg, "in_axes"))
        size = _batch_size(leaves, axes)
        level = enter(size, randomness)
        try:
            mapped = [leaf if axis is None else _batched(leaf, axis, level)
                      for leaf, axis in zip(leaves, axes)]
            result = f(*_tree.unflatten(treedef, mapped), **kwargs)
            outs, out_def = _tree.flatten(result)
            out_specs = _axes_for(out_axes, result, "out_axes")
            unbatched = [_unbatched(o, axis, level, size, i)
                         for i, (o, axis) in enumerate(zip(outs, out_specs))]
        finally:
            leave(level)
        return _tree.unflatten(out_def, unbatched)

    return vmapped


def _check_axes_spec(spec, name):
    for leaf in _tree.leaves(spec):
        if not isinstance(leaf, int) or isinstance(leaf, bool):
            raise TypeError(f"vmap: {name} entries must be ints or None, got {leaf!r}")


def _axes_for(spec, tree, name):
    """One axis (or None) per leaf of `tree`, from `spec`, a prefix of its structure."""
    if spec is None or isinstance(spec, int):
        return [spec] * len(_tree.leaves(tree))
    if isinstance(spec, dict) and isinstance(tree, dict):
        if set(spec) != set(tree):
            raise ValueError(f"vmap: {name} has keys {sorted(spec)}, the value {sorted(tree)}")
        return [a for k in tree for a in _axes_for(spec[k], tree[k], name)]
    if isinstance(spec, (tuple, list)) and isinstance(tree, (tuple, list)) \
            and not isinstance(tree, dict):
        if len(spec) != len(tree):
            raise ValueError(f"vmap: {name} {spec!r} has {len(spec)} entries for a "
                             f"{type(tree).__name__} of {len(tree)}")
        return [a for s, t in zip(spec, tree) for a in _axes_for(s, t, name)]
    raise ValueError(f"vmap: {name} {spec!r} does not match the structure {_tree.structure(tree)}")


def _batch_size(leaves, axes):
    sizes = {}
    for i, (leaf, axis) in enumerate(zip(leaves, axes)):
        if axis is None:
            continue
        shape = tuple(getattr(leaf, "shape", ()))
        if not -len(shape) <= axis < len(shape):
            raise ValueError(f"vmap: in_axes {axis} is out of range for argument leaf {i} of "
                             f"shape {shape}")
        sizes.setdefault(shape[axis], []).append(i)
    if not sizes:
        raise ValueError("vmap: no argument is mapped (every in_axes is None); map at least one")
    if len(sizes) > 1:
        described = ", ".join(f"{n} (leaves {v})" for n, v in sizes.items())
        raise ValueError(f"vmap: the mapped axes have different sizes: {described}")
    return next(iter(sizes))


def _batched(leaf, axis, level):
    t = as_tensor(leaf)
    if axis % t.ndim:
        t = ops.moveaxis(t, axis, 0)
    return BatchedTensor(t, level)


def _unbatched(out, axis, level, size, index):
    if not isinstance(out, Tensor):
        raise TypeError(f"vmap: f must return tensors (or pytrees of them); output leaf "
                        f"{index} is a {type(out).__name__}")
    batched = type(out) is BatchedTensor and out._level == level
    if axis is None:
        if batched:
            raise ValueError(f"vmap: output leaf {index} depends on the mapped axis, but its "
                             "out_axes is None")
        return out
    value = out._value if batched else ops.broadcast_to(out, (size,) + tuple(out.shape))
    if axis % value.ndim:
        value = ops.moveaxis(value, 0, axis)
    return value
