"""L-BFGS (Nocedal & Wright, algorithm 7.4), step for step as PyTorch's LBFGS.

All parameters are handled as one flat vector (one parameter group, as in PyTorch).
`step(closure)` runs up to `max_iter` iterations; the closure clears the gradients,
computes the loss, calls `backward()` and returns the loss. Directions come from the
two-loop recursion over the last `history_size` curvature pairs; the step is `lr`
(the first one scaled by the gradient's size), or found by a line search satisfying
the strong Wolfe conditions with `line_search_fn="strong_wolfe"`.

Scalars of the algorithm (inner products, losses, step sizes) are Python floats; the
vectors stay on the parameters' backend and device.
"""
from __future__ import annotations

from ..modes import enable_grad
from .optimizer import Optimizer

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    """L-BFGS over all parameters as one vector; `step(closure)` runs up to `max_iter`
    iterations (at most `max_eval` closure calls), stopping early when the gradient or
    the change falls below `tolerance_grad`/`tolerance_change`."""

    def __init__(self, params, lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS: takes one parameter group (it optimizes one flat vector)")
        self._params = self.param_groups[0]["params"]

    def _validate(self, group):
        super()._validate(group)
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{group['line_search_fn']!r}")
        if group["history_size"] < 1 or group["max_iter"] < 1:
            raise ValueError("LBFGS: history_size and max_iter must be positive")

    # ------------------------------------------------------------ the flat vector
    def _xp(self):
        return self._params[0].backend.xp

    def _flat_grad(self):
        xp = self._xp()
        parts = []
        for p in self._params:
            g = xp.zeros_like(p.array) if p.grad is None else p.grad.array
            parts.append(xp.reshape(g, (-1,)))
        return xp.concat(parts) if len(parts) > 1 else xp.asarray(parts[0], copy=True)

    def _add(self, step, direction):
        """Parameters += step * direction (the flat direction cut to each shape)."""
        xp = self._xp()
        offset = 0
        for p in self._params:
            n = 1
            for s in p.shape:
                n *= s
            piece = xp.reshape(direction[offset:offset + n], p.shape)
            p.array = p.backend.sub_scaled(p.array, piece, -step)
            offset += n
        self._tick()

    def _tick(self):
        list(self._trainable(self.param_groups[0]))  # ticks every updated parameter's clock
        self._views_follow()

    def _copy_params(self):
        xp = self._xp()
        return [xp.asarray(p.array, copy=True) for p in self._params]

    def _set_params(self, arrays):
        xp = self._xp()
        for p, a in zip(self._params, arrays):
            p.array = xp.asarray(a, copy=True)
        self._tick()

    def _evaluate(self, closure):
        with enable_grad():
            return float(closure())

    def _directional(self, closure, x, t, d):
        """(loss, flat gradient) at x + t d; the parameters are put back to x."""
        self._add(t, d)
        loss = self._evaluate(closure)
        g = self._flat_grad()
        self._set_params(x)
        return loss, g

    # ------------------------------------------------------------ the step
    def step(self, closure):
        """Run up to `max_iter` L-BFGS iterations; returns the loss at the start."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure that computes the loss, calls "
                            "backward() and returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search = group["history_size"], group["line_search_fn"]
        xp = self._xp()

        def dot(a, b):
            return float(xp.vecdot(a, b))

        def abs_max(a):
            return float(xp.max(xp.abs(a)))

        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if abs_max(flat_grad) <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps = state.get("old_dirs"), state.get("old_stps")
        ro, h_diag = state.get("ro"), state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / dot(y, y)
                # The two-loop recursion: d = -H g.
                al = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = dot(old_stps[i], q) * ro[i]
                    q = q - al[i] * old_dirs[i]
                d = r = q * h_diag
                for i in range(len(old_dirs)):
                    be_i = dot(old_dirs[i], r) * ro[i]
                    r = r + (al[i] - be_i) * old_stps[i]
                d = r
            prev_flat_grad = xp.asarray(flat_grad, copy=True)
            prev_loss = loss

            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.sum(xp.abs(flat_grad)))) * lr
            else:
                t = lr
            gtd = dot(flat_grad, d)
            if gtd > -tolerance_change:  # not a descent direction
                break

            evals = 0
            if line_search is not None:
                x_init = self._copy_params()

                def objective(x, step, direction):
                    return self._directional(closure, x, step, direction)

                loss, flat_grad, t, evals = _strong_wolfe(
                    objective, x_init, t, d, loss, flat_grad, gtd, xp)
                self._add(t, d)
                optimal = abs_max(flat_grad) <= tolerance_grad
            else:
                self._add(t, d)
                optimal = False
                if n_iter != max_iter:
                    loss = self._evaluate(closure)
                    flat_grad = self._flat_grad()
                    optimal = abs_max(flat_grad) <= tolerance_grad
                    evals = 1
            current_evals += evals
            state["func_evals"] += evals

            if n_iter == max_iter or current_evals >= max_eval or optimal:
                break
            if abs_max(d) * abs(t) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to
    `bounds` (default: between x1 and x2); the midpoint where the cubic has none."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square ** 0.5
        if x1 <= x2:
            position = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            position = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(position, lo), hi)
    return (lo + hi) / 2.0


def _strong_wolfe(objective, x, t, d, f, g, gtd, xp, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """A step t along d satisfying the strong Wolfe conditions: bracketing, then zoom
    by cubic interpolation. Returns (loss, flat gradient, t, evaluations)."""
    def dot(a, b):
        return float(xp.vecdot(a, b))

    d_norm = float(xp.max(xp.abs(d)))
    f_new, g_new = objective(x, t, d)
    evals = 1
    gtd_new = dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        previous = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = previous, f_new, g_new, gtd_new
        f_new, g_new = objective(x, t, d)
        evals += 1
        gtd_new = dot(g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f = [0.0, t], [f, f_new]
        bracket_g, bracket_gtd = [g, g_new], [gtd, gtd_new]

    # Zoom: shrink the bracket until a point satisfies the conditions.
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # Keep away from the bracket's ends, where interpolation makes little progress.
        top, bottom = max(bracket), min(bracket)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = objective(x, t, d)
        evals += 1
        gtd_new = dot(g_new, d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new
    t = bracket[low]
    return bracket_f[low], bracket_g[low], t, evals
