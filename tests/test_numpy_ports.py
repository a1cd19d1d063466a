"""numpy programs in the idioms of HIPS autograd's and JAX's examples, run with only their
imports changed (`import anygrad.numpy as np`, `from anygrad import grad`, ...).

Each test checks something without any oracle installed (central differences, closed
forms, convergence) and, where HIPS autograd or jax is installed, runs the same program
with their imports and compares the numbers.
"""
import importlib

import numpy as onp
from scipy.optimize import minimize

import anygrad as ag
import anygrad.numpy as np
import anygrad.numpy.random as npr
from anygrad import check_grads, elementwise_grad, grad, value_and_grad
from anygrad.optim.loops import adam
from anygrad.scipy.special import logsumexp
from anygrad.scipy.stats import multivariate_normal as mvn
from anygrad.scipy.stats import norm
from anygrad.tree import ravel as flatten


def optional(name):
    """An oracle library, or None where it is not installed (CI has none)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def oracle_autograd(backend):
    """HIPS autograd's spelling of the names these programs use, on the numpy backend."""
    if backend != "numpy" or optional("autograd") is None:
        return None
    import autograd
    import autograd.numpy as anp
    import autograd.numpy.random as anpr
    from autograd.misc.flatten import flatten as aflatten
    from autograd.misc.optimizers import adam as aadam
    from autograd.scipy.special import logsumexp as alogsumexp
    from autograd.scipy.stats import norm as anorm

    return dict(np=anp, npr=anpr, grad=autograd.grad, value_and_grad=autograd.value_and_grad,
                adam=aadam, logsumexp=alogsumexp, flatten=aflatten, norm=anorm)


OURS = dict(np=np, npr=npr, grad=grad, value_and_grad=value_and_grad, adam=adam,
            logsumexp=logsumexp, flatten=flatten, norm=norm)


def host(x):
    return onp.asarray(x, dtype=float)


def check_flat(objective, params):
    """gradcheck of a function of a pytree, through the flat vector of its leaves."""
    vector, unflatten = flatten(params)
    assert ag.gradcheck(lambda v: objective(unflatten(v)), (vector.detach().requires_grad_(True),))


# ----------------------------------------------------------------- neural_net.py
def classifier(L):
    def init_random_params(scale, layer_sizes, rs):
        return [(scale * rs.randn(m, n), scale * rs.randn(n))
                for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]

    def predict(params, inputs):
        for W, b in params:
            outputs = L["np"].dot(inputs, W) + b
            inputs = L["np"].tanh(outputs)
        return outputs - L["logsumexp"](outputs, axis=1, keepdims=True)

    def log_posterior(params, inputs, targets, L2_reg):
        flattened, _ = L["flatten"](params)
        log_prior = -L2_reg * L["np"].dot(flattened, flattened)
        return log_prior + L["np"].sum(predict(params, inputs) * targets)

    return init_random_params, predict, log_posterior


def digits(n=24, dim=12, classes=3, seed=0):
    rs = onp.random.RandomState(seed)
    labels = rs.randint(classes, size=n)
    images = rs.rand(n, dim) + (labels[:, None] == onp.arange(dim) % classes)
    return images, (labels[:, None] == onp.arange(classes)).astype(float)


def train_classifier(L, images, labels, num_iters=6):
    init_random_params, predict, log_posterior = classifier(L)
    params = init_random_params(0.1, [12, 8, 3], L["npr"].RandomState(0))
    X, T = L["np"].array(images), L["np"].array(labels)

    def objective(params, i):
        idx = slice((i % 3) * 8, (i % 3 + 1) * 8)
        return -log_posterior(params, X[idx], T[idx], 0.1)

    losses = []
    params = L["adam"](L["grad"](objective), params, step_size=0.05, num_iters=num_iters,
                       callback=lambda p, i, g: losses.append(float(objective(p, i))))
    accuracy = L["np"].mean(L["np"].argmax(predict(params, X), axis=1) == L["np"].argmax(T, axis=1))
    return params, losses, float(accuracy), objective


def test_neural_net_classifier(backend):
    images, labels = digits()
    params, losses, accuracy, objective = train_classifier(OURS, images, labels)
    check_flat(lambda p: objective(p, 0), params)
    assert losses[-1] < losses[0] and accuracy > 0.5
    theirs = oracle_autograd(backend)
    if theirs is not None:
        their_params, their_losses, their_accuracy, _ = train_classifier(theirs, images, labels)
        onp.testing.assert_allclose(losses, their_losses, rtol=1e-12)
        assert accuracy == their_accuracy
        for ours, their in zip(ag.tree.leaves(params), ag.tree.leaves(their_params)):
            onp.testing.assert_allclose(host(ours), their, rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------- rnn.py / lstm.py
def rnn(L):
    np_ = L["np"]

    def affine(weights, *parts):  # [parts, 1] @ weights: the bias as a last row
        stacked = np_.hstack(parts + (np_.ones((parts[0].shape[0], 1)),))
        return np_.dot(stacked, weights)

    def log_likelihood(params, inputs):
        state = np_.repeat(params["h0"], inputs.shape[1], axis=0)
        total = 0.0
        for step in inputs[:-1]:  # one-hot characters, one time step at a time
            state = np_.tanh(affine(params["recur"], step, state))
            scores = affine(params["out"], state)
            total += np_.sum((scores - L["logsumexp"](scores, axis=1, keepdims=True)) * step)
        return total / inputs.shape[0]

    return log_likelihood


def one_hot_text(L, text="a tiny text to learn", chars=8):
    codes = L["np"].array([ord(c) % chars for c in text])
    seqs = L["np"].zeros((5, 4, chars))
    for ix in range(4):
        line = codes[ix * 5:(ix + 1) * 5, None] == L["np"].arange(chars)[None, :]
        seqs[:, ix, :] = L["np"].array(line, dtype=float)
    return seqs


def test_rnn_character_model(backend):
    def run(L):
        rs = L["npr"].RandomState(0)
        params = {"h0": rs.randn(1, 6) * 0.1, "recur": rs.randn(8 + 6 + 1, 6) * 0.1,
                  "out": rs.randn(6 + 1, 8) * 0.1}
        inputs = one_hot_text(L)
        loss = lambda p, i=0: -rnn(L)(p, inputs)  # noqa: E731
        losses = []
        trained = L["adam"](L["grad"](loss), params, step_size=0.1, num_iters=5,
                            callback=lambda p, i, g: losses.append(float(loss(p))))
        return params, loss, losses, trained

    params, loss, losses, trained = run(OURS)
    assert isinstance(trained, dict) and list(trained) == list(params)
    check_flat(loss, params)
    assert losses[-1] < losses[0]
    theirs = oracle_autograd(backend)
    if theirs is not None:
        onp.testing.assert_allclose(losses, run(theirs)[2], rtol=1e-12)


# ----------------------------------------------------------------- black_box_svi.py
def svi_objective(L, D=2, num_samples=50):
    np_, norm_ = L["np"], L["norm"]
    rs = L["npr"].RandomState(0)

    def log_density(x):
        mu, log_sigma = x[:, 0], x[:, 1]
        return norm_.logpdf(log_sigma, 0, 1.35) + norm_.logpdf(mu, 0, np_.exp(log_sigma))

    def objective(params, t):
        mean, log_std = params[:D], params[D:]
        samples = rs.randn(num_samples, D) * np_.exp(log_std) + mean
        entropy = 0.5 * D * (1.0 + np_.log(2 * np_.pi)) + np_.sum(log_std)
        return -(entropy + np_.mean(log_density(samples)))

    return objective


def test_black_box_variational_inference(backend):
    def run(L):
        objective = svi_objective(L)
        bounds = []
        init = L["np"].concatenate([-1 * L["np"].ones(2), -5 * L["np"].ones(2)])
        final = L["adam"](L["grad"](objective), init, step_size=0.1, num_iters=8,
                          callback=lambda p, t, g: bounds.append(float(-objective(p, t))))
        return bounds, final

    bounds, final = run(OURS)
    assert bounds[-1] > bounds[0]
    # The gradient at fixed noise: a fresh stream for each evaluation.
    point = np.array([0.2, -0.3, -1.0, 0.5])
    check_grads(lambda p: svi_objective(OURS)(p, 0), modes=["rev"], order=1)(point)
    theirs = oracle_autograd(backend)
    if theirs is not None:
        their_bounds, their_final = run(theirs)
        onp.testing.assert_allclose(bounds, their_bounds, rtol=1e-12)
        onp.testing.assert_allclose(host(final), their_final, rtol=1e-12)


# ----------------------------------------------------------------- variational_autoencoder.py
def vae_bound(L):
    np_, norm_ = L["np"], L["norm"]

    def net(params, inputs):
        for W, b in params[:-1]:
            outputs = np_.dot(inputs, W) + b
            mean = np_.mean(outputs, axis=0, keepdims=True)
            spread = np_.std(outputs, axis=0, keepdims=True) + 1
            inputs = np_.maximum(0, (outputs - mean) / spread)
        W, b = params[-1]
        return np_.dot(inputs, W) + b

    def lower_bound(gen_params, rec_params, data, rs):
        q = net(rec_params, data)
        D = np_.shape(q)[-1] // 2
        mean, log_std = q[:, :D], q[:, D:]
        latents = rs.randn(*mean.shape) * np_.exp(log_std) + mean
        q_latents = np_.sum(norm_.logpdf(latents, mean, np_.exp(log_std)), axis=-1)
        p_latents = np_.sum(norm_.logpdf(latents, 0, np_.exp(0)), axis=-1)
        likelihood = np_.sum(-np_.logaddexp(0, -net(gen_params, latents) * data), axis=-1)
        return np_.mean(p_latents + likelihood - q_latents)

    return lower_bound


def test_variational_autoencoder_bound(backend):
    def gradient(L):
        rs = L["npr"].RandomState(0)
        init = lambda sizes: [(0.1 * rs.randn(m, n), 0.1 * rs.randn(n))  # noqa: E731
                              for m, n in zip(sizes[:-1], sizes[1:])]
        gen, rec = init([2, 5, 6]), init([6, 5, 4])
        images = L["np"].array(digits(n=7, dim=6)[0]) / 2
        on = images > 0.5
        images = images * 0 - 1
        images[on] = 1.0  # binarised by a mask write, as the example does
        bound = vae_bound(L)
        objective = lambda p: -bound(p[0], p[1], images, L["npr"].RandomState(1))  # noqa: E731
        return (gen, rec), objective, L["grad"](objective)((gen, rec))

    params, objective, g = gradient(OURS)
    check_flat(objective, params)
    theirs = oracle_autograd(backend)
    if theirs is not None:
        for ours, their in zip(ag.tree.leaves(g), ag.tree.leaves(gradient(theirs)[2])):
            onp.testing.assert_allclose(host(ours), their, rtol=1e-11, atol=1e-14)


# ----------------------------------------------------------------- logistic_regression.py, tanh.py
def test_logistic_regression_with_in_place_updates(backend):
    inputs = np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30]])
    targets = np.array([True, True, False])

    def training_loss(weights):
        preds = 0.5 * (np.tanh(np.dot(inputs, weights)) + 1)
        return -np.sum(np.log(preds * targets + (1 - preds) * (1 - targets)))

    weights = np.array([0.0, 0.0, 0.0])
    check_grads(training_loss, modes=["rev"])(weights)
    before = float(training_loss(weights))
    for i in range(20):
        weights -= grad(training_loss)(weights) * 0.1
    # The gradient by hand: X^T (sigmoid(2 X w) - t) * 2, summed the same way.
    X, t, w = host(inputs), host(targets), host(weights)
    p = 1 / (1 + onp.exp(-2 * X @ w))
    onp.testing.assert_allclose(host(grad(training_loss)(weights)), 2 * X.T @ (p - t), rtol=1e-12)
    assert float(training_loss(weights)) < before


def test_tanh_derivatives_by_elementwise_grad(backend):
    def tanh(x):
        return (1.0 - np.exp(-2 * x)) / (1.0 + np.exp(-(2 * x)))

    x = np.linspace(-3, 3, 13)
    d1 = elementwise_grad(tanh)
    d2 = elementwise_grad(d1)
    d3 = elementwise_grad(d2)
    t = onp.tanh(host(x))
    onp.testing.assert_allclose(host(d1(x)), 1 - t ** 2, rtol=1e-12, atol=1e-15)
    onp.testing.assert_allclose(host(d2(x)), -2 * t * (1 - t ** 2), rtol=1e-11, atol=1e-14)
    onp.testing.assert_allclose(host(d3(x)), -2 * (1 - t ** 2) * (1 - 3 * t ** 2), rtol=1e-10,
                                atol=1e-13)
    autograd = optional("autograd") if backend == "numpy" else None
    if autograd is not None:
        import autograd.numpy as anp

        theirs = lambda x: (1.0 - anp.exp(-2 * x)) / (1.0 + anp.exp(-(2 * x)))  # noqa: E731
        for _ in range(3):
            theirs = autograd.elementwise_grad(theirs)
        onp.testing.assert_allclose(host(d3(x)), theirs(host(x)), rtol=1e-11, atol=1e-14)


# ----------------------------------------------------------------- scipy.optimize: numpy arrays
def test_rosenbrock_with_scipy_minimize():
    def rosenbrock(x):
        return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2

    value, g = value_and_grad(rosenbrock)(onp.array([0.5, 0.5]))
    assert isinstance(g, onp.ndarray) and not isinstance(value, ag.Tensor)
    onp.testing.assert_allclose(g, [-400 * 0.5 * 0.25 - 2 * 0.5, 200 * 0.25], rtol=1e-14)
    result = minimize(value_and_grad(rosenbrock), x0=np.array([0.0, 0.0]), jac=True, method="CG")
    onp.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-4)
    autograd = optional("autograd")
    if autograd is not None:
        import autograd.numpy as anp

        theirs = minimize(autograd.value_and_grad(rosenbrock), x0=anp.array([0.0, 0.0]), jac=True,
                          method="CG")
        assert (result.nit, result.nfev) == (theirs.nit, theirs.nfev)
        onp.testing.assert_allclose(result.x, theirs.x, rtol=1e-12)


def gp_objective(L, mvn_):
    np_ = L["np"]
    rs = onp.random.RandomState(0)
    x = onp.concatenate([onp.linspace(0, 3, 10), onp.linspace(6, 8, 10)])
    y = (onp.cos(x) + rs.randn(20) * 0.1) / 2.0
    x = ((x - 4.0) / 2.0).reshape(20, 1)

    def objective(params):
        mean, noise = params[0], np_.exp(params[1]) + 0.0001
        lengthscales = np_.exp(params[3:])
        diffs = np_.expand_dims(x / lengthscales, 1) - np_.expand_dims(x / lengthscales, 0)
        cov = np_.exp(params[2]) * np_.exp(-0.5 * np_.sum(diffs ** 2, axis=2))
        return -mvn_.logpdf(y, mean * np_.ones(len(y)), cov + noise * np_.eye(len(y)))

    return objective


def test_gaussian_process_with_scipy_minimize():
    objective = gp_objective(OURS, mvn)
    init_params = 0.1 * npr.RandomState(0).randn(4)
    check_grads(objective, modes=["rev"], order=1)(init_params)
    result = minimize(value_and_grad(objective), init_params, jac=True, method="CG")
    assert result.success and onp.linalg.norm(result.jac) < 1e-4
    autograd = optional("autograd")
    if autograd is not None:
        import autograd.scipy.stats.multivariate_normal as amvn

        theirs = gp_objective(oracle_autograd("numpy"), amvn)
        ours_v, ours_g = value_and_grad(objective)(host(init_params))
        their_v, their_g = autograd.value_and_grad(theirs)(host(init_params))
        onp.testing.assert_allclose(ours_v, their_v, rtol=1e-13)
        onp.testing.assert_allclose(ours_g, their_g, rtol=1e-12)
        their = minimize(autograd.value_and_grad(theirs), host(init_params), jac=True, method="CG")
        onp.testing.assert_allclose(result.fun, their.fun, rtol=1e-10)


# ----------------------------------------------------------------- fluidsim.py
def fluid(L, n=6, steps=2):
    """A small smoke simulation in the example's idioms: velocities corrected in place
    (`u -= ...`), neighbours by `roll`, and semi-Lagrangian transport that gathers the
    four cells around each departure point by integer indices."""
    np_ = L["np"]

    def neighbours(a, axis):
        return np_.roll(a, -1, axis=axis) - np_.roll(a, 1, axis=axis)

    def make_divergence_free(u, v):
        spacing = 1.0 / n
        divergence = -0.5 * spacing * (neighbours(u, 0) + neighbours(v, 1))
        pressure = np_.zeros((n, n))
        for sweep in range(3):  # Jacobi sweeps
            around = sum(np_.roll(pressure, s, axis=a) for s in (1, -1) for a in (0, 1))
            pressure = (divergence + around) / 4.0
        u -= 0.5 * neighbours(pressure, 0) / spacing
        v -= 0.5 * neighbours(pressure, 1) / spacing
        return u, v

    def transport(field, u, v):
        cols, rows_ = np_.meshgrid(np_.arange(n), np_.arange(n))
        x, y = (rows_ - u).ravel(), (cols - v).ravel()  # where each cell's content came from
        i0, j0 = np_.floor(x).astype(int), np_.floor(y).astype(int)
        fx, fy = x - i0, y - j0
        i0, j0 = np_.mod(i0, n), np_.mod(j0, n)
        i1, j1 = np_.mod(i0 + 1, n), np_.mod(j0 + 1, n)
        near = (1 - fy) * field[i0, j0] + fy * field[i0, j1]
        far = (1 - fy) * field[i1, j0] + fy * field[i1, j1]
        return np_.reshape((1 - fx) * near + fx * far, (n, n))

    grid_y, grid_x = onp.mgrid[0:n, 0:n] / n
    smoke0 = onp.exp(-((grid_x - 0.5) ** 2 + (grid_y - 0.6) ** 2) / 0.05)
    target = onp.exp(-((grid_x - 0.4) ** 2 + (grid_y - 0.3) ** 2) / 0.1)

    def objective(params):
        u, v = np_.reshape(params[:n * n], (n, n)), np_.reshape(params[n * n:], (n, n))
        smoke = smoke0
        for step in range(steps):
            u, v = make_divergence_free(transport(u, u, v), transport(v, u, v))
            smoke = transport(smoke, u, v)
        return np_.mean((target - smoke) ** 2)

    return objective


def test_fluid_simulation_value_and_gradient():
    objective = fluid(OURS)
    x0 = 0.2 * onp.random.RandomState(0).randn(72)
    value, g = value_and_grad(objective)(x0)
    assert isinstance(g, onp.ndarray) and g.shape == x0.shape
    assert ag.gradcheck(objective, (x0,))
    result = minimize(value_and_grad(objective), x0, jac=True, method="CG", options={"maxiter": 3})
    assert result.fun < value
    autograd = optional("autograd")
    if autograd is not None:
        their_value, their_g = autograd.value_and_grad(fluid(oracle_autograd("numpy")))(x0)
        onp.testing.assert_allclose(value, their_value, rtol=1e-14)
        onp.testing.assert_allclose(g, their_g, rtol=1e-11, atol=1e-15)


# ----------------------------------------------------------------- JAX's MNIST from scratch
def jax_style_mlp(jnp, lse):
    def predict(params, inputs):
        activations = inputs
        for w, b in params[:-1]:
            activations = jnp.tanh(jnp.dot(activations, w) + b)
        final_w, final_b = params[-1]
        logits = jnp.dot(activations, final_w) + final_b
        return logits - lse(logits, axis=1, keepdims=True)

    def loss(params, batch):
        inputs, targets = batch
        return -jnp.mean(jnp.sum(predict(params, inputs) * targets, axis=1))

    return loss


def train_jax_style(loss, grad_, jit, steps=4):
    images, labels = digits(n=32)
    rng = onp.random.RandomState(0)  # real numpy: parameters and batches are numpy arrays
    params = [(0.1 * rng.randn(m, n), 0.1 * rng.randn(n)) for m, n in zip([12, 8], [8, 3])]

    @jit
    def update(params, batch):
        grads = grad_(loss)(params, batch)
        return [(w - 0.1 * dw, b - 0.1 * db) for (w, b), (dw, db) in zip(params, grads)]

    losses = []
    for i in range(steps):
        batch = (images[i % 2 * 16:(i % 2 + 1) * 16], labels[i % 2 * 16:(i % 2 + 1) * 16])
        params = update(params, batch)
        losses.append(float(loss(params, (images, labels))))
    return losses, params


def test_jax_style_mnist_classifier_with_jit():
    loss = jax_style_mlp(np, logsumexp)
    compiled, _ = train_jax_style(loss, grad, ag.compile)
    eager, params = train_jax_style(loss, grad, lambda f: f)
    assert compiled == eager and eager[-1] < eager[0]
    assert all(isinstance(p, onp.ndarray) for p in ag.tree.leaves(params))  # numpy in, numpy out
    images, labels = digits(n=32)
    assert ag.gradcheck(lambda w: loss([(w, params[0][1]), params[1]], (images, labels)),
                        (params[0][0],))
    jax = optional("jax")
    if jax is not None and jax.config.read("jax_enable_x64"):
        import jax.numpy as jjnp
        from jax.scipy.special import logsumexp as jlse

        theirs, _ = train_jax_style(jax_style_mlp(jjnp, jlse), jax.grad, jax.jit)
        onp.testing.assert_allclose(eager, theirs, rtol=1e-12)
