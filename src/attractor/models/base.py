"""DynamicalModel: the one interface every recurrent model implements.

A model is a discrete-time map on a latent state ``z ∈ R^M`` with an identity readout of the
first ``N`` units (``x̂_t = z_{t,1:N}``, so teacher forcing can overwrite them), optionally
driven by an external input ``s ∈ R^K`` entering as ``+ C s``::

    z_t = F_θ(z_{t−1}, s_t),     x̂_t = z_{t,1:N}

The latent start state inferred from an observation is ``z = [x ; L x]`` with a learned
``L ∈ R^{(M−N)×N}`` (Glorot-uniform init). Training, metrics, analysis and the parallel
solvers only talk to this interface; a new model is one subclass plus one registry line.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from attractor.errors import ConfigError


class DynamicalModel(nn.Module, ABC):
    """Base class. Subclasses implement :meth:`step` and, where they can, :meth:`jacobian`.

    Shapes: ``z`` is ``(B, M)``, ``x`` is ``(B, N)``, ``s`` is ``(B, K)`` or ``None``.
    """

    #: registry name ("shplrnn", "alrnn", …); set by subclasses.
    kind: ClassVar[str] = ""
    #: True when the model is piecewise linear in z (exact fixed-point search applies).
    piecewise_linear: ClassVar[bool] = False

    def __init__(self, obs_dim: int, latent_dim: int, n_inputs: int = 0) -> None:
        super().__init__()
        if obs_dim < 1:
            raise ConfigError(f"the observed dimension must be at least 1, got {obs_dim}.")
        if latent_dim < obs_dim:
            raise ConfigError(
                f"latent size {latent_dim} is smaller than the observed dimension {obs_dim}; "
                f"the identity readout needs latent ≥ {obs_dim} (pass --latent {obs_dim} or more)."
            )
        if n_inputs < 0:
            raise ConfigError(f"n_inputs must be ≥ 0, got {n_inputs}.")
        self.obs_dim = int(obs_dim)
        self.latent_dim = int(latent_dim)
        self.n_inputs = int(n_inputs)
        extra = latent_dim - obs_dim
        bound = math.sqrt(6.0 / (extra + obs_dim)) if extra else 0.0
        self.L = nn.Parameter(torch.empty(extra, obs_dim).uniform_(-bound, bound))
        self.C = nn.Parameter(torch.zeros(latent_dim, n_inputs)) if n_inputs else None

    # ------------------------------------------------------------------ the contract
    @abstractmethod
    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """One step of the map: ``(B, M) → (B, M)``."""

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """``∂F/∂z`` at each state, ``(B, M, M)``; autograd unless the subclass has it analytic."""
        z = z.detach()

        def f(zz: Tensor, ss: Tensor | None) -> Tensor:
            return self.step(zz[None], None if ss is None else ss[None])[0]

        if s is None:
            return torch.func.vmap(lambda zz: torch.func.jacrev(f)(zz, None))(z)
        return torch.func.vmap(lambda zz, ss: torch.func.jacrev(f)(zz, ss))(z, s)

    def observe(self, z: Tensor) -> Tensor:
        """Readout ``x̂ = z_{1:N}``: ``(..., M) → (..., N)``."""
        return z[..., : self.obs_dim]

    def encode(self, x: Tensor) -> Tensor:
        """Latent state inferred from an observation, ``z = [x ; L x]``: ``(..., N) → (..., M)``."""
        if self.latent_dim == self.obs_dim:
            return x
        return torch.cat([x, x @ self.L.T], dim=-1)

    def norm_bound(self) -> float | None:
        """A cheap upper bound on ``‖J‖₂`` over state space, if the model has one."""
        return None

    @classmethod
    def min_latent_dim(cls, obs_dim: int, **kwargs: Any) -> int:
        """Smallest latent size this model accepts for ``obs_dim`` channels (identity readout)."""
        return obs_dim

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this model (JSON-able)."""
        return {"obs_dim": self.obs_dim, "latent_dim": self.latent_dim, "n_inputs": self.n_inputs}

    def regularization(self) -> Tensor:
        """Model-specific penalty added to the loss (scaled by the trainer's λ); 0 by default."""
        return torch.zeros((), device=self.L.device, dtype=self.L.dtype)

    # ------------------------------------------------------------------ helpers
    def input_term(self, s: Tensor | None) -> Tensor | float:
        """``C s`` when the model has external inputs, else 0."""
        if s is None or self.C is None:
            return 0.0
        return s @ self.C.T

    @torch.no_grad()
    def simulate(
        self,
        x0: Tensor | None = None,
        steps: int = 1000,
        s: Tensor | None = None,
        z0: Tensor | None = None,
        return_latent: bool = False,
    ) -> Tensor:
        """Free run from an observation ``x0`` (``(B, N)`` or ``(N,)``) or a latent ``z0``.

        Returns ``(B, steps, N)`` (or ``(B, steps, M)`` with ``return_latent``); the first point
        is the start state itself, so ``steps`` points cover ``steps − 1`` applications of F.
        ``s`` (``(B, steps, K)``), if given, drives the model.
        """
        if (x0 is None) == (z0 is None):
            raise ConfigError("pass exactly one of x0 (an observation) or z0 (a latent state).")
        z = self.encode(x0) if x0 is not None else z0
        squeeze = z.ndim == 1
        if squeeze:
            z = z[None]
        out = torch.empty(z.shape[0], steps, self.latent_dim, dtype=z.dtype, device=z.device)
        for t in range(steps):
            if t:
                z = self.step(z, None if s is None else s[:, t])
            out[:, t] = z
        out = out if return_latent else self.observe(out)
        return out[0] if squeeze else out

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def extra_repr(self) -> str:
        return f"N={self.obs_dim}, M={self.latent_dim}, params={self.n_parameters()}"


def init_diagonal_A(m: int, generator: torch.Generator | None = None) -> Tensor:
    """Diagonal init of the GTF/AL-RNN papers: ``A = diag(K)/λ_max(K)``, ``K = RᵀR/M + I``.

    ``R ~ N(0,1)^{M×M}``; the result lies in (0, 1] with its maximum equal to 1/… ≤ 1.
    """
    r = torch.randn(m, m, generator=generator, dtype=torch.float64)
    k = r.T @ r / m + torch.eye(m, dtype=torch.float64)
    lam = torch.linalg.eigvalsh(k).max()
    return (torch.diagonal(k) / lam).float()
