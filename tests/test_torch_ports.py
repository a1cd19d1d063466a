"""PyTorch programs' idioms run through anygrad.torch: the same code, the same numbers.

Each test is written the way PyTorch's examples and tutorials write it. Where torch is
installed, the same code runs under it from the same initial weights and the losses
are compared; the checks that need no torch run on every backend.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import anygrad as ag
import anygrad.torch as torch
import anygrad.torch.nn as nn
import anygrad.torch.nn.functional as F
import anygrad.torch.optim as optim
from anygrad.torch.utils.data import DataLoader, TensorDataset


def _np(t):
    return np.asarray(t.detach().numpy())


def _reference():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ programs, as functions
def _train_mlp(lib, state, x, y, steps=4):
    """The shape of pytorch/examples' training loops: model, optimizer, DataLoader."""
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lib.nn.Linear(4, 8)
            self.fc2 = lib.nn.Linear(8, 3)

        def forward(self, x):
            return lib.nn.functional.log_softmax(self.fc2(lib.relu(self.fc1(x))), dim=1)

    model = Net()
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(lib.from_numpy(x), lib.from_numpy(y)), batch_size=8)
    losses = []
    for _ in range(steps):
        for data, target in loader:
            opt.zero_grad()
            loss = lib.nn.functional.nll_loss(model(data), target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    with lib.no_grad():
        pred = model(lib.from_numpy(x)).argmax(dim=1, keepdim=True)
        correct = pred.eq(lib.from_numpy(y).view_as(pred)).sum().item()
    return np.array(losses), correct


def _mlp_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=24).astype(np.int64)
    state = {"fc1.weight": rng.normal(size=(8, 4)) * 0.5, "fc1.bias": rng.normal(size=8) * 0.1,
             "fc2.weight": rng.normal(size=(3, 8)) * 0.5, "fc2.bias": rng.normal(size=3) * 0.1}
    return x, y, {k: v.astype(np.float32) for k, v in state.items()}


def _legendre(lib):
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return LegendrePolynomial3


def _fit_legendre(lib, steps=30):
    """pytorch/tutorials' custom-Function polynomial fit, a few steps of it."""
    x = lib.linspace(-math.pi, math.pi, 200, dtype=lib.float)
    y = lib.sin(x)
    a = lib.full((), 0.0, dtype=lib.float, requires_grad=True)
    b = lib.full((), -1.0, dtype=lib.float, requires_grad=True)
    c = lib.full((), 0.0, dtype=lib.float, requires_grad=True)
    d = lib.full((), 0.3, dtype=lib.float, requires_grad=True)
    p3 = _legendre(lib).apply
    losses = []
    for _ in range(steps):
        loss = (a + b * p3(c + d * x) - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            for w in (a, b, c, d):
                w -= 5e-5 * w.grad
                w.grad = None
    return np.array(losses), [w.item() for w in (a, b, c, d)]


def _lbfgs(lib, w0, x, y, line_search_fn, history_size):
    """pytorch/examples' time_sequence_prediction loop: LBFGS with a closure, float64."""
    w = lib.tensor(w0, requires_grad=True)
    xs, ys = lib.from_numpy(x), lib.from_numpy(y)
    opt = lib.optim.LBFGS([w], lr=0.8, max_iter=8, history_size=history_size,
                          line_search_fn=line_search_fn)
    losses = []
    for _ in range(3):
        def closure():
            opt.zero_grad()
            loss = ((lib.tanh(xs @ w) - ys) ** 2).mean()
            loss.backward()
            return loss

        losses.append(opt.step(closure).item())
    return np.array(losses), _np(w)


def _lbfgs_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 3))
    y = np.tanh(x @ np.array([0.5, -1.0, 2.0]))[:, None]
    return rng.normal(size=(3, 1)) * 0.1, x, y


# ------------------------------------------------------------------ against PyTorch
def test_mlp_training_matches_pytorch():
    reference = _reference()
    x, y, state = _mlp_data()
    mine, correct = _train_mlp(torch, state, x, y)
    theirs, their_correct = _train_mlp(reference, state, x, y)
    np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert correct == their_correct


def test_custom_function_fit_matches_pytorch():
    reference = _reference()
    mine, mine_w = _fit_legendre(torch)
    theirs, their_w = _fit_legendre(reference)
    np.testing.assert_allclose(mine, theirs, rtol=1e-5)
    np.testing.assert_allclose(mine_w, their_w, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size", [2, 100])
def test_lbfgs_matches_pytorch(line_search_fn, history_size):
    reference = _reference()
    w0, x, y = _lbfgs_data()
    mine, mine_w = _lbfgs(torch, w0, x, y, line_search_fn, history_size)
    theirs, their_w = _lbfgs(reference, w0, x, y, line_search_fn, history_size)
    np.testing.assert_allclose(mine, theirs, rtol=1e-10)
    np.testing.assert_allclose(mine_w, their_w, rtol=1e-9, atol=1e-12)


def test_adadelta_matches_pytorch():
    reference = _reference()
    rng = np.random.default_rng(2)
    w0, target = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    out = []
    for lib in (torch, reference):
        w = lib.tensor(w0, requires_grad=True)
        opt = lib.optim.Adadelta([w], lr=1.0, rho=0.8, weight_decay=0.1)
        for _ in range(5):
            opt.zero_grad()
            ((w - lib.tensor(target)) ** 4).sum().backward()
            opt.step()
        out.append(_np(w))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)


def test_conv_classifier_gradients_match_pytorch():
    """pytorch/examples' mnist Net, small: conv, max_pool2d, flatten, log_softmax."""
    reference = _reference()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 1, 8, 8)).astype(np.float32)
    target = np.array([1, 0])
    grads = []
    for lib in (torch, reference):
        lib.manual_seed(0)
        conv, fc = lib.nn.Conv2d(1, 2, 3, 1), lib.nn.Linear(18, 2)
        for module, seed in ((conv, 4), (fc, 5)):
            r = np.random.default_rng(seed)
            module.load_state_dict({k: lib.from_numpy(r.normal(size=tuple(v.shape))
                                                      .astype(np.float32))
                                    for k, v in module.state_dict().items()})
        h = lib.nn.functional.max_pool2d(lib.nn.functional.relu(conv(lib.from_numpy(x))), 2)
        out = lib.nn.functional.log_softmax(fc(lib.flatten(h, 1)), dim=1)
        loss = lib.nn.functional.nll_loss(out, lib.from_numpy(target), reduction="sum")
        loss.backward()
        grads.append([loss.item(), _np(conv.weight.grad), _np(fc.weight.grad)])
    for mine, theirs in zip(*grads):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


def test_reductions_match_pytorch():
    reference = _reference()
    a = np.random.default_rng(4).normal(size=(3, 4))
    for name, args in (("std", ()), ("var", (1,)), ("std", (0, False)), ("max", (1,)),
                       ("sort", (1,)), ("topk", (2,))):
        mine = getattr(torch, name)(torch.tensor(a), *args)
        theirs = getattr(reference, name)(reference.tensor(a), *args)
        if isinstance(theirs, tuple):
            for m, t in zip(mine, theirs):
                np.testing.assert_allclose(_np(m), t.numpy(), err_msg=name)
        else:
            np.testing.assert_allclose(_np(mine), theirs.numpy(), err_msg=name)


# ------------------------------------------------------------------ anygrad alone
def test_mlp_idioms_train_on_every_backend(backend):
    x, y, state = _mlp_data()
    losses, correct = _train_mlp(torch, state, x, y, steps=1)
    assert losses[-1] < losses[0] and 0 <= correct <= 24


def test_lbfgs_solves_a_least_squares_problem(backend):
    rng = np.random.default_rng(5)
    a = rng.normal(size=(8, 3))
    b = rng.normal(size=(8,))
    best = np.linalg.lstsq(a, b, rcond=None)[0]
    for line_search_fn in (None, "strong_wolfe"):
        w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        opt = optim.LBFGS([w], lr=1.0, line_search_fn=line_search_fn, max_iter=50)
        am, bm = torch.tensor(a), torch.tensor(b)

        def closure():
            opt.zero_grad()
            loss = ((am @ w - bm) ** 2).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        np.testing.assert_allclose(_np(w), best, rtol=1e-6, atol=1e-8)


def test_adadelta_first_step_is_the_formula(backend):
    w0 = np.array([1.0, -2.0, 0.5])
    w = torch.tensor(w0, requires_grad=True)
    opt = optim.Adadelta([w], lr=0.5, rho=0.9, eps=1e-6)
    (w ** 2).sum().backward()  # grad = 2 w
    opt.step()
    g = 2 * w0
    v = 0.1 * g ** 2
    delta = np.sqrt(1e-6) / np.sqrt(v + 1e-6) * g
    np.testing.assert_allclose(_np(w), w0 - 0.5 * delta, rtol=1e-12)
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta([w], rho=1.5)
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS([w]).step(None)


def test_custom_function_gradient(backend):
    x = torch.tensor([-0.7, 0.2, 0.9], dtype=torch.float64, requires_grad=True)
    p3 = _legendre(torch).apply
    assert ag.gradcheck(lambda t: p3(t).sum(), (x,))


def test_dataloader_over_a_tensor_dataset_trains(backend):
    x = torch.randn(16, 2)
    y = (x.sum(1, keepdim=True) > 0).float()
    model = nn.Sequential(nn.Linear(2, 1))
    opt = optim.Adam(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True)
    before = F.binary_cross_entropy_with_logits(model(x), y).item()
    for _ in range(2):
        for xb, yb in loader:
            opt.zero_grad()
            F.binary_cross_entropy_with_logits(model(xb), yb).backward()
            opt.step()
    after = F.binary_cross_entropy_with_logits(model(x), y)
    assert after.item() < before and f"{after:.4f}" == f"{after.item():.4f}"


def _from_scratch_logistic(lib, x, y, w0):
    """pytorch/tutorials' nn_tutorial, its first model: tensors, requires_grad_, a
    hand-written log_softmax and nll, and updates under no_grad."""
    x_train, y_train = map(lib.tensor, (x, y))
    n = x_train.shape[0]
    weights = lib.tensor(w0)
    weights.requires_grad_()
    bias = lib.zeros(3, requires_grad=True)

    def model(xb):
        z = xb @ weights + bias
        return z - z.exp().sum(-1).log().unsqueeze(-1)

    def nll(input, target):
        return -input[list(range(target.shape[0])), target].mean()

    losses = []
    for i in range((n - 1) // 8 + 1):
        xb, yb = x_train[i * 8:i * 8 + 8], y_train[i * 8:i * 8 + 8]
        loss = nll(model(xb), yb)
        loss.backward()
        with lib.no_grad():
            weights -= weights.grad * 0.5
            bias -= bias.grad * 0.5
            weights.grad.zero_()
            bias.grad.zero_()
        losses.append(loss.item())
    accuracy = (lib.argmax(model(x_train), dim=1) == y_train).float().mean()
    return np.array(losses), accuracy.item()


def _logistic_data():
    rng = np.random.default_rng(7)
    return (rng.random((20, 5), dtype=np.float32), rng.integers(0, 3, 20),
            (rng.standard_normal((5, 3)) / math.sqrt(5)).astype(np.float32))


def test_from_scratch_model_matches_pytorch():
    reference = _reference()
    mine = _from_scratch_logistic(torch, *_logistic_data())
    theirs = _from_scratch_logistic(reference, *_logistic_data())
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-5)
    assert mine[1] == theirs[1]


def test_from_scratch_model_on_every_backend(backend):
    losses, accuracy = _from_scratch_logistic(torch, *_logistic_data())
    assert np.isfinite(losses).all() and 0.0 <= accuracy <= 1.0


def _causal_attention(lib, x, w_attn, heads=2):
    """minGPT's CausalSelfAttention, its tensor idioms: split along dim=2, view and
    transpose into heads, masked_fill of a tril buffer with -inf, contiguous().view."""
    B, T, C = x.size()
    bias = lib.tril(lib.ones(T, T)).view(1, 1, T, T)
    q, k, v = (x @ w_attn).split(C, dim=2)
    k = k.view(B, T, heads, C // heads).transpose(1, 2)
    q = q.view(B, T, heads, C // heads).transpose(1, 2)
    v = v.view(B, T, heads, C // heads).transpose(1, 2)
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
    att = att.masked_fill(bias[:, :, :T, :T] == 0, float("-inf"))
    att = lib.nn.functional.softmax(att, dim=-1)
    return (att @ v).transpose(1, 2).contiguous().view(B, T, C)


def _attention_data():
    rng = np.random.default_rng(8)
    return rng.normal(size=(2, 5, 4)), rng.normal(size=(4, 12)) * 0.5


def test_attention_idioms_match_pytorch():
    reference = _reference()
    x, w = _attention_data()
    out = []
    for lib in (torch, reference):
        xs = lib.tensor(x, requires_grad=True)
        y = _causal_attention(lib, xs, lib.tensor(w))
        (y ** 2).sum().backward()
        out.append((_np(y), _np(xs.grad)))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-10)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-10)


def test_attention_idioms_gradient(backend):
    x, w = _attention_data()
    wt = torch.tensor(w)
    assert ag.gradcheck(lambda t: (_causal_attention(torch, t, wt) ** 2).sum(),
                        (torch.tensor(x, requires_grad=True),))


def test_a_python_range_indexes_as_its_list(backend):
    # The nn tutorial's accuracy and loss pick rows with `input[range(n), target]`.
    data = np.arange(6.0).reshape(3, 2)
    x = ag.tensor(data, requires_grad=True)
    picked = x[range(3), [0, 1, 0]]
    assert picked.tolist() == data[range(3), [0, 1, 0]].tolist()
    assert x[range(2)].tolist() == data[range(2)].tolist()
    assert x[range(0)].shape == data[range(0)].shape
    ag.sum(picked).backward()
    expected = np.zeros_like(data)
    expected[range(3), [0, 1, 0]] = 1.0
    assert np.array_equal(x.grad.numpy(), expected)


# ------------------------------------------------------------------ word_language_model
def _language_model_class(lib):
    """word_language_model's TransformerModel: an nn.Transformer whose decoder is replaced
    by a Linear, run encoder-only under the mask log(tril(ones)). A module-level class
    (named per library), so that the whole model pickles as `torch.save(model, f)` does."""
    name = f"_TransformerLM_{lib.__name__.replace('.', '_')}"
    if name in globals():
        return globals()[name]

    class LM(lib.nn.Transformer):
        def __init__(self, ntoken, ninp, nhead, nhid, nlayers):
            super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                             num_encoder_layers=nlayers, dropout=0.0)
            self.src_mask = None
            self.input_emb = lib.nn.Embedding(ntoken, ninp)
            self.ninp = ninp
            self.decoder = lib.nn.Linear(ninp, ntoken)

        def forward(self, src):
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                self.src_mask = lib.log(lib.tril(lib.ones(len(src), len(src))))
            src = self.input_emb(src) * math.sqrt(self.ninp)
            output = self.encoder(src, mask=self.src_mask)
            return lib.nn.functional.log_softmax(self.decoder(output), dim=-1)

    LM.__name__ = LM.__qualname__ = name
    globals()[name] = LM
    return LM


def _safe_globals(lib, model_class):
    # The list word_language_model hands to torch.serialization.safe_globals.
    modules = lib.nn.modules
    return [model_class, lib.nn.functional.relu, modules.activation.MultiheadAttention,
            modules.container.ModuleList, modules.dropout.Dropout, modules.linear.Linear,
            modules.linear.NonDynamicallyQuantizableLinear, modules.normalization.LayerNorm,
            modules.sparse.Embedding, modules.transformer.TransformerEncoder,
            modules.transformer.TransformerEncoderLayer]


def _train_language_model(lib, state, tokens, path, steps=3):
    model = _language_model_class(lib)(11, 8, 2, 16, 2)
    if state is not None:
        model.load_state_dict(state)
    optimizer = lib.optim.AdamW(model.parameters(), lr=0.01)
    criterion = lib.nn.NLLLoss()
    data = lib.tensor(tokens)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        output = model(data[:-1]).view(-1, 11)
        loss = criterion(output, data[1:].reshape(-1))
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
        losses.append(loss.item())
    with open(path, "wb") as f:
        lib.save(model, f)
    with open(path, "rb") as f:
        with lib.serialization.safe_globals(_safe_globals(lib, type(model))):
            loaded = lib.load(f)
    model.eval()
    loaded.eval()
    with lib.no_grad():
        return np.array(losses), _np(model(data)), _np(loaded(data))


def _tokens():
    return np.random.default_rng(11).integers(0, 11, (6, 3))


def test_language_model_and_whole_model_checkpoint_match_pytorch(tmp_path):
    reference = _reference()
    reference.manual_seed(0)
    start = _language_model_class(reference)(11, 8, 2, 16, 2).state_dict()
    theirs = _train_language_model(reference, start, _tokens(), tmp_path / "theirs.pt")
    mine = _train_language_model(torch, {k: v.numpy() for k, v in start.items()}, _tokens(),
                                 tmp_path / "mine.pt")
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(mine[2], mine[1])
    np.testing.assert_array_equal(theirs[2], theirs[1])


def test_language_model_trains_and_reloads_on_every_backend(backend, tmp_path):
    losses, before, after = _train_language_model(torch, None, _tokens(), tmp_path / "m.pt")
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    np.testing.assert_array_equal(after, before)


# ------------------------------------------------------------------ minGPT's trainer loader
class _Digits(torch.utils.data.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, idx):
        x = torch.tensor([idx, idx + 1, idx + 2], dtype=torch.long)
        return x, x + 1


def test_mingpt_trainer_loader_draws_endless_random_batches(backend):
    dataset = _Digits()
    loader = DataLoader(
        dataset,
        sampler=torch.utils.data.RandomSampler(dataset, replacement=True, num_samples=int(1e10)),
        shuffle=False,
        pin_memory=True,
        batch_size=4,
        num_workers=0,
    )
    data_iter = iter(loader)
    for _ in range(3):
        x, y = next(data_iter)
        assert x.shape == (4, 3) and x.dtype == torch.long
        assert (y == x + 1).all() and (x[:, 1] == x[:, 0] + 1).all()
        assert 0 <= int(x[:, 0].min()) and int(x[:, 0].max()) < 10


# ------------------------------------------------------------------ time_sequence_prediction
def test_numpy_data_saved_with_torch_save_loads_as_numpy(tmp_path):
    # generate_sine_wave.py saves a numpy array into an open file; train.py loads it and
    # slices it with from_numpy. PyTorch itself needs weights_only=False here (it pickles
    # the array); anygrad stores the array as an array, so the default load reads it.
    data = np.sin(np.arange(12.0).reshape(3, 4) / 3.0)
    path = tmp_path / "traindata.pt"
    torch.save(data, open(path, "wb"))
    loaded = torch.load(path)
    assert isinstance(loaded, np.ndarray) and loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded, data)
    np.testing.assert_array_equal(_np(torch.from_numpy(loaded[1:, :-1])), data[1:, :-1])


# ------------------------------------------------------------------ transformer_tutorial
def test_transformer_tutorial_data_process_idiom(backend):
    from anygrad.torch.utils.data import dataset

    def data_process(raw_text_iter: dataset.IterableDataset):
        data = [torch.tensor([len(w) for w in item.split()], dtype=torch.long)
                for item in raw_text_iter]
        return torch.cat(tuple(filter(lambda t: t.numel() > 0, data)))

    assert data_process(["a bb", "", "ccc"]).tolist() == [1, 2, 3]


# ------------------------------------------------------------------ updates through p.data
def _regression(lib, state, batches):
    """pytorch/examples' regression: a Linear layer fitted by its own manual update."""
    fc = lib.nn.Linear(4, 1).double()
    fc.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    losses, updates = [], []
    for x, y in batches:
        fc.zero_grad()
        output = lib.nn.functional.smooth_l1_loss(fc(lib.from_numpy(x)), lib.from_numpy(y))
        loss = output.item()
        output.backward()
        before = [_np(p) for p in fc.parameters()]
        for param in fc.parameters():
            param.data.add_(-0.1 * param.grad)  # the example's own line
        updates.append([(b, _np(p.grad), _np(p)) for b, p in zip(before, fc.parameters())])
        losses.append(loss)
    return np.array(losses), updates, fc


def _regression_data(steps=6):
    rng = np.random.default_rng(6)
    w, b = rng.normal(size=(4, 1)) * 5, rng.normal() * 5
    batches = []
    for _ in range(steps):
        r = rng.normal(size=32)
        x = np.stack([r ** i for i in range(1, 5)], axis=1)
        batches.append((x, x @ w + b))
    return {"weight": rng.normal(size=(1, 4)) * 0.5, "bias": rng.normal(size=1) * 0.5}, batches


def test_regression_manual_update_matches_pytorch():
    reference = _reference()
    state, batches = _regression_data()
    mine = _regression(torch, state, batches)[0]
    theirs = _regression(reference, state, batches)[0]
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_regression_manual_update_through_data(backend):
    """`param.data.add_(u)` outside no_grad adds u to the parameter, unrecorded: it stays
    a leaf, and the next forward and backward see the new values."""
    state, batches = _regression_data()
    losses, updates, fc = _regression(torch, state, batches)
    for step in updates:
        for before, grad, after in step:
            np.testing.assert_array_equal(after, before + (-0.1 * grad))
    assert all(p.is_leaf and p.requires_grad and p.node is None for p in fc.parameters())
    for loss, step, (x, y) in zip(losses, updates, batches):  # each forward saw the update
        (w, _, _), (b, _, _) = step
        d = np.abs(x @ w.T + b - y)
        np.testing.assert_allclose(loss, np.mean(np.where(d < 1, 0.5 * d * d, d - 0.5)),
                                   rtol=1e-12)


class _WordModel:
    """word_language_model's RNNModel, small: embedding, LSTM, decoder."""

    @staticmethod
    def build(lib):
        class RNNModel(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = lib.nn.Embedding(11, 6)
                self.rnn = lib.nn.LSTM(6, 5, 1)
                self.decoder = lib.nn.Linear(5, 11)

            def forward(self, input, hidden):
                output, hidden = self.rnn(self.encoder(input), hidden)
                decoded = self.decoder(output).view(-1, 11)
                return lib.nn.functional.log_softmax(decoded, dim=1), hidden

        return RNNModel()


def _train_words_by_hand(lib, state, tokens, lr=20.0, clip=0.25, through_data=True):
    """word_language_model's default loop: clip_grad_norm_, then its manual SGD update
    `p.data.add_(p.grad, alpha=-lr)`, with the hidden state detached between batches
    (`through_data=False`: the same update on p under no_grad)."""
    model = _WordModel.build(lib)
    if state is not None:
        model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    criterion = lib.nn.NLLLoss()
    data = lib.tensor(tokens)
    hidden = (lib.zeros(1, 3, 5), lib.zeros(1, 3, 5))
    losses = []
    for i in range(0, data.size(0) - 1, 3):
        source, targets = data[i:i + 3], data[i + 1:i + 4].reshape(-1)
        source = source[:len(targets) // 3]
        hidden = tuple(h.detach() for h in hidden)
        model.zero_grad()
        output, hidden = model(source, hidden)
        loss = criterion(output, targets)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            if through_data:
                p.data.add_(p.grad, alpha=-lr)
            else:
                with lib.no_grad():
                    p.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return np.array(losses)


def _word_tokens():
    return np.random.default_rng(12).integers(0, 11, (10, 3))


def test_word_language_model_manual_sgd_matches_pytorch():
    reference = _reference()
    reference.manual_seed(0)
    start = {k: v.numpy() for k, v in _WordModel.build(reference).state_dict().items()}
    theirs = _train_words_by_hand(reference, start, _word_tokens())
    mine = _train_words_by_hand(torch, start, _word_tokens())
    np.testing.assert_allclose(mine, theirs, rtol=1e-5)


def test_word_language_model_manual_sgd_on_every_backend(backend):
    """`p.data.add_(...)` is `p.add_(...)` under no_grad, as in PyTorch."""
    start = {k: _np(v) for k, v in _WordModel.build(torch).state_dict().items()}
    tokens = _word_tokens()[:7]  # two batches: the second reads the first's update
    losses = _train_words_by_hand(torch, start, tokens)
    assert len(losses) == 2 and np.isfinite(losses).all()
    np.testing.assert_array_equal(
        losses, _train_words_by_hand(torch, start, tokens, through_data=False))


def _tutorial_model(lib):
    """transformer_tutorial's init_weights: `uniform_` and `zero_` through `.data`."""
    class Model(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = lib.nn.Embedding(11, 8)
            self.linear = lib.nn.Linear(8, 11)
            self.init_weights()

        def init_weights(self):
            initrange = 0.1
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.linear.bias.data.zero_()
            self.linear.weight.data.uniform_(-initrange, initrange)

        def forward(self, src):
            return self.linear(lib.tanh(self.embedding(src) * math.sqrt(8)))

    return Model()


def _train_tutorial(lib, model, tokens, steps=3):
    criterion = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=5.0)
    data = lib.tensor(tokens)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(data[:-1]).view(-1, 11), data[1:].reshape(-1))
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses)


def test_transformer_tutorial_init_weights_then_training_match_pytorch():
    """The random draws differ between the libraries; from anygrad's initial values the
    training agrees."""
    reference = _reference()
    mine = _tutorial_model(torch)
    theirs = _tutorial_model(reference)
    theirs.load_state_dict({k: reference.from_numpy(_np(v)) for k, v in mine.state_dict().items()})
    np.testing.assert_allclose(_train_tutorial(torch, mine, _word_tokens()),
                               _train_tutorial(reference, theirs, _word_tokens()), rtol=1e-5)


def test_transformer_tutorial_init_weights_through_data(backend):
    model = _tutorial_model(torch)
    weights = _np(model.embedding.weight)
    assert np.all(np.abs(weights) <= 0.1) and np.unique(weights).size > 80
    assert np.all(np.abs(_np(model.linear.weight)) <= 0.1)
    assert _np(model.linear.bias).tolist() == [0.0] * 11
    assert all(p.is_leaf and p.requires_grad and p.node is None for p in model.parameters())
    copied = _tutorial_model(torch)
    copied.load_state_dict(model.state_dict())
    losses = _train_tutorial(torch, model, _word_tokens())
    np.testing.assert_array_equal(losses, _train_tutorial(torch, copied, _word_tokens()))
    assert losses[-1] < losses[0]


# ------------------------------------------------------------------ torch.compile(model)
class _Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return F.log_softmax(self.fc2(torch.tanh(self.fc1(x))), dim=1)


def _train_classifier(model, data, steps=6):
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses, grads = [], []
    for x, y in data[:steps]:
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        grads.append([_np(p.grad) for p in model.parameters()])
        opt.step()
        losses.append(loss.item())
    return np.array(losses), grads


def test_compiled_model_trains_as_eager(backend):
    """`model = torch.compile(model)` then the usual loop: the forward is recorded twice
    and replayed after, backward runs outside; losses and gradients are eager's (bitwise
    on numpy)."""
    rng = np.random.default_rng(3)
    data = [(torch.tensor(rng.normal(size=(5, 4)).astype(np.float32)),
             torch.tensor(rng.integers(0, 3, 5))) for _ in range(6)]
    eager = _Classifier()
    model = _Classifier()
    model.load_state_dict(eager.state_dict())
    compiled = torch.compile(model)
    theirs, their_grads = _train_classifier(eager, data)
    mine, my_grads = _train_classifier(compiled, data)
    assert compiled._compiled.stats["replays"] == 4
    same = np.testing.assert_array_equal if backend == "numpy" else (
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7))
    same(mine, theirs)
    for ours, reference in zip(my_grads, their_grads):
        for a, b in zip(ours, reference):
            same(a, b)
    for a, b in zip(model.parameters(), eager.parameters()):
        same(_np(a), _np(b))
