"""The performance targets, each read off a run's results as a measured ratio.

A target that the run did not measure (its workload skipped, a batch size not in the
sweep, torch not installed) is reported as not measured, never guessed.
"""
from __future__ import annotations

FLOOR = "floor:numpy"
TORCH = "torch:autograd"


def _mlp_ms(results, impl, batch):
    mlp = results.get("mlp") or {}
    for row in mlp.get("rows", []):
        if row["impl"] == impl and row["batch"] == batch and row["sizes"] == mlp["sizes"]:
            return row["median_ms"]
    return None


def _ratio(a, b):
    return None if a is None or b is None else a / b


def _mlp_floor_target(results, batch, limit):
    ratio = _ratio(_mlp_ms(results, "anygrad:numpy", batch), _mlp_ms(results, FLOOR, batch))
    return _target(f"MLP step on numpy vs hand-written floor, batch {batch}", ratio, limit)


def _torch_backend_target(results, batch=1024, limit=1.15):
    ratio = _ratio(_mlp_ms(results, "anygrad:torch", batch), _mlp_ms(results, TORCH, batch))
    return _target(f"torch backend vs PyTorch's own autograd, MLP batch {batch}", ratio, limit)


def _overhead_target(results, limit=1.0, aim=0.7):
    rows = {r["impl"]: r for r in (results.get("overhead") or {}).get("rows", [])}
    ours, theirs = rows.get("anygrad:numpy"), rows.get(TORCH)
    ratio = _ratio(ours and ours["us_per_op"], theirs and theirs["us_per_op"])
    target = _target("per-op overhead, anygrad on numpy vs PyTorch eager", ratio, limit)
    target["aim"] = aim
    return target


def _chain_target(results, limit=1.2):
    chain = results.get("chain") or {}
    fit = (chain.get("linearity") or {}).get("anygrad:numpy")
    lengths = chain.get("lengths") or []
    ratio = fit and fit["per_op_longest_over_shortest"]
    span = f"{min(lengths)}..{max(lengths)} ops" if lengths else "chain"
    target = _target(f"chain backward linear in length (per-op time, {span}, longest/shortest)",
                     ratio, limit)
    if fit:
        target["r2"] = fit["r2"]
    return target


def _memory_targets(results, peak_limit=1.2):
    rows = {r["impl"]: r for r in (results.get("memory") or {}).get("rows", [])}
    ours = rows.get("anygrad:numpy") or {}
    peak = _target("peak memory of a step vs the floor's (numpy, whole footprint)",
                   ours.get("peak_ratio_to_floor"), peak_limit)
    early, end = ours.get("in_use_early_bytes"), ours.get("in_use_end_bytes")
    flat = _target(f"memory flat over {ours.get('steps', '?')} steps (in use at the end / "
                   f"after step {ours.get('early_step', '?')})", _ratio(end, early), 1.01)
    return [peak, flat]


def _cnn_targets(results, limit=1.2):
    from .cnn import torch_ratio

    cnn = results.get("cnn")
    return [_target(f"MNIST CNN forward + backward on numpy vs PyTorch eager, {label}",
                    torch_ratio(cnn, key), limit)
            for label, key in (("default threads", "default"), ("1 thread", "1"))]


def _charrnn_targets(results, limit=1.2):
    charrnn = results.get("charrnn") or {}
    rows = {r["impl"]: r for r in charrnn.get("rows", [])}
    ours = rows.get("anygrad:numpy")
    step = _target("char-RNN step, anygrad eager on numpy vs PyTorch eager",
                   ours and ours["ratio_to_torch"], limit)
    inplace = [r["ratio"] for r in charrnn.get("ops", []) if "inplace_us" in r]
    update = _target("in-place update vs the same update out of place (worst of x -= y and "
                     "a slice write, in a graph)", max(inplace) if inplace else None, 1.0)
    return [step, update]


def _target(name, measured, limit):
    return {"target": name, "limit": limit, "measured": measured,
            "met": None if measured is None else measured <= limit}


def evaluate(results):
    """Every target with its measured value and whether it was met (None: not measured)."""
    return [
        _mlp_floor_target(results, 1024, 1.10),
        _mlp_floor_target(results, 64, 1.30),
        _overhead_target(results),
        _chain_target(results),
        *_memory_targets(results),
        _torch_backend_target(results),
        *_cnn_targets(results),
        *_charrnn_targets(results),
    ]
