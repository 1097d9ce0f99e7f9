"""The true system behind a run: equilibria and Lyapunov spectrum of a dysts ODE ``ẋ = f(x)``.

* :func:`true_equilibria` — roots of ``f`` by ``scipy.optimize.root`` (MINPACK ``hybr``) from
  points of a trajectory on the attractor, its mean and the origin; de-duplicated; each with the
  eigenvalues of ``Df`` and its stability type. For Lorenz-63 (σ, ρ, β) these are (0, 0, 0) — a
  saddle — and (±√(β(ρ−1)), ±√(β(ρ−1)), ρ−1) — two saddle-foci. Uses dysts' analytic Jacobian
  where the system has one, central differences otherwise (said in the result).
* :func:`true_spectrum` — the QR spectrum of the flow (variational equation, RK4) from
  :func:`attractor.metrics.lyapunov.lyapunov_spectrum_flow`, for systems with an analytic
  Jacobian; the time step is ``period / FLOW_POINTS_PER_PERIOD``. It takes ~10 s for Lorenz,
  so results are kept in memory and on disk (``$ATTRACTOR_CACHE/analysis``, default
  ``~/.cache/attractor/analysis``; JSON named by system, settings and dysts version).

Only autonomous ODEs qualify (not delay or driven systems); otherwise the functions raise
ConfigError. Uses dysts' own parameters (e.g. its Lorenz β is 2.667, not 8/3).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from attractor.analysis.lyapunov import SpectrumReport, report_from_result
from attractor.analysis.stability import Stability, classify_flow, complex_pairs
from attractor.data.systems import load_system, system_info
from attractor.errors import ConfigError
from attractor.io import write_json

#: RK4 steps per dominant period for the true spectrum, and its length in periods.
FLOW_POINTS_PER_PERIOD = 200
SPECTRUM_PERIODS = 200
TRANSIENT_PERIODS = 10
#: Root-finding starts taken from the attractor, and the tolerance for a root.
N_ROOT_STARTS = 200
ROOT_TOL = 1e-8


@dataclass
class Equilibrium:
    """An equilibrium ``x*`` ``(D,)`` of the true flow with the eigenvalues ``(D,)`` of ``Df``."""

    point: np.ndarray
    eigenvalues: np.ndarray
    stability: Stability

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.point.tolist(),
            **self.stability.to_dict(),
            "eigenvalues": complex_pairs(self.eigenvalues),
        }


def _flow(name: str) -> tuple[Any, bool]:
    """The dysts system object of ``name`` and whether it has an analytic Jacobian."""
    info = system_info(name)
    if info.delay or info.nonautonomous:
        raise ConfigError(
            f"{info.name} is a {'delay' if info.delay else 'driven'} system; equilibria and "
            "spectra of the true system are computed only for autonomous ODEs."
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Numba not installed")
        import dysts.flows

    cls = getattr(dysts.flows, info.name)
    analytic = any("_jac" in vars(c) for c in cls.__mro__ if c.__module__ == cls.__module__)
    return cls(), analytic


def _rhs(system: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(system.rhs(x, 0.0), dtype=np.float64).reshape(-1)


def _jac(system: Any, analytic: bool, x: np.ndarray) -> np.ndarray:
    if analytic:
        return np.asarray(system.jac(x, 0.0), dtype=np.float64).reshape(x.size, x.size)
    eps = 1e-6 * np.maximum(np.abs(x), 1.0)
    cols = [
        (_rhs(system, x + e) - _rhs(system, x - e)) / (2 * e[i]) for i, e in enumerate(np.diag(eps))
    ]
    return np.stack(cols, axis=1)


@lru_cache(maxsize=16)
def _equilibria(name: str, n_starts: int) -> tuple[tuple[Equilibrium, ...], bool]:
    from scipy.optimize import root

    system, analytic = _flow(name)
    traj = load_system(name, n=2000, seed=0).trials[0]
    starts = np.vstack(
        [traj[:: max(1, len(traj) // n_starts)], traj.mean(0), np.zeros(traj.shape[1])]
    )
    scale = float(np.abs(traj).max()) + 1.0
    found: list[Equilibrium] = []
    for x0 in starts:
        with np.errstate(all="ignore"):
            sol = root(
                lambda x: _rhs(system, x),
                x0,
                jac=(lambda x: _jac(system, analytic, x)) if analytic else None,
                method="hybr",
            )
        x = sol.x
        if not (np.isfinite(x).all() and np.abs(_rhs(system, x)).max() <= ROOT_TOL * scale):
            continue
        if np.abs(x).max() > 100 * scale:  # far off the attractor: not part of its skeleton
            continue
        if any(np.abs(e.point - x).max() <= 1e-6 * scale for e in found):
            continue
        eig = np.linalg.eigvals(_jac(system, analytic, x))
        found.append(Equilibrium(x, eig, classify_flow(eig)))
    found.sort(key=lambda e: tuple(e.point))
    return tuple(found), analytic


def true_equilibria(name: str, n_starts: int = N_ROOT_STARTS) -> tuple[list[Equilibrium], str]:
    """Equilibria of dysts system ``name`` near its attractor, and how ``Df`` was obtained."""
    eq, analytic = _equilibria(system_info(name).name, int(n_starts))
    return list(eq), "analytic Jacobian (dysts)" if analytic else "central differences"


def has_true_spectrum(name: str) -> bool:
    """Whether :func:`true_spectrum` can run for ``name`` (autonomous ODE, analytic Jacobian)."""
    try:
        return _flow(name)[1]
    except ConfigError:
        return False


def _cache_file(name: str, periods: float, points_per_period: int) -> Path:
    from importlib.metadata import version

    root = os.environ.get("ATTRACTOR_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "attractor"
    tag = f"{name}-{periods:g}p-{points_per_period}pp-dysts{version('dysts')}-v1"
    return base / "analysis" / f"true_spectrum-{tag}.json"


@lru_cache(maxsize=16)
def _spectrum(name: str, periods: float, points_per_period: int) -> SpectrumReport:
    from attractor.metrics.lyapunov import lyapunov_spectrum_flow

    system, analytic = _flow(name)
    if not analytic:
        raise ConfigError(
            f"dysts has no analytic Jacobian for {name}, so the true Lyapunov spectrum is not "
            "computed; compare with dysts' stored estimate instead."
        )
    cache = _cache_file(name, periods, points_per_period)
    try:
        return SpectrumReport.from_dict(json.loads(cache.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or unreadable: compute it
    info = system_info(name)
    dt = info.period / points_per_period
    x0 = load_system(name, n=10, seed=0).trials[0][0]
    res = lyapunov_spectrum_flow(
        lambda x: _rhs(system, x),
        lambda x: _jac(system, True, x),
        x0,
        dt=dt,
        n_steps=max(int(periods * points_per_period), 10),
        n_transient=TRANSIENT_PERIODS * points_per_period,
    )
    rep = report_from_result(res)
    try:
        write_json(cache, rep.to_dict(history=True))
    except OSError as exc:
        warnings.warn(f"could not write the analysis cache {cache} ({exc}).", stacklevel=2)
    return rep


def true_spectrum(
    name: str,
    periods: float | None = None,
    points_per_period: int | None = None,
) -> SpectrumReport:
    """Lyapunov spectrum (per unit time) of the dysts flow ``name`` by the QR method, over
    ``periods`` dominant periods (default :data:`SPECTRUM_PERIODS`) at ``points_per_period``
    RK4 steps per period (default :data:`FLOW_POINTS_PER_PERIOD`)."""
    periods = SPECTRUM_PERIODS if periods is None else periods
    ppp = FLOW_POINTS_PER_PERIOD if points_per_period is None else points_per_period
    return _spectrum(system_info(name).name, float(periods), int(ppp))
