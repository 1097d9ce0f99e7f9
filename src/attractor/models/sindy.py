"""SINDy through ``pysindy``: a sparse polynomial vector field, integrated as a discrete map.

``fit_direct`` fits ``ẋ = Ξ θ(x)`` with pysindy (``PolynomialLibrary`` of degree ``degree``,
sequentially thresholded least squares ``STLSQ`` with ``threshold``; derivatives by pysindy's
finite differences) on the training trajectories. The time unit is ``steps_per_unit`` samples
(default 100 = one dominant period at dysts' sampling), so the threshold means the same thing on
every system whatever its own ``dt``. The learnt field then defines the map

    x_{t+1} = RK4(f, x_t, h),   f(x) = Ξ θ(x),   θ(x)_k = Π_i x_i^{P_ki},   h = 1/steps_per_unit

evaluated in torch from pysindy's coefficients ``Ξ`` ``(N, K)`` and the library's exponent
matrix ``P`` ``(K, N)``, so SINDy is a :class:`DynamicalModel` like any other (latent = observed,
Jacobian by autograd). pysindy does the fitting; only the ~10-line RK4 step is ours, because
pysindy's own ``simulate`` integrates one trajectory with scipy and cannot run a batch of free
runs in lock-step as the metrics need.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from attractor.errors import ConfigError, DataError
from attractor.models.base import DirectFit

DEGREE = 2
THRESHOLD = 0.1
STEPS_PER_UNIT = 100
#: Free-run states are clipped to this magnitude (z-scored units) so a diverging model gives
#: large, finite numbers that the metrics flag, rather than overflow warnings.
CLIP = 1e6


class SINDy(DirectFit):
    """Polynomial SINDy model fitted by pysindy (module docstring)."""

    kind = "sindy"

    def __init__(
        self,
        obs_dim: int,
        latent_dim: int | None = None,
        degree: int = DEGREE,
        threshold: float = THRESHOLD,
        steps_per_unit: int = STEPS_PER_UNIT,
        n_inputs: int = 0,
    ) -> None:
        super().__init__(obs_dim, obs_dim, n_inputs)
        if degree < 1 or threshold < 0 or steps_per_unit < 1:
            raise ConfigError(
                f"SINDy needs degree ≥ 1, threshold ≥ 0 and steps_per_unit ≥ 1; got {degree}, "
                f"{threshold}, {steps_per_unit}."
            )
        self.degree = int(degree)
        self.threshold = float(threshold)
        self.steps_per_unit = int(steps_per_unit)
        powers = _polynomial_powers(obs_dim, self.degree)
        self.register_buffer("powers", torch.as_tensor(powers, dtype=torch.float32))
        self.register_buffer("xi", torch.zeros(obs_dim, len(powers)))

    def library(self, x: Tensor) -> Tensor:
        """``θ(x)``: ``(B, N) → (B, K)`` monomials ``Π_i x_i^{P_ki}``."""
        return torch.prod(x[:, None, :] ** self.powers.to(x), dim=-1)

    def field(self, x: Tensor) -> Tensor:
        """``f(x) = Ξ θ(x)``: ``(B, N) → (B, N)``."""
        return self.library(x) @ self.xi.to(x).T

    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        h = 1.0 / self.steps_per_unit
        k1 = self.field(z)
        k2 = self.field(z + 0.5 * h * k1)
        k3 = self.field(z + 0.5 * h * k2)
        k4 = self.field(z + h * k3)
        out = z + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        return torch.nan_to_num(out, nan=CLIP, posinf=CLIP, neginf=-CLIP).clamp(-CLIP, CLIP)

    def fit_direct(self, trials: Sequence[np.ndarray]) -> None:
        """Fit ``Ξ`` with pysindy on trajectories ``(T_k, N)`` sampled every ``h``."""
        import pysindy as ps

        xs = [np.asarray(v, dtype=np.float64) for v in trials if len(v) > 5]
        if not xs or any(v.ndim != 2 or v.shape[1] != self.obs_dim for v in xs):
            raise DataError(
                f"SINDy needs trajectories of shape (T > 5, {self.obs_dim}); got "
                f"{[np.shape(v) for v in trials]}."
            )
        model = ps.SINDy(
            optimizer=ps.STLSQ(threshold=self.threshold),
            feature_library=ps.PolynomialLibrary(degree=self.degree),
        )
        model.fit(xs, t=1.0 / self.steps_per_unit)
        lib_powers = np.asarray(model.feature_library.powers_)
        if not np.array_equal(lib_powers, self.powers.cpu().numpy()):
            raise ConfigError("pysindy's polynomial library has an unexpected term order.")
        coef = np.nan_to_num(np.asarray(model.coefficients(), dtype=np.float64))
        self.xi.copy_(torch.as_tensor(coef, dtype=self.xi.dtype))

    def equations(self, names: Sequence[str] | None = None) -> list[str]:
        """The fitted field as text, one equation per channel (non-zero terms only)."""
        names = list(names or [f"x{i}" for i in range(self.obs_dim)])
        terms = []
        for row in self.powers.long().tolist():
            mono = " ".join(
                n if p == 1 else f"{n}^{p}" for n, p in zip(names, row, strict=True) if p
            )
            terms.append(mono or "1")
        out = []
        for i, n in enumerate(names):
            parts = [
                f"{c:+.3g} {t}" for c, t in zip(self.xi[i].tolist(), terms, strict=True) if c != 0
            ]
            out.append(f"{n}' = " + (" ".join(parts) if parts else "0"))
        return out

    def config(self) -> dict[str, Any]:
        return {
            "obs_dim": self.obs_dim,
            "degree": self.degree,
            "threshold": self.threshold,
            "steps_per_unit": self.steps_per_unit,
            "n_inputs": self.n_inputs,
        }


def _polynomial_powers(n: int, degree: int) -> np.ndarray:
    """Exponents ``(K, N)`` of all monomials of degree ≤ ``degree`` in the order of sklearn's
    (and so pysindy's) ``PolynomialFeatures``: by degree, then lexicographically."""
    from sklearn.preprocessing import PolynomialFeatures

    return PolynomialFeatures(degree=degree).fit(np.zeros((1, n))).powers_
