"""Linear stability of fixed points and cycles: of maps (multipliers) and of flows (eigenvalues).

For a map, a fixed point (or a k-cycle, through the Jacobian product ``J_k ⋯ J_1`` of one
period) has multipliers ``μ_i``; direction ``i`` is unstable if ``|μ_i| > 1``, stable if
``|μ_i| < 1`` and neutral within ``tol``. For a flow ``ẋ = f(x)`` the same holds for the
eigenvalues ``ν_i`` of ``Df`` with ``Re ν_i`` against 0. A map obtained by sampling a flow at
step Δt has ``μ = exp(ν Δt)``, so :func:`flow_equivalent` (``ν = log μ / Δt``, principal branch)
puts a model's multipliers next to the true system's eigenvalues.

Types (the names used for Lorenz-63: a *saddle* at the origin and two *saddle-foci*):

* all directions stable: ``stable node`` — or ``stable focus`` when the leading (slowest)
  direction is a complex pair;
* all directions unstable: ``unstable node`` / ``unstable focus`` likewise;
* both: ``saddle`` — or ``saddle-focus`` when the unstable directions contain a complex pair or
  the leading stable direction is complex;
* any neutral direction: ``non-hyperbolic``.

A real negative multiplier (a flip) has no flow counterpart; ``flip`` says whether one is
among the unstable or leading directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Multipliers within this distance of the unit circle (eigenvalues of this real part) are neutral.
NEUTRAL_TOL = 1e-6
#: Imaginary parts below this (relative to the modulus) count as real.
COMPLEX_TOL = 1e-9


@dataclass(frozen=True)
class Stability:
    """Linear stability of an invariant set from its multipliers or eigenvalues."""

    type: str
    n_unstable: int
    n_stable: int
    n_neutral: int
    spectral_radius: float
    flip: bool

    @property
    def stable(self) -> bool:
        return self.n_unstable == 0 and self.n_neutral == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "stable": self.stable,
            "unstable_dimension": self.n_unstable,
            "stable_dimension": self.n_stable,
            "neutral_dimension": self.n_neutral,
            "spectral_radius": self.spectral_radius,
            "flip": self.flip,
        }


def _is_complex(v: np.ndarray) -> np.ndarray:
    return np.abs(v.imag) > COMPLEX_TOL * np.maximum(np.abs(v), 1e-300)


def _classify(values: np.ndarray, growth: np.ndarray, tol: float, flips: np.ndarray) -> Stability:
    """Common rule: ``growth`` > tol unstable, < −tol stable (log-modulus or real part)."""
    unstable = growth > tol
    stable = growth < -tol
    neutral = ~(unstable | stable)
    n_u, n_s, n_n = int(unstable.sum()), int(stable.sum()), int(neutral.sum())
    complex_ = _is_complex(values)
    lead_stable = np.flatnonzero(stable)
    lead_stable = lead_stable[np.argmax(growth[lead_stable])] if lead_stable.size else None
    lead_complex = lead_stable is not None and bool(complex_[lead_stable])
    if n_n:
        kind = "non-hyperbolic"
    elif n_u == 0:
        kind = "stable focus" if lead_complex else "stable node"
    elif n_s == 0:
        top = int(np.argmax(growth))
        kind = "unstable focus" if complex_[top] else "unstable node"
    else:
        kind = "saddle-focus" if complex_[unstable].any() or lead_complex else "saddle"
    leading = unstable.copy()
    if lead_stable is not None:
        leading[lead_stable] = True
    radius = float(np.abs(values).max()) if values.size else 0.0
    return Stability(kind, n_u, n_s, n_n, radius, bool((flips & leading).any()))


def classify_map(multipliers: Any, tol: float = NEUTRAL_TOL) -> Stability:
    """Stability of a fixed point or cycle of a map from its multipliers ``(M,)`` (complex)."""
    mu = np.asarray(multipliers, dtype=np.complex128).ravel()
    with np.errstate(divide="ignore"):
        growth = np.log(np.abs(mu))
    flips = (~_is_complex(mu)) & (mu.real < 0)
    return _classify(mu, growth, tol, flips)


def classify_flow(eigenvalues: Any, tol: float = NEUTRAL_TOL) -> Stability:
    """Stability of an equilibrium of a flow from the eigenvalues ``(M,)`` of ``Df``."""
    nu = np.asarray(eigenvalues, dtype=np.complex128).ravel()
    return _classify(nu, nu.real, tol, np.zeros(nu.shape, dtype=bool))


def flow_equivalent(multipliers: Any, dt: float) -> np.ndarray:
    """``ν = log μ / Δt`` (principal branch): the flow eigenvalues a sampled map stands for."""
    mu = np.asarray(multipliers, dtype=np.complex128)
    with np.errstate(divide="ignore"):
        return np.log(mu) / float(dt)


def complex_pairs(values: Any) -> list[list[float]]:
    """Complex numbers as JSON-able ``[re, im]`` pairs."""
    v = np.asarray(values, dtype=np.complex128).ravel()
    return [[float(x.real), float(x.imag)] for x in v]
