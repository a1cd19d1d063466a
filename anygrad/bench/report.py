"""Results as tables (terminal and markdown), JSON, and a PNG plot.

Every table is built once as a `Section` (title, columns, rows, notes) and rendered
either as aligned text or as markdown, so the terminal and BENCHMARKS.md never
disagree about what a column means.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Section:
    title: str
    columns: list
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _f(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _mib(value):
    return "-" if value is None else f"{value / 2**20:.2f}"


def _spread(row, unit="ms", digits=2):
    return f"{row[f'q1_{unit}']:.{digits}f}-{row[f'q3_{unit}']:.{digits}f}"


# ----------------------------------------------------------------- sections
def sections(results):
    out = [_verification(results)]
    workloads = results["workloads"]
    if "mlp" in workloads:
        out += [_mlp(workloads["mlp"]), _transfers(workloads["mlp"])]
    if "overhead" in workloads:
        out.append(_overhead(workloads["overhead"]))
    if "chain" in workloads:
        out.append(_chain(workloads["chain"]))
    if "memory" in workloads:
        out.append(_memory(workloads["memory"]))
    if "conv" in workloads:
        out.append(_conv(workloads["conv"]))
    if "compiled" in workloads:
        from . import compiled  # it builds on this module's Section

        out.append(compiled.section(workloads["compiled"]))
    if "lstm" in workloads:
        from . import sequence_lstm

        out.append(sequence_lstm.section(workloads["lstm"]))
    if "vmap" in workloads:
        from . import vmap_bench

        out.append(vmap_bench.section(workloads["vmap"]))
    if "gpt" in workloads:
        from . import sequence_gpt

        out.append(sequence_gpt.section(workloads["gpt"]))
    if "charrnn" in workloads:
        from . import charrnn

        out.append(charrnn.section(workloads["charrnn"]))
    if "cnn" in workloads:
        from . import cnn

        out.append(cnn.section(workloads["cnn"]))
    out.append(_targets(results["targets"]))
    return [s for s in out if s is not None]


def _verification(results):
    check = results.get("verification")
    if not check:
        return None
    s = Section(f"Correctness gate: {check['steps']} SGD steps at batch {check['batch']}, "
                f"against the numpy floor (relative tolerance {check['rtol']:g})",
                ["impl", "losses", "max loss error", "max param error", "ok"])
    for name, r in check["results"].items():
        if "error" in r:
            s.rows.append([name, r["error"], "-", "-", "FAILED"])
            continue
        s.rows.append([name, ", ".join(f"{v:.6f}" for v in r["losses"]),
                       f"{r['max_loss_error']:.1e}", f"{r['max_param_error']:.1e}",
                       "yes" if r["ok"] else "FAILED"])
    return s


def _mlp(mlp):
    s = Section(f"MLP training step (forward, cross-entropy, backward, SGD), "
                f"{'-'.join(map(str, mlp['sizes']))}, {mlp['dtype']}",
                ["impl", "sizes", "batch", "median ms", "IQR ms", "steps/s", "x floor",
                 "speedup vs anygrad:numpy"])
    for r in mlp["rows"]:
        s.rows.append([r["impl"], "-".join(map(str, r["sizes"])), r["batch"],
                       _f(r["median_ms"]), _spread(r), _f(r["steps_per_s"], 1),
                       _f(r["ratio_to_floor"]), _f(r["speedup_over_anygrad_numpy"])])
    crossover = mlp.get("crossover") or {}
    if "note" in crossover:
        s.notes.append(f"CPU/GPU crossover: {crossover['note']}.")
    else:
        for name, batch in crossover.items():
            s.notes.append(f"CPU/GPU crossover for {name}: "
                           + (f"batch {batch}" if batch else "not reached in this sweep"))
    return s


def _transfers(mlp):
    if not mlp["transfers"]:
        return None
    s = Section("Host-to-device transfer of one batch (inputs and labels), not in the step",
                ["impl", "device", "batch", "MiB", "median ms", "IQR ms"])
    for r in mlp["transfers"]:
        s.rows.append([r["impl"], r["device"], r["batch"], _mib(r["bytes"]),
                       _f(r["median_ms"], 3), _spread(r, digits=3)])
    s.notes.append("On the CPU, numpy needs no transfer (as_tensor wraps the array) and "
                   "torch copies host memory.")
    return s


def _overhead(o):
    s = Section(f"Per-op overhead: {o['n_ops']} elementwise ops ({', '.join(o['ops'])}) on a "
                f"{o['vector_size']}-element vector, forward + backward",
                ["impl", "us/op", "IQR us/op", "forward us/op", "backward us/op", "x torch"])
    for r in o["rows"]:
        s.rows.append([r["impl"], _f(r["us_per_op"]), _spread(r, "us_per_op"),
                       _f(r["forward_us_per_op"]), _f(r["backward_us_per_op"]),
                       _f(r["ratio_to_torch"])])
    return s


def _chain(c):
    s = Section("Deep chain: backward through n elementwise ops (graph built untimed)",
                ["impl", "n ops", "backward ms", "IQR ms", "backward us/op", "build us/op"])
    for r in c["rows"]:
        s.rows.append([r["impl"], r["n_ops"], _f(r["median_ms"], 1), _spread(r, digits=1),
                       _f(r["backward_us_per_op"]), _f(r["forward_us_per_op"])])
    for impl, fit in c["linearity"].items():
        s.notes.append(f"{impl}: fit {fit['us_per_op_fit']:.2f} us/op + "
                       f"{fit['intercept_ms']:.1f} ms, R^2 {fit['r2']:.4f}; per-op time at the "
                       f"longest chain / shortest = {fit['per_op_longest_over_shortest']:.2f}")
    return s


def _memory(m):
    s = Section(f"Memory of one training step at batch {m['batch']} "
                f"({'-'.join(map(str, m['sizes']))})",
                ["impl", "instrument", "resident MiB", "peak MiB", "step adds MiB", "x floor",
                 "in use after early step MiB", "after last step MiB", "growth bytes",
                 "cyclic objs/step"])
    for r in m["rows"]:
        early = r.get("in_use_early_bytes")
        s.rows.append([r["impl"], r["instrument"], _mib(r["resident_bytes"]),
                       _mib(r["peak_bytes"]), _mib(r["step_peak_bytes"]),
                       _f(r.get("peak_ratio_to_floor")), _mib(early),
                       _mib(r.get("in_use_end_bytes")), _f(r.get("growth_bytes")),
                       _f(r.get("cyclic_garbage_per_step"))])
    steps = [r for r in m["rows"] if "steps" in r]
    if steps:
        s.notes.append(f"Flatness: memory in use after step {steps[0]['early_step']} and after "
                       f"step {steps[0]['steps']}. 'rss' rows see the whole process, "
                       "so they show leaks, not peaks.")
    return s


def _conv(c):
    if "skipped" in c:
        return Section("Convolution layer", ["note"], [[f"skipped: {c['skipped']}"]])
    s = Section(f"conv2d forward + backward, input {tuple(c['input'])}, weight "
                f"{tuple(c['weight'])}, padding {c['padding']}",
                ["impl", "median ms", "IQR ms", "x torch", "max grad error vs torch"])
    for r in c["rows"]:
        check = c["checks"].get(r["impl"])
        s.rows.append([r["impl"], _f(r["median_ms"]), _spread(r), _f(r["ratio_to_torch"]),
                       "-" if check is None else f"{check['max_grad_error']:.1e}"
                       + ("" if check["ok"] else " FAILED")])
    return s


def _targets(targets):
    s = Section("Targets", ["target", "limit", "measured", "met"])
    for t in targets:
        met = {True: "yes", False: "NO", None: "not measured"}[t["met"]]
        limit = f"<= {t['limit']:g}" + (f" (aim {t['aim']:g})" if "aim" in t else "")
        s.rows.append([t["target"], limit, _f(t["measured"], 3), met])
    return s


# ----------------------------------------------------------------- rendering
def render_text(secs):
    lines = []
    for s in secs:
        lines += ["", s.title]
        table = [[str(c) for c in s.columns]] + [[str(v) for v in row] for row in s.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(s.columns))]
        for k, row in enumerate(table):
            lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                                   for i, (v, w) in enumerate(zip(row, widths))))
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines += [f"  {n}" for n in s.notes]
    return "\n".join(lines) + "\n"


def render_markdown(results, secs):
    meta = results["meta"]
    machine = meta["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    lines = [
        "## Results",
        "",
        f"Command: `{meta['command']}`  ",
        f"Run: {meta['started']}, {meta['elapsed_s']:.0f} s.  ",
        f"Machine: {machine['cpu']}, {machine['cores']} usable cores, {machine['platform']}, "
        f"Python {machine['python']}; BLAS {machine['blas']}; torch threads "
        f"{machine['torch_threads']}.  ",
        f"GPUs: {', '.join(machine.get('gpus') or ['none'])}.  ",
        f"Libraries: {versions}.  ",
        f"Timing: median of {meta['settings']['repeats']} repeats after "
        f"{meta['settings']['warmup']} warm-up runs, interleaved among contenders of one "
        "library; IQR is the 25th-75th percentile.",
    ]
    if machine["environment"]:
        lines[-1] += "  \nEnvironment: " + ", ".join(f"{k}={v}" for k, v in
                                                   machine["environment"].items()) + "."
    for s in secs:
        lines += ["", f"### {s.title}", "", "| " + " | ".join(s.columns) + " |",
                  "|" + "|".join("---" for _ in s.columns) + "|"]
        lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in s.rows]
        if s.notes:
            lines.append("")
            lines += [f"- {n}" for n in s.notes]
    return "\n".join(lines) + "\n"


BEGIN = "<!-- anygrad.bench results: begin (regenerated by python -m anygrad.bench --markdown) -->"
END = "<!-- anygrad.bench results: end -->"


def write_markdown(results, secs, path):
    """Write the results as markdown. If `path` already holds the begin/end markers,
    only the text between them is replaced, so a hand-written document such as
    BENCHMARKS.md keeps its prose and gets fresh figures in place."""
    block = f"{BEGIN}\n{render_markdown(results, secs)}{END}\n"
    try:
        with open(path) as f:
            existing = f.read()
    except FileNotFoundError:
        existing = ""
    start, stop = existing.find(BEGIN), existing.find(END)
    if 0 <= start < stop:
        block = existing[:start] + block + existing[stop + len(END):].lstrip("\n")
    with open(path, "w") as f:
        f.write(block)


def write_json(results, path):
    with open(path, "w") as f:
        json.dump(results, f, indent=2, default=_jsonable)
        f.write("\n")


def _jsonable(value):
    """numpy scalars and other number-likes that json does not know."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def write_plot(results, path):
    """Step time against batch size, one line per implementation, log-log.

    Returns a note when matplotlib is missing or there is no MLP sweep, else None."""
    mlp = results["workloads"].get("mlp")
    if not mlp:
        return "no MLP results to plot"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed; no plot written"
    rows = [r for r in mlp["rows"] if r["sizes"] == mlp["sizes"]]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for impl in dict.fromkeys(r["impl"] for r in rows):
        points = sorted((r["batch"], r["median_ms"], r["q1_ms"], r["q3_ms"])
                        for r in rows if r["impl"] == impl)
        batches = [p[0] for p in points]
        medians = [p[1] for p in points]
        errors = [[p[1] - p[2] for p in points], [p[3] - p[1] for p in points]]
        ax.errorbar(batches, medians, yerr=errors, marker="o", capsize=3, label=impl)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("median step time (ms)")
    ax.set_title(f"MLP {'-'.join(map(str, mlp['sizes']))} training step, {mlp['dtype']}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None
