"""`python -m anygrad.bench`: parse the options, run the workloads, write the reports.

`main(argv)` returns an exit status (non-zero when a correctness check failed) and
can be called in-process, which is how the test suite runs `--quick`.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time

import anygrad as ag

from . import compiled, machine, report, runner, sequence_gpt, sequence_lstm, targets, vmap_bench
from . import cnn
from . import charrnn

WORKLOADS = ("mlp", "overhead", "chain", "memory", "conv", "compiled", "lstm", "vmap",
             "gpt")
WORKLOADS += ("cnn",)
WORKLOADS += ("charrnn",)
# The standard-only library is for checking portability; its arrays are deliberately
# plain, so timing it says nothing about anygrad. It is still verified.
NOT_TIMED = ("array_api_strict",)


def _ints(text):
    return tuple(int(v) for v in text.split(",") if v.strip())


def _names(text):
    return [v.strip() for v in text.split(",") if v.strip()]


def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m anygrad.bench",
        description="Benchmark anygrad against a hand-written numpy floor and PyTorch.",
        epilog="Exit status: 0 when every correctness check passes and every measured "
               "target is met, 1 when a correctness check fails, 2 when a target is missed "
               "(--quick runs: targets do not count).")
    p.add_argument("--backends", type=_names, default=None,
                   help="anygrad backends to time (default: every available one except "
                        "array_api_strict)")
    p.add_argument("--sizes", type=_ints, default=None,
                   help="MLP layer sizes (default 784,1024,1024,10)")
    p.add_argument("--batch-sizes", type=_ints, default=None,
                   help="batch sizes of the MLP sweep (default 64,256,1024; --full: "
                        "16,64,256,1024,4096)")
    p.add_argument("--widths", type=_ints, default=None,
                   help="also sweep the hidden width (two hidden layers of each width) at "
                        "--width-batch")
    p.add_argument("--width-batch", type=int, default=256)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats (default 10)")
    p.add_argument("--warmup", type=int, default=None, help="untimed warm-up runs (default 2)")
    p.add_argument("--workloads", type=_names, default=list(WORKLOADS),
                   help=f"comma-separated subset of {','.join(WORKLOADS)}")
    p.add_argument("--memory-steps", type=int, default=None,
                   help="steps of the memory flatness check (default 1000)")
    p.add_argument("--json", metavar="PATH", help="write every figure as JSON")
    p.add_argument("--markdown", metavar="PATH",
                   help="write the tables as markdown; a file with the results markers "
                        "(BENCHMARKS.md) has only its results section replaced")
    p.add_argument("--plot", metavar="PATH", help="PNG of step time vs batch size")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="tiny sizes and few repeats: checks that everything runs (its "
                           "targets are reported but do not set the exit status)")
    mode.add_argument("--full", action="store_true",
                      help="the wider sweep: batch 16..4096 and widths 256..2048")
    return p


def settings_from(args):
    """Defaults depend on the mode; explicit options always win."""
    available = ag.available_backends()
    timed = args.backends or [b for b in available if b not in NOT_TIMED]
    unknown = [b for b in timed if b not in available]
    if unknown:
        raise SystemExit(f"backend(s) not available here: {', '.join(unknown)} "
                         f"(available: {', '.join(available)})")
    verified = list(dict.fromkeys(timed + [b for b in available if b in NOT_TIMED]))
    s = runner.Settings(backends=timed, verify_backends=verified, dtype=args.dtype)
    if args.quick:
        s.sizes, s.batch_sizes = (32, 64, 64, 10), (8, 32)
        s.repeats, s.warmup = 3, 1
        s.overhead_ops, s.chain_lengths, s.chain_repeats = 100, (500, 1000, 2000), 2
        s.memory_steps, s.memory_early, s.memory_batch = 20, 5, 16
        s.conv_input, s.conv_weight = (2, 3, 8, 8), (4, 3, 3, 3)
    if args.full:
        s.batch_sizes = (16, 64, 256, 1024, 4096)
        s.widths = (256, 512, 1024, 2048)
    s.sizes = args.sizes or s.sizes
    s.batch_sizes = args.batch_sizes or s.batch_sizes
    s.widths = args.widths or s.widths
    s.width_batch = args.width_batch
    s.repeats = args.repeats or s.repeats
    s.warmup = args.warmup if args.warmup is not None else s.warmup
    s.memory_steps = args.memory_steps or s.memory_steps
    return s


def run(settings, workloads, command="python -m anygrad.bench"):
    """Run the chosen workloads; returns the results dict (JSON-ready)."""
    started = time.time()
    results = {"meta": {"command": command, "started": runner.timestamp(),
                        "machine": machine.describe(),
                        "settings": {k: v for k, v in vars(settings).items()}},
               "workloads": {}}
    if "mlp" in workloads or "memory" in workloads:
        results["verification"] = runner.verify_mlp(settings)
    timed = settings.backends
    if "verification" in results:
        failed = {n for n, r in results["verification"]["results"].items() if not r["ok"]}
        timed = [b for b in timed if f"anygrad:{b}" not in failed]
    jobs = {"mlp": runner.run_mlp, "overhead": runner.run_overhead, "chain": runner.run_chain,
            "memory": runner.run_memory, "conv": runner.run_conv, "compiled": compiled.run,
            "lstm": sequence_lstm.run, "vmap": vmap_bench.run, "gpt": sequence_gpt.run}
    jobs["cnn"] = cnn.run
    jobs["charrnn"] = charrnn.run
    for name in WORKLOADS:
        if name in workloads:
            results["workloads"][name] = jobs[name](settings, timed)
    results["targets"] = targets.evaluate(results["workloads"])
    results["meta"]["elapsed_s"] = time.time() - started
    return results


def main(argv=None):
    args = build_parser().parse_args(argv)
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workload(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(WORKLOADS)}")
    settings = settings_from(args)
    argv = sys.argv[1:] if argv is None else argv
    command = "python -m anygrad.bench" + "".join(f" {shlex.quote(a)}" for a in argv)
    results = run(settings, args.workloads, command)
    secs = report.sections(results)
    print(report.render_text(secs))
    if args.json:
        report.write_json(results, args.json)
    if args.markdown:
        report.write_markdown(results, secs, args.markdown)
    if args.plot:
        note = report.write_plot(results, args.plot)
        if note:
            print(f"--plot: {note}", file=sys.stderr)
    return exit_status(results, args.quick)


def exit_status(results, quick=False):
    """0: every check passed and every measured target was met; 1: a correctness check
    failed; 2: a target was missed. A --quick run (tiny sizes, not the targets' own)
    reports its targets but they do not change the status."""
    verification = results.get("verification")
    conv_checks = list(results["workloads"].get("conv", {}).get("checks", {}).values())
    conv_checks += results["workloads"].get("cnn", {}).get("checks", {}).values()
    ok = (verification is None or verification["ok"]) and all(c["ok"] for c in conv_checks)
    if not ok:
        print("a correctness check FAILED: see the tables above", file=sys.stderr)
        return 1
    missed = [t["target"] for t in results.get("targets", []) if t["met"] is False]
    if missed and not quick:
        print(f"{len(missed)} target(s) missed: " + "; ".join(missed), file=sys.stderr)
        return 2
    return 0
