"""Associative scan for linear recurrences ``x_t = a_t x_{t−1} + b_t`` in O(log T) depth.

Three structures of the transition ``a_t`` (shapes with batch dims ``...`` and time ``T``):

* ``"diagonal"``: ``a`` is ``(..., T, M)`` and acts elementwise, ``a_t ⊙ x``;
* ``"block"``: ``a`` is ``(..., T, k, k, m)`` — a ``k × k`` grid of diagonal ``m × m`` blocks,
  acting on ``x = [x¹; …; xᵏ]`` (``M = k·m``) as ``(a x)^p = Σ_q a^{pq} ⊙ x^q`` (the LSTM's
  ``[h; c]`` state with diagonal recurrences has ``k = 2``);
* ``"dense"``: ``a`` is ``(..., T, M, M)``, a matrix product.

``b`` and the result ``x`` are always ``(..., T, M)``; ``h0`` (``(..., M)``, default 0) is
``x_0``, so ``x_1 = a_1 h0 + b_1``. The pairs ``(a, b)`` compose associatively,
``(a_i, b_i) ∘ (a_j, b_j) = (a_j a_i, a_j b_i + b_j)`` (REFERENCE §5); this module evaluates
the scan by odd–even recursion (combine neighbouring pairs, solve the half-length problem,
fill in the even positions), which has depth O(log T) *and* O(T) total work — unlike the
Hillis–Steele doubling scan, whose O(T log T) work would throw away the gain on a CPU. On a CPU,
diagonal transitions with T ≥ ``CHUNK_MIN_STEPS`` take a chunked scan instead
(:func:`_chunk_scan_into`): fewer passes over memory, and a few cores do not need more depth.

Backward pass: for a loss gradient ``g_t = ∂ℓ/∂x_t`` the adjoint ``λ_t = g_t + a_{t+1}ᵀ λ_{t+1}``
is one reverse scan with transposed transitions; then ``∂ℓ/∂b_t = λ_t`` and
``∂ℓ/∂a_t = λ_t ⊗ x_{t−1}`` (elementwise / per block / outer product).

Why hand-written: ``torch.associative_scan`` is a private prototype that needs ``torch.compile``
with CUDA code generation and has no autograd; the scan itself is a few tensor operations.
Everything here is device- and dtype-agnostic and imports nothing else from attractor.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from attractor.errors import ConfigError

STRUCTURES = ("diagonal", "block", "dense")
#: Number of trailing dims of ``a`` beyond time, per structure.
_A_TRAILING = {"diagonal": 1, "block": 3, "dense": 2}


# ---------------------------------------------------------------------------- the algebra
def apply(a: Tensor, x: Tensor, structure: str) -> Tensor:
    """``a x`` for one transition per row: ``a`` as in the module docstring, ``x`` ``(..., M)``."""
    if structure == "diagonal":
        return a * x
    if structure == "dense":
        return (a @ x.unsqueeze(-1)).squeeze(-1)
    k, m = a.shape[-3], a.shape[-1]
    xb = x.unflatten(-1, (k, m))
    return (a * xb.unsqueeze(-3)).sum(-2).flatten(-2)


def compose(later: Tensor, earlier: Tensor, structure: str) -> Tensor:
    """The product ``later · earlier`` of two transitions of the same structure."""
    if structure == "diagonal":
        return later * earlier
    if structure == "dense":
        return later @ earlier
    # (p, r) × (r, q) → (p, q), elementwise over the m diagonal entries
    return (later.unsqueeze(-2) * earlier.unsqueeze(-4)).sum(-3)


def transpose(a: Tensor, structure: str) -> Tensor:
    """``aᵀ`` (a diagonal transition is its own transpose)."""
    if structure == "diagonal":
        return a
    if structure == "dense":
        return a.transpose(-1, -2)
    return a.transpose(-3, -2)


def outer(lam: Tensor, x: Tensor, structure: str, k: int = 1) -> Tensor:
    """``∂(λ · a x)/∂a`` in ``a``'s own structure: ``λ ⊙ x``, per block (``k × k``), or ``λ xᵀ``."""
    if structure == "diagonal":
        return lam * x
    if structure == "dense":
        return lam.unsqueeze(-1) * x.unsqueeze(-2)
    return lam.unflatten(-1, (k, -1)).unsqueeze(-2) * x.unflatten(-1, (k, -1)).unsqueeze(-3)


def scale(
    a: Tensor, structure: str, rows: Tensor | None = None, cols: Tensor | None = None
) -> Tensor:
    """``diag(rows) · a · diag(cols)`` for vectors ``rows``/``cols`` of shape ``(..., M)``."""
    if structure == "diagonal":
        out = a if rows is None else a * rows
        return out if cols is None else out * cols
    if structure == "dense":
        out = a if rows is None else a * rows.unsqueeze(-1)
        return out if cols is None else out * cols.unsqueeze(-2)
    k = a.shape[-3]
    out = a if rows is None else a * rows.unflatten(-1, (k, -1)).unsqueeze(-2)
    return out if cols is None else out * cols.unflatten(-1, (k, -1)).unsqueeze(-3)


def diagonal_of(a: Tensor, structure: str) -> Tensor:
    """The diagonal of a transition as a vector ``(..., M)`` (quasi-Newton keeps only this)."""
    if structure == "diagonal":
        return a
    if structure == "dense":
        return torch.diagonal(a, dim1=-2, dim2=-1)
    return torch.diagonal(a, dim1=-3, dim2=-2).movedim(-1, -2).flatten(-2)


def to_dense(a: Tensor, structure: str) -> Tensor:
    """The transition as a dense ``(..., M, M)`` matrix (for tests and small problems)."""
    if structure == "dense":
        return a
    if structure == "diagonal":
        return torch.diag_embed(a)
    k = a.shape[-3]
    rows = [torch.cat([torch.diag_embed(a[..., p, q, :]) for q in range(k)], -1) for p in range(k)]
    return torch.cat(rows, -2)


# ---------------------------------------------------------------------------- the recursion
def _apply_add(
    a: Tensor, x: Tensor, b: Tensor, structure: str, out: Tensor | None = None
) -> Tensor:
    """``a x + b``; written into ``out`` (which may be a strided view) when given."""
    if structure == "diagonal":
        return torch.addcmul(b, a, x) if out is None else torch.addcmul(b, a, x, out=out)
    y = apply(a, x, structure) + b
    return y if out is None else out.copy_(y)


def _scan_into(a: Tensor, b: Tensor, out: Tensor, structure: str) -> Tensor:
    """Inclusive scan with time on dim 0 and ``x_{−1} = 0``, written into ``out`` (``b``'s shape).

    Pair (2i, 2i+1) into one transition; the states at the odd positions solve the half-length
    problem (written straight into ``out[1::2]``); the even positions follow from the odd one
    before them.
    """
    t_len = b.shape[0]
    if t_len == 1:
        return out.copy_(b)
    half = t_len // 2
    a_even, a_odd = a[0 : 2 * half : 2], a[1 : 2 * half : 2]
    b_pair = _apply_add(a_odd, b[0 : 2 * half : 2], b[1 : 2 * half : 2], structure)
    a_pair = compose(a_odd, a_even, structure) if half > 1 else a_odd
    _scan_into(a_pair, b_pair, out[1::2], structure)
    out[0] = b[0]
    n_even = (t_len - 1) // 2  # even positions 2, 4, … follow from the odd one before them
    if n_even:
        _apply_add(a[2::2], out[1 : 2 * n_even : 2], b[2::2], structure, out=out[2::2])
    return out


def _rscan_into(c: Tensor, g: Tensor, out: Tensor, structure: str) -> Tensor:
    """Reverse scan ``y_t = c_t y_{t+1} + g_t`` (``y_{T−1} = g_{T−1}``) written into ``out``.

    ``c`` has ``T − 1`` transitions (``c_t`` maps ``y_{t+1}`` to ``y_t``), ``g`` and ``out`` T
    rows, time on dim 0. The mirror image of :func:`_scan_into` without flipping (copying) the
    inputs: the even positions solve the half-length problem
    ``y_{2i} = (c_{2i} c_{2i+1}) y_{2i+2} + (c_{2i} g_{2i+1} + g_{2i})``, then each odd position
    follows from the even one after it.
    """
    t_len = g.shape[0]
    if t_len == 1:
        return out.copy_(g)
    n_even = (t_len + 1) // 2
    full = n_even - 1  # pairs (2i, 2i+1) that still have a successor y_{2i+2}
    g_pair = torch.empty_like(g[:n_even])
    if full:
        c_even, c_odd = c[0 : 2 * full : 2], c[1 : 2 * full : 2]
        _apply_add(c_even, g[1 : 2 * full : 2], g[0 : 2 * full : 2], structure, out=g_pair[:full])
    last = 2 * full  # the last even position: y_last = g_last (+ c_last g_{last+1} if T even)
    if t_len % 2 == 0:
        _apply_add(c[last], g[last + 1], g[last], structure, out=g_pair[full])
    else:
        g_pair[full] = g[last]
    c_pair = compose(c_even, c_odd, structure) if full else c[:0]
    _rscan_into(c_pair, g_pair, out[0::2], structure)
    if full:  # the odd positions 1, 3, …, 2·full − 1 have a successor (an even position)
        _apply_add(
            c[1 : 2 * full : 2],
            out[2 : 2 * full + 1 : 2],
            g[1 : 2 * full : 2],
            structure,
            out=out[1 : 2 * full : 2],
        )
    if t_len % 2 == 0:
        out[t_len - 1] = g[t_len - 1]
    return out


# ---------------------------------------------------------------------------- CPU: chunked
#: Chunk length of the CPU scans (``T ≥ CHUNK_MIN_STEPS``, diagonal transitions).
CHUNK_LEN = 16
CHUNK_MIN_STEPS = 256


def chunked_scan_applies(x: Tensor, structure: str) -> bool:
    """Whether the chunked scan serves this problem: diagonal transitions on a CPU, long T."""
    return structure == "diagonal" and x.device.type == "cpu" and x.shape[0] >= CHUNK_MIN_STEPS


def _chunk_scan_into(
    a: Tensor, b: Tensor, out: Tensor, chunk: int = CHUNK_LEN, work: Tensor | None = None
) -> Tensor:
    """:func:`_scan_into` for diagonal ``a`` by chunks — the form that suits a CPU.

    Split time into ``C = ⌊T/L⌋`` chunks of ``L`` steps. (1) Scan every chunk from a zero start,
    all chunks at once (``L`` steps, each an elementwise operation over ``C`` chunks), keeping
    the running products ``P`` of the transitions; (2) the chunks' true end states follow from a
    scan of length ``C`` over the pairs ``(P_end, x_end)``; (3) add ``P ⊙ x_end`` of the chunk
    before to every state. About 7 passes over the data (the odd–even recursion makes ~11, on
    strided halves), in ``2L + O(log C)`` operations; depth ``O(L + log C)`` instead of
    ``O(log T)``, which a CPU with a few cores does not miss. The last ``T − C·L`` steps run
    one by one. ``out`` may be ``b`` itself (every step reads ``b_t`` before writing ``x_t``
    at the same place); ``work`` (at least ``b``'s size) holds ``P`` instead of a new tensor.
    """
    t_len = b.shape[0]
    if t_len < chunk:
        return _scan_into(a, b, out, "diagonal")
    c = t_len // chunk
    n = c * chunk
    p = torch.empty_like(b[:n]) if work is None else work[:n]
    if out is not b:
        out[0:n:chunk] = b[0:n:chunk]
    p[0::chunk] = a[0:n:chunk]
    for k in range(1, chunk):
        torch.addcmul(b[k:n:chunk], a[k:n:chunk], out[k - 1 : n : chunk], out=out[k:n:chunk])
        torch.mul(a[k:n:chunk], p[k - 1 :: chunk], out=p[k::chunk])
    ends = _scan_into(
        p[chunk - 1 :: chunk], out[chunk - 1 : n : chunk], torch.empty_like(b[:c]), "diagonal"
    )
    if c > 1:
        body = out[chunk:n].unflatten(0, (c - 1, chunk))
        body.addcmul_(p[chunk:].unflatten(0, (c - 1, chunk)), ends[:-1].unsqueeze(1))
    for t in range(n, t_len):
        torch.addcmul(b[t], a[t], out[t - 1], out=out[t])
    return out


def _chunk_rscan_into(c: Tensor, g: Tensor, out: Tensor, chunk: int = CHUNK_LEN) -> Tensor:
    """:func:`_rscan_into` for diagonal ``c`` by chunks (the mirror image of
    :func:`_chunk_scan_into`): the chunks cover the last ``C·L`` steps, the first
    ``T − C·L`` run one by one at the end. ``c`` has ``T − 1`` transitions (``c_t`` maps
    ``y_{t+1}`` to ``y_t``), so the last chunk's last state has none (``y_{T−1} = g_{T−1}``).
    ``out`` may be ``g``."""
    t_len = g.shape[0]
    if t_len < chunk:
        return _rscan_into(c, g, out, "diagonal")
    n_chunks = t_len // chunk
    r = t_len - n_chunks * chunk
    p = torch.empty_like(g[r:])
    last = chunk - 1
    if out is not g:
        out[r + last :: chunk] = g[r + last :: chunk]
    p[last::chunk][: n_chunks - 1] = c[r + last :: chunk]
    p[-1] = 0
    for k in range(chunk - 2, -1, -1):
        torch.addcmul(
            g[r + k :: chunk], c[r + k :: chunk], out[r + k + 1 :: chunk], out=out[r + k :: chunk]
        )
        torch.mul(c[r + k :: chunk], p[k + 1 :: chunk], out=p[k::chunk])
    starts = _rscan_into(
        p[0 : (n_chunks - 1) * chunk : chunk],
        out[r::chunk],
        torch.empty_like(g[:n_chunks]),
        "diagonal",
    )
    if n_chunks > 1:
        body = out[r : r + (n_chunks - 1) * chunk].unflatten(0, (n_chunks - 1, chunk))
        body.addcmul_(
            p[: (n_chunks - 1) * chunk].unflatten(0, (n_chunks - 1, chunk)), starts[1:].unsqueeze(1)
        )
    for t in range(r - 1, -1, -1):
        torch.addcmul(g[t], c[t], out[t + 1], out=out[t])
    return out


def _to_time_first(a: Tensor, b: Tensor, structure: str) -> tuple[Tensor, Tensor]:
    # contiguous time-major copies: the recursion slices time with stride 2, which is several
    # times faster on contiguous (T, ...) blocks than on a strided batch-first view
    a = a.movedim(-1 - _A_TRAILING[structure], 0).contiguous()
    return a, b.movedim(-2, 0).contiguous()


@torch.no_grad()
def scan_time_major(
    a: Tensor,
    b: Tensor,
    structure: str = "diagonal",
    out: Tensor | None = None,
    work: Tensor | None = None,
) -> Tensor:
    """:func:`linear_scan` without autograd for time-major inputs: ``a`` ``(T, ..., …)``,
    ``b`` ``(T, ..., M)``, zero initial state; returns ``(T, ..., M)``.

    ``out``: where to write the result (may be ``b`` itself: the scan then runs in place);
    ``work``: scratch space the size of ``b`` for the CPU's chunked scan. Both save allocating
    full-size tensors, whose first touch (page faults) costs about as much as a pass over them.
    """
    out = torch.empty_like(b) if out is None else out
    if chunked_scan_applies(b, structure):
        return _chunk_scan_into(a, b, out, work=work)
    return _scan_into(a, b, out, structure)  # also safe in place: b_t is read before x_t


class _Scan(torch.autograd.Function):
    """``x = scan(a, b)`` with zero initial state; backward = one reverse scan."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, structure: str) -> Tensor:  # type: ignore[override]
        at, bt = _to_time_first(a, b, structure)
        xt = scan_time_major(at, bt, structure)  # no autograd inside
        ctx.structure = structure
        ctx.save_for_backward(a, xt.movedim(0, -2))
        return xt.movedim(0, -2)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        a, x = ctx.saved_tensors
        structure = ctx.structure
        lam = reverse_adjoint(a, g, structure)
        grad_a = None
        if ctx.needs_input_grad[0]:
            x_prev = torch.cat([torch.zeros_like(x[..., :1, :]), x[..., :-1, :]], dim=-2)
            k = a.shape[-3] if structure == "block" else 1
            grad_a = outer(lam, x_prev, structure, k)
        return grad_a, lam, None


def reverse_adjoint(a: Tensor, g: Tensor, structure: str) -> Tensor:
    """``λ_t = g_t + a_{t+1}ᵀ λ_{t+1}`` (``λ_T = g_T``) by one reverse scan: ``(..., T, M)``."""
    at, gt = _to_time_first(a, g, structure)
    return reverse_adjoint_time_major(at, gt, structure).movedim(0, -2)


@torch.no_grad()
def reverse_adjoint_time_major(
    a: Tensor, g: Tensor, structure: str, out: Tensor | None = None
) -> Tensor:
    """:func:`reverse_adjoint` for time-major ``a`` ``(T, ...)`` and ``g`` ``(T, ..., M)``;
    ``out`` may be ``g`` (the scan then runs in place)."""
    out = torch.empty_like(g) if out is None else out
    if chunked_scan_applies(g, structure):
        return _chunk_rscan_into(a[1:], g, out)
    return _rscan_into(transpose(a[1:], structure), g, out, structure)


# ---------------------------------------------------------------------------- public API
def check_shapes(a: Tensor, b: Tensor, structure: str) -> None:
    """Raise :class:`ConfigError` unless ``a`` and ``b`` fit ``structure``."""
    if structure not in STRUCTURES:
        raise ConfigError(f"unknown scan structure {structure!r}; use one of {STRUCTURES}.")
    if b.ndim < 2 or b.shape[-2] < 1:
        raise ConfigError(f"b must be (..., T, M) with T ≥ 1, got shape {tuple(b.shape)}.")
    n_t = _A_TRAILING[structure]
    m = b.shape[-1]
    if a.ndim < n_t + 1 or a.shape[-1 - n_t] != b.shape[-2]:
        raise ConfigError(
            f"a has shape {tuple(a.shape)} but b has T = {b.shape[-2]} steps; a {structure} "
            f"transition needs a of shape (..., T, {'M' if n_t == 1 else '...'}) with the same T."
        )
    if structure == "diagonal":
        ok = a.shape[-1] == m
    elif structure == "dense":
        ok = tuple(a.shape[-2:]) == (m, m)
    else:
        ok = a.shape[-3] == a.shape[-2] and a.shape[-3] * a.shape[-1] == m
    if not ok:
        raise ConfigError(
            f"a of shape {tuple(a.shape)} does not match M = {m} for a {structure} transition "
            "((..., T, M) diagonal, (..., T, k, k, M/k) block, (..., T, M, M) dense)."
        )


def linear_scan(
    a: Tensor,
    b: Tensor,
    h0: Tensor | None = None,
    structure: str = "diagonal",
    reverse: bool = False,
) -> Tensor:
    """All states of ``x_t = a_t x_{t−1} + b_t``, ``t = 1…T``, with ``x_0 = h0``.

    ``a``: ``(..., T, M)`` diagonal, ``(..., T, k, k, M/k)`` block or ``(..., T, M, M)`` dense;
    ``b``: ``(..., T, M)``; ``h0``: ``(..., M)`` or ``None`` (zero). Batch dims broadcast.
    ``reverse=True`` runs backwards in time, ``x_t = a_t x_{t+1} + b_t`` with ``x_{T+1} = h0``.
    Returns ``(..., T, M)``; differentiable in ``a``, ``b`` and ``h0``.
    """
    check_shapes(a, b, structure)
    n_t = _A_TRAILING[structure]
    batch = torch.broadcast_shapes(a.shape[: -1 - n_t], b.shape[:-2])
    a = a.expand(*batch, *a.shape[-1 - n_t :])
    b = b.expand(*batch, *b.shape[-2:])
    if reverse:
        a, b = a.flip(-1 - n_t), b.flip(-2)
    if h0 is not None:
        first = b[..., :1, :] + apply(a.narrow(-1 - n_t, 0, 1), h0.unsqueeze(-2), structure)
        b = torch.cat([first, b[..., 1:, :]], dim=-2)
    x = _Scan.apply(a, b, structure)
    return x.flip(-2) if reverse else x


def sequential_scan(
    a: Tensor, b: Tensor, h0: Tensor | None = None, structure: str = "diagonal"
) -> Tensor:
    """Reference loop for :func:`linear_scan` (one step per time point): ``(..., T, M)``."""
    check_shapes(a, b, structure)
    n_t = _A_TRAILING[structure]
    x = torch.zeros_like(b[..., 0, :]) if h0 is None else h0
    out = []
    for t in range(b.shape[-2]):
        x = apply(a.select(-1 - n_t, t), x, structure) + b[..., t, :]
        out.append(x)
    return torch.stack(out, dim=-2)
