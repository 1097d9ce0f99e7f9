"""Almost-linear RNN (AL-RNN): M units of which only the last P pass through a ReLU.

::

    z_t = A ⊙ z_{t−1} + W Φ*(z_{t−1}) + h (+ C s_t)
    Φ*(z) = [z_1 … z_{M−P}, ReLU(z_{M−P+1}) … ReLU(z_M)]
    J_D = diag(A) + W D,   D = diag(1,…,1, d_1…d_P),  d_i = 1[z_{M−P+i} > 0]

With P ReLUs there are at most 2^P linear subregions; the fixed point of subregion D is
``z* = (I − diag(A) − W D)^{-1} h``, valid iff its own activation pattern equals D.
Init (REFERENCE §1): A from the normalised ``RᵀR/M + I`` diagonal, W ~ N(0, 0.01²), h = 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from attractor.errors import ConfigError
from attractor.models.base import PiecewiseLinear, init_diagonal_A
from attractor.models.piecewise import PiecewiseLinearForm, float64_array


class ALRNN(PiecewiseLinear):
    """Almost-linear RNN with ``n_relu`` = P piecewise-linear units out of M."""

    kind = "alrnn"

    def __init__(
        self, obs_dim: int, latent_dim: int = 20, n_relu: int = 2, n_inputs: int = 0
    ) -> None:
        super().__init__(obs_dim, latent_dim, n_inputs)
        if not 0 <= n_relu <= latent_dim:
            raise ConfigError(f"n_relu (P) must lie in [0, {latent_dim}], got {n_relu}.")
        m = latent_dim
        self.n_relu = int(n_relu)
        self.A = nn.Parameter(init_diagonal_A(m))
        self.W = nn.Parameter(torch.randn(m, m) * 0.01)
        self.h = nn.Parameter(torch.zeros(m))
        mask = torch.zeros(m)
        if n_relu:
            mask[m - n_relu :] = 1.0
        self.register_buffer("relu_mask", mask)

    def phi(self, z: Tensor) -> Tensor:
        """Φ*(z): identity on the first M−P units, ReLU on the last P."""
        if self.n_relu == 0:
            return z
        k = self.latent_dim - self.n_relu
        return torch.cat([z[..., :k], torch.relu(z[..., k:])], dim=-1)

    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        out = torch.addmm(torch.addcmul(self.h, self.A, z), self.phi(z), self.W.T)
        return out if s is None else out + self.input_term(s)

    def slope(self, z: Tensor) -> Tensor:
        """Diagonal of D at z, ``(B, M)``: 1 on linear units, 1[z_i > 0] on ReLU units."""
        on = (z > 0).to(z.dtype)
        return torch.where(self.relu_mask.bool(), on, torch.ones_like(z))

    def symbols(self, z: Tensor) -> Tensor:
        """Activation pattern of the P ReLU units as an integer code, ``(...,)``."""
        bits = (z[..., self.latent_dim - self.n_relu :] > 0).long()
        weights = 2 ** torch.arange(self.n_relu, device=z.device)
        return (bits * weights).sum(-1)

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        d = self.slope(z)
        return torch.diag_embed(self.A.expand_as(z)) + self.W[None] * d[:, None, :]

    def norm_bound(self) -> float:
        return float(self.A.abs().max() + torch.linalg.matrix_norm(self.W, ord=2))

    def regularization(self) -> Tensor:
        return ((self.A - 1) ** 2).sum() + (self.W**2).sum() + (self.h**2).sum()

    def piecewise_form(self) -> PiecewiseLinearForm:
        """``u = z_{M−P+1…M}``, ``V = W[:, M−P:]``, ``B = diag(A) + W[:, :M−P] E``, ``b = h``."""
        m, p = self.latent_dim, self.n_relu
        k = m - p
        w = float64_array(self.W)
        b_mat = np.diag(float64_array(self.A))
        b_mat[:, :k] += w[:, :k]
        return PiecewiseLinearForm(
            B=b_mat,
            b=float64_array(self.h),
            V=w[:, k:],
            G=np.eye(m)[k:],
            g=np.zeros(p),
            kind=self.kind,
            unit_labels=tuple(f"z{i + 1}" for i in range(k, m)),
        )

    def config(self) -> dict[str, Any]:
        return {**super().config(), "n_relu": self.n_relu}
