"""A character-level GPT trained on Python's own standard library source, then sampled.

    python examples/train_gpt.py                               # 200 steps of a small model
    python examples/train_gpt.py --steps 2000 --plot runs/gpt_loss.png
    python examples/train_gpt.py --checkpoint runs/gpt.ckpt    # saves; run again to resume
    python examples/train_gpt.py --quick                       # smoke run, a few steps

The text is the source of a few standard-library modules, read from this Python's own
installation (no download). The model is a decoder-only transformer: token and
position embeddings, a stack of pre-norm `nn.TransformerEncoderLayer`s under a causal
mask, a final layer norm and a linear read-out, trained with AdamW on next-character
prediction. At the end it prints samples that start from a prompt.

--checkpoint FILE writes the model, the optimizer, the step and the loss curve there
(atomically, with ag.save) every --save-every steps and at the end; when FILE exists
the run resumes from it. Each step's batch and dropout draws come from (seed, step)
alone, so a resumed run follows the same path as an uninterrupted one.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import anygrad as ag  # noqa: E402
import anygrad.nn as nn  # noqa: E402
import anygrad.nn.functional as F  # noqa: E402
from anygrad import optim  # noqa: E402
from _common import add_common_flags, plot_losses, progress  # noqa: E402

# Standard-library modules whose source is the training text.
SOURCES = ("textwrap", "string", "glob", "fnmatch", "shlex", "bisect", "heapq", "functools")


def load_text(modules=SOURCES):
    """The concatenated source of `modules`, as this Python installed it, with any
    character outside printable ASCII (and newline) replaced by '?'."""
    parts = []
    for name in modules:
        path = inspect.getsourcefile(importlib.import_module(name))
        with open(path, encoding="utf-8") as f:
            parts.append(f.read())
    text = "\n".join(parts)
    return "".join(c if c == "\n" or " " <= c <= "~" else "?" for c in text)


class GPT(nn.Module):
    """Decoder-only transformer over `vocab` characters and `context` positions."""

    def __init__(self, vocab, context, d_model, nhead, layers, dropout, backend):
        super().__init__()
        self.context = context
        self.tokens = nn.Embedding(vocab, d_model, backend=backend)
        self.positions = nn.Embedding(context, d_model, backend=backend)
        # GPT-2's tanh form of GELU: the exact one's erf costs more than the matmuls here.
        block = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model,
                                           dropout=dropout, activation=nn.GELU("tanh"),
                                           batch_first=True, norm_first=True, backend=backend)
        self.blocks = nn.TransformerEncoder(block, layers)
        self.norm = nn.LayerNorm(d_model, backend=backend)
        self.head = nn.Linear(d_model, vocab, backend=backend)
        for name, p in self.named_parameters():  # GPT-2's small initial weights
            if name.endswith("weight") and p.ndim == 2:
                nn.init.normal_(p, 0.0, 0.02)
        self._masks = {}

    def _causal(self, length, like):
        # True above the diagonal: a position never sees the ones after it.
        if length not in self._masks:
            rows = ag.reshape(ag.arange(length, backend=like.backend), (length, 1))
            cols = ag.reshape(ag.arange(length, backend=like.backend), (1, length))
            self._masks[length] = cols > rows
        return self._masks[length]

    def forward(self, idx):
        """(B, T) character indices -> (B, T, vocab) logits of the next character."""
        length = idx.shape[1]
        x = self.tokens(idx) + self.positions(ag.arange(length, backend=self.head.weight.backend))
        mask = self._causal(length, self.head.weight)
        return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))


def batch(data, step, seed, batch_size, context, backend):
    """Random windows of `data` for this step: inputs and their next characters."""
    rng = np.random.default_rng((seed, step))
    starts = rng.integers(0, len(data) - context - 1, size=batch_size)
    rows = np.stack([data[s:s + context + 1] for s in starts])
    return (ag.tensor(rows[:, :-1], backend=backend), ag.tensor(rows[:, 1:], backend=backend))


def loss_of(model, x, y):
    logits = model(x)
    return F.cross_entropy(ag.reshape(logits, (-1, logits.shape[-1])), ag.reshape(y, (-1,)))


def sample(model, prompt, length, chars, backend, seed, temperature=0.8):
    """Extend `prompt` by `length` characters drawn from the model's predictions."""
    index = {c: i for i, c in enumerate(chars)}
    ids = [index.get(c, index.get("?", 0)) for c in prompt]
    rng = np.random.default_rng(seed)
    model.eval()
    with ag.no_grad():
        for _ in range(length):
            window = ag.tensor(np.asarray([ids[-model.context:]]), backend=backend)
            logits = model(window)[0, -1]
            probs = F.softmax(logits / temperature, dim=-1).numpy().astype(np.float64)
            ids.append(int(rng.choice(len(chars), p=probs / probs.sum())))
    model.train()
    return "".join(chars[i] for i in ids)


def main(argv=None):
    p = add_common_flags(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--steps", type=int, default=200, help="training steps in total")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--context", type=int, default=32)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--samples", type=int, default=2, help="samples printed at the end")
    p.add_argument("--sample-length", type=int, default=200)
    p.add_argument("--plot", metavar="FILE", default=None, help="PNG of the loss curve")
    p.add_argument("--checkpoint", metavar="FILE", default=None,
                   help="save here (and resume from here when the file exists)")
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--quick", action="store_true", help="a smoke run of a few steps (tests)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.quick:  # a smoke run: a few steps of a small model
        args.steps = min(args.steps, 4)
        args.context, args.d_model, args.layers, args.batch_size = 16, 32, 1, 8
        args.samples, args.sample_length = 1, 20
    backend = ag.get_backend(args.backend)
    ag.manual_seed(args.seed)

    text = load_text()
    chars = sorted(set(text))
    lookup = np.zeros(128, dtype=np.int64)
    lookup[[ord(c) for c in chars]] = np.arange(len(chars))
    data = lookup[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
    model = GPT(len(chars), args.context, args.d_model, args.heads, args.layers, args.dropout,
                backend)
    optimizer = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    done, losses = 0, []
    if args.checkpoint and os.path.exists(args.checkpoint):
        state = ag.load(args.checkpoint, backend=backend)
        if list(state["chars"]) != chars:
            raise SystemExit(f"{args.checkpoint} was trained on another alphabet")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        done, losses = state["step"], list(state["losses"])
        print(f"resumed from {args.checkpoint} at step {done}")

    def save(step):
        ag.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "step": step, "losses": losses, "chars": chars, "seed": args.seed},
                args.checkpoint)

    start = time.perf_counter()
    for step in progress(range(done, args.steps), args.steps - done, "gpt steps", args.quiet):
        ag.manual_seed(args.seed * 100_003 + step)  # this step's dropout draws
        x, y = batch(data, step, args.seed, args.batch_size, args.context, backend)
        loss = loss_of(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if args.checkpoint and (step + 1) % args.save_every == 0:
            save(step + 1)
    backend.synchronize()
    seconds = time.perf_counter() - start
    if args.checkpoint:
        save(max(args.steps, done))
        print(f"wrote the checkpoint to {args.checkpoint}")

    trained = len(losses) - done if losses else 0
    print(f"{len(text):,} characters, {len(chars)} distinct; {trained} steps in {seconds:.1f}s "
          f"on {backend.name}; loss {losses[0]:.3f} -> {losses[-1]:.3f}" if losses else
          "no steps were run")
    samples = [sample(model, "def ", args.sample_length, chars, backend, args.seed + i)
               for i in range(args.samples)]
    for i, s in enumerate(samples, 1):
        print(f"--- sample {i} ---\n{s}")
    plot = None
    if args.plot:
        plot = plot_losses({"train": losses}, args.plot, f"character GPT ({backend.name})")
    return {"losses": losses, "samples": samples, "seconds": seconds, "plot": plot,
            "model": model, "chars": chars}


if __name__ == "__main__":
    main()
