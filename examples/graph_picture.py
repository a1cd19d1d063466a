"""Pictures of a small MLP's loss graph and of the graph of its gradient.

    python examples/graph_picture.py --out pictures [--backend numpy] [--quick]

Writes loss.dot and gradient.dot (Graphviz text), and loss.svg and gradient.svg when
Graphviz's `dot` program is installed. The gradient is taken with create_graph=True,
so it is a graph as well: the backward ops, joined to the forward ops whose outputs the
derivative rules reuse. The MLP is built from raw ops (matmul, relu, log_softmax).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import anygrad as ag  # noqa: E402
from _common import add_common_flags  # noqa: E402


def mlp_loss(params, x, labels):
    """Mean negative log-likelihood of a two-layer perceptron."""
    h = ag.relu(x @ params["layer1.weight"] + params["layer1.bias"])
    logits = h @ params["layer2.weight"] + params["layer2.bias"]
    log_probs = ag.log_softmax(logits, axis=1)
    picked = ag.take_along_axis(log_probs, ag.expand_dims(labels, axis=1), axis=1)
    return -ag.mean(picked)


def main(argv=None):
    parser = add_common_flags(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--out", default="graph_pictures", help="directory for the files")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    args = parser.parse_args(argv)
    with ag.use_backend(args.backend):
        return draw(args.out, args.quick, args.seed)


def draw(out, quick, seed=0):
    ag.manual_seed(seed)
    batch, features, hidden, classes = (4, 3, 5, 2) if quick else (32, 10, 16, 3)
    params = {
        "layer1.weight": ag.randn((features, hidden), dtype="float64", requires_grad=True),
        "layer1.bias": ag.zeros(hidden, dtype="float64", requires_grad=True),
        "layer2.weight": ag.randn((hidden, classes), dtype="float64", requires_grad=True),
        "layer2.bias": ag.zeros(classes, dtype="float64", requires_grad=True),
    }
    x = ag.randn((batch, features), dtype="float64")
    labels = ag.argmax(ag.randn((batch, classes)), axis=1)

    loss = mlp_loss(params, x, labels)
    grads = ag.gradients(loss, list(params.values()), create_graph=True)
    # Names for the drawing: the parameters, and each gradient after its parameter.
    names = {"loss": loss, **params, **{f"d loss / d {k}": g for k, g in zip(params, grads)}}

    os.makedirs(out, exist_ok=True)
    has_dot = shutil.which("dot") is not None
    written = []
    for stem, outputs in (("loss", loss), ("gradient", grads)):
        for ext in ("dot", "svg") if has_dot else ("dot",):
            path = os.path.join(out, f"{stem}.{ext}")
            written.append(ag.viz.render(outputs, path, params=names))
    print(f"loss {loss.item():.4f}; wrote the pictures {', '.join(written)}")
    if not has_dot:
        print("(for .svg pictures install Graphviz: apt-get install graphviz, "
              "or conda install graphviz)")
    return written

if __name__ == "__main__":
    main()
