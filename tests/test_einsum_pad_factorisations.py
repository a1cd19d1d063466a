"""einsum's full subscript language, pad's copying modes, and the qr and svd forms with
factors that are not unique: values against numpy, and the errors that name what went
wrong. Their first and second derivatives are rows of the gradcheck table
(tests/test_ops_gradcheck.py), and PyTorch's rows in tests/test_torch_oracle.py."""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import anygrad as ag
from conftest import host, make, random

# ------------------------------------------------------------------------------ einsum
EINSUM = [
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij,...jk", [(2, 3, 4), (4, 5)]),
    ("ij...->", [(2, 3)]),
    ("...,...", [(3,), (2, 3)]),
    ("i...,...->...", [(2, 3), (1,)]),
    ("...i,...i->...", [(2, 3), (3,)]),
    ("ii->i", [(3, 3)]),
    ("ii->", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(3, 3, 4)]),
    ("iji->ij", [(3, 2, 3)]),
    ("iii->i", [(2, 2, 2)]),
    ("i...i", [(3, 2, 3)]),
    ("...ii->...i", [(2, 4, 4)]),
    ("iij,jk,l->k", [(3, 3, 2), (2, 4), (5,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("ij,jk,kl,m->il", [(2, 3), (3, 4), (4, 4), (5,)]),
    ("bij,bjk->bki", [(2, 3, 4), (2, 4, 5)]),
    ("ba", [(2, 3)]),
    ("Ab,bA", [(2, 3), (3, 2)]),
    ("i,j", [(3,), (2,)]),
    (",i->i", [(), (3,)]),
    ("ijk,kji->", [(2, 3, 4), (4, 3, 2)]),
    (" ...i j , j->i ... ", [(2, 3, 4), (4,)]),
]


@pytest.mark.parametrize("spec, shapes", EINSUM, ids=[s for s, _ in EINSUM])
def test_einsum_matches_numpy(spec, shapes, backend):
    arrays = [random(s, seed=k) for k, s in enumerate(shapes)]
    got = ag.einsum(spec, *[make(a, backend) for a in arrays])
    want = np.einsum(spec.replace(" ", ""), *arrays)
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(host(got), want, rtol=1e-12, atol=1e-12)


LETTERS = "abcdA"


def _einsum_case(draw):
    """Random subscripts (repeated indices, ellipses of different ranks, length-1
    ellipsis dimensions, implicit or explicit output) and matching shapes."""
    sizes = {c: draw(st.integers(1, 3)) for c in LETTERS}
    dots = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2)))]
    subscripts, shapes, ranks = [], [], []
    for _ in range(draw(st.integers(1, 3))):
        letters = "".join(draw(st.lists(st.sampled_from(LETTERS), max_size=3)))
        shape = [sizes[c] for c in letters]
        if dots and draw(st.booleans()):
            rank = draw(st.integers(0, len(dots)))
            ellipsis = [n if draw(st.booleans()) else 1 for n in dots[len(dots) - rank:]]
            at = draw(st.integers(0, len(letters)))
            letters = letters[:at] + "..." + letters[at:]
            shape = shape[:at] + ellipsis + shape[at:]
            ranks.append(rank)
        subscripts.append(letters)
        shapes.append(tuple(shape))
    spec = ",".join(subscripts)
    if draw(st.booleans()):  # an explicit output: some of the indices, in any order
        named = sorted(set("".join(subscripts).replace("...", "")))
        output = draw(st.permutations(named))[:draw(st.integers(0, len(named)))]
        if any(ranks):
            at = draw(st.integers(0, len(output)))
            output = output[:at] + ["..."] + output[at:]
        spec += "->" + "".join(output)
    return spec, shapes


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_einsum_matches_numpy_and_central_differences(data, backend):
    spec, shapes = _einsum_case(data.draw)
    arrays = [random(s, seed=k) for k, s in enumerate(shapes)]
    xs = [make(a, backend) for a in arrays]
    got = ag.einsum(spec, *xs)
    want = np.einsum(spec, *arrays)
    assert tuple(got.shape) == want.shape, spec
    np.testing.assert_allclose(host(got), want, rtol=1e-12, atol=1e-12, err_msg=spec)
    assert ag.gradcheck(lambda *ts: ag.einsum(spec, *ts), xs)


EINSUM_ERRORS = [
    ("i...->i", [(3, 4)], "the ellipsis stands for 1 dimension"),
    ("ii", [(3, 4)], "index 'i' repeated in operand 0 \\(shape \\(3, 4\\)\\) has lengths 3 and 4"),
    ("ij,ij", [(2, 3), (3, 3)], "index 'i' has lengths 2 and 3"),
    ("i->j", [(3,)], "output index 'j'"),
    ("i->ii", [(3,)], "index repeated in the output"),
    ("i.j", [(3, 3)], "subscripts are letters"),
    ("i1", [(3, 3)], "subscripts are letters"),
    ("...i...", [(3, 3)], "more than one '...'"),
    ("ij", [(3,)], "subscripts 'ij' for an operand of shape \\(3,\\)"),
    ("i,i", [(3,)], "names 2 operands, got 1"),
    ("i->i->i", [(3,)], "more than one '->'"),
]


@pytest.mark.parametrize("spec, shapes, message", EINSUM_ERRORS, ids=[e[0] for e in EINSUM_ERRORS])
def test_einsum_bad_subscripts_say_what_is_wrong(spec, shapes, message):
    with pytest.raises(ValueError, match="einsum: .*" + message):
        ag.einsum(spec, *[ag.tensor(random(s)) for s in shapes])


# --------------------------------------------------------------------------------- pad
PAD_WIDTHS = [1, (1, 2), ((0, 2), (2, 1)), ((2,),), ((1, 2),), ((2, 0), (0, 0))]
PAD_MODES = [("constant", "constant"), ("edge", "edge"), ("replicate", "edge"),
             ("reflect", "reflect"), ("symmetric", "symmetric"), ("wrap", "wrap"),
             ("circular", "wrap")]


@pytest.mark.parametrize("mode, numpy_mode", PAD_MODES, ids=[m for m, _ in PAD_MODES])
def test_pad_matches_numpy(mode, numpy_mode, backend):
    data = random((3, 4))
    x = make(data, backend)
    for width in PAD_WIDTHS:
        got = ag.pad(x, width, mode=mode)
        np.testing.assert_array_equal(host(got), np.pad(data, width, mode=numpy_mode),
                                      err_msg=f"{mode} {width}")
    if numpy_mode == "wrap":  # wider than the axis: the axis repeats again
        np.testing.assert_array_equal(host(ag.pad(x, ((7, 9), (5, 0)), mode=mode)),
                                      np.pad(data, ((7, 9), (5, 0)), mode="wrap"))


def test_np_pad_on_a_tensor_is_differentiated(backend):
    x = make(random((3,)), backend)
    y = np.pad(x, (2, 1), mode="reflect")
    assert isinstance(y, ag.Tensor)
    ag.sum(y * make([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], backend, requires_grad=False)).backward()
    # [x2, x1, x0, x1, x2, x1] against weights 1..6: x0 gets 3, x1 2+4+6, x2 1+5
    np.testing.assert_allclose(host(x.grad), [3.0, 12.0, 6.0])


PAD_ERRORS = [
    (lambda x: ag.pad(x, ((0, 0), (1, 4)), mode="reflect"),
     "pad: mode='reflect' pads axis 1 of length 4 by 4; mirroring allows a pad width of at "
     "most 3 there"),
    (lambda x: ag.pad(x, 4, mode="symmetric"),
     "pad: mode='symmetric' pads axis 0 of length 3 by 4; mirroring allows a pad width of at "
     "most 3 there"),
    (lambda x: ag.pad(x, 1, mode="mean"), "pad: mode='mean' is not one of 'constant', 'edge'"),
    (lambda x: ag.pad(x[:0], 1, mode="edge"), "pad: mode='edge' cannot extend axis 0 of length 0"),
    (lambda x: ag.pad(x, 1, mode="wrap", constant_values=2.0),
     "pad: constant_values applies to mode='constant', not mode='wrap'"),
    (lambda x: ag.pad(x, ((1, 2), (1, 2), (0, 0))),
     "pad: pad_width ((1, 2), (1, 2), (0, 0)) for a 2-d input"),
    (lambda x: ag.pad(x, -1), "pad: pad_width -1 for a 2-d input; give one (before, after) pair "
     "of non-negative ints per axis"),
]


@pytest.mark.parametrize("call, message", PAD_ERRORS, ids=[str(i) for i in range(len(PAD_ERRORS))])
def test_pad_bad_input_says_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(ag.tensor(random((3, 4))))


# ----------------------------------------------------------------------- qr and svd
@pytest.mark.parametrize("shape", [(3, 5), (2, 5, 3), (4, 4)])
@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr_forms_match_numpy(shape, mode, backend):
    data = random(shape)
    q, r = ag.linalg.qr(make(data, backend), mode=mode)
    want_q, want_r = np.linalg.qr(data, mode=mode)
    assert tuple(q.shape) == want_q.shape and tuple(r.shape) == want_r.shape
    # Householder QR is unique once its signs are: compared as they come, then rebuilt
    np.testing.assert_allclose(host(q), want_q, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(r), want_r, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(q @ r), data, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 5), (2, 5, 3)])
def test_full_svd_matches_numpy(shape, backend):
    data = random(shape)
    u, s, vh = ag.linalg.svd(make(data, backend))
    want_u, want_s, want_vh = np.linalg.svd(data)
    assert (tuple(u.shape), tuple(vh.shape)) == (want_u.shape, want_vh.shape)
    np.testing.assert_allclose(host(s), want_s, rtol=1e-12, atol=1e-12)
    k = min(shape[-2:])
    rebuilt = (u[..., :k] * ag.expand_dims(s, axis=-2)) @ vh[..., :k, :]
    np.testing.assert_allclose(host(rebuilt), data, rtol=1e-12, atol=1e-12)
    eye_u = host(u.mT @ u)
    np.testing.assert_allclose(eye_u, np.broadcast_to(np.eye(shape[-2]), eye_u.shape), atol=1e-12)


def _leading_factors_gradient(factor, x, k, backend):
    weights = make(random((x.shape[-2], k), seed=5), backend, requires_grad=False)
    ag.sum(factor(x)[..., :k] ** 2 * weights).backward()
    return host(x.grad)


def test_full_forms_give_the_reduced_forms_gradient(backend):
    # The leading columns of the full factors are the reduced factors: same gradient.
    data = random((5, 3))
    grads = [_leading_factors_gradient(f, make(data, backend), 3, backend) for f in (
        lambda x: ag.linalg.svd(x, full_matrices=True).U,
        lambda x: ag.linalg.svd(x, full_matrices=False).U,
        lambda x: ag.linalg.qr(x, mode="complete").Q,
        lambda x: ag.linalg.qr(x, mode="reduced").Q)]
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[2], grads[3])


NOT_UNIQUE = [
    (lambda x: ag.linalg.svd(x).U, (5, 3),
     "linalg.svd\\(full_matrices=True\\): a gradient reaches U\\[..., :, 3:\\] \\(input shape "
     "\\(5, 3\\)\\)"),
    (lambda x: ag.linalg.svd(x).Vh, (2, 3, 5),
     "linalg.svd\\(full_matrices=True\\): a gradient reaches Vh\\[..., 3:, :\\] \\(input shape "
     "\\(2, 3, 5\\)\\)"),
    (lambda x: ag.linalg.qr(x, mode="complete").Q, (5, 3),
     "linalg.qr\\(mode='complete'\\): a gradient reaches Q\\[..., :, 3:\\] \\(input shape "
     "\\(5, 3\\)\\).*use only Q\\[..., :, :3\\], or mode='reduced'"),
]


@pytest.mark.parametrize("factor, shape, message", NOT_UNIQUE, ids=["svd_U", "svd_Vh", "qr_Q"])
def test_gradient_of_a_basis_that_is_not_unique_is_refused_in_backward(factor, shape, message,
                                                                        backend):
    x = make(random(shape), backend)
    loss = ag.sum(factor(x) ** 3)  # the forward is fine: only the gradient is not defined
    with pytest.raises(NotImplementedError, match=message):
        loss.backward()


def test_qr_r_mode_is_numpys_and_other_modes_are_named(backend):
    data = random((2, 5, 3))
    np.testing.assert_allclose(host(ag.linalg.qr(make(data, backend), mode="r")),
                               np.linalg.qr(data, mode="r"), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="linalg.qr: mode='raw' is not 'reduced', 'complete'"):
        ag.linalg.qr(make(data, backend), mode="raw")
