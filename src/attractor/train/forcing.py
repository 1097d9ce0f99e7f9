"""Teacher-forcing strategies: none, sparse (STF), generalized with fixed or adaptive α (GTF).

Every strategy reduces to a per-step forcing weight ``α_t`` for the shared forced recurrence
(:mod:`attractor.train.rollout`)::

    z̃_t = ẑ_t + α_t (x_t − ẑ_t)   on the observed units

* :class:`NoForcing` — ``α_t = 0``: free run from the encoded first point of each window.
* :class:`SparseForcing` (STF, interval τ) — ``α_t = 1`` every τ steps, else 0; the observed units
  are overwritten and the gradient through them is cut.
* :class:`GeneralizedForcing` (GTF) — ``α_t = α`` at every step; backward factors are
  ``(1−α) J_t``, so gradients stay bounded once ``α ≥ α* = max(0, 1 − 1/σ)``, σ ≈ ‖J‖₂.
  With ``alpha="adaptive"`` (aGTF) σ is re-estimated every ``every`` optimiser steps from
  Jacobians at data-inferred states and α is annealed: start at α = 1; if the estimate α_est
  exceeds α jump to it, else ``α ← γ α + (1 − γ) α_est`` (γ = ``anneal``, 0.999 in the paper).

σ estimators (REFERENCE §2), all on Jacobians ``J(ẑ_t)`` at data-inferred states
``ẑ_t = encode(x_t)`` of the current batch, shape ``(B, T)`` of spectral norms ``s_bt``:

* ``"geometric"`` (default): ``max_b exp(mean_t log s_bt)``
* ``"max"``: ``max_{b,t} s_bt``
* ``"mean"``: ``‖mean_{b,t} J_bt‖₂`` (norm of the arithmetic-mean Jacobian)
* ``"bound"``: the model's cheap analytic bound (shPLRNN: ``max|A_i| + ‖W₁‖₂‖W₂‖₂``)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from attractor.errors import ConfigError, UnknownNameError, did_you_mean
from attractor.models.base import DynamicalModel

#: Default σ estimator and re-estimation interval (optimiser steps) of adaptive GTF.
DEFAULT_ESTIMATOR = "geometric"
DEFAULT_ALPHA_EVERY = 5
#: Annealing factor γ of adaptive GTF (paper: 0.999 per estimate).
DEFAULT_ANNEAL = 0.999
ESTIMATORS = ("geometric", "max", "mean", "bound")
#: Cap on the number of states used per σ estimate (subsampled evenly in time).
MAX_ESTIMATE_STATES = 4096


def alpha_star(sigma: float) -> float:
    """Smallest α that keeps ``(1 − α) σ ≤ 1``: ``max(0, 1 − 1/σ)``."""
    if not math.isfinite(sigma):
        return 1.0
    return max(0.0, 1.0 - 1.0 / sigma) if sigma > 0 else 0.0


@torch.no_grad()
def estimate_sigma(model: DynamicalModel, x: Tensor, estimator: str = DEFAULT_ESTIMATOR) -> float:
    """Estimate ``‖J‖₂`` of ``model`` on the data windows ``x`` ``(B, T, N)``."""
    if estimator == "bound":
        bound = model.norm_bound()
        if bound is None:
            raise ConfigError(
                f"the model {model.kind!r} has no analytic norm bound; use another σ estimator "
                f"({', '.join(e for e in ESTIMATORS if e != 'bound')})."
            )
        return float(bound)
    if estimator not in ESTIMATORS:
        raise UnknownNameError(
            f"unknown σ estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}."
            + did_you_mean(estimator, ESTIMATORS)
        )
    b, t, n = x.shape
    stride = max(1, (b * t) // MAX_ESTIMATE_STATES)
    xs = x[:, ::stride] if stride > 1 else x
    b, t, n = xs.shape
    jac = model.jacobian(model.encode(xs.reshape(b * t, n)))
    if estimator == "mean":
        return float(torch.linalg.matrix_norm(jac.mean(0), ord=2))
    norms = torch.linalg.matrix_norm(jac, ord=2).reshape(b, t)
    if estimator == "max":
        return float(norms.max())
    return float(torch.exp(torch.log(norms.clamp_min(1e-12)).mean(1)).max())


@dataclass
class Forcing:
    """Base strategy: ``alphas(T)`` gives the per-step weights; ``update`` adapts them."""

    name: str = field(init=False, default="")

    def alphas(self, t_len: int) -> Tensor:
        return torch.zeros(t_len)

    def update(self, model: DynamicalModel, x: Tensor, step: int) -> None:
        """Called before every optimiser step with the batch windows ``(B, T+1, N)``."""

    @property
    def alpha(self) -> float:
        """A scalar summary for progress displays and histories."""
        return 0.0

    def state(self) -> dict[str, Any]:
        return {"forcing": self.name}


@dataclass
class NoForcing(Forcing):
    """Free running inside each window (α_t = 0)."""

    def __post_init__(self) -> None:
        self.name = "none"


@dataclass
class SparseForcing(Forcing):
    """Sparse teacher forcing: overwrite the observed units every ``interval`` steps."""

    interval: int = 16

    def __post_init__(self) -> None:
        self.name = "stf"
        if self.interval < 1:
            raise ConfigError(f"the STF interval must be at least 1 step, got {self.interval}.")

    def alphas(self, t_len: int) -> Tensor:
        a = torch.zeros(t_len)
        a[self.interval - 1 :: self.interval] = 1.0
        return a

    @property
    def alpha(self) -> float:
        return 1.0 / self.interval

    def state(self) -> dict[str, Any]:
        return {"forcing": self.name, "interval": self.interval}


@dataclass
class GeneralizedForcing(Forcing):
    """GTF with a fixed α, or adaptive α (``adaptive=True``) from a σ estimator."""

    alpha0: float = 1.0
    adaptive: bool = True
    estimator: str = DEFAULT_ESTIMATOR
    every: int = DEFAULT_ALPHA_EVERY
    anneal: float = DEFAULT_ANNEAL
    last_sigma: float = float("nan")
    last_estimate: float = float("nan")

    def __post_init__(self) -> None:
        self.name = "gtf"
        if not 0.0 <= self.alpha0 <= 1.0:
            raise ConfigError(f"α must lie in [0, 1], got {self.alpha0}.")
        if self.estimator not in ESTIMATORS:
            raise UnknownNameError(
                f"unknown σ estimator {self.estimator!r}; choose one of {', '.join(ESTIMATORS)}."
                + did_you_mean(self.estimator, ESTIMATORS)
            )
        if self.every < 1:
            raise ConfigError(f"the α update interval must be ≥ 1 step, got {self.every}.")
        if not 0.0 <= self.anneal < 1.0:
            raise ConfigError(f"the annealing factor must lie in [0, 1), got {self.anneal}.")
        self._alpha = float(self.alpha0)

    def alphas(self, t_len: int) -> Tensor:
        return torch.full((t_len,), self._alpha)

    def update(self, model: DynamicalModel, x: Tensor, step: int) -> None:
        if not self.adaptive or step % self.every:
            return
        sigma = estimate_sigma(model, x, self.estimator)
        est = alpha_star(sigma)
        self.last_sigma, self.last_estimate = sigma, est
        if est > self._alpha:
            self._alpha = est
        else:
            self._alpha = self.anneal * self._alpha + (1.0 - self.anneal) * est

    @property
    def alpha(self) -> float:
        return self._alpha

    def set_alpha(self, value: float) -> None:
        self._alpha = float(value)

    def state(self) -> dict[str, Any]:
        return {
            "forcing": "agtf" if self.adaptive else "gtf",
            "alpha": self._alpha,
            "estimator": self.estimator if self.adaptive else None,
            "sigma": self.last_sigma,
            "alpha_estimate": self.last_estimate,
        }


FORCINGS = ("agtf", "gtf", "stf", "none")


def make_forcing(
    name: str,
    alpha: float | None = None,
    interval: int | None = None,
    estimator: str = DEFAULT_ESTIMATOR,
    anneal: float = DEFAULT_ANNEAL,
    every: int = DEFAULT_ALPHA_EVERY,
) -> Forcing:
    """Build a strategy from its name: ``agtf`` (adaptive GTF), ``gtf`` (fixed α, needs
    ``alpha``), ``stf`` (sparse, ``interval`` τ) or ``none``."""
    key = name.lower()
    if key == "agtf" or (key == "gtf" and alpha is None):
        start = 1.0 if alpha is None else alpha
        return GeneralizedForcing(start, True, estimator, every, anneal)
    if key == "gtf":
        return GeneralizedForcing(float(alpha), False, estimator, every, anneal)
    if key == "stf":
        return SparseForcing(16 if interval is None else int(interval))
    if key == "none":
        return NoForcing()
    raise UnknownNameError(
        f"unknown forcing {name!r}; choose one of {', '.join(FORCINGS)}."
        + did_you_mean(name, FORCINGS)
    )
