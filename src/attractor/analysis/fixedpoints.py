"""Fixed points and k-cycles of any :class:`DynamicalModel`, with their stability.

:func:`find_orbits` picks the method by the model:

* piecewise-linear models (PLRNN, AL-RNN, shPLRNN; see :mod:`attractor.analysis.piecewise`):
  **exact** solutions of the linear equations of activation-pattern sequences — exhaustive
  enumeration (:func:`attractor.analysis.scyfi.enumerate_orbits`) when ``2^{K·k}`` sequences
  are few enough, the SCYFI iteration (:func:`attractor.analysis.scyfi.scyfi`) otherwise;
* smooth models (GRU, LSTM, leaky RNN …): minimisation of ``½‖F^k(z) − z‖²`` from states
  along trajectories (:mod:`attractor.analysis.slowpoints`), which also reports slow points.

Every orbit carries its multipliers (eigenvalues of the one-period Jacobian product
``J(z_k) ⋯ J(z_1)``, from the model's own :meth:`~DynamicalModel.jacobian`), its stability type
(:mod:`attractor.analysis.stability`), the residual ``max_j ‖F(z_j) − z_{j+1}‖`` of the real
model in float64, and — via :meth:`Orbit.to_dict` — its points in data coordinates
``x = scaler⁻¹(z_{1:N})``. Each search says in words what it guarantees (``statement``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from attractor.analysis import scyfi as _scyfi
from attractor.analysis.piecewise import MAX_CODE_BITS, has_form, piecewise_linear_form
from attractor.analysis.slowpoints import find_slow_points, float64_twin
from attractor.analysis.stability import Stability, classify_map, complex_pairs, flow_equivalent
from attractor.data.series import Scaler
from attractor.errors import ConfigError
from attractor.models.base import DynamicalModel

METHODS = ("auto", "exhaustive", "scyfi", "optimisation")
#: Start states of the optimisation-based search (sampled from the given trajectory states).
N_STARTS = 256
#: Default seeding states beyond this size (a free run escaping to infinity) are dropped.
BOUNDED = 1e6


@dataclass
class Orbit:
    """A fixed point (``period`` 1), k-cycle or slow point of a model's latent map.

    ``points`` ``(k, M)`` latent states in orbit order; ``multipliers`` ``(M,)`` eigenvalues of
    the one-period Jacobian product; ``residual`` ``max_j ‖F(z_j) − z_{j+1}‖`` of the model;
    ``regions``: the subregion code of each point (piecewise-linear models with few boundary
    units), else None; ``slow``: a slow point (speed ``residual`` small but not zero).
    """

    points: np.ndarray
    multipliers: np.ndarray
    stability: Stability
    residual: float
    regions: list[int] | None = None
    slow: bool = False

    @property
    def period(self) -> int:
        return int(self.points.shape[0])

    @property
    def kind(self) -> str:
        if self.slow:
            return "slow point"
        return "fixed point" if self.period == 1 else f"{self.period}-cycle"

    def data_points(self, obs_dim: int, scaler: Scaler | None = None) -> np.ndarray:
        """The observed part ``z_{1:N}`` of every point in data units ``(k, N)``."""
        x = self.points[:, :obs_dim]
        return scaler.inverse(x) if scaler is not None else x.copy()

    def to_dict(
        self, obs_dim: int, scaler: Scaler | None = None, dt: float | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "period": self.period,
            "latent": self.points.tolist(),
            "data": self.data_points(obs_dim, scaler).tolist(),
            **self.stability.to_dict(),
            "multipliers": complex_pairs(self.multipliers),
            "residual": self.residual,
        }
        if dt is not None:
            out["flow_equivalent_eigenvalues"] = complex_pairs(
                flow_equivalent(self.multipliers, dt * self.period)
            )
        if self.regions is not None:
            out["regions"] = self.regions
        return out


@dataclass
class OrbitSearch:
    """The orbits of one period found by one method, and what the method guarantees."""

    orbits: list[Orbit]
    period: int
    method: str
    exhaustive: bool
    statement: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(
        self, obs_dim: int, scaler: Scaler | None = None, dt: float | None = None
    ) -> dict[str, Any]:
        return {
            "period": self.period,
            "method": self.method,
            "exhaustive": self.exhaustive,
            "statement": self.statement,
            "details": self.details,
            "count": len(self.orbits),
            "orbits": [o.to_dict(obs_dim, scaler, dt) for o in self.orbits],
        }


def _orbit_checks(model: DynamicalModel, points: np.ndarray) -> tuple[np.ndarray, float]:
    """Multipliers and residual of one orbit ``(k, M)`` on the model itself (float64)."""
    twin = float64_twin(model)
    p = next(iter(twin.parameters()), None)
    dtype = p.dtype if p is not None and p.is_floating_point() else torch.float64
    z = torch.as_tensor(points, dtype=dtype)
    with torch.no_grad():
        nxt = twin.step(z).double().numpy()
    jac = twin.jacobian(z).detach().double().numpy()
    prod = np.eye(points.shape[1])
    for j in range(len(points)):
        prod = jac[j] @ prod
    residual = float(np.linalg.norm(nxt - np.roll(points, -1, axis=0), axis=1).max())
    return np.linalg.eigvals(prod), residual


def _make_orbit(
    model: DynamicalModel, points: np.ndarray, regions: list[int] | None, slow: bool = False
) -> Orbit:
    mult, res = _orbit_checks(model, points)
    return Orbit(points, mult, classify_map(mult), res, regions, slow)


def _check_states(model: DynamicalModel, states: Any) -> np.ndarray | None:
    if states is None:
        return None
    s = np.asarray(states, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != model.latent_dim or not np.isfinite(s).all():
        raise ConfigError(
            f"trajectory states must be a finite array (T, {model.latent_dim}), got shape "
            f"{s.shape}."
        )
    return s


def default_states(model: DynamicalModel, steps: int = 2000, seed: int = 0) -> np.ndarray:
    """Latent states of free runs from 8 random starts (the last ``steps // 8`` of each of
    ``steps`` points; escaping states dropped), for seeding searches when no trajectory is
    given."""
    g = torch.Generator().manual_seed(seed)
    twin = float64_twin(model)
    z0 = torch.randn(8, model.latent_dim, generator=g, dtype=torch.float64)
    z = twin.simulate(z0=z0.to(next(twin.parameters()).dtype), steps=steps, return_latent=True)
    z = z[:, -max(steps // 8, 1) :].reshape(-1, model.latent_dim).double().numpy()
    z = z[np.isfinite(z).all(1) & (np.abs(z).max(1, initial=0.0) < BOUNDED)]
    return z if len(z) else np.zeros((1, model.latent_dim))


def find_orbits(
    model: DynamicalModel,
    period: int = 1,
    method: str = "auto",
    states: Any = None,
    n_inits: int = _scyfi.N_INITS,
    max_iter: int = _scyfi.MAX_ITER,
    max_sequences: int = _scyfi.MAX_SEQUENCES,
    n_starts: int = N_STARTS,
    seed: int = 0,
) -> OrbitSearch:
    """Fixed points (``period=1``) or ``period``-cycles of ``model``'s autonomous latent map.

    ``method``: ``auto`` (exhaustive → SCYFI for piecewise-linear models, optimisation for
    smooth ones), ``exhaustive``, ``scyfi`` or ``optimisation``. ``states`` ``(T, M)``: latent
    states along a trajectory that seed the heuristic searches (default: free runs from random
    starts). ``n_inits``/``max_iter``: the SCYFI budget; ``max_sequences``: the largest
    exhaustive enumeration; ``n_starts``: starts of the optimisation.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown search method {method!r}; choose one of {', '.join(METHODS)}.")
    s = _check_states(model, states)
    pl = has_form(model)
    if method in ("exhaustive", "scyfi") and not pl:
        raise ConfigError(
            f"the {method} search needs a piecewise-linear model (plrnn, shplrnn, alrnn); "
            f"{model.kind or type(model).__name__!r} is smooth, use method='optimisation'."
        )
    if pl and method != "optimisation":
        form = piecewise_linear_form(model)
        n_seq = _scyfi.n_sequences(form, period)
        if method == "exhaustive" or (method == "auto" and n_seq <= max_sequences):
            res = _scyfi.enumerate_orbits(form, period, max_sequences)
            statement = (
                f"exhaustive: all {n_seq:.0f} sequences of the 2^{form.n_bits} activation "
                f"patterns were solved, so every isolated {period}-cycle is listed"
                if period > 1
                else f"exhaustive: all 2^{form.n_bits} activation patterns were solved, so "
                "every isolated fixed point is listed"
            )
            if res.n_singular:
                statement += f" ({res.n_singular} singular pattern systems skipped)"
        else:
            if s is None:
                s = default_states(model, seed=seed)
            res = _scyfi.scyfi(form, period, n_inits, max_iter, s, seed)
            statement = (
                f"heuristic (SCYFI): {n_inits} initial pattern sequences (from the "
                f"trajectory, random states and random patterns), up to {max_iter} "
                f"iterations each, over a space of 2^{form.n_bits * period} sequences; "
                "what is listed is exact, but orbits in "
                "subregions never reached may be missing"
            )
        coded = form.n_bits <= MAX_CODE_BITS
        orbits = [
            _make_orbit(model, o.points, form.codes(o.patterns).tolist() if coded else None)
            for o in res.orbits
        ]
        details = {
            "boundary_units": form.n_bits,
            "sequences_solved": res.n_solved,
            "singular": res.n_singular,
            "notes": res.notes,
        }
        name = "exhaustive" if res.exhaustive else "scyfi"
        return OrbitSearch(orbits, period, name, res.exhaustive, statement, details)
    if s is None:
        s = default_states(model, seed=seed)
    rng = np.random.default_rng(seed)
    pick = s[rng.integers(0, len(s), size=min(n_starts, len(s)))]
    spread = s.std(0) + 1e-12
    starts = pick + 0.5 * spread * rng.standard_normal(pick.shape)
    found = find_slow_points(model, starts, period)
    orbits = [_make_orbit(model, c.points, None, slow=not c.exact) for c in found]
    statement = (
        f"heuristic (optimisation): ½‖F^{period}(z) − z‖² minimised from {len(starts)} states "
        "near the trajectory; minima with zero speed are fixed points/cycles, small nonzero "
        "speed slow points; orbits far from the trajectory may be missing"
    )
    return OrbitSearch(orbits, period, "optimisation", False, statement, {"starts": len(starts)})


def find_fixed_points(model: DynamicalModel, **kwargs: Any) -> OrbitSearch:
    """Fixed points of ``model`` (:func:`find_orbits` with ``period=1``)."""
    return find_orbits(model, 1, **kwargs)
