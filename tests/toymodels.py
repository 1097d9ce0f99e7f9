"""Small hand-built models shared by several test modules (smooth maps with known fixed points)."""

from __future__ import annotations

import math

import numpy as np
import torch

from attractor.models import ALRNN
from attractor.models.base import DynamicalModel


class AffineModel(DynamicalModel):
    """Test-only smooth model ``z' = A z + b`` (Jacobian by autograd through the base class)."""

    kind = "affine-test"

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        super().__init__(1, a.shape[0])
        self.A = torch.nn.Parameter(torch.tensor(a))
        self.b = torch.nn.Parameter(torch.tensor(b))

    def step(self, z, s=None):
        return z @ self.A.T + self.b


class GRUModel(DynamicalModel):
    """Test-only: a GRU cell with zero input as an autonomous map ``h' = GRU(0, h)``."""

    kind = "gru-test"

    def __init__(self, obs_dim: int = 1, latent_dim: int = 2, n_inputs: int = 0) -> None:
        super().__init__(obs_dim, latent_dim, n_inputs)
        self.cell = torch.nn.GRUCell(1, latent_dim)

    def step(self, z, s=None):
        return self.cell(torch.zeros(z.shape[0], 1, dtype=z.dtype), z)


def bistable_gru(w: float = 4.0, obs_dim: int = 1) -> GRUModel:
    """All weights zero except W_hn = w·I: r = z = σ(0) = ½, so h' = ½ tanh(w h / 2) + ½ h and
    each unit's fixed points solve h = tanh(w h / 2)."""
    model = GRUModel(obs_dim=obs_dim)
    with torch.no_grad():
        for p in model.cell.parameters():
            p.zero_()
        model.cell.weight_hh[4:6].copy_(w * torch.eye(2))  # rows of the candidate n
    return model


def rotation_model(theta: float) -> ALRNN:
    """A linear AL-RNN (P = 0) that rotates the plane by θ per step: orbits are circles."""
    m = ALRNN(obs_dim=2, latent_dim=2, n_relu=0)
    with torch.no_grad():
        m.A.zero_()
        m.h.zero_()
        c, s = math.cos(theta), math.sin(theta)
        m.W.copy_(torch.tensor([[c, -s], [s, c]]))
    return m
