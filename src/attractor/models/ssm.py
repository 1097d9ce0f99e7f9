"""Deep diagonal linear state-space model (S4D/S5-style), autoregressive, as a DynamicalModel.

Each layer ``l = 1…L`` is a continuous-time linear system with a diagonal complex state matrix,
discretised by zero-order hold with a learnt step Δ (REFERENCE §1)::

    s' = Λ s + B u,   y = Re(C s) + d ⊙ u          (continuous time, s ∈ C^P, u, y ∈ R^D)
    Ā = exp(Λ Δ),   B̄ = (Ā − 1)/Λ · B              (ZOH, Λ = −exp(ν) + iω, so Re Λ < 0)
    s_t = Ā ⊙ s_{t−1} + B̄ u_t,   y_t = Re(C s_t) + d ⊙ u_t

Layers are joined by a nonlinear residual mixing ``u^{l+1} = u^l + GELU(W_l y^l + b_l)``; the
first input is ``u^1 = E x_t`` and the prediction is residual, ``x_{t+1} = x_t + W_o u^{L+1}``.

As a :class:`DynamicalModel` the latent state is ``z = [x; Re s¹, Im s¹, …, Re sᴸ, Im sᴸ]``
(``M = N + 2PL``) with the identity readout of ``x``, so teacher forcing overwrites the input
while the SSM states carry the memory; ``encode(x) = [x; L x]`` as for every model.

``sequence(x)`` evaluates the one-step predictions of a whole teacher-forced sequence layer by
layer: within a layer the inputs are known, so the states are one linear recurrence with a
constant diagonal transition, solved by :func:`attractor.parallel.scan.linear_scan` (O(log T)
depth). The free run and the training loop use :meth:`step`; tests check the two agree.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attractor.errors import ConfigError
from attractor.models.base import DynamicalModel

#: Defaults: model width D, complex modes per layer P, layers L, Δ range at init.
WIDTH = 32
MODES = 8
LAYERS = 2
DT_MIN, DT_MAX = 1e-2, 1e-1


class DiagonalSSM(DynamicalModel):
    """Deep diagonal linear SSM with nonlinear mixing between layers (module docstring)."""

    kind = "ssm"

    def __init__(
        self,
        obs_dim: int,
        latent_dim: int | None = None,
        width: int = WIDTH,
        modes: int = MODES,
        layers: int = LAYERS,
        n_inputs: int = 0,
    ) -> None:
        if width < 1 or modes < 1 or layers < 1:
            raise ConfigError(
                f"ssm needs width, modes and layers ≥ 1; got {width}, {modes}, {layers}."
            )
        super().__init__(obs_dim, obs_dim + 2 * modes * layers, n_inputs)
        self.width, self.modes, self.layers = int(width), int(modes), int(layers)
        d, p = width, modes
        self.E = nn.Linear(obs_dim, d)
        # Λ = −exp(ν) + iω with S4D-Lin init: Re Λ = −1/2, Im Λ = π n
        self.nu = nn.Parameter(torch.full((layers, p), math.log(0.5)))
        self.omega = nn.Parameter(math.pi * torch.arange(p).float().repeat(layers, 1))
        log_dt = torch.rand(layers, p) * (math.log(DT_MAX) - math.log(DT_MIN)) + math.log(DT_MIN)
        self.log_dt = nn.Parameter(log_dt)
        self.B_re = nn.Parameter(torch.randn(layers, p, d) / math.sqrt(2 * d))
        self.B_im = nn.Parameter(torch.randn(layers, p, d) / math.sqrt(2 * d))
        self.C_re = nn.Parameter(torch.randn(layers, d, p) / math.sqrt(p))
        self.C_im = nn.Parameter(torch.randn(layers, d, p) / math.sqrt(p))
        self.d = nn.Parameter(torch.ones(layers, d))
        self.mix = nn.ModuleList([nn.Linear(d, d) for _ in range(layers)])
        self.out = nn.Linear(d, obs_dim)
        nn.init.zeros_(self.out.weight)  # start as persistence, x_{t+1} = x_t
        nn.init.zeros_(self.out.bias)

    # ------------------------------------------------------------------ discretisation
    def discrete(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(Ā (L, P), B̄ (L, P, D), C (L, D, P))`` as complex tensors."""
        lam = torch.complex(-torch.exp(self.nu), self.omega)
        dt = torch.exp(self.log_dt)
        a_bar = torch.exp(lam * dt)
        b = torch.complex(self.B_re, self.B_im)
        b_bar = ((a_bar - 1) / lam)[..., None] * b
        return a_bar, b_bar, torch.complex(self.C_re, self.C_im)

    def _states(self, z: Tensor) -> Tensor:
        """``z[..., N:]`` as complex states ``(..., L, P)``."""
        s = z[..., self.obs_dim :].reshape(*z.shape[:-1], self.layers, 2, self.modes)
        return torch.complex(s[..., 0, :], s[..., 1, :])

    # ------------------------------------------------------------------ the map
    def _real_parts(self) -> tuple[Tensor, ...]:
        """``(Re Ā, Im Ā, Re B̄, Im B̄)`` as real tensors (complex arithmetic is slow on CPU)."""
        a_bar, b_bar, _ = self.discrete()
        return a_bar.real, a_bar.imag, b_bar.real, b_bar.imag

    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """One step in real arithmetic on the stacked states ``[Re s; Im s]`` of each layer."""
        n, p = self.obs_dim, self.modes
        x = z[..., :n]
        a_re, a_im, b_re, b_im = self._real_parts()
        a_same = torch.cat([a_re, a_re], dim=-1)  # (L, 2P): [Re s; Im s] ⊙ Re Ā
        a_swap = torch.cat([-a_im, a_im], dim=-1)  # (L, 2P): [Im s; Re s] ⊙ (∓ Im Ā)
        b_cat = torch.cat([b_re, b_im], dim=1)  # (L, 2P, D)
        c_cat = torch.cat([self.C_re, -self.C_im], dim=-1)  # (L, D, 2P)
        u = self.E(x)
        new = []
        for layer in range(self.layers):
            o = n + 2 * p * layer
            st = z[..., o : o + 2 * p]
            swapped = torch.cat([st[..., p:], st[..., :p]], dim=-1)
            s2 = torch.addmm(st * a_same[layer] + swapped * a_swap[layer], u, b_cat[layer].T)
            new.append(s2)
            y = torch.addcmul(s2 @ c_cat[layer].T, self.d[layer], u)
            u = u + F.gelu(self.mix[layer](y))
        x_next = x + self.out(u)
        return torch.cat([x_next, *new], dim=-1) + self.input_term(s)  # + C s on all M units

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """Analytic ``∂F/∂z`` ``(B, M, M)`` by the chain rule through the layers: with
        ``J_u = ∂u/∂z`` (``(B, D, M)``, starting at ``[E, 0]``), each layer gives
        ``∂s'/∂z = Ā ∂s/∂z + B̄ J_u``, ``∂y/∂z = Re(C ∂s'/∂z) + d ⊙ J_u`` and
        ``J_u ← J_u + GELU'(W y + b) ⊙ W ∂y/∂z``; finally ``∂x'/∂z = [I, 0] + W_o J_u``."""
        z = z.detach()
        n, p, m = self.obs_dim, self.modes, self.latent_dim
        bsz = z.shape[0]
        with torch.no_grad():
            a_re, a_im, b_re, b_im = self._real_parts()
            x = z[:, :n]
            u = self.E(x)
            ju = z.new_zeros(bsz, self.width, m)
            ju[:, :, :n] = self.E.weight
            rows = []
            eye = torch.eye(p, dtype=z.dtype, device=z.device)
            for layer in range(self.layers):
                o = n + 2 * p * layer
                sr, si = z[:, o : o + p], z[:, o + p : o + 2 * p]
                dsr = b_re[layer] @ ju  # (B, P, M)
                dsi = b_im[layer] @ ju
                dsr[:, :, o : o + p] += eye * a_re[layer]
                dsr[:, :, o + p : o + 2 * p] -= eye * a_im[layer]
                dsi[:, :, o + p : o + 2 * p] += eye * a_re[layer]
                dsi[:, :, o : o + p] += eye * a_im[layer]
                rows += [dsr, dsi]
                sr2 = a_re[layer] * sr - a_im[layer] * si + u @ b_re[layer].T
                si2 = a_re[layer] * si + a_im[layer] * sr + u @ b_im[layer].T
                y = sr2 @ self.C_re[layer].T - si2 @ self.C_im[layer].T + self.d[layer] * u
                dy = self.C_re[layer] @ dsr - self.C_im[layer] @ dsi + self.d[layer][:, None] * ju
                pre = self.mix[layer](y)
                ju = ju + _gelu_prime(pre)[:, :, None] * (self.mix[layer].weight @ dy)
                u = u + F.gelu(pre)
            dx = self.out.weight @ ju
            dx[:, :, :n] += torch.eye(n, dtype=z.dtype, device=z.device)
        return torch.cat([dx, *rows], dim=1)

    def sequence(self, x: Tensor, z0: Tensor | None = None) -> Tensor:
        """One-step predictions ``x̂_{t+1}`` for teacher-forced inputs ``x`` ``(B, T, N)``,
        each layer solved by one associative scan; returns ``(B, T, N)``.

        ``z0`` ``(B, M)`` gives the SSM states before ``x_0`` (default: the states of
        ``encode(x_0)``), so ``sequence(x)[:, t]`` equals ``step`` iterated with ``x_t`` forced.
        """
        a_bar, b_bar, c = self.discrete()
        z0 = self.encode(x[:, 0]) if z0 is None else z0
        s0 = self._states(z0)  # (B, L, P)
        u = self.E(x)
        for layer in range(self.layers):
            b_t = u.to(b_bar.dtype) @ b_bar[layer].T  # (B, T, P)
            a_t = a_bar[layer].expand_as(b_t)
            s = _scan(a_t, b_t, s0[:, layer])
            y = (s @ c[layer].T).real + self.d[layer] * u
            u = u + F.gelu(self.mix[layer](y))
        return x + self.out(u)

    def config(self) -> dict[str, Any]:
        return {
            "obs_dim": self.obs_dim,
            "width": self.width,
            "modes": self.modes,
            "layers": self.layers,
            "n_inputs": self.n_inputs,
        }


def _gelu_prime(x: Tensor) -> Tensor:
    """Derivative of the exact GELU, ``Φ(x) + x φ(x)``."""
    return 0.5 * (1 + torch.erf(x / math.sqrt(2))) + x * torch.exp(-0.5 * x**2) / math.sqrt(
        2 * math.pi
    )


def _scan(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """States of ``s_t = a_t ⊙ s_{t−1} + b_t`` ``(B, T, P)`` from ``s_0 = h0`` (``(B, P)``)."""
    try:
        from attractor.parallel.scan import linear_scan
    except ImportError:  # the parallel package is optional at run time: sequential fallback
        out, s = [], h0
        for t in range(b.shape[1]):
            s = a[:, t] * s + b[:, t]
            out.append(s)
        return torch.stack(out, dim=1)
    return linear_scan(a, b, h0, structure="diagonal")
