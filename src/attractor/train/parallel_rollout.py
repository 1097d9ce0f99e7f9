"""The forced rollout solved in parallel over time by Newton (GTF-DEER), with a scan backward.

Same recurrence and outputs as :func:`attractor.train.rollout.forced_rollout` (read its
docstring)::

    ẑ_t = F(z̃_{t−1}, s_t),   z̃_t = ẑ_t + w_t ⊙ (x_t − ẑ_t),   z̃_0 = z0

Newton (:func:`attractor.parallel.newton.newton_solve`) runs on the predictions themselves,
``ẑ_t = H_t(ẑ_{t−1}) = F(ẑ_{t−1} + w_{t−1} ⊙ (x_{t−1} − ẑ_{t−1}), s_t)`` (with ``w_0 = 0``,
``ẑ_0 = z0``), whose Jacobian is ``a_t = J(z̃_{t−1}) D_{t−1}``, ``D = diag(1 − w)``. With GTF's
α, ``(1 − α)‖J‖ < 1`` makes the map contracting, which is what lets Newton converge in a handful
of iterations on windows of 10⁴ steps and more (the GTF-DEER idea of Hess, Götz & Durstewitz;
REFERENCE §5). The first guess is the data-inferred state ``encode(x_t)``.

Backward pass (no differentiation through the Newton iterations): the same ``a_t`` at the
converged solution give the prediction adjoint ``g_t = ∂ℓ/∂ẑ_t + a_{t+1}ᵀ g_{t+1}`` by one
reverse scan (:func:`attractor.parallel.scan.reverse_adjoint_time_major`); the parameter gradient
is one batched vector–Jacobian product ``Σ_t (∂F(z̃_{t−1})/∂θ)ᵀ g_t`` over all ``B·T`` states
(:meth:`DynamicalModel.param_vjp <attractor.models.base.DynamicalModel.param_vjp>`: autograd
through one step, or the model's hand-written backward pass, as the diagonal GRU has), and the
start state gets ``a_1ᵀ g_1``. The Jacobians are those of Newton's last evaluation, so the
backward pass costs one model evaluation plus one scan.

Jacobians come in the model's own structure (``model.jacobian_structure``): models that declare
:class:`~attractor.models.base.StructuredJacobian` (the diagonal GRU/LSTM) get elementwise
scans, and ``model.step_and_jacobian`` shares work between F and J where a model overrides it;
every other :class:`DynamicalModel` uses its dense ``jacobian``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from attractor.models.base import DynamicalModel, StructuredJacobian
from attractor.parallel.newton import (
    DEFAULT_MAX_ITER,
    NewtonResult,
    newton_solve,
    previous_rows,
)
from attractor.parallel.scan import apply, reverse_adjoint_time_major, scale, transpose
from attractor.train.rollout import forcing_inputs


@dataclass(frozen=True)
class NewtonOptions:
    """How the forward Newton solve runs (see :func:`attractor.parallel.newton.newton_solve`)."""

    method: str = "newton"
    max_iter: int = DEFAULT_MAX_ITER
    rtol: float | None = None
    atol: float | None = None
    fallback: bool = True
    init: str = "data"  # "data": encode(x_t) forced; "start": z0 at every step
    chunk: int | None = -1  # rows per block of model evaluations; -1: auto (CPU), None: all


#: On a CPU, model evaluations run on blocks of about this many state entries per thread
#: (cache-sized; diagonal GRU, T = 10⁴, B = 16: 1,024-row blocks are best on one thread,
#: 2,048–4,096 on two, where each elementwise operation is split between the threads).
CPU_CHUNK_ELEMENTS = 2**16


def chunk_rows(opts: NewtonOptions, device: torch.device, m: int) -> int | None:
    """Rows per evaluation block: automatic on CPUs, everything at once on accelerators."""
    if opts.chunk != -1:
        return opts.chunk
    if device.type != "cpu":
        return None
    per_block = CPU_CHUNK_ELEMENTS * min(4, max(1, torch.get_num_threads()))
    return max(256, min(8192, per_block // m))


def _solve(
    model: DynamicalModel,
    z0: Tensor,
    xpad: Tensor,
    w: Tensor,
    s: Tensor | None,
    opts: NewtonOptions,
) -> tuple[NewtonResult, Tensor | None, Tensor | None]:
    """Predictions by Newton; also the (time-major, flat) forcing inputs ``x_{t−1}, w_{t−1}``."""
    b, t_len, m = xpad.shape
    structure = model.jacobian_structure
    forced = bool((w != 0).any())
    inputs: list[Tensor] = []
    if forced:  # x_{t−1}, w_{t−1} with w_0 = 0, so that z̃_0 = ẑ_0 = z0
        xprev = torch.cat([torch.zeros_like(xpad[:, :1]), xpad[:, :-1]], dim=1)
        wprev = torch.cat([torch.zeros_like(w[:1]), w[:-1]]).expand(b, t_len, m)
        inputs = [xprev, wprev]
    if s is not None:
        inputs.append(s)

    def unpack(z: Tensor, u: tuple[Tensor, ...]) -> tuple[Tensor, Tensor | None, Tensor | None]:
        if forced:
            return torch.lerp(z, u[0], u[1]), u[1], u[2] if len(u) > 2 else None
        return z, None, u[0] if u else None

    def h_step(z: Tensor, *u: Tensor) -> Tensor:
        zt, _, st = unpack(z, u)
        return model.step(zt, st)

    direct = isinstance(model, StructuredJacobian) and model.jacobian_out

    def h_both(z: Tensor, *u: Tensor, out: Tensor | None = None) -> tuple[Tensor, Tensor]:
        zt, wt, st = unpack(z, u)
        if direct and wt is None and out is not None:  # the model writes J into Newton's buffer
            return model.step_and_jacobian(zt, st, out=out)
        val, jac = model.step_and_jacobian(zt, st)
        return val, (jac if wt is None else scale(jac, structure, cols=1.0 - wt))

    init = None
    if opts.init == "data" and forced:
        init = model.encode(xpad[..., : model.obs_dim])
    res = newton_solve(
        h_step,
        None,
        z0,
        inputs,
        t_len,
        step_and_jacobian=h_both,
        jacobian_out=True,
        structure=structure,
        method=opts.method,
        init=init,
        max_iter=opts.max_iter,
        rtol=opts.rtol,
        atol=opts.atol,
        fallback=opts.fallback,
        chunk=chunk_rows(opts, z0.device, m),
    )
    if not forced:
        return res, None, None
    return res, xprev.transpose(0, 1), wprev.transpose(0, 1)


class _ParallelRollout(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        z0: Tensor,
        xpad: Tensor,
        w: Tensor,
        s: Tensor | None,
        model: DynamicalModel,
        opts: NewtonOptions,
        info: list[NewtonResult],
        *params: Tensor,
    ) -> Tensor:
        b, t_len, m = xpad.shape
        with torch.no_grad():
            z0d = z0.detach()
            res, xprev, wprev = _solve(model, z0d, xpad, w, s, opts)
            if res.values is None or res.jacobians is None:  # sequential fallback
                prev = torch.cat([z0d.unsqueeze(0), res.states.transpose(0, 1)[:-1]])
                flat = prev.reshape(t_len * b, m)
                s_tm = None if s is None else s.transpose(0, 1).reshape(t_len * b, -1)
                u = () if xprev is None else (xprev.reshape(t_len * b, m),)
                w_tm = None if wprev is None else wprev.reshape(t_len * b, m)
                zt = flat if not u else torch.lerp(flat, u[0], w_tm)
                val, jac = model.step_and_jacobian(zt, s_tm)
                structure = model.jacobian_structure
                jac = jac if w_tm is None else scale(jac, structure, cols=1.0 - w_tm)
                res.values = val.reshape(t_len, b, m)
                res.jacobians = jac.reshape(t_len, b, *jac.shape[1:])
            zp_tm = res.values  # (T, B, M): ẑ_1 … ẑ_T
            if xprev is not None:  # z̃_0 … z̃_{T−1}
                zt = torch.lerp(torch.cat([z0d.unsqueeze(0), zp_tm[:-1]]), xprev, wprev)
            else:  # unforced: z̃_{t−1} = ẑ_{t−1}, taken from (z0, ẑ) in the backward pass
                zt = None
        jacobians = res.jacobians
        res.values = res.jacobians = None
        info.append(res)
        ctx.model = model
        ctx.has_s = s is not None
        ctx.forced = zt is not None
        ctx.chunk = chunk_rows(opts, z0.device, m)
        first = zt if zt is not None else zp_tm
        ctx.save_for_backward(first, z0d, jacobians, *((s,) if s is not None else ()))
        return zp_tm.transpose(0, 1)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, gzp: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        saved = ctx.saved_tensors
        first, z0, a = saved[0], saved[1], saved[2]
        s = saved[3] if ctx.has_s else None
        model: DynamicalModel = ctx.model
        structure = model.jacobian_structure
        t_len, b, m = first.shape
        flat = first.reshape(t_len * b, m)
        if ctx.forced:  # rows of z̃_0 … z̃_{T−1}

            def z_rows(i0: int, i1: int) -> Tensor:
                return flat[i0:i1]

        else:  # row i of (z0, ẑ_1, …, ẑ_{T−1}) without building that tensor

            def z_rows(i0: int, i1: int) -> Tensor:
                return previous_rows(z0, flat, i0, i1)

        sflat = None if s is None else s.transpose(0, 1).reshape(t_len * b, -1)
        with torch.no_grad():
            g = gzp.transpose(0, 1).contiguous()  # a fresh copy: the scan runs in place
            g = reverse_adjoint_time_major(a, g, structure, out=g)
            gz0 = apply(transpose(a[0], structure), g[0], structure)
        params = [p for p in model.parameters() if p.requires_grad]
        grads = _batched_vjp(model, z_rows, sflat, g.reshape(t_len * b, m), params, ctx.chunk)
        return (gz0, None, None, None, None, None, None, *grads)


def _batched_vjp(
    model: DynamicalModel,
    z_rows: Callable[[int, int], Tensor],
    s: Tensor | None,
    g: Tensor,
    params: list[Tensor],
    chunk: int | None,
) -> list[Tensor | None]:
    """``Σ_rows (∂F(z_row)/∂θ)ᵀ g_row`` over the rows of ``g``, in blocks of ``chunk`` rows;
    ``z_rows(i0, i1)`` gives the states of rows ``i0 … i1−1``."""
    n = g.shape[0]
    rows = n if chunk is None else max(1, chunk)
    sums: dict[str, Tensor] = {}
    for i0 in range(0, n, rows):
        i1 = min(n, i0 + rows)
        s_rows = None if s is None else s[i0:i1]
        for name, gp in model.param_vjp(z_rows(i0, i1), s_rows, g[i0:i1]).items():
            sums[name] = gp if name not in sums else sums[name] + gp
    names = {id(p): name for name, p in model.named_parameters()}
    return [sums.get(names.get(id(p), "")) for p in params]


def parallel_forced_rollout(
    model: DynamicalModel,
    x: Tensor,
    alpha: Tensor | float,
    s: Tensor | None = None,
    z0: Tensor | None = None,
    options: NewtonOptions | None = None,
    return_info: bool = False,
) -> Tensor | tuple[Tensor, NewtonResult]:
    """Predictions ``ẑ_1…ẑ_T`` ``(B, T, M)`` of the forced recurrence, solved by Newton.

    Arguments as :func:`attractor.train.rollout.forced_rollout` (``x`` ``(B, T+1, N)``,
    ``alpha`` scalar or ``(T,)``, ``s`` ``(B, T, K)``, ``z0`` ``(B, M)``). ``options`` sets
    the Newton method, iteration cap and tolerances. With ``return_info`` also returns the
    :class:`~attractor.parallel.newton.NewtonResult` (iterations, residuals, fallback).
    """
    opts = options or NewtonOptions()
    if torch.is_tensor(alpha) or float(alpha) != 0.0:
        w, xpad, z0 = forcing_inputs(model, x, alpha, z0)
    else:  # unforced: the targets are never read, so do not build the padded (B, T, M) copy
        w, _, z0 = forcing_inputs(model, x[:, :1], alpha, z0)
        w = w.new_zeros(()).expand(x.shape[1] - 1, model.latent_dim)
        xpad = x.new_zeros(()).expand(x.shape[0], x.shape[1] - 1, model.latent_dim)
    params = [p for p in model.parameters() if p.requires_grad]
    info: list[NewtonResult] = []
    pred = _ParallelRollout.apply(z0, xpad, w, s, model, opts, info, *params)
    return (pred, info[0]) if return_info else pred


@torch.no_grad()
def parallel_simulate(
    model: DynamicalModel,
    z0: Tensor,
    steps: int,
    s: Tensor | None = None,
    options: NewtonOptions | None = None,
) -> NewtonResult:
    """Free run ``z_t = F(z_{t−1}, s_t)``, ``t = 1…steps``, from ``z0`` ``(B, M)`` by Newton.

    For chaotic models Newton needs many iterations (and may fall back to sequential evaluation);
    :meth:`DynamicalModel.simulate` stays the default for generation. Returns the
    :class:`~attractor.parallel.newton.NewtonResult` with ``states`` ``(B, steps, M)``.
    """
    opts = options or NewtonOptions(init="start")
    structure = model.jacobian_structure
    inputs = [] if s is None else [s]
    return newton_solve(
        model.step,
        None,
        z0,
        inputs,
        steps,
        step_and_jacobian=lambda z, *u: model.step_and_jacobian(z, u[0] if u else None),
        structure=structure,
        method=opts.method,
        max_iter=opts.max_iter,
        rtol=opts.rtol,
        atol=opts.atol,
        fallback=opts.fallback,
        chunk=chunk_rows(opts, z0.device, model.latent_dim),
    )
