"""Piecewise-linear RNNs: PLRNN and the shallow PLRNN (plain and clipped).

PLRNN::

    z_t = A ⊙ z_{t−1} + W ReLU(z_{t−1}) + h (+ C s_t),        diag(W) = 0
    J   = diag(A) + W diag(1[z > 0])

Shallow PLRNN (the generalized-teacher-forcing paper's model), hidden width L ≫ M::

    z_t = A ⊙ z_{t−1} + W₁ φ(W₂ z_{t−1} + h₂) + h₁ (+ C s_t)
    plain:   φ(W₂z + h₂) = ReLU(W₂z + h₂)
    clipped: φ = ReLU(W₂z + h₂) − ReLU(W₂z)   (bounded, so orbits stay bounded if max|A_i| < 1)
    J = diag(A) + W₁ diag(d) W₂,  d = 1[W₂z + h₂ > 0] (− 1[W₂z > 0] when clipped)

Initialisation as in REFERENCE §1: A from the normalised ``RᵀR/M + I`` diagonal,
W₁ ~ U(±1/√L), W₂ ~ U(±1/√M), h₁ = 0, h₂ ~ U(±1/√L) (clipped) or 0 (plain).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from attractor.errors import ConfigError
from attractor.models.base import PiecewiseLinear, init_diagonal_A
from attractor.models.piecewise import PiecewiseLinearForm, float64_array


class PLRNN(PiecewiseLinear):
    """Vanilla piecewise-linear RNN ``z' = A⊙z + W ReLU(z) + h`` with zero diagonal in W."""

    kind = "plrnn"

    def __init__(self, obs_dim: int, latent_dim: int = 10, n_inputs: int = 0) -> None:
        super().__init__(obs_dim, latent_dim, n_inputs)
        m = latent_dim
        self.A = nn.Parameter(init_diagonal_A(m))
        self.W = nn.Parameter(torch.randn(m, m) * 0.01)
        self.h = nn.Parameter(torch.zeros(m))
        self.register_buffer("offdiag", 1.0 - torch.eye(m))

    def weight(self) -> Tensor:
        """W with its diagonal held at zero."""
        return self.W * self.offdiag

    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        out = torch.addmm(torch.addcmul(self.h, self.A, z), torch.relu(z), self.weight().T)
        return out if s is None else out + self.input_term(s)

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        d = (z > 0).to(z.dtype)
        return torch.diag_embed(self.A.expand_as(z)) + self.weight()[None] * d[:, None, :]

    def norm_bound(self) -> float:
        return float(self.A.abs().max() + torch.linalg.matrix_norm(self.weight(), ord=2))

    def regularization(self) -> Tensor:
        return ((self.A - 1) ** 2).sum() + (self.weight() ** 2).sum() + (self.h**2).sum()

    def piecewise_form(self) -> PiecewiseLinearForm:
        """``B = diag(A)``, ``b = h``, ``V = W``, ``u = z`` (``G = I``, ``g = 0``)."""
        m = self.latent_dim
        return PiecewiseLinearForm(
            B=np.diag(float64_array(self.A)),
            b=float64_array(self.h),
            V=float64_array(self.weight()),
            G=np.eye(m),
            g=np.zeros(m),
            kind=self.kind,
            unit_labels=tuple(f"z{i + 1}" for i in range(m)),
        )


class ShallowPLRNN(PiecewiseLinear):
    """Shallow PLRNN ``z' = A⊙z + W₁ φ(W₂z + h₂) + h₁``; ``clipped=True`` bounds φ."""

    kind = "shplrnn"

    def __init__(
        self,
        obs_dim: int,
        latent_dim: int = 3,
        hidden_dim: int = 50,
        clipped: bool = True,
        n_inputs: int = 0,
    ) -> None:
        super().__init__(obs_dim, latent_dim, n_inputs)
        if hidden_dim < 1:
            raise ConfigError(f"the hidden width must be at least 1, got {hidden_dim}.")
        m, l_ = latent_dim, hidden_dim
        self.hidden_dim = int(hidden_dim)
        self.clipped = bool(clipped)
        self.A = nn.Parameter(init_diagonal_A(m))
        self.W1 = nn.Parameter(torch.empty(m, l_).uniform_(-1 / math.sqrt(l_), 1 / math.sqrt(l_)))
        self.W2 = nn.Parameter(torch.empty(l_, m).uniform_(-1 / math.sqrt(m), 1 / math.sqrt(m)))
        self.h1 = nn.Parameter(torch.zeros(m))
        h2 = torch.empty(l_).uniform_(-1 / math.sqrt(l_), 1 / math.sqrt(l_)) if clipped else None
        self.h2 = nn.Parameter(h2 if h2 is not None else torch.zeros(l_))

    def hidden(self, z: Tensor) -> Tensor:
        """φ(W₂z + h₂), ``(..., L)``."""
        u = z @ self.W2.T
        if self.clipped:
            return torch.relu(u + self.h2) - torch.relu(u)
        return torch.relu(u + self.h2)

    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        # A ⊙ z + h₁ + φ(W₂z + h₂) W₁ᵀ, written with fused addcmul/addmm (the per-step cost of
        # a small model is Python/dispatch overhead, so fewer calls is faster)
        out = torch.addmm(torch.addcmul(self.h1, self.A, z), self.hidden(z), self.W1.T)
        return out if s is None else out + self.input_term(s)

    def pattern(self, z: Tensor) -> Tensor:
        """The slope of φ at z, ``(B, L)``: 1[W₂z+h₂>0] (− 1[W₂z>0] when clipped)."""
        u = z @ self.W2.T
        d = (u + self.h2 > 0).to(z.dtype)
        if self.clipped:
            d = d - (u > 0).to(z.dtype)
        return d

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        # J = diag(A) + Σ_l d_l (W₁[:, l] ⊗ W₂[l, :]): one (B, L) @ (L, M²) product when M is
        # small (the common case); for large M the (B, M, L) @ (L, M) form needs less memory.
        m = self.latent_dim
        if m > 32:
            d = self.pattern(z)
            return torch.diag_embed(self.A.expand_as(z)) + (self.W1[None] * d[:, None, :]) @ self.W2
        outer = (self.W1.T[:, :, None] * self.W2[:, None, :]).reshape(self.hidden_dim, m * m)
        jac = (self.pattern(z) @ outer).reshape(-1, m, m)
        return jac + torch.diag_embed(self.A.expand(jac.shape[0], m))

    def norm_bound(self) -> float:
        w1 = torch.linalg.matrix_norm(self.W1, ord=2)
        w2 = torch.linalg.matrix_norm(self.W2, ord=2)
        return float(self.A.abs().max() + w1 * w2)

    def regularization(self) -> Tensor:
        return (
            ((self.A - 1) ** 2).sum()
            + (self.W1**2).sum()
            + (self.W2**2).sum()
            + (self.h1**2).sum()
            + (self.h2**2).sum()
        )

    def piecewise_form(self) -> PiecewiseLinearForm:
        """``B = diag(A)``, ``b = h₁``; plain: ``u = W₂z + h₂``, ``V = W₁``; clipped:
        ``u = [W₂z + h₂ ; W₂z]`` (K = 2L), ``V = [W₁, −W₁]``."""
        w1, w2, h2 = float64_array(self.W1), float64_array(self.W2), float64_array(self.h2)
        labels = tuple(f"h{i + 1}" for i in range(self.hidden_dim))
        if self.clipped:
            v, g_mat, g = np.hstack([w1, -w1]), np.vstack([w2, w2]), np.concatenate([h2, 0 * h2])
            labels = labels + tuple(f"h{i + 1}−h₂" for i in range(self.hidden_dim))
        else:
            v, g_mat, g = w1, w2, h2
        return PiecewiseLinearForm(
            B=np.diag(float64_array(self.A)),
            b=float64_array(self.h1),
            V=v,
            G=g_mat,
            g=g,
            kind="shplrnn" if self.clipped else "shplrnn-plain",
            unit_labels=labels,
        )

    def config(self) -> dict[str, Any]:
        return {**super().config(), "hidden_dim": self.hidden_dim, "clipped": self.clipped}
