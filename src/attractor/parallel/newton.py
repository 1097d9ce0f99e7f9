"""Parallel-in-time Newton solve of a nonlinear recurrence (DEER / ParaRNN).

Find ``h_1…h_T`` with ``h_t = f(h_{t−1}, u_t)`` and ``h_0`` given, by Newton's method on the
stacked residual ``R_t(h) = f(h_{t−1}, u_t) − h_t``. Each iteration evaluates ``f`` and its
Jacobian ``J_t = ∂f/∂h (h_{t−1}, u_t)`` at all T steps at once and solves the linear recurrence

    δ_t = J_t δ_{t−1} + r_t,   δ_0 = 0,   r_t = f(h_{t−1}, u_t) − h_t,   h ← h + δ

with :func:`attractor.parallel.scan.linear_scan` (depth O(log T)). Methods:

* ``"newton"`` — full Newton (DEER) with the Jacobian in the step's own structure (dense, diagonal
  or 2×2 blocks of diagonals); exact in one iteration when f is linear, and for piecewise-linear f
  as soon as the activation pattern stops changing;
* ``"quasi"`` — quasi-Newton (quasi-DEER): only ``diag(J_t)``, so every scan is elementwise;
* ``"damped"`` — Levenberg–Marquardt-style damping ``(1 + λ) δ_t = J_t δ_{t−1} + r_t``: λ = 0 is
  Newton, λ → ∞ a damped fixed-point (Picard) step ``δ = r/(1 + λ)``; a step is accepted only
  if it lowers ``‖r‖²``, then λ shrinks tenfold, otherwise λ grows tenfold. This keeps ELK's
  idea (trust-region damping keeps the linear solve stable when ∏J_t explodes) but, unlike ELK
  proper (a Kalman smoother solving the true LM system), it reuses the same scan; its large-λ
  direction is not guaranteed to descend when ‖J_t‖ > 1, so on chaotic free runs it can stall
  (then the solver stops and, by default, falls back to sequential evaluation).

Stopping: every ``|r_t| ≤ atol + rtol·|h_t|`` (DEER's criterion applied to the residual) or
``max_iter`` iterations. The residual ``max_t |r_t|`` is recorded per iteration. If Newton has not
converged (or produced non-finite values) the trajectory is evaluated sequentially instead and a
:class:`NewtonFallbackWarning` says so (``fallback=True`` in the result); pass ``fallback=False``
to get the unconverged iterate. Gradients are not taken through the iterations — the callers
(e.g. :mod:`attractor.train.parallel_rollout`) differentiate the converged solution by one
reverse scan with transposed Jacobians (the implicit-function theorem).

``step(h_prev, *u) -> h`` and ``jacobian(h_prev, *u)`` take flat batches ``(n, M)`` and the
inputs' rows ``(n, …)``; ``jacobian`` returns the structure named by ``structure``
(``(n, M)``, ``(n, k, k, M/k)`` or ``(n, M, M)``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from attractor.errors import ConfigError
from attractor.parallel.scan import (
    STRUCTURES,
    chunked_scan_applies,
    diagonal_of,
    scan_time_major,
)

METHODS = ("newton", "quasi", "damped")
#: Default iteration cap (ParaRNN uses 3 for its diagonal cells; PL models may need more).
DEFAULT_MAX_ITER = 50
#: Initial and bounds of the Levenberg–Marquardt damping λ.
LM_INIT, LM_MIN, LM_MAX = 1.0, 1e-8, 1e8

StepFn = Callable[..., Tensor]


class NewtonFallbackWarning(RuntimeWarning):
    """Newton did not converge and the trajectory was evaluated sequentially instead."""


def default_tolerances(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) for the residual test: a few hundred ulps of the dtype, at least 1e-12."""
    eps = torch.finfo(dtype).eps
    tol = max(1e-12, 256 * eps) if dtype == torch.float64 else max(1e-6, 64 * eps)
    return tol, tol


@dataclass
class NewtonResult:
    """The solution ``states`` ``(B, T, M)`` and how it was obtained.

    ``values`` and ``jacobians`` are ``step`` (as ``h + r``, equal to rounding) and
    ``jacobian`` evaluated at the solution's previous states ``(h_0 … h_{T−1})`` (time-major:
    ``(T, B, M)`` and ``(T, B, …)``), kept so a backward pass can reuse them; ``None`` after a
    sequential fallback.
    """

    states: Tensor
    iterations: int
    residuals: list[float] = field(default_factory=list)
    converged: bool = False
    fallback: bool = False
    method: str = "newton"
    values: Tensor | None = None
    jacobians: Tensor | None = None

    def summary(self) -> dict[str, object]:
        return {
            "iterations": self.iterations,
            "residuals": self.residuals,
            "converged": self.converged,
            "fallback": self.fallback,
            "method": self.method,
        }


def _time_major(u: Tensor) -> Tensor:
    """``(B, T, …) → (T·B, …)``, rows ordered by time then batch."""
    return u.transpose(0, 1).reshape(u.shape[0] * u.shape[1], *u.shape[2:])


def previous_rows(h0: Tensor, flat: Tensor, i0: int, i1: int) -> Tensor:
    """Rows ``i0 … i1−1`` of the time-major previous states ``(h_0, h_1, …, h_{T−1})`` flattened
    to ``(T·B, M)``, given ``h0`` ``(B, M)`` and the states ``flat`` = ``(h_1 … h_T)`` flattened
    the same way — without building the shifted tensor."""
    b = h0.shape[0]
    if i0 >= b:
        return flat[i0 - b : i1 - b]
    return torch.cat([h0[i0:], flat[: i1 - b]]) if i1 > b else h0[i0:i1]


def sequential_solve(step: StepFn, h0: Tensor, inputs: Sequence[Tensor], t_len: int) -> Tensor:
    """Reference: ``h_t = step(h_{t−1}, u_t)`` one step at a time, ``(B, T, M)``."""
    out = h0.new_empty(h0.shape[0], t_len, h0.shape[1])
    h = h0
    for t in range(t_len):
        h = step(h, *(u[:, t] for u in inputs))
        out[:, t] = h
    return out


@torch.no_grad()
def newton_solve(
    step: StepFn,
    jacobian: StepFn | None,
    h0: Tensor,
    inputs: Sequence[Tensor] = (),
    t_len: int | None = None,
    *,
    step_and_jacobian: StepFn | None = None,
    structure: str = "dense",
    method: str = "newton",
    init: Tensor | None = None,
    max_iter: int = DEFAULT_MAX_ITER,
    rtol: float | None = None,
    atol: float | None = None,
    fallback: bool = True,
    chunk: int | None = None,
    jacobian_out: bool = False,
) -> NewtonResult:
    """Solve ``h_t = step(h_{t−1}, u_t)``, ``t = 1…T``, for all t at once.

    ``h0``: ``(B, M)``; ``inputs``: tensors ``(B, T, …)`` (row t is ``u_t``); ``t_len``: T when
    there are no inputs; ``init``: first guess ``(B, T, M)`` (default ``h0`` at every step).
    ``step_and_jacobian(h, *u) -> (step, jacobian)``, if given, replaces the two separate calls
    (models share the gate values between them). Tolerances default to
    :func:`default_tolerances` of the dtype. Internally everything is time-major ``(T, B, …)``.
    ``chunk``: evaluate ``step`` on blocks of this many (time-major) rows — a large speed-up on
    CPUs, where big temporaries fall out of cache; ``None`` evaluates all ``T·B`` rows at once.
    ``jacobian_out``: ``step_and_jacobian`` takes ``out=`` (the block of the Jacobian buffer to
    write into), which saves one copy of every Jacobian per evaluation.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown Newton method {method!r}; use one of {', '.join(METHODS)}.")
    if structure not in STRUCTURES:
        raise ConfigError(f"unknown Jacobian structure {structure!r}; use one of {STRUCTURES}.")
    if max_iter < 1:
        raise ConfigError(f"max_iter must be at least 1, got {max_iter}.")
    if jacobian is None and step_and_jacobian is None:
        raise ConfigError("pass a jacobian or a step_and_jacobian callable.")
    if t_len is None:
        if not inputs:
            raise ConfigError("pass t_len (the number of steps) when there are no inputs.")
        t_len = inputs[0].shape[1]
    if h0.ndim != 2:
        raise ConfigError(f"h0 must be (B, M), got shape {tuple(h0.shape)}.")
    d_rtol, d_atol = default_tolerances(h0.dtype)
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    b, m = h0.shape
    flat_inputs = [_time_major(u) for u in inputs]
    lin_structure = "diagonal" if method == "quasi" else structure

    rows_total = t_len * b
    rows = rows_total if chunk is None else max(b, min(rows_total, chunk))

    def both(prev: Tensor, us: list[Tensor], out: Tensor | None) -> tuple[Tensor, Tensor]:
        if step_and_jacobian is not None:
            if out is not None:
                return step_and_jacobian(prev, *us, out=out)
            return step_and_jacobian(prev, *us)
        return step(prev, *us), jacobian(prev, *us)  # type: ignore[misc]

    # Newton and quasi-Newton reuse one residual/Jacobian buffer pair across evaluations (and
    # solve for the step in place of the residual): a fresh full-size tensor costs a pass's
    # worth of page faults. Damped Newton keeps the current pair while it tries a candidate.
    reuse = method != "damped"
    bufs: list[Tensor] = []

    def evaluate(h: Tensor) -> tuple[Tensor, Tensor, float, bool]:
        """(residual, Jacobians, max |residual|, converged) at the guess ``h``.

        Evaluated in row blocks of ``chunk`` (time-major) rows so that on a CPU every
        intermediate stays in cache; the outputs are written into preallocated tensors. The
        step values are not kept: at the solution they are ``h + r``.
        Convergence (every ``|r| ≤ atol + rtol·|h|``) is decided per block from ``max |r|``
        (a cheap reduction); only blocks above ``atol`` look at ``max |h|``, and are tested
        entry by entry only where those two do not settle it.
        """
        hf = h.reshape(rows_total, m)
        r, jac = bufs if (reuse and bufs) else (None, None)
        errs, spans = [], []
        for i0 in range(0, rows_total, rows):
            i1 = min(rows_total, i0 + rows)
            prev = previous_rows(h0, hf, i0, i1)
            out = jac[i0:i1] if (jacobian_out and jac is not None) else None
            v, j = both(prev, [u[i0:i1] for u in flat_inputs], out)
            if r is None:
                r = v.new_empty(rows_total, m)
                jac = j.new_empty(rows_total, *j.shape[1:])
                if reuse:
                    bufs.extend((r, jac))
            if j is not out:
                jac[i0:i1] = j
            rc = torch.sub(v, hf[i0:i1], out=r[i0:i1])
            # abs().amax(): an order of magnitude faster on CPU than vector_norm(·, inf)
            errs.append(rc.abs().amax())
            spans.append((i0, i1))
        e_t = torch.stack(errs)
        err = float(e_t.max())  # NaN-propagating, unlike Python's max
        e = e_t.tolist()
        ok = math.isfinite(err)
        for k, (i0, i1) in enumerate(spans):  # blocks above atol: the relative test
            if not ok:
                break
            if e[k] <= atol:
                continue
            hb = hf[i0:i1]
            ok = e[k] <= atol + rtol * float(hb.abs().amax()) and bool(
                (r[i0:i1].abs() <= atol + rtol * hb.abs()).all()
            )
        return r.view(t_len, b, m), jac.view(t_len, b, *jac.shape[1:]), err, ok

    work: list[Tensor] = []

    def solve(jac: Tensor, r: Tensor, in_place: bool = False) -> Tensor:
        """The Newton step δ (written over ``r`` when ``in_place``)."""
        a = diagonal_of(jac, structure) if method == "quasi" else jac
        if not work and chunked_scan_applies(r, lin_structure):
            work.append(torch.empty_like(r))
        return scan_time_major(
            a, r, lin_structure, out=r if in_place else None, work=work[0] if work else None
        )

    if init is None:
        h = h0.unsqueeze(0).expand(t_len, b, m).clone()
    else:
        h = init.transpose(0, 1).clone(memory_format=torch.contiguous_format)  # never alias init
    r, jac, err, ok = evaluate(h)
    residuals: list[float] = []
    lam = LM_INIT
    converged = False
    it = 0
    while True:
        residuals.append(err)
        if not math.isfinite(err):
            break
        if ok:
            converged = True
            break
        if it >= max_iter:
            break
        it += 1
        if method != "damped":
            h += solve(jac, r, in_place=True)
            r, jac, err, ok = evaluate(h)
            continue
        # Levenberg–Marquardt: shrink λ after a successful step, grow it after a failed one
        while lam <= LM_MAX:
            damp = 1.0 + lam
            cand = h + solve(jac / damp, r / damp)
            r_c, jac_c, err_c, ok_c = evaluate(cand)
            if math.isfinite(err_c) and float((r_c * r_c).sum()) < float((r * r).sum()):
                h, r, jac, err, ok = cand, r_c, jac_c, err_c, ok_c
                lam = max(LM_MIN, lam / 10)
                break
            lam *= 10
        if lam > LM_MAX:
            break
    if converged:  # F(h_{t−1}) at the last evaluation (h + r): the solution, one Picard step on
        val = h.add_(r)
        states = val
    else:  # the unconverged iterate itself
        val, states = h + r, h
    result = NewtonResult(states.transpose(0, 1), it, residuals, converged, False, method, val, jac)
    if converged or not fallback:
        return result
    warnings.warn(
        f"Newton ({method}) did not converge in {it} iterations (residual {residuals[-1]:.3g}); "
        "evaluated the trajectory sequentially instead. Raise max_iter, use method='damped', "
        "or use sequential evaluation for this (likely chaotic, unforced) system.",
        NewtonFallbackWarning,
        stacklevel=2,
    )
    result.states = sequential_solve(step, h0, inputs, t_len)
    result.fallback = True
    result.values = result.jacobians = None
    return result
