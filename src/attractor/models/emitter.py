"""A ReLU RNN driven only by noise that emits one-hot symbols (HMM emulation, REFERENCE §4).

::

    h_t = ReLU(W h_{t−1} + B ξ_t + b),     ξ_t ~ N(0, σ² I_D),  D = ``noise_dim`` (default 2)
    s_t = softmax((V h_t + c + g_t) / τ),  g_t ~ Gumbel(0, 1)^S   (relaxed sample, ``hard=False``)
    y_t = onehot(argmax s_t) − sg(s_t) + s_t ∈ {0, 1}^S   (hard, straight-through gradient)

Initialisation ``W = 0.8 I + 0.1 N(0, 1/H)``, ``B ~ N(0, 1/D)``: a slow, contracting recurrence
driven by low-dimensional noise, so hidden states (and hence symbols) persist over several
steps like the HMM's hidden state (stay probability 0.9); a full-rank, std-1 noise input
(D = H) swamps the recurrence and the emitted symbols come out nearly independent.
Shapes: ``h`` ``(B, H)``, ``ξ`` ``(B, D)``, emissions ``(B, T, S)``. Sequences start from
``h = 0`` and run ``warmup`` unrecorded steps first, so emitted sequences are (close to)
stationary like the HMM's. With σ = 0 the network is an autonomous piecewise-linear map whose
trajectories can be checked for collapse onto one fixed point (:meth:`NoiseDrivenRNN.free_run`).
The Gumbel-softmax is written out (a few lines) rather than ``torch.nn.functional.gumbel_softmax``
so that its Gumbel noise comes from the caller's generator and runs are reproducible.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from attractor.errors import ConfigError


class NoiseDrivenRNN(nn.Module):
    """``h' = ReLU(W h + B ξ + b)`` with a categorical readout sampled by hard Gumbel-softmax."""

    kind = "noise-rnn"

    def __init__(
        self,
        hidden: int = 64,
        noise_dim: int | None = 2,
        n_symbols: int = 3,
        noise_std: float = 1.0,
        gumbel_tau: float = 0.5,
    ) -> None:
        super().__init__()
        if hidden < 1:
            raise ConfigError(f"the hidden size must be at least 1, got {hidden}.")
        if n_symbols < 2:
            raise ConfigError(f"at least 2 symbols are needed, got {n_symbols}.")
        self.hidden = int(hidden)
        self.noise_dim = int(noise_dim or hidden)  # None: full-rank noise (D = H)
        self.n_symbols = int(n_symbols)
        self.noise_std = float(noise_std)
        self.gumbel_tau = float(gumbel_tau)
        w = 0.8 * torch.eye(hidden) + torch.randn(hidden, hidden) * (0.1 / math.sqrt(hidden))
        self.W = nn.Parameter(w)
        self.B = nn.Parameter(torch.randn(hidden, self.noise_dim) / math.sqrt(self.noise_dim))
        self.b = nn.Parameter(torch.zeros(hidden))
        self.readout = nn.Linear(hidden, n_symbols)

    def step(self, h: Tensor, xi: Tensor | None = None) -> Tensor:
        """One step ``(B, H) → (B, H)``; ``xi`` ``(B, D)`` is the (already scaled) noise."""
        u = torch.addmm(self.b, h, self.W.T)
        if xi is not None:
            u = u + xi @ self.B.T
        return torch.relu(u)

    def forward(
        self,
        n_sequences: int,
        length: int,
        warmup: int = 20,
        generator: torch.Generator | None = None,
        hard: bool = True,
        return_states: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Emissions ``(n, T, S)`` (one-hot if ``hard``), optionally with states ``(n, T, H)``."""
        dev = self.W.device
        h = torch.zeros(n_sequences, self.hidden, device=dev)
        noise = torch.randn(n_sequences, warmup + length, self.noise_dim, generator=generator)
        noise = (noise * self.noise_std).to(dev)
        with torch.no_grad():
            for t in range(warmup):
                h = self.step(h, noise[:, t])
        hs = []
        for t in range(warmup, warmup + length):
            h = self.step(h, noise[:, t])
            hs.append(h)
        states = torch.stack(hs, dim=1)
        logits = self.readout(states)
        gumbel = -torch.log(
            -torch.log(torch.rand(logits.shape, generator=generator).clamp(1e-10, 1 - 1e-7))
        )
        soft = torch.softmax((logits + gumbel.to(dev)) / self.gumbel_tau, dim=-1)
        y = self.straight_through(soft) if hard else soft
        return (y, states) if return_states else y

    @staticmethod
    def straight_through(soft: Tensor) -> Tensor:
        """One-hot of ``argmax soft`` forward, the gradient of ``soft`` backward."""
        one = torch.nn.functional.one_hot(soft.argmax(-1), soft.shape[-1]).to(soft)
        return one - soft.detach() + soft

    @torch.no_grad()
    def cap_spectral_norm(self, max_norm: float) -> None:
        """Rescale ``W`` so that ‖W‖₂ ≤ ``max_norm``. With ``max_norm`` < 1 the noise-free map
        ``h ↦ ReLU(W h + b)`` is a contraction (ReLU is 1-Lipschitz), so it has exactly one
        fixed point and every trajectory converges to it."""
        norm = float(torch.linalg.matrix_norm(self.W, 2))
        if norm > max_norm:
            self.W.mul_(max_norm / norm)

    @torch.no_grad()
    def free_run(self, h0: Tensor, steps: int) -> Tensor:
        """Noise-free trajectories from start states ``(B, H)``: ``(B, steps, H)``."""
        h, out = h0, []
        for _ in range(steps):
            h = self.step(h)
            out.append(h)
        return torch.stack(out, dim=1)

    def config(self) -> dict[str, Any]:
        return {
            "hidden": self.hidden,
            "noise_dim": self.noise_dim,
            "n_symbols": self.n_symbols,
            "noise_std": self.noise_std,
            "gumbel_tau": self.gumbel_tau,
        }
