"""Pytrees (`ag.tree`) and every transform taking and returning them."""
from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import anygrad as ag
from conftest import host, make, random

Pair = namedtuple("Pair", "weight bias")


# ----------------------------------------------------------------- the tree functions
def test_flatten_unflatten_round_trip_keeps_types_and_order():
    tree = {"b": [Pair(1.0, 2.0), None], "a": (3.0,), "c": OrderedDict(z=4.0, y=5.0)}
    leaves, treedef = ag.tree.flatten(tree)
    assert leaves == [1.0, 2.0, 3.0, 4.0, 5.0]  # insertion order, None has no leaves
    back = ag.tree.unflatten(treedef, leaves)
    assert back == tree and type(back["b"][0]) is Pair and type(back["c"]) is OrderedDict
    assert treedef.num_leaves == 5 and ag.tree.structure(tree) == treedef
    assert ag.tree.leaves([None, (None,)]) == []
    assert ag.tree.structure({"a": 1, "b": 2}) != ag.tree.structure({"b": 1, "a": 2})


def test_map_over_several_trees_and_structure_errors():
    a, b = {"x": [1.0, 2.0], "y": 3.0}, {"x": [10.0, 20.0], "y": 30.0}
    assert ag.tree.map(lambda u, v: u + v, a, b) == {"x": [11.0, 22.0], "y": 33.0}
    with pytest.raises(ValueError, match="tree 1 has structure"):
        ag.tree.map(lambda u, v: u, a, {"x": [1.0], "y": 2.0})
    _, treedef = ag.tree.flatten(a)
    with pytest.raises(ValueError, match="2 leaves for a structure of 3"):
        ag.tree.unflatten(treedef, [1.0, 2.0])


def test_ravel_and_unravel(backend):
    tree = {"w": make(random((2, 3), seed=1), backend), "b": [make(random((4,), seed=2), backend)]}
    vector, unravel = ag.tree.ravel(tree)
    assert vector.shape == (10,)
    np.testing.assert_array_equal(host(vector)[:6], host(tree["w"]).ravel())
    back = unravel(host(vector) * 2.0)  # a host array, as scipy.optimize hands back
    assert back["w"].backend is tree["w"].backend
    np.testing.assert_array_equal(host(back["w"]), 2.0 * host(tree["w"]))
    np.testing.assert_array_equal(host(back["b"][0]), 2.0 * host(tree["b"][0]))
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        unravel(np.zeros(9))
    # differentiable: the gradient of a function of the vector reaches each leaf
    g = ag.grad(lambda t: ag.sum(ag.tree.ravel(t)[0] ** 2))(tree)
    np.testing.assert_allclose(host(g["w"]), 2.0 * host(tree["w"]))


# ----------------------------------------------------------------- transforms
def _mlp_loss(params, x):
    h = x
    for layer in params:
        h = ag.tanh(h @ layer[0] + layer[1])
    return ag.sum(h * h)


def _params(backend):
    return [(make(random((3, 4), seed=3), backend, requires_grad=False),
             make(random((4,), seed=4), backend, requires_grad=False)),
            (make(random((4, 2), seed=5), backend, requires_grad=False),
             make(random((2,), seed=6), backend, requires_grad=False))]


def _leafwise_grads(params, x):
    """The same gradients from `gradients` over the flat leaves."""
    leaves = [ag.tensor(host(p), backend=p.backend, requires_grad=True)
              for p in ag.tree.leaves(params)]
    rebuilt = ag.tree.unflatten(ag.tree.structure(params), leaves)
    return [host(g) for g in ag.gradients(_mlp_loss(rebuilt, x), leaves)]


def test_grad_of_a_list_of_pairs_keeps_the_structure(backend):
    params, x = _params(backend), make(random((5, 3), seed=7), backend, requires_grad=False)
    grads = ag.grad(_mlp_loss)(params, x)
    assert isinstance(grads, list) and all(isinstance(p, tuple) for p in grads)
    for g, expected in zip(ag.tree.leaves(grads), _leafwise_grads(params, x)):
        np.testing.assert_allclose(host(g), expected, rtol=1e-12)
    value, (gp, gx) = ag.value_and_grad(_mlp_loss, argnums=(0, 1))(params, x)
    assert gx.shape == x.shape and ag.tree.structure(gp) == ag.tree.structure(params)
    np.testing.assert_allclose(host(value), host(_mlp_loss(params, x)))


def test_grad_of_a_dict_and_namedtuple(backend):
    x = make(random((5, 3), seed=8), backend, requires_grad=False)
    params = {"layer": Pair(make(random((3, 2), seed=9), backend), make([0.1, 0.2], backend))}

    def loss(p):
        return ag.sum(ag.tanh(x @ p["layer"].weight + p["layer"].bias))

    grads = ag.grad(loss)(params)
    assert list(grads) == ["layer"] and isinstance(grads["layer"], Pair)
    t = np.tanh(host(x) @ host(params["layer"].weight) + host(params["layer"].bias))
    np.testing.assert_allclose(host(grads["layer"].bias), np.sum(1 - t ** 2, axis=0), rtol=1e-12)
    assert ag.gradcheck(lambda w, b: loss({"layer": Pair(w, b)}), list(params["layer"]))


def test_vjp_and_jvp_with_pytree_primals_and_outputs(backend):
    a, b = make(random((3,), seed=10), backend), make(random((3,), seed=11), backend)

    def f(p):
        return {"prod": p["a"] * p["b"], "pair": (ag.sin(p["a"]),)}

    out, pullback = ag.vjp(f, {"a": a, "b": b})
    assert set(out) == {"prod", "pair"} and isinstance(out["pair"], tuple)
    u = {"prod": make([1.0, 2.0, 3.0], backend), "pair": (make([1.0, 1.0, 1.0], backend),)}
    (g,) = pullback(u)
    np.testing.assert_allclose(host(g["a"]), host(u["prod"]) * host(b) + np.cos(host(a)))
    np.testing.assert_allclose(host(g["b"]), host(u["prod"]) * host(a))
    with pytest.raises(ValueError, match="structure"):
        pullback({"prod": u["prod"]})
    _, pushed = ag.jvp(f, ({"a": a, "b": b},), ({"a": u["prod"], "b": ag.zeros_like(b)},))
    np.testing.assert_allclose(host(pushed["prod"]), host(u["prod"]) * host(b))
    np.testing.assert_allclose(host(pushed["pair"][0]), np.cos(host(a)) * host(u["prod"]))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_pytrees(backend, mode):
    w, b = make(random((2, 3), seed=12), backend), make(random((2,), seed=13), backend)
    x = make(random((3,), seed=14), backend, requires_grad=False)

    def f(p):
        return {"y": p[0] @ x + p[1], "norm": ag.sum(p[1] * p[1])}

    jac = ag.jacobian(f, mode=mode)((w, b))
    assert jac["y"][0].shape == (2, 2, 3) and jac["y"][1].shape == (2, 2)
    assert jac["norm"][1].shape == (2,)
    expected_w = np.einsum("ij,k->ijk", np.eye(2), host(x))
    np.testing.assert_allclose(host(jac["y"][0]), expected_w, atol=1e-12)
    np.testing.assert_allclose(host(jac["y"][1]), np.eye(2), atol=1e-12)
    np.testing.assert_allclose(host(jac["norm"][1]), 2.0 * host(b), atol=1e-12)
    np.testing.assert_allclose(host(jac["norm"][0]), np.zeros((2, 3)), atol=1e-12)


def test_hessian_and_hvp_of_a_dict(backend):
    p = {"a": make([0.5, -1.0], backend, requires_grad=False),
         "b": make([2.0], backend, requires_grad=False)}

    def f(p):
        return ag.sum(p["a"] ** 3) * ag.sum(p["b"] ** 2)

    hess = ag.hessian(f)(p)
    a, b = host(p["a"]), host(p["b"])
    np.testing.assert_allclose(host(hess["a"]["a"]), np.diag(6 * a * b[0] ** 2))
    np.testing.assert_allclose(host(hess["a"]["b"]), (3 * a ** 2 * 2 * b[0])[:, None])
    v = {"a": make([1.0, 0.0], backend, requires_grad=False),
         "b": make([1.0], backend, requires_grad=False)}
    (hv,) = ag.hvp(f, (p,), (v,))
    full = np.block([[host(hess["a"]["a"]), host(hess["a"]["b"])],
                     [host(hess["b"]["a"]), host(hess["b"]["b"])]])
    np.testing.assert_allclose(np.concatenate([host(hv["a"]), host(hv["b"])]),
                               full @ np.array([1.0, 0.0, 1.0]), rtol=1e-12)


def test_gradients_with_a_dict_of_inputs(backend):
    p = {"x": make([1.0, 2.0], backend), "y": [make(3.0, backend)]}
    grads = ag.gradients(ag.sum(p["x"] * p["x"]) * p["y"][0], p)
    assert set(grads) == {"x", "y"} and isinstance(grads["y"], list)
    np.testing.assert_allclose(host(grads["x"]), [6.0, 12.0])
    np.testing.assert_allclose(host(grads["y"][0]), 5.0)


def test_integer_leaf_is_named(backend):
    params = {"w": make([1.0], backend), "steps": ag.tensor([3], backend=backend)}
    with pytest.raises(TypeError, match=r"argument 0 \(leaf 1 of"):
        ag.grad(lambda p: ag.sum(p["w"]))(params)


def test_compile_takes_and_returns_pytrees(backend):
    @ag.compile(strict=True)
    def affine(p, x):
        return {"y": x.weight @ p["w"] + p["b"], "parts": Pair(p["w"] * 2.0, [p["b"]])}

    for seed in range(3):
        p = {"w": make(random((3, 2), seed=seed), backend, requires_grad=False),
             "b": make(random((2,), seed=seed + 1), backend, requires_grad=False)}
        x = make(random((4, 3), seed=seed + 2), backend, requires_grad=False)
        out = affine(p, Pair(x, None))  # a namedtuple argument: its tensors are arguments
        assert isinstance(out["parts"], Pair) and isinstance(out["parts"].bias, list)
        np.testing.assert_allclose(host(out["y"]), host(x) @ host(p["w"]) + host(p["b"]))
        np.testing.assert_allclose(host(out["parts"].weight), 2.0 * host(p["w"]))
    assert affine.stats["replays"] == 1


def test_against_jax_grad_of_a_pytree():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    params = [(random((3, 4), seed=3), random((4,), seed=4)),
              (random((4, 2), seed=5), random((2,), seed=6))]
    x = random((5, 3), seed=7)

    def jax_loss(ps):
        h = jnp.asarray(x)
        for w, b in ps:
            h = jnp.tanh(h @ w + b)
        return jnp.sum(h * h)

    expected = jax.grad(jax_loss)([(jnp.asarray(w), jnp.asarray(b)) for w, b in params])
    ours = ag.grad(_mlp_loss)([(ag.tensor(w), ag.tensor(b)) for w, b in params], ag.tensor(x))
    for g, e in zip(ag.tree.leaves(ours), jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(host(g), np.asarray(e), rtol=1e-10)
