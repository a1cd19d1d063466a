"""The spelling layers' docstrings: a numpy or PyTorch name over one of anygrad's ops
says which op it spells, rather than repeating the text every op shares."""
from __future__ import annotations

import inspect

import anygrad as ag
import anygrad.numpy as anp
import anygrad.torch as torch
from anygrad.engine import Op


def _op_backed_torch_names():
    for name in dir(torch):
        value = getattr(torch, name)
        if inspect.isfunction(value) and isinstance(inspect.unwrap(value), Op):
            yield name, value, inspect.unwrap(value)


def test_torch_names_over_ops_name_their_op():
    found = list(_op_backed_torch_names())
    assert len(found) > 40
    for name, fn, op in found:
        doc = inspect.getdoc(fn)
        assert doc.startswith(f"torch.{name}: anygrad's `ag.{op.name}`"), (name, doc)
        assert doc != inspect.getdoc(Op)


def test_torch_spellings_of_functions_name_their_target():
    assert inspect.getdoc(torch.cat).startswith("torch.cat: anygrad's `ag.concat`")
    assert "alpha" in inspect.getdoc(torch.add)
    assert inspect.getdoc(torch.LongTensor).startswith("torch.LongTensor: anygrad's Tensor "
                                                       "of dtype int64")


def test_numpy_functions_say_which_numpy_function_they_spell():
    for name in ("sum", "reshape", "zeros", "einsum", "take_along_axis"):
        assert inspect.getdoc(getattr(anp, name)).startswith(f"numpy.{name} "), name
    assert inspect.getdoc(anp.linalg.det).startswith("numpy.linalg.det ")
    assert inspect.getdoc(anp.fft.rfft).startswith("numpy.fft.rfft over anygrad's")
    assert inspect.getdoc(anp.random.gamma).startswith("numpy.random.gamma: ")


def test_numpy_scalar_types_keep_their_call_and_equality():
    # Each scalar type carries its own docstring, and still makes 0-d tensors.
    assert anp.float32.__doc__.startswith("numpy.float32: ")
    assert anp.float32 == ag.float32
    x = anp.float64(2)
    assert x.shape == () and x.dtype == ag.float64
