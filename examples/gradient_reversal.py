"""A gradient-reversal layer (ag.Function): features that hide which domain data came from.

Domain-adversarial training (Ganin & Lempitsky, 2015): a feature extractor feeds a label
classifier and, through a layer that is the identity forward and multiplies the gradient
by -lambda backward, a domain classifier. The domain classifier learns to tell the
domains apart; the reversed gradient teaches the features to make that impossible. The
toy data: the label lives in two coordinates, the domain shifts two others. With the
reversal, the features put ever less weight on the domain's coordinates and a fresh
probe tells the domains apart from them far less often; without it, almost always.

    python examples/gradient_reversal.py --backend numpy
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402

import anygrad as ag  # noqa: E402
import anygrad.nn as nn  # noqa: E402
import anygrad.nn.functional as F  # noqa: E402
from anygrad import optim  # noqa: E402
from _common import add_common_flags  # noqa: E402


class ReverseGradient(ag.Function):
    """Identity forward; -lambda * g backward (linear: independent of the input)."""

    linear = True

    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        return -ctx.lam * g, None


def make_domains(n, seed):
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    domain = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 4)) * 0.5
    x[:, 0] += np.where(label == 1, 1.0, -1.0)
    x[:, 2:] += domain[:, None] * 1.5
    return x.astype(np.float32), label, domain


def domain_probe_accuracy(features, domain, backend, steps):
    """How well a fresh logistic regression tells the domains apart from `features`."""
    probe = nn.Linear(features.shape[1], 2, backend=backend)
    opt = optim.Adam(probe.parameters(), lr=0.05)
    target = ag.tensor(domain, backend=backend)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(probe(features), target).backward()
        opt.step()
    with ag.no_grad():
        return float((ag.argmax(probe(features), axis=1).numpy() == domain).mean())


def train(x, label, domain, backend, steps, lam):
    ag.manual_seed(0)
    features = nn.Sequential(nn.Linear(4, 8, backend=backend), nn.Tanh())
    label_head = nn.Linear(8, 2, backend=backend)
    domain_head = nn.Sequential(nn.Linear(8, 16, backend=backend), nn.ReLU(),
                                nn.Linear(16, 2, backend=backend))
    params = [*features.parameters(), *label_head.parameters(), *domain_head.parameters()]
    opt = optim.Adam(params, lr=0.02)
    xs = ag.tensor(x, backend=backend)
    ys, ds = ag.tensor(label, backend=backend), ag.tensor(domain, backend=backend)
    for _ in range(steps):
        opt.zero_grad()
        h = features(xs)
        loss = F.cross_entropy(label_head(h), ys)
        if lam:
            loss = loss + F.cross_entropy(domain_head(ReverseGradient.apply(h, lam)), ds)
        loss.backward()
        opt.step()
    with ag.no_grad():
        h = features(xs)
        label_accuracy = float((ag.argmax(label_head(h), axis=1).numpy() == label).mean())
    w = features[0].weight.numpy()
    domain_weight = float(np.linalg.norm(w[:, 2:]) / np.linalg.norm(w[:, :2]))
    return label_accuracy, domain_probe_accuracy(h, domain, backend, 200), domain_weight


def main(argv=None):
    parser = add_common_flags(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--quick", action="store_true", help="fewer steps (tests)")
    args = parser.parse_args(argv)
    steps = min(args.steps, 200) if args.quick else args.steps
    backend = ag.get_backend(args.backend)
    x, label, domain = make_domains(400, args.seed)
    results = {}
    for name, lam in (("without reversal", 0.0), ("with reversal", 1.0)):
        label_acc, domain_acc, domain_weight = train(x, label, domain, backend, steps, lam)
        results[name] = {"label": label_acc, "domain": domain_acc, "weight": domain_weight}
        print(f"{name:17s}: label accuracy {label_acc:.3f}; a probe tells the domain from the "
              f"features {domain_acc:.3f} of the time; weight on the domain coordinates "
              f"{domain_weight:.2f} of that on the label's")
    return results


if __name__ == "__main__":
    main()
