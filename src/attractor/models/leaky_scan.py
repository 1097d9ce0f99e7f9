"""The leaky RNN's sequence loop with a hand-written backward pass (BPTT), for training speed.

Forward (nonlinearity outside, :mod:`attractor.models.leaky`)::

    h_k = φ(h_{k−1} Mᵀ + u_k),   k = 1 … T,   φ = LeakyReLU(slope),   h_0 given

Backward, for upstream gradients G_k = ∂L/∂h_k (zero where a state is unused)::

    g_T = G_T;   δ_k = g_k ⊙ φ'(h_k);   g_{k−1} = δ_k M + G_{k−1}
    ∂L/∂u_k = δ_k,   ∂L/∂M = Σ_k δ_kᵀ h_{k−1} (one matrix product over all k),   ∂L/∂h_0 = g_0

φ'(pre) is read from the sign of h_k (LeakyReLU keeps the sign), so the forward pass stores the
states only. Why by hand: autograd records ~6 nodes per step and, for a network read out at the
last step only, back-propagates a full ``(B, T, M)`` stack of mostly-zero gradients and does one
small ``∂L/∂M`` product per step; this loop runs without a graph, writes into one preallocated
buffer and forms ``∂L/∂M`` in one large product. torch has no fused kernel for this recurrence
on the CPU (``torch.nn.RNN`` has no learnable leak and applies φ inside), and ``torch.compile``
does not remove the per-step matrix products that dominate.

``compute_dtype=torch.bfloat16`` (or a ``torch.autocast(dtype=torch.bfloat16)`` region around
the call) runs the matrix products in bfloat16; states, sums and every element-wise operation
stay float32, as in mixed-precision training. On CPUs with AVX-512 BF16 or AMX these products
are ~2× faster (0.35 vs 0.79 ms for 256×500 @ 500×500 on this project's 2-core machine).
"""

from __future__ import annotations

import torch
from torch import Tensor

_LRELU_BACKWARD = torch.ops.aten.leaky_relu_backward.grad_input


def _cast(x: Tensor, dtype: torch.dtype | None) -> Tensor:
    return x if dtype is None else x.to(dtype)


class LeakyScan(torch.autograd.Function):
    """``(x (T, B, K), M (M, M), W_in (M, K), c (M,), h0 (B, M) or None) → H (T, B, M)`` with
    ``u_k = W_in x_k + c``, time-major; see the module docstring. ``h0 = None`` means zeros,
    and the first step's product is skipped. The drives ``u`` are formed inside, without a graph,
    and their gradients (``∂L/∂W_in = Σ δ_kᵀ x_k``, ``∂L/∂c = Σ δ_k``) from the δ buffer."""

    @staticmethod
    def forward(ctx, x, m, w_in, c, h0, slope: float, dtype, final: bool):  # type: ignore[override]
        t, b, k_in = x.shape
        n = m.shape[0]
        u = torch.addmm(c, x.reshape(t * b, k_in), w_in.T).view(t, b, n)
        states = u.new_empty((t + 1, b, n))
        mt = _cast(m.T, dtype)
        if h0 is None:
            states[0].zero_()
            torch._C._nn.leaky_relu(u[0], slope, out=states[1])
        else:
            states[0] = h0
        for k in range(0 if h0 is not None else 1, t):
            if dtype is None:
                pre = torch.addmm(u[k], states[k], mt)
            else:
                pre = u[k] + torch.mm(states[k].to(dtype), mt)
            torch._C._nn.leaky_relu(pre, slope, out=states[k + 1])
        ctx.save_for_backward(x, states, m)
        ctx.slope, ctx.dtype, ctx.zero_start, ctx.final = slope, dtype, h0 is None, final
        return states[t] if final else states[1:]

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        x, states, m = ctx.saved_tensors
        slope, dtype = ctx.slope, ctx.dtype
        t, n = states.shape[0] - 1, states.shape[-1]
        delta = states.new_empty((t, *states.shape[1:]))
        mc = _cast(m, dtype)
        need_h0 = not ctx.zero_start and ctx.needs_input_grad[4]
        g = grad if ctx.final else grad[t - 1]
        for k in range(t - 1, -1, -1):
            d = _LRELU_BACKWARD(g, states[k + 1], slope, True, grad_input=delta[k])
            if k > 0:
                if ctx.final:
                    g = _cast(d, dtype) @ mc
                elif dtype is None:
                    g = torch.addmm(grad[k - 1], d, mc)
                else:
                    g = grad[k - 1] + torch.mm(d.to(dtype), mc)
            elif need_h0:
                g = _cast(d, dtype) @ mc
        flat = delta.view(-1, n)
        first = 1 if ctx.zero_start else 0  # h_0 = 0 adds nothing to ∂L/∂M
        dm = torch.mm(
            _cast(delta[first:].reshape(-1, n).T, dtype),
            _cast(states[first:t].reshape(-1, n), dtype),
        ).to(states.dtype)
        dw_in = flat.T @ x.reshape(-1, x.shape[-1])
        dc = flat.sum(0)
        dh0 = g.to(grad.dtype) if need_h0 else None
        return None, dm, dw_in, dc, dh0, None, None, None


def leaky_scan(
    x: Tensor,
    m: Tensor,
    w_in: Tensor,
    c: Tensor,
    h0: Tensor | None = None,
    slope: float = 0.01,
    compute_dtype: torch.dtype | None = None,
    final: bool = False,
) -> Tensor:
    """All states ``(T, B, M)`` of ``h_k = φ(M h_{k−1} + W_in x_k + c)`` (``final``: only
    ``h_T`` ``(B, M)``, and back-propagation from it alone) for inputs ``x`` ``(T, B, K)``
    (time-major, so each step reads and writes contiguous memory).

    Differentiable in ``m``, ``w_in``, ``c`` and ``h0`` (``None``: zeros) by :class:`LeakyScan`;
    the inputs ``x`` are data (no gradient). ``compute_dtype``: dtype of the matrix products
    (default: the inputs' dtype, or the autocast dtype inside a ``torch.autocast`` region).
    """
    dev = x.device.type
    if compute_dtype is None and torch.is_autocast_enabled(dev):
        compute_dtype = torch.get_autocast_dtype(dev)
    if compute_dtype == m.dtype:
        compute_dtype = None
    with torch.autocast(dev, enabled=False):
        x = x.contiguous().to(m.dtype)
        return LeakyScan.apply(x, m, w_in, c, h0, slope, compute_dtype, final)


def leaky_scan_reference(
    x: Tensor,
    m: Tensor,
    w_in: Tensor,
    c: Tensor,
    h0: Tensor | None = None,
    slope: float = 0.01,
) -> Tensor:
    """The same recurrence as a plain autograd loop (the slow reference for tests and the
    ``before`` column of ``benchmarks/task_throughput.py``)."""
    h = x.new_zeros(x.shape[1], m.shape[0]) if h0 is None else h0
    out = []
    for k in range(x.shape[0]):
        h = torch.nn.functional.leaky_relu(torch.addmm(c, h, m.T) + x[k] @ w_in.T, slope)
        out.append(h)
    return torch.stack(out)
