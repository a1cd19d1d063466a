"""PyTorch's argument names beside the Array API's: `dim` for `axis`, `keepdim` for
`keepdims`.

The ops speak the standard (`axis`, `keepdims`); Tensor methods and `nn.functional`
accept either spelling through `axis_args`, so a script ported from PyTorch runs
unchanged. Giving both spellings of one argument is an error, not a silent choice.
"""
from __future__ import annotations

__all__ = ["axis_args", "pick"]

_UNSET = object()


def pick(where, standard_name, standard, torch_name, torch_value, default=None):
    """The one value given of two spellings of an argument (`default` if neither)."""
    if standard is not _UNSET and torch_value is not _UNSET:
        raise TypeError(f"{where}: got both {standard_name}= and {torch_name}= (they mean the "
                        f"same thing); pass one")
    if standard is not _UNSET:
        return standard
    if torch_value is not _UNSET:
        return torch_value
    return default


def axis_args(where, axis=_UNSET, dim=_UNSET, keepdims=_UNSET, keepdim=_UNSET,
              default_axis=None):
    """(axis, keepdims) from either spelling; `default_axis` when no axis is given.

    `where` names the caller in the error, e.g. "Tensor.sum" or "softmax".
    """
    axis = pick(where, "axis", axis, "dim", dim, default_axis)
    if isinstance(axis, list):
        axis = tuple(axis)
    keepdims = pick(where, "keepdims", keepdims, "keepdim", keepdim, False)
    return axis, bool(keepdims)


UNSET = _UNSET
