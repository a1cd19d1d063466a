"""detect_anomaly: the first NaN or Inf, forward or backward, names its op and the line
of this file that created it."""
from __future__ import annotations

import re
import sys
import threading

import numpy as np
import pytest

import anygrad as ag
import anygrad.nn.functional as F
from anygrad.modes import _anomaly_mode
from conftest import host, make

# The NaNs and Infs here are on purpose; numpy's warnings about them are noise.
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")


def here():
    """The line number of the caller's next line."""
    return sys._getframe(1).f_lineno + 1


def site(line):
    return rf'test_anomaly\.py", line {line}, in '


def test_forward_nan_names_op_and_line(backend):
    x = make([1.0, -1.0], backend)
    with ag.detect_anomaly():
        y = x * 2.0
        with pytest.raises(ag.AnomalyError, match=r"^log produced nan in its forward") as err:
            line = here()
            ag.log(y)  # log of a negative number
    message = str(err.value)
    assert "shape (2,)" in message and "non-finite input" not in message
    assert re.search(site(line), message)
    assert "ag.log(y)  # log of a negative number" in message


def test_backward_inf_names_the_op_whose_rule_made_it(backend):
    x = make([0.0, 4.0], backend)
    with ag.detect_anomaly():
        line = here()
        r = ag.sqrt(x)  # finite forward: sqrt(0) = 0
        loss = ag.sum(r * 3.0)
        with pytest.raises(ag.AnomalyError) as err:
            loss.backward()
    message = str(err.value)
    assert message.startswith("the backward of sqrt produced inf in the gradient of its input 0")
    assert re.search(site(line), message)
    assert "r = ag.sqrt(x)" in message


def test_creation_site_skips_anygrad_frames(backend):
    # binary_cross_entropy calls log1p inside anygrad, and log1p(-p) is -inf at p = 1 (the
    # loss clamps it afterwards); the site named is still this line.
    p = make([0.5, 1.0], backend)
    target = make([0.0, 1.0], backend, requires_grad=False)
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError, match="^log1p produced") as err:
            line = here()
            F.binary_cross_entropy(p, target)
    assert re.search(site(line), str(err.value))


def test_operator_syntax_is_named_by_op(backend):
    x = make([1.0], backend)
    zero = make([0.0], backend, requires_grad=False)
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError, match=r"^divide produced inf"):
            x / zero


def test_nan_handed_in_is_reported_as_such(backend):
    x = make([np.nan, 1.0], backend)
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError, match=r"^exp produced nan .* from non-finite input 0"):
            ag.exp(x)


def test_constants_are_checked_too(backend):
    c = make([-1.0], backend, requires_grad=False)
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError, match="^sqrt produced nan"):
            ag.sqrt(c)


def test_backward_with_create_graph_names_the_rule(backend):
    # Recording the gradient runs sqrt's rule g / (2 sqrt x) as ops: the divide makes the
    # inf, and the error names the rule it belongs to and where the sqrt was created.
    x = make([0.0], backend)
    with ag.detect_anomaly():
        line = here()
        y = ag.sum(ag.sqrt(x))
        with pytest.raises(ag.AnomalyError, match=r"^the backward of sqrt produced inf \(in a "
                                                   r"divide op of its derivative rule") as err:
            ag.gradients(y, x, create_graph=True)
    assert re.search(site(line), str(err.value))


def test_node_created_outside_the_block_has_unknown_site(backend):
    x = make([0.0], backend)
    y = ag.sum(ag.sqrt(x))
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError, match="before detect_anomaly.*unknown"):
            y.backward()


def test_is_a_floating_point_error(backend):
    with ag.detect_anomaly():
        with pytest.raises(FloatingPointError):
            ag.log(make([-1.0], backend))


def test_off_by_default_and_reset_after_an_error(backend):
    x = make([-1.0], backend)
    assert _anomaly_mode.get() is None
    y = ag.log(x)  # no error: NaN propagates silently without the mode
    assert np.isnan(host(y)).all()
    with pytest.raises(ag.AnomalyError):
        with ag.detect_anomaly():
            ag.log(x)
    assert _anomaly_mode.get() is None


def test_finite_graph_runs_unchanged(backend):
    x = make([0.5, 1.5], backend)
    with ag.detect_anomaly():
        loss = ag.sum(ag.exp(x) * ag.log(x))
        loss.backward()
    v = np.array([0.5, 1.5])
    np.testing.assert_allclose(host(x.grad), np.exp(v) * (np.log(v) + 1 / v))


def test_mode_is_per_thread(backend):
    seen = {}

    def worker():
        seen["thread"] = _anomaly_mode.get()

    with ag.detect_anomaly():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        seen["main"] = _anomaly_mode.get()
    assert seen["thread"] is None and seen["main"] is not None
