"""The forced rollout every teacher-forcing scheme shares, with an adjoint backward pass.

All forcing schemes in this library (none, sparse, generalized with fixed or adaptive α) are one
recurrence with a per-step forcing weight ``α_t`` applied to the first N (observed) units::

    ẑ_t   = F(z̃_{t−1}, s_t)                          prediction (what the loss sees), t = 1…T
    z̃_t   = ẑ_t + α_t ⊙ P (x_t − ẑ_{t,1:N})           forced state, z̃_0 = encode(x_0)

with ``P`` embedding the N observed units into M. Generalized teacher forcing (GTF) uses
``α_t = α``; sparse teacher forcing (STF) uses ``α_t = 1`` every τ steps and 0 otherwise, which
overwrites the observed units and cuts the gradient through them; ``α_t = 0`` is a free run.

Backward pass (``mode="adjoint"``). Writing ``D_t = diag(1 − α_t on the first N units, 1 on the
rest)`` and ``J_t = ∂F/∂z`` at ``z̃_t``, the gradient of a loss ``ℓ(ẑ_1…ẑ_T)`` with respect to
the predictions obeys the linear backward recurrence::

    g_T = ∂ℓ/∂ẑ_T,      g_t = ∂ℓ/∂ẑ_t + D_t J_tᵀ g_{t+1}

and the parameter gradient is one batched vector–Jacobian product ``Σ_t (∂F(z̃_{t−1})/∂θ)ᵀ g_t``
evaluated on all ``B·T`` stored states at once. The forward loop therefore runs without building
an autograd graph, the backward loop is one small batched mat-vec per step, and all Jacobians come
from one batched call to ``model.jacobian`` — several times faster on a CPU than differentiating
the unrolled loop with autograd, whose cost here is Python overhead per recorded operation, not
arithmetic. It is exact (tests compare it with ``mode="autograd"`` to float64 round-off). It stores
``B·T`` Jacobians of size M×M, so for wide models (M > ``ADJOINT_MAX_LATENT``) ``mode="auto"``
falls back to plain autograd.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from attractor.models.base import DynamicalModel

#: Above this latent size the dense per-step Jacobians cost more than autograd; "auto" switches.
ADJOINT_MAX_LATENT = 64


def forcing_weights(alpha: Tensor, n_obs: int, latent_dim: int) -> Tensor:
    """Per-step, per-unit forcing weights ``(T, M)``: α_t on the first N units, 0 elsewhere."""
    w = alpha.new_zeros(alpha.shape[0], latent_dim)
    w[:, :n_obs] = alpha[:, None]
    return w


def _pad(x: Tensor, latent_dim: int) -> Tensor:
    """``(B, T, N) → (B, T, M)`` with zeros in the unobserved units (P x)."""
    b, t, n = x.shape
    if n == latent_dim:
        return x
    return torch.cat([x, x.new_zeros(b, t, latent_dim - n)], dim=-1)


def forcing_inputs(
    model: DynamicalModel, x: Tensor, alpha: Tensor | float, z0: Tensor | None
) -> tuple[Tensor, Tensor, Tensor]:
    """What every forced rollout needs from ``x`` ``(B, T+1, N)``: the weights ``w`` ``(T, M)``,
    the padded targets ``P x_{1:T}`` ``(B, T, M)`` and the start state (default
    ``encode(x_0)``)."""
    m = model.latent_dim
    t_len = x.shape[1] - 1
    if not torch.is_tensor(alpha):
        alpha = torch.full((t_len,), float(alpha), dtype=x.dtype, device=x.device)
    alpha = alpha.to(dtype=x.dtype, device=x.device).expand(t_len)
    w = forcing_weights(alpha, model.obs_dim, m)
    xpad = _pad(x[:, 1:], m)
    return w, xpad, (model.encode(x[:, 0]) if z0 is None else z0)


@torch.no_grad()
def _forward(
    model: DynamicalModel, z0: Tensor, xpad: Tensor, w: Tensor, s: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Run the forced recurrence; return (forced states z̃_0…z̃_{T−1}, predictions ẑ_1…ẑ_T)."""
    b, t_len, m = xpad.shape
    zt = z0.new_empty(b, t_len, m)
    zp = z0.new_empty(b, t_len, m)
    z = z0
    for t in range(t_len):
        zt[:, t] = z
        p = model.step(z, None if s is None else s[:, t])
        zp[:, t] = p
        z = torch.lerp(p, xpad[:, t], w[t])
    return zt, zp


class _AdjointRollout(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        z0: Tensor,
        xpad: Tensor,
        w: Tensor,
        s: Tensor | None,
        model: DynamicalModel,
        *params: Tensor,
    ) -> Tensor:
        zt, zp = _forward(model, z0, xpad, w, s)
        ctx.model = model
        ctx.has_s = s is not None
        ctx.save_for_backward(zt, w, *((s,) if s is not None else ()))
        return zp

    @staticmethod
    def backward(ctx: Any, gzp: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        saved = ctx.saved_tensors
        zt, w = saved[0], saved[1]
        s = saved[2] if ctx.has_s else None
        model: DynamicalModel = ctx.model
        b, t_len, m = zt.shape
        flat = zt.reshape(b * t_len, m)
        sflat = None if s is None else s.reshape(b * t_len, -1)
        with torch.no_grad():
            jt = model.jacobian(flat, sflat).reshape(b, t_len, m, m).transpose(2, 3)
            damp = 1.0 - w  # D_t as a vector, (T, M)
            g = torch.empty_like(gzp)
            gt = gzp[:, t_len - 1]
            g[:, t_len - 1] = gt
            for t in range(t_len - 2, -1, -1):
                back = torch.bmm(jt[:, t + 1], gt.unsqueeze(-1)).squeeze(-1)
                gt = torch.addcmul(gzp[:, t], damp[t], back)
                g[:, t] = gt
            gz0 = torch.bmm(jt[:, 0], g[:, 0].unsqueeze(-1)).squeeze(-1)
        params = [p for p in model.parameters() if p.requires_grad]
        with torch.enable_grad():
            out = model.step(flat, sflat)
            grads = torch.autograd.grad(out, params, g.reshape(b * t_len, m), allow_unused=True)
        return (gz0, None, None, None, None, *grads)


def forced_rollout(
    model: DynamicalModel,
    x: Tensor,
    alpha: Tensor | float,
    s: Tensor | None = None,
    z0: Tensor | None = None,
    mode: str = "auto",
) -> Tensor:
    """Predictions of the forced recurrence over a batch of windows.

    Parameters
    ----------
    model: any :class:`DynamicalModel`.
    x: windows ``(B, T+1, N)``; ``x[:, 0]`` starts the latent state (``encode``), ``x[:, 1:]``
       are the targets and the forcing signal.
    alpha: forcing weight per step, ``(T,)`` or a scalar (α_t applies after prediction t).
    s: external inputs ``(B, T, K)`` driving steps 1…T, or ``None``.
    z0: latent start state ``(B, M)``; default ``model.encode(x[:, 0])``.
    mode: ``"adjoint"``, ``"autograd"`` or ``"auto"`` (adjoint unless M > ADJOINT_MAX_LATENT).

    Returns
    -------
    Pre-forcing predictions ``ẑ_1 … ẑ_T`` as latent states ``(B, T, M)``; compare
    ``model.observe(...)`` with ``x[:, 1:]``.
    """
    m = model.latent_dim
    w, xpad, z0 = forcing_inputs(model, x, alpha, z0)
    if mode == "auto":
        mode = "adjoint" if m <= ADJOINT_MAX_LATENT else "autograd"
    if mode == "adjoint":
        params = [p for p in model.parameters() if p.requires_grad]
        return _AdjointRollout.apply(z0, xpad, w, s, model, *params)
    if mode != "autograd":
        raise ValueError(f"unknown rollout mode {mode!r}; use 'adjoint', 'autograd' or 'auto'.")
    preds = []
    z = z0
    for t in range(xpad.shape[1]):
        p = model.step(z, None if s is None else s[:, t])
        preds.append(p)
        z = torch.lerp(p, xpad[:, t], w[t])
    return torch.stack(preds, dim=1)
