"""gradcheck itself: it passes right gradients and reports wrong ones readably."""
from __future__ import annotations

import pytest

import anygrad as ag
from anygrad.engine import Op
from conftest import make, random

# exp with a deliberately wrong derivative (2x too large)
bad_exp = Op("bad_exp", lambda xp, x: xp.exp(x), lambda ns, g, ans, x: 2 * g * ans)


def test_report_names_input_element_and_values(backend):
    x = make(random((2, 2)), backend)
    with pytest.raises(AssertionError, match=r"input 0 \(shape \(2, 2\)\), element \(0, 0\): "
                                             r"analytic .* vs numerical"):
        ag.gradcheck(lambda a: bad_exp(a), [x])


def test_large_inputs_use_random_directions(backend):
    x = make(random((10, 10)), backend)
    assert ag.gradcheck(lambda a: ag.tanh(a) * a, [x])
    with pytest.raises(AssertionError, match="random direction"):
        ag.gradcheck(lambda a: bad_exp(a), [x])


def test_only_float64_inputs(backend):
    x = ag.tensor([1.0], dtype="float32", requires_grad=True, backend=backend)
    with pytest.raises(TypeError, match="float64"):
        ag.gradcheck(ag.exp, [x])


def test_gradgradcheck_catches_wrong_second_derivative(backend):
    # right first derivative, written with a raw-only trick that breaks the second
    def rule(ns, g, ans, x):
        return g * ans.detach() if isinstance(ans, ag.Tensor) else g * ans

    frozen = Op("frozen_exp", lambda xp, x: xp.exp(x), rule)
    x = make(random((3,)), backend)
    assert ag.gradcheck(lambda a: frozen(a), [x])
    with pytest.raises(AssertionError):
        ag.gradgradcheck(lambda a: frozen(a), [x])


def test_multiple_outputs_and_unused_inputs(backend):
    a = make(random((3,), seed=1), backend)
    b = make(random((3,), seed=2), backend)
    assert ag.gradcheck(lambda x, y: (x * 2, ag.sum(x * x)), [a, b])
