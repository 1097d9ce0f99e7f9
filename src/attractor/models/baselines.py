"""Naive baselines for calibration: the last value and the training mean.

* ``naive-last`` (persistence): ``x̂_{t+1} = x_t``, i.e. the map ``F(z) = z``.
* ``naive-mean``: ``x̂_{t+1} = μ`` with ``μ`` the mean of the training data (0 on z-scored
  data), i.e. ``F(z) = μ``.

Neither has trainable parameters; ``fit_direct`` only records ``μ``. They bound a benchmark from
below: a model that does not beat them on forecasting, or whose attractor is no closer than a
point's, has not learned the dynamics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from attractor.errors import DataError
from attractor.models.base import DirectFit


class LastValue(DirectFit):
    """Persistence forecast ``F(z) = z`` (latent = observed, ``M = N``)."""

    kind = "naive-last"

    def __init__(self, obs_dim: int, latent_dim: int | None = None, n_inputs: int = 0) -> None:
        super().__init__(obs_dim, obs_dim, n_inputs)

    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        return z.clone()

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        return torch.eye(self.latent_dim, dtype=z.dtype, device=z.device).expand(z.shape[0], -1, -1)

    def fit_direct(self, trials: Sequence[np.ndarray]) -> None:
        """Nothing to fit."""

    def config(self) -> dict[str, Any]:
        return {"obs_dim": self.obs_dim, "n_inputs": self.n_inputs}


class MeanValue(DirectFit):
    """Mean forecast ``F(z) = μ`` (the training data's mean, ``(N,)``)."""

    kind = "naive-mean"

    def __init__(self, obs_dim: int, latent_dim: int | None = None, n_inputs: int = 0) -> None:
        super().__init__(obs_dim, obs_dim, n_inputs)
        self.register_buffer("mu", torch.zeros(obs_dim))

    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        return self.mu.to(z).expand_as(z).clone()

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        return z.new_zeros(z.shape[0], self.latent_dim, self.latent_dim)

    def fit_direct(self, trials: Sequence[np.ndarray]) -> None:
        """``μ`` = mean over all training samples ``(Σ_k T_k, N) → (N,)``."""
        data = np.concatenate([np.asarray(v, dtype=np.float64) for v in trials], axis=0)
        if data.ndim != 2 or data.shape[1] != self.obs_dim:
            raise DataError(
                f"the training data have shape {data.shape}; the model observes "
                f"{self.obs_dim} channel(s)."
            )
        self.mu.copy_(torch.as_tensor(data.mean(axis=0), dtype=self.mu.dtype))

    def config(self) -> dict[str, Any]:
        return {"obs_dim": self.obs_dim, "n_inputs": self.n_inputs}
