"""Gated cells as dynamical systems: GRU, LSTM and their diagonal (ParaGRU/ParaLSTM-style) forms.

GRU (PyTorch's gate convention), state ``h ∈ R^M``, input ``s ∈ R^K``::

    r = σ(W_r h + U_r s + b_r),   u = σ(W_u h + U_u s + b_u)
    n = tanh(U_n s + b_n + r ⊙ (W_n h + c_n))
    h' = (1 − u) ⊙ n + u ⊙ h
    J = diag(u) + diag((1−u)(1−n²)) [diag(r) W_n + diag((W_n h + c_n) r(1−r)) W_r]
        + diag((h − n) u(1−u)) W_u

LSTM, state ``z = [h; c] ∈ R^{2H}`` (M = 2H; the observed units are the first N of h)::

    i, f, o = σ(W_{i,f,o} h + U s + b),   g = tanh(W_g h + U_g s + b_g)
    c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
    J = [[∂h'/∂h, ∂h'/∂c], [∂c'/∂h, ∂c'/∂c]] with
        ∂c'/∂h = diag(c f(1−f)) W_f + diag(g i(1−i)) W_i + diag(i (1−g²)) W_g,   ∂c'/∂c = diag(f)
        ∂h'/∂h = diag(tanh c' o(1−o)) W_o + diag(o (1−tanh²c')) ∂c'/∂h,
        ∂h'/∂c = diag(o (1−tanh²c') f)

Diagonal variants (``diaggru``, ``diaglstm``): every recurrent matrix ``W_x`` is a vector ``w_x``
(input weights stay dense), so ``J`` is diagonal (GRU) or a 2×2 grid of diagonal blocks (LSTM) —
the structure that makes a parallel-in-time Newton step an elementwise scan (REFERENCE §5).
They declare it with :class:`~attractor.models.base.StructuredJacobian`: ``jacobian_structure``
(``"diagonal"`` / ``"block"``) and ``jacobian_compact(z, s)`` (``(B, M)`` / ``(B, 2, 2, H)``);
``jacobian`` is always ``(B, M, M)``.

Caveats for reconstruction with the identity readout: the GRU's state stays in (−1, 1) once
there (h' is a convex combination of h and tanh), and the LSTM's h = o ⊙ tanh(c') likewise, so
z-scored data beyond ±1 cannot be reproduced exactly in a free run; and without external inputs
a diagonal cell is M (or H) uncoupled scalar maps, so on its own it cannot reconstruct coupled
dynamics. Drive them with inputs (memory tasks) or use them where these limits do not matter.
Init as PyTorch: every weight and bias ``~ U(±1/√H)``.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from attractor.errors import ConfigError
from attractor.models.base import DynamicalModel, StructuredJacobian


def _uniform(*shape: int, bound: float) -> nn.Parameter:
    return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))


def _rows(v: Tensor, w: Tensor, diagonal: bool) -> Tensor:
    """``diag(v) W`` as a dense ``(B, H, H)`` (or ``v ⊙ w`` ``(B, H)`` when W is diagonal)."""
    return v * w if diagonal else v.unsqueeze(-1) * w


class _Gated(DynamicalModel):
    """Shared parts: gate weights ``W`` (dense ``(G·H, H)`` or diagonal ``(G·H,)``), U, b."""

    n_gates: ClassVar[int] = 3
    diagonal: ClassVar[bool] = False

    def __init__(self, obs_dim: int, latent_dim: int, n_inputs: int, hidden: int) -> None:
        super().__init__(obs_dim, latent_dim, n_inputs)
        self.C = None  # inputs enter through the gate weights U instead of the additive C s
        g, bound = self.n_gates, 1.0 / math.sqrt(hidden)
        self.W = _uniform(g * hidden, *(() if self.diagonal else (hidden,)), bound=bound)
        self.b = _uniform(g * hidden, bound=bound)
        self.U = _uniform(g * hidden, n_inputs, bound=bound) if n_inputs else None

    def _recurrent(self, h: Tensor) -> Tensor:
        """``W h`` for all gates at once: ``(B, H) → (B, G·H)``."""
        if self.diagonal:
            return h.repeat(1, self.n_gates) * self.W
        return h @ self.W.T

    def _driven(self, s: Tensor | None) -> Tensor:
        """``U s + b`` for all gates: ``(B, G·H)`` (or ``(G·H,)`` without inputs)."""
        if s is None or self.U is None:
            return self.b
        return torch.addmm(self.b, s, self.U.T)

    def _w(self, k: int) -> Tensor:
        """The recurrent weight of gate ``k``: ``(H, H)`` dense or ``(H,)`` diagonal."""
        hdim = self.W.shape[0] // self.n_gates
        return self.W[k * hdim : (k + 1) * hdim]

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        from attractor.parallel.scan import to_dense

        return to_dense(self.jacobian_compact(z, s), self.jacobian_structure)

    @abstractmethod
    def jacobian_compact(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """``∂F/∂z`` in ``jacobian_structure``'s compact form (see the module docstring)."""

    @abstractmethod
    def step_and_jacobian(
        self, z: Tensor, s: Tensor | None = None, *, out: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """``(F(z), jacobian_compact(z))`` sharing the gate values."""


class GRU(_Gated):
    """Standard GRU cell as a map ``h → h'`` (latent = hidden = M)."""

    kind = "gru"
    n_gates = 3

    def __init__(self, obs_dim: int, latent_dim: int = 32, n_inputs: int = 0) -> None:
        super().__init__(obs_dim, latent_dim, n_inputs, latent_dim)
        self.c_n = _uniform(latent_dim, bound=1.0 / math.sqrt(latent_dim))

    def _gates(self, h: Tensor, s: Tensor | None) -> tuple[Tensor, ...]:
        m = self.latent_dim
        rec = self._recurrent(h)
        drv = self._driven(s)
        ru = torch.sigmoid(rec[:, : 2 * m] + drv[..., : 2 * m])
        r, u = ru[:, :m], ru[:, m:]
        hn = rec[:, 2 * m :] + self.c_n
        n = torch.tanh(drv[..., 2 * m :] + r * hn)
        return r, u, n, hn

    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        _, u, n, _ = self._gates(z, s)
        return torch.lerp(n, z, u)

    def step_and_jacobian(
        self, z: Tensor, s: Tensor | None = None, *, out: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """``(F(z), jacobian_compact(z))`` sharing the gate values (``out`` is not used)."""
        r, u, n, hn = self._gates(z, s)
        d = self.diagonal
        dn = (1 - u) * (1 - n * n)
        jac = _rows(dn * r, self._w(2), d) + _rows(dn * hn * r * (1 - r), self._w(0), d)
        jac = jac + _rows((z - n) * u * (1 - u), self._w(1), d)
        jac = jac + u if d else jac + torch.diag_embed(u)
        return torch.lerp(n, z, u), jac

    def jacobian_compact(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        return self.step_and_jacobian(z, s)[1]

    def config(self) -> dict[str, Any]:
        return {"obs_dim": self.obs_dim, "latent_dim": self.latent_dim, "n_inputs": self.n_inputs}


class DiagGRU(GRU, StructuredJacobian):
    """ParaGRU-style GRU: diagonal recurrent weights, so ``J`` is diagonal.

    The step, its Jacobian and the parameter vector–Jacobian product are written out per gate
    (no ``repeat`` of the state, fused multiply–adds): on a CPU the parallel-in-time solver
    spends most of its time here. With ``a_x = w_x ⊙ h + (U s + b)_x``::

        J = u + (1−u)(1−n²) r ⊙ (w_n + ĥ (1−r) w_r) + (h − n) u (1−u) w_u,   ĥ = w_n h + c_n
    """

    kind = "diaggru"
    diagonal = True
    jacobian_structure = "diagonal"
    jacobian_out = True  # step_and_jacobian can write the Jacobian into a given buffer

    def _gates(self, h: Tensor, s: Tensor | None) -> tuple[Tensor, ...]:
        m = self.latent_dim
        w = self.W.view(3, m)
        drv = self._driven(s)
        # r and u in one fused multiply–add and one sigmoid over (n, 2, H)
        ru = torch.sigmoid(
            torch.addcmul(drv[..., : 2 * m].unflatten(-1, (2, m)), h.unsqueeze(-2), w[:2])
        )
        r, u = ru[..., 0, :], ru[..., 1, :]
        hn = torch.addcmul(self.c_n, h, w[2])
        n = torch.tanh(torch.addcmul(drv[..., 2 * m :], r, hn))
        return r, u, n, hn

    def step_and_jacobian(
        self, z: Tensor, s: Tensor | None = None, *, out: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """``(F(z), J(z))``; the Jacobian ``(B, M)`` is written into ``out`` when given (and
        gradients are off; otherwise a new tensor is returned)."""
        r, u, n, hn = self._gates(z, s)
        w_r, w_u, w_n = self.W.view(3, self.latent_dim)
        # J = u + (1 − u) m  with  m = (1 − n²)(r w_n + ĥ r(1−r) w_r) + u e w_u,  e = h − n:
        # nine elementwise passes; aten's tanh/sigmoid backward kernels give g (1 − n²) and
        # g σ(1 − σ) in one pass each, and lerp(m, 1, u) = u + (1 − u) m in one more.
        e = z - n
        value = torch.addcmul(n, u, e)  # (1 − u) n + u h
        k = torch.addcmul(r * w_n, torch.ops.aten.sigmoid_backward(hn, r), w_r)
        m = torch.addcmul(torch.ops.aten.tanh_backward(k, n), u, e * w_u)
        one = m.new_ones(())
        if out is None or torch.is_grad_enabled():  # out= cannot record autograd history
            return value, torch.lerp(m, one, u)
        return value, torch.lerp(m, one, u, out=out)

    def param_vjp(self, z: Tensor, s: Tensor | None, g: Tensor) -> dict[str, Tensor]:
        """``Σ_rows (∂F(z_row, s_row)/∂θ)ᵀ g_row`` for every parameter F uses, by name.

        Backpropagation through one step by hand (``a_r, a_u, a_n`` the gates' pre-activations):
        ``ḡ_u = g (h − n) u(1−u)``, ``ḡ_n = g (1−u)(1−n²)``, ``ḡ_ĥ = ḡ_n r``,
        ``ḡ_r = ḡ_n ĥ r(1−r)``; then ``∂W = Σ [ḡ_r; ḡ_u; ḡ_ĥ] h``, ``∂b = Σ [ḡ_r; ḡ_u; ḡ_n]``,
        ``∂U = [ḡ_r, ḡ_u, ḡ_n]ᵀ s``, ``∂c_n = Σ ḡ_ĥ``.
        """
        with torch.no_grad():
            r, u, n, hn = self._gates(z, s)
            m = self.latent_dim
            # one buffer for the four gate gradients, ordered [ḡ_r, ḡ_u, ḡ_ĥ, ḡ_n] so that the
            # first three multiply h for ∂W in one pass and one column sum serves ∂b and ∂c_n
            big = z.new_empty(z.shape[0], 4, m)
            g_r, g_u, g_hn, g_n = big.unbind(1)
            aten = torch.ops.aten
            aten.sigmoid_backward.grad_input(g * (z - n), u, grad_input=g_u)
            aten.tanh_backward.grad_input(torch.addcmul(g, g, u, value=-1), n, grad_input=g_n)
            torch.mul(g_n, r, out=g_hn)
            aten.sigmoid_backward.grad_input(g_n * hn, r, grad_input=g_r)
            col = big.sum(0)  # (4, M)
            order = [0, 1, 3]  # ḡ_r, ḡ_u, ḡ_n: the pre-activations' gradients
            grads = {
                "W": (big[:, :3] * z.unsqueeze(1)).sum(0).flatten(),
                "b": col[order].flatten(),
                "c_n": col[2],
            }
            if self.U is not None and s is not None:
                grads["U"] = (big.flatten(1).T @ s).unflatten(0, (4, m))[order].flatten(0, 1)
        return grads


class LSTM(_Gated):
    """Standard LSTM cell as a map ``[h; c] → [h'; c']`` (M = 2H, H = latent_dim / 2)."""

    kind = "lstm"
    n_gates = 4

    def __init__(self, obs_dim: int, latent_dim: int = 32, n_inputs: int = 0) -> None:
        if latent_dim % 2 or latent_dim // 2 < obs_dim:
            raise ConfigError(
                f"an LSTM's latent state is [h; c], so latent_dim must be even and at least "
                f"2 × the observed dimension ({2 * obs_dim}); got {latent_dim}."
            )
        super().__init__(obs_dim, latent_dim, n_inputs, latent_dim // 2)

    @property
    def hidden_dim(self) -> int:
        return self.latent_dim // 2

    def _gates(self, z: Tensor, s: Tensor | None) -> tuple[Tensor, ...]:
        hd = self.hidden_dim
        h, c = z[:, :hd], z[:, hd:]
        pre = self._recurrent(h) + self._driven(s)
        ifo = torch.sigmoid(pre[:, : 3 * hd])
        i, f, o = ifo[:, :hd], ifo[:, hd : 2 * hd], ifo[:, 2 * hd :]
        g = torch.tanh(pre[:, 3 * hd :])
        c_new = torch.addcmul(i * g, f, c)
        return i, f, o, g, c, c_new, torch.tanh(c_new)

    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        *_, o, _, _, c_new, tc = self._gates(z, s)
        return torch.cat([o * tc, c_new], dim=-1)

    def blocks(self, z: Tensor, s: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The four blocks ``(∂h'/∂h, ∂h'/∂c, ∂c'/∂h, ∂c'/∂c)``; (B, H, H) or (B, H) if diagonal."""
        return self._blocks(self._gates(z, s))

    def _blocks(self, gates: tuple[Tensor, ...]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        i, f, o, g, c, _, tc = gates
        d = self.diagonal
        dc_dh = (
            _rows(c * f * (1 - f), self._w(1), d)
            + _rows(g * i * (1 - i), self._w(0), d)
            + _rows(i * (1 - g * g), self._w(3), d)
        )
        k = o * (1 - tc * tc)
        dh_dh = _rows(tc * o * (1 - o), self._w(2), d) + _rows(k, dc_dh, d)
        dh_dc, dc_dc = k * f, f
        if not d:
            dh_dc, dc_dc = torch.diag_embed(dh_dc), torch.diag_embed(dc_dc)
        return dh_dh, dh_dc, dc_dh, dc_dc

    def step_and_jacobian(
        self, z: Tensor, s: Tensor | None = None, *, out: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """``(F(z), jacobian_compact(z))`` sharing the gate values (``out`` is not used)."""
        gates = self._gates(z, s)
        o, c_new, tc = gates[2], gates[5], gates[6]
        hh, hc, ch, cc = self._blocks(gates)
        if self.diagonal:
            jac = torch.stack([torch.stack([hh, hc], 1), torch.stack([ch, cc], 1)], 1)
        else:
            jac = torch.cat([torch.cat([hh, hc], -1), torch.cat([ch, cc], -1)], -2)
        return torch.cat([o * tc, c_new], dim=-1), jac

    def jacobian_compact(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        return self.step_and_jacobian(z, s)[1]

    def config(self) -> dict[str, Any]:
        return {"obs_dim": self.obs_dim, "latent_dim": self.latent_dim, "n_inputs": self.n_inputs}


class DiagLSTM(LSTM, StructuredJacobian):
    """ParaLSTM-style LSTM: diagonal recurrent weights, so ``J`` is 2×2 blocks of diagonals."""

    kind = "diaglstm"
    diagonal = True
    jacobian_structure = "block"
