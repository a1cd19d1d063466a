"""A static graph, Session-style: placeholders fed by name, a graph built once and run many
times (on ag.compile).

    python examples/static_graph.py --backend numpy

The classics (TensorFlow 1's Session, Chainer's and MXNet's executors, miniflow) first
describe the whole computation over placeholders, then feed it batch after batch. Here
the graph is an ordinary Python function of named placeholders; the Session records it
on its first run (ag.compile), checks the second run agrees, and from then on replays the
recorded program: forward, backward and the optimizer update, with no per-op dispatch.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import anygrad as ag  # noqa: E402
import anygrad.nn as nn  # noqa: E402
import anygrad.nn.functional as F  # noqa: E402
from anygrad import data, optim  # noqa: E402
from _common import parser, progress, setup  # noqa: E402


class Placeholder:
    """A named input of the graph, given a value each run through `feed_dict`."""

    def __init__(self, name, dtype="float32"):
        self.name = name
        self.dtype = dtype

    def __repr__(self):
        return f"Placeholder({self.name!r}, {self.dtype})"


class Session:
    """Runs `graph(**placeholders)`, a function returning a dict of named outputs.

    `run(fetches, feed_dict)` evaluates the graph on the fed values and returns the
    fetched outputs. Each (fetches, shapes of the feeds) is one recorded program."""

    def __init__(self, graph, placeholders, backend):
        self.placeholders = {p.name: p for p in placeholders}
        self.backend = backend

        def evaluate(feeds, fetches):
            outputs = graph(**feeds)
            return {name: outputs[name] for name in fetches}

        self._evaluate = ag.compile(evaluate)

    def run(self, fetches, feed_dict):
        missing = set(self.placeholders) - set(feed_dict)
        if missing:
            raise KeyError(f"Session.run: no value fed for placeholder(s) {sorted(missing)}")
        feeds = {name: ag.as_tensor(value, backend=self.backend).astype(self.placeholders[name].dtype)
                 for name, value in feed_dict.items()}
        single = isinstance(fetches, str)
        values = self._evaluate(feeds, (fetches,) if single else tuple(fetches))
        return values[fetches] if single else [values[f] for f in fetches]

    @property
    def program(self):
        """The recorded program of the latest run, readable with print()."""
        return self._evaluate.program


def main(argv=None):
    p = parser(__doc__.splitlines()[0], epochs=30)
    p.add_argument("--show-program", action="store_true", help="print the recorded program")
    args, backend = setup(p, argv, quick_epochs=3)
    split = data.make_product(n=2000, seed=args.seed)  # y = x0 * x1: needs a hidden layer

    model = nn.Sequential(nn.Linear(2, 32, backend=backend), nn.Tanh(),
                          nn.Linear(32, 1, backend=backend))
    optimizer = optim.Adam(model.parameters(), lr=0.01)

    # The graph: described once over placeholders, as a function of them.
    x, y = Placeholder("x"), Placeholder("y")

    def graph(x, y):
        prediction = model(x)
        loss = F.mse_loss(prediction, y)
        return {"prediction": prediction, "loss": loss}

    def train_graph(x, y):
        optimizer.zero_grad()
        outputs = graph(x, y)
        outputs["loss"].backward()
        optimizer.step()
        return {"loss": outputs["loss"]}

    train = Session(train_graph, [x, y], backend)
    infer = Session(graph, [x, y], backend)

    x_train, y_train = split.x_train, split.y_train.reshape(-1, 1)
    x_test, y_test = split.x_test, split.y_test.reshape(-1, 1)
    batch = 64
    steps = len(x_train) // batch  # whole batches only: one shape, one recorded program
    losses = []
    start = time.perf_counter()
    for _ in progress(range(args.epochs), args.epochs, "epochs", args.quiet):
        total = 0.0
        for i in range(steps):
            rows = slice(i * batch, (i + 1) * batch)
            total += train.run("loss", {"x": x_train[rows], "y": y_train[rows]}).item()
        losses.append(total / steps)
    seconds = time.perf_counter() - start
    with ag.no_grad():
        test_loss = infer.run("loss", {"x": x_test, "y": y_test}).item()

    stats = train._evaluate.stats
    print(f"{args.epochs * steps} training runs: {stats['recordings']} recorded, "
          f"{stats['replays']} replayed ({seconds:.2f} s)")
    print(f"training MSE {losses[0]:.4f} -> {losses[-1]:.4f}; test MSE {test_loss:.4f}")
    if args.show_program:
        print(train.program)
    return {"losses": losses, "test_loss": test_loss, "stats": dict(stats)}


if __name__ == "__main__":
    main()
