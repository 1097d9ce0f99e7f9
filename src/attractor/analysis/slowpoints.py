"""Fixed points, cycles and slow points of smooth models by optimisation (Sussillo & Barak 2013).

For a map ``F`` (a GRU, LSTM, leaky RNN … through :meth:`DynamicalModel.step`) and period k,
minimise the speed

    q(z) = ½ ‖F^k(z) − z‖²          z (B, M), one independent problem per row

from states sampled along trajectories (where the dynamics live), first with L-BFGS
(``scipy.optimize.minimize``) on ``Σ q`` with autograd gradients (the rows are independent
problems, so the summed Hessian is block diagonal), then polish with damped Newton steps on
``G(z) = F^k(z) − z`` using the model's Jacobians, ``(J_k ⋯ J_1 − I) δ = G``, accepting a step
only where it lowers ``q`` (halving it up to ``NEWTON_HALVINGS`` times otherwise).

A minimum with ``‖F^k(z) − z‖ ≤ FIXED_TOL · (1 + ‖z‖)`` is a fixed point (a k-cycle for
k > 1); one that only gets below ``SLOW_TOL`` is a *slow point* (a ghost or near-bifurcation
region where the flow almost stops); everything else is discarded. Results are de-duplicated.

The minimiser is scipy's L-BFGS; the Newton polish is written on torch (``torch.linalg.solve``
on the batch) because scipy.optimize.root would loop over the starts one by one in Python.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from attractor.errors import ConfigError
from attractor.models.base import DynamicalModel

#: L-BFGS iterations, Newton steps and step halvings.
LBFGS_STEPS = 500
NEWTON_STEPS = 30
NEWTON_HALVINGS = 6
#: Speed thresholds (per k steps, model units): fixed point / slow point.
FIXED_TOL = 1e-9
SLOW_TOL = 1e-3
#: Two results are the same point if they agree within this (× (1 + max|z|)).
DEDUP_TOL = 1e-5


@dataclass
class SmoothCandidate:
    """A minimum of the speed: orbit ``points`` ``(k, M)``, ``speed`` ‖F^k(z) − z‖ and
    whether it counts as a true fixed point/cycle (``exact``) or a slow point."""

    points: np.ndarray
    speed: float
    exact: bool


def float64_twin(model: DynamicalModel) -> DynamicalModel:
    """A float64 copy of ``model`` (its own precision if it cannot be cast); ``model`` untouched."""
    twin = copy.deepcopy(model).eval()
    try:
        return twin.double()
    except (RuntimeError, TypeError):
        return twin


def _dtype(model: DynamicalModel) -> torch.dtype:
    p = next(iter(model.parameters()), None)
    return p.dtype if p is not None and p.is_floating_point() else torch.float64


def _power(model: DynamicalModel, z: torch.Tensor, k: int) -> torch.Tensor:
    for _ in range(k):
        z = model.step(z)
    return z


def _jacobian_power(model: DynamicalModel, z: torch.Tensor, k: int) -> torch.Tensor:
    """``J(z_k) ⋯ J(z_1)`` along the orbit from ``z`` ``(B, M)``: ``(B, M, M)``."""
    prod = torch.eye(z.shape[1], dtype=z.dtype).expand(z.shape[0], -1, -1)
    for _ in range(k):
        prod = model.jacobian(z) @ prod
        z = model.step(z)
    return prod


def _speed(model: DynamicalModel, z: torch.Tensor, k: int) -> torch.Tensor:
    with torch.no_grad():
        return torch.linalg.vector_norm(_power(model, z, k) - z, dim=1)


def minimise_speed(
    model: DynamicalModel,
    starts: np.ndarray,
    period: int = 1,
    lbfgs_steps: int = LBFGS_STEPS,
    newton_steps: int = NEWTON_STEPS,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``q`` from every row of ``starts`` ``(B, M)``; returns the minima ``(B, M)``
    and their speeds ``‖F^k(z) − z‖`` ``(B,)``. Works on a float64 copy of ``model``."""
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1:
        raise ConfigError(f"the period of a cycle must be an integer ≥ 1, got {period!r}.")
    twin = float64_twin(model)
    for p in twin.parameters():
        p.requires_grad_(False)
    dtype = _dtype(twin)
    from scipy.optimize import minimize

    shape = np.shape(starts)

    def total(flat: np.ndarray) -> tuple[float, np.ndarray]:
        z = torch.tensor(flat.reshape(shape), dtype=dtype, requires_grad=True)
        r = _power(twin, z, period) - z
        loss = 0.5 * (r**2).sum()
        (grad,) = torch.autograd.grad(loss, z)
        v = float(loss.detach())
        if not np.isfinite(v):  # an escaping start: tell L-BFGS to step back
            return float("inf"), np.zeros(flat.size)
        return v, grad.double().numpy().ravel()

    flat = np.asarray(starts, dtype=np.float64).ravel()
    if lbfgs_steps > 0:
        opts = {"maxiter": lbfgs_steps, "ftol": 0.0, "gtol": 1e-14}
        flat = minimize(total, flat, jac=True, method="L-BFGS-B", options=opts).x
    z = torch.tensor(flat.reshape(shape), dtype=dtype)
    speed = _speed(twin, z, period)
    eye = torch.eye(z.shape[1], dtype=dtype)
    for _ in range(newton_steps):
        with torch.no_grad():
            g = _power(twin, z, period) - z
            jac = _jacobian_power(twin, z, period) - eye
            try:
                delta = torch.linalg.solve(jac, g[..., None])[..., 0]
            except RuntimeError:  # a singular batch: fall back to least squares
                delta = torch.linalg.lstsq(jac, g[..., None]).solution[..., 0]
            delta = torch.nan_to_num(delta, nan=0.0, posinf=0.0, neginf=0.0)
            step = torch.ones(z.shape[0], 1, dtype=dtype)
            improved = torch.zeros(z.shape[0], dtype=torch.bool)
            for _ in range(NEWTON_HALVINGS):
                trial = z - step * delta
                s_trial = torch.nan_to_num(_speed(twin, trial, period), nan=float("inf"))
                better = (s_trial < speed) & ~improved
                z = torch.where(better[:, None], trial, z)
                speed = torch.where(better, s_trial, speed)
                improved |= better
                step = torch.where(improved[:, None], step, step / 2)
            if not bool(improved.any()):
                break
    return z.numpy(), speed.numpy()


def orbit_points(model: DynamicalModel, z: np.ndarray, period: int) -> np.ndarray:
    """``z, F(z), …, F^{k−1}(z)`` for rows of ``z`` ``(B, M)``: ``(B, k, M)`` (float64 copy)."""
    twin = float64_twin(model)
    zt = torch.as_tensor(np.asarray(z, dtype=np.float64), dtype=_dtype(twin))
    out = [zt]
    with torch.no_grad():
        for _ in range(period - 1):
            out.append(twin.step(out[-1]))
    return torch.stack(out, dim=1).double().numpy()


def find_slow_points(
    model: DynamicalModel,
    starts: np.ndarray,
    period: int = 1,
    fixed_tol: float = FIXED_TOL,
    slow_tol: float = SLOW_TOL,
    lbfgs_steps: int = LBFGS_STEPS,
    newton_steps: int = NEWTON_STEPS,
) -> list[SmoothCandidate]:
    """Distinct fixed points / k-cycles (``exact``) and slow points found from ``starts``."""
    starts = np.asarray(starts, dtype=np.float64)
    if starts.ndim != 2 or starts.shape[1] != model.latent_dim or len(starts) == 0:
        raise ConfigError(
            f"start states must be an array (B, {model.latent_dim}) with B ≥ 1, "
            f"got shape {starts.shape}."
        )
    z, speed = minimise_speed(model, starts, period, lbfgs_steps, newton_steps)
    finite = np.isfinite(z).all(1) & np.isfinite(speed)
    exact = finite & (speed <= fixed_tol * (1.0 + np.abs(np.nan_to_num(z)).max(1)))
    slow = finite & ~exact & (speed <= slow_tol)
    order = np.argsort(np.where(finite, speed, np.inf))  # best first: duplicates keep the best
    kept: list[SmoothCandidate] = []
    orbits = orbit_points(model, z[finite], period)
    by_row = dict(zip(np.flatnonzero(finite), orbits, strict=True))
    for i in order:
        if not (exact[i] or slow[i]):
            continue
        pts = by_row[i]
        tol = DEDUP_TOL * (1.0 + float(np.abs(pts).max()))
        if period > 1 and any(np.abs(pts[j] - pts[0]).max() <= tol for j in range(1, period)):
            continue  # a cycle of lower period
        dup = any(
            np.abs(np.roll(o.points, r, axis=0) - pts).max() <= max(tol, 10 * o.speed)
            for o in kept
            for r in range(period)
        )
        if not dup:
            kept.append(SmoothCandidate(pts, float(speed[i]), bool(exact[i])))
    return kept
