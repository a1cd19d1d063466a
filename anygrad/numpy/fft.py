"""numpy.fft's spelling over anygrad.fft: the arguments after the array may come by
position, and norm=None is numpy's name for "backward"."""
from __future__ import annotations

from ..ops import fft as _fft
from ._arrays import asarray, refuse, unmapped

_ORDERS = {
    **{name: ("n", "axis", "norm") for name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")},
    **{name: ("s", "axes", "norm") for name in ("fftn", "ifftn", "rfftn", "irfftn")},
    **{name: ("axes",) for name in ("fftshift", "ifftshift")},
}


def _transform(name, order):
    def call(a, *args, out=None, **kwargs):
        refuse(f"fft.{name}", out=out)
        if len(args) > len(order):
            raise TypeError(f"anygrad.numpy.fft.{name}: takes at most {len(order)} arguments "
                            f"after the array ({', '.join(order)})")
        kwargs.update(zip(order, args))
        if kwargs.get("norm", "backward") is None:
            del kwargs["norm"]
        return getattr(_fft, name)(asarray(a), **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = (f"numpy.fft.{name} over anygrad's `fft.{name}`; the arguments after the "
                    f"array may come by position ({', '.join(order)}), and norm=None means "
                    "\"backward\".")
    return call


for _name, _order in _ORDERS.items():
    globals()[_name] = _transform(_name, _order)

__all__ = list(_ORDERS)
del _name, _order


def __getattr__(name):
    raise unmapped("fft", name)
