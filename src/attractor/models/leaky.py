"""Leaky RNN with one learnable timescale τ_i ≥ 1 per neuron (memory tasks, REFERENCE §1/§4).

Nonlinearity outside (default)::

    h_t = φ((1 − 1/τ) ⊙ h_{t−1} + (W h_{t−1} + W_in x_t + b) / τ)
        = φ(M h_{t−1} + (W_in x_t + b) / τ),      M = diag(1 − 1/τ) + diag(1/τ) W

Nonlinearity inside::

    h_t = (1 − 1/τ) ⊙ h_{t−1} + φ(W h_{t−1} + W_in x_t + b) / τ

φ = LeakyReLU(0.01); diag(W) = 0, so a neuron's own memory comes only from τ; τ ≥ 1 (τ = 1 is a
memoryless neuron). Initial τ = 1 + U(0, 1). The external input is the base class's ``C``
(``W_in``, ``(M, K)``, initialised U(±1/√K)); W ~ N(0, 1/M).

Shapes: state ``h`` ``(B, M)``, input ``x`` ``(B, K)``; :meth:`run` takes a whole input sequence
``(B, T, K)`` and does one ``addmm`` per step (input projections are precomputed for all t).
Both constraints are enforced twice: in the forward pass (``W ⊙ (1 − I)``, ``τ.clamp(min=1)``)
and on the raw parameters by :meth:`constrain`, which trainers call after each optimiser step.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from attractor.errors import ConfigError, UnknownNameError
from attractor.models.base import DynamicalModel
from attractor.models.leaky_scan import leaky_scan

NONLINEARITY_PLACEMENTS = ("outside", "inside")
#: Slope of φ = LeakyReLU for negative arguments.
NEGATIVE_SLOPE = 0.01
#: The published network size.
DEFAULT_UNITS = 500


class LeakyRNN(DynamicalModel):
    """Leaky RNN ``h' = φ((1−1/τ)⊙h + (W h + W_in x + b)/τ)`` with learnable τ ≥ 1."""

    kind = "leaky"

    def __init__(
        self,
        obs_dim: int = 1,
        latent_dim: int = DEFAULT_UNITS,
        n_inputs: int = 1,
        nonlinearity: str = "outside",
        negative_slope: float = NEGATIVE_SLOPE,
    ) -> None:
        if latent_dim < 1:
            raise ConfigError(f"the number of units must be at least 1, got {latent_dim}.")
        super().__init__(obs_dim, latent_dim, n_inputs)
        if nonlinearity not in NONLINEARITY_PLACEMENTS:
            raise UnknownNameError(
                f"unknown nonlinearity placement {nonlinearity!r}; use 'outside' or 'inside'."
            )
        m = latent_dim
        self.nonlinearity = nonlinearity
        self.negative_slope = float(negative_slope)
        self.W = nn.Parameter(torch.randn(m, m) / math.sqrt(m))
        self.b = nn.Parameter(torch.zeros(m))
        self.tau = nn.Parameter(1.0 + torch.rand(m))
        if self.C is not None:
            with torch.no_grad():
                self.C.uniform_(-1 / math.sqrt(n_inputs), 1 / math.sqrt(n_inputs))
        self.register_buffer("offdiag", 1.0 - torch.eye(m))
        with torch.no_grad():
            self.W.mul_(self.offdiag)

    # ------------------------------------------------------------------ parameters
    def weight(self) -> Tensor:
        """W with its diagonal held at zero, ``(M, M)``."""
        return self.W * self.offdiag

    def timescales(self) -> Tensor:
        """τ clamped to ≥ 1, ``(M,)``."""
        return self.tau.clamp(min=1.0)

    @torch.no_grad()
    def constrain(self) -> None:
        """Project the raw parameters: τ ← max(τ, 1), diag(W) ← 0."""
        self.tau.clamp_(min=1.0)
        self.W.mul_(self.offdiag)

    def phi(self, u: Tensor) -> Tensor:
        return torch.nn.functional.leaky_relu(u, self.negative_slope)

    def _drive(self, s: Tensor | None, like: Tensor) -> Tensor:
        """``W_in s + b`` for inputs ``(..., K)`` (just ``b`` without input)."""
        if s is None or self.C is None:
            return self.b.expand_as(like)
        return torch.addmm(self.b, s.reshape(-1, s.shape[-1]), self.C.T).reshape(*s.shape[:-1], -1)

    # ------------------------------------------------------------------ the contract
    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        inv = 1.0 / self.timescales()
        u = self._drive(s, z)
        if self.nonlinearity == "outside":
            return self.phi((1 - inv) * z + (z @ self.weight().T + u) * inv)
        return (1 - inv) * z + self.phi(z @ self.weight().T + u) * inv

    def run(self, s: Tensor, z0: Tensor | None = None) -> Tensor:
        """All states for an input sequence: ``s`` ``(B, T, K)`` → ``(B, T, M)`` (h_1 … h_T).

        Starts from ``z0`` (default zeros); one matrix product per step. Outside: the fused
        loop with hand-written BPTT (:mod:`attractor.models.leaky_scan`), whose products run in
        bfloat16 inside a ``torch.autocast(dtype=torch.bfloat16)`` region (mixed precision).
        """
        if self.nonlinearity == "outside":
            return self._scan(s, z0, final=False).transpose(0, 1)
        b, t = s.shape[:2]
        inv = 1.0 / self.timescales()
        w = self.weight()
        u = self._drive(s, s.new_zeros(b, t, self.latent_dim))  # (B, T, M)
        h = s.new_zeros(b, self.latent_dim) if z0 is None else z0
        a = 1 - inv
        out = []
        for k in range(t):
            h = torch.addcmul(a * h, self.phi(torch.addmm(u[:, k], h, w.T)), inv)
            out.append(h)
        return torch.stack(out, dim=1)

    def final_state(self, s: Tensor, z0: Tensor | None = None) -> Tensor:
        """``h_T`` ``(B, M)``; outside, the fused loop back-propagates from it alone."""
        if self.nonlinearity == "outside":
            return self._scan(s, z0, final=True)
        return self.run(s, z0)[:, -1]

    def _scan(self, s: Tensor, z0: Tensor | None, final: bool) -> Tensor:
        """:func:`leaky_scan` with ``M = diag(1 − 1/τ) + diag(1/τ) W``, ``W_in/τ``, ``b/τ``."""
        b, t = s.shape[:2]
        inv = 1.0 / self.timescales()
        eye = torch.eye(self.latent_dim, device=s.device, dtype=s.dtype)
        m = (1 - inv)[:, None] * eye + inv[:, None] * self.weight()
        if self.C is None:
            x, w_in = s.new_zeros(t, b, 1), s.new_zeros(self.latent_dim, 1)
        else:
            x, w_in = s.transpose(0, 1), self.C * inv[:, None]
        return leaky_scan(x, m, w_in, self.b * inv, z0, self.negative_slope, final=final)

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """Analytic ``∂h'/∂h``, ``(B, M, M)``.

        outside: ``diag(φ'(pre)) (diag(1 − 1/τ) + diag(1/τ) W)``;
        inside: ``diag(1 − 1/τ) + diag(φ'(W h + W_in x + b)/τ) W``.
        """
        inv = 1.0 / self.timescales()
        w = self.weight()
        u = self._drive(s, z)
        eye = torch.eye(self.latent_dim, dtype=z.dtype, device=z.device)
        slope = self.negative_slope
        if self.nonlinearity == "outside":
            pre = (1 - inv) * z + (z @ w.T + u) * inv
            d = torch.where(pre > 0, 1.0, slope)
            m = (1 - inv)[:, None] * eye + inv[:, None] * w
            return d[:, :, None] * m[None]
        v = z @ w.T + u
        d = torch.where(v > 0, 1.0, slope) * inv
        return torch.diag_embed((1 - inv).expand_as(z)) + d[:, :, None] * w[None]

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "nonlinearity": self.nonlinearity,
            "negative_slope": self.negative_slope,
        }

    def regularization(self) -> Tensor:
        return (self.weight() ** 2).sum()
