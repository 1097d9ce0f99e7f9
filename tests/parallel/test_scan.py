"""The associative scan equals the one-step-at-a-time loop, values and gradients, for diagonal,
2×2-block and dense transitions, any batch shape and length (hypothesis), forwards and backwards."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.errors import ConfigError
from attractor.parallel.scan import (
    CHUNK_MIN_STEPS,
    _chunk_rscan_into,
    _chunk_scan_into,
    linear_scan,
    reverse_adjoint,
    reverse_adjoint_time_major,
    scan_time_major,
    sequential_scan,
    to_dense,
)


def a_shape(structure: str, batch: tuple[int, ...], t: int, m: int, k: int) -> tuple[int, ...]:
    return {
        "diagonal": (*batch, t, m),
        "block": (*batch, t, k, k, m // k),
        "dense": (*batch, t, m, m),
    }[structure]


def make(structure, batch, t, m, k, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    # transitions of norm ≲ 1 so that long products neither blow up nor vanish too fast
    scale = 0.9 / (m if structure == "dense" else k if structure == "block" else 1) ** 0.5
    a = torch.randn(a_shape(structure, batch, t, m, k), generator=g, dtype=dtype) * scale
    b = torch.randn((*batch, t, m), generator=g, dtype=dtype)
    h0 = torch.randn((*batch, m), generator=g, dtype=dtype)
    return a, b, h0


shapes = st.fixed_dictionaries(
    {
        "structure": st.sampled_from(["diagonal", "block", "dense"]),
        "batch": st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),
        "t": st.integers(1, 70),
        "m_per": st.integers(1, 3),
        "k": st.integers(1, 3),
        "seed": st.integers(0, 10_000),
        "use_h0": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None)
@given(shapes)
def test_scan_matches_loop(p):
    m = p["m_per"] * p["k"]
    a, b, h0 = make(p["structure"], p["batch"], p["t"], m, p["k"], p["seed"])
    h0 = h0 if p["use_h0"] else None
    fast = linear_scan(a, b, h0, p["structure"])
    slow = sequential_scan(a, b, h0, p["structure"])
    assert fast.shape == b.shape
    torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(shapes)
def test_scan_gradients_match_loop(p):
    m = p["m_per"] * p["k"]
    a, b, h0 = make(p["structure"], p["batch"], p["t"], m, p["k"], p["seed"])
    w = torch.randn(b.shape, generator=torch.Generator().manual_seed(p["seed"] + 1), dtype=b.dtype)
    grads = []
    for fn in (linear_scan, sequential_scan):
        leaves = [x.clone().requires_grad_() for x in (a, b, h0)]
        out = fn(*leaves, structure=p["structure"])
        grads.append(torch.autograd.grad((out * w).sum(), leaves))
    for fast, slow in zip(*grads, strict=True):
        torch.testing.assert_close(fast, slow, rtol=1e-9, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 400), st.integers(1, 40), st.integers(0, 10_000))
def test_chunked_cpu_scans_match_the_loop(t, chunk, seed):
    """The chunked CPU scans (any chunk length, with and without a remainder) equal the loop,
    forwards and backwards in time."""
    a, b, _ = make("diagonal", (2,), t, 3, 1, seed)
    at, bt = a.movedim(-2, 0).contiguous(), b.movedim(-2, 0).contiguous()
    got = _chunk_scan_into(at, bt, torch.empty_like(bt), chunk)
    torch.testing.assert_close(got.movedim(0, -2), sequential_scan(a, b), rtol=1e-10, atol=1e-10)
    # reverse: y_t = a_{t+1} y_{t+1} + b_t is the loop over the flipped sequence
    rev = _chunk_rscan_into(at[1:], bt, torch.empty_like(bt), chunk)
    a_flip = torch.cat([a[..., :1, :], a[..., 1:, :].flip(-2)], dim=-2)
    slow = sequential_scan(a_flip, b.flip(-2)).flip(-2)
    torch.testing.assert_close(rev.movedim(0, -2), slow, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    ("structure", "t"),
    [
        ("diagonal", 40),
        ("diagonal", 41),
        ("diagonal", CHUNK_MIN_STEPS + 5),
        ("block", 41),
        ("dense", 40),
    ],
)
def test_time_major_scans_can_run_in_place(structure, t):
    """``out=b`` (and ``out=g`` for the adjoint) gives the same result as a fresh output, on
    both the odd–even and the chunked path."""
    a, b, _ = make(structure, (2,), t, 4, 2, 3)
    n_t = {"diagonal": 1, "block": 3, "dense": 2}[structure]
    at, bt = a.movedim(-1 - n_t, 0).contiguous(), b.movedim(-2, 0).contiguous()
    fresh = scan_time_major(at, bt, structure)
    inplace = bt.clone()
    out = scan_time_major(at, inplace, structure, out=inplace, work=torch.empty_like(bt))
    assert out is inplace
    torch.testing.assert_close(inplace, fresh, rtol=1e-12, atol=1e-12)
    fresh_r = reverse_adjoint(a, b, structure).movedim(-2, 0)
    g = bt.clone()
    reverse_adjoint_time_major(at, g, structure, out=g)
    torch.testing.assert_close(g, fresh_r, rtol=1e-12, atol=1e-12)


def test_long_diagonal_scan_takes_the_chunked_path_and_stays_exact():
    """Above CHUNK_MIN_STEPS on a CPU the diagonal scan (and its backward) run chunked."""
    a, b, h0 = make("diagonal", (3,), CHUNK_MIN_STEPS + 37, 4, 1, 7)
    w = torch.randn(b.shape, dtype=b.dtype)
    grads = []
    for fn in (linear_scan, sequential_scan):
        leaves = [x.clone().requires_grad_() for x in (a, b, h0)]
        out = fn(*leaves, structure="diagonal")
        grads.append((out.detach(), *torch.autograd.grad((out * w).sum(), leaves)))
    for fast, slow in zip(*grads, strict=True):
        torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("structure", ["diagonal", "block", "dense"])
def test_reverse_scan_runs_backwards_in_time(structure):
    a, b, h0 = make(structure, (2,), 33, 4, 2, seed=5)
    rev = linear_scan(a, b, h0, structure, reverse=True)
    ref = sequential_scan(a.flip(1), b.flip(1), h0, structure).flip(1)
    torch.testing.assert_close(rev, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("structure", ["diagonal", "block", "dense"])
def test_adjoint_is_the_transposed_reverse_recurrence(structure):
    """λ_t = g_t + a_{t+1}ᵀ λ_{t+1}, written out with dense matrices."""
    a, g, _ = make(structure, (3,), 25, 4, 2, seed=7)
    lam = reverse_adjoint(a, g, structure)
    dense = to_dense(a, structure)
    ref = torch.empty_like(g)
    ref[:, -1] = g[:, -1]
    for t in range(g.shape[1] - 2, -1, -1):
        ref[:, t] = g[:, t] + (dense[:, t + 1].transpose(-1, -2) @ ref[:, t + 1, :, None])[..., 0]
    torch.testing.assert_close(lam, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("structure", ["diagonal", "block", "dense"])
def test_gradcheck(structure):
    a, b, h0 = make(structure, (2,), 9, 4, 2, seed=3)
    inputs = tuple(x.requires_grad_() for x in (a, b, h0))
    assert torch.autograd.gradcheck(lambda *xs: linear_scan(*xs, structure=structure), inputs)


@pytest.mark.parametrize("structure", ["diagonal", "block", "dense"])
def test_float32_relative_accuracy(structure):
    a, b, h0 = make(structure, (4,), 500, 6, 2, seed=11)
    ref = sequential_scan(a, b, h0, structure)
    fast = linear_scan(a.float(), b.float(), h0.float(), structure).double()
    assert float((fast - ref).norm() / ref.norm()) < 1e-4


def test_time_major_form_and_broadcast_batch():
    a, _, _ = make("diagonal", (), 40, 5, 1, seed=2)
    bb = torch.randn(3, 40, 5, dtype=torch.float64)
    out = linear_scan(a, bb)  # a shared by the batch
    torch.testing.assert_close(out, sequential_scan(a.expand(3, 40, 5), bb))
    tm = scan_time_major(a.expand(3, 40, 5).transpose(0, 1), bb.transpose(0, 1))
    torch.testing.assert_close(tm.transpose(0, 1), out)


def test_known_values_geometric_sum():
    """x_t = ρ x_{t−1} + 1, x_0 = 0 → x_t = (1 − ρ^t)/(1 − ρ)."""
    rho, t = 0.5, 20
    a = torch.full((t, 1), rho, dtype=torch.float64)
    x = linear_scan(a, torch.ones(t, 1, dtype=torch.float64))[:, 0]
    steps = torch.arange(1, t + 1, dtype=torch.float64)
    torch.testing.assert_close(x, (1 - rho**steps) / (1 - rho))


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "structure"),
    [
        ((2, 5, 3), (2, 6, 3), "diagonal"),
        ((2, 5, 3, 2), (2, 5, 3), "dense"),
        ((2, 5, 2, 2, 2), (2, 5, 3), "block"),
        ((2, 5, 3), (2, 5, 3), "triangular"),
    ],
)
def test_bad_shapes_are_clear_errors(a_shape, b_shape, structure):
    with pytest.raises(ConfigError):
        linear_scan(torch.zeros(a_shape), torch.zeros(b_shape), structure=structure)
