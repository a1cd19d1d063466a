"""SciPy's spelling over anygrad: `anygrad.scipy.special` and `anygrad.scipy.stats`.

The names, argument names and defaults are scipy's (and HIPS autograd's, which copies
them), so code written against `autograd.scipy.stats` runs here unchanged; every value
is an anygrad op, differentiable in each argument that has a derivative, on every
backend.
"""
from __future__ import annotations

from . import special, stats  # noqa: F401

__all__ = ["special", "stats"]
