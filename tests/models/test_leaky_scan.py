"""The fused leaky-RNN loop with hand-written BPTT against the plain autograd loop (the slow
reference), finite differences, and its mixed-precision mode."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.models.leaky import LeakyRNN
from attractor.models.leaky_scan import leaky_scan, leaky_scan_reference


def _inputs(t, b, m, k, seed, h0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(t, b, k, generator=g, dtype=torch.float64)
    mm = (torch.randn(m, m, generator=g, dtype=torch.float64) / m**0.5).requires_grad_()
    w = torch.randn(m, k, generator=g, dtype=torch.float64).requires_grad_()
    c = torch.randn(m, generator=g, dtype=torch.float64).requires_grad_()
    z0 = torch.randn(b, m, generator=g, dtype=torch.float64).requires_grad_() if h0 else None
    return x, mm, w, c, z0


@settings(max_examples=25, deadline=None)
@given(
    t=st.integers(1, 9),
    b=st.integers(1, 4),
    m=st.integers(1, 6),
    k=st.integers(1, 3),
    slope=st.sampled_from([0.0, 0.01, 0.3, 1.0]),
    h0=st.booleans(),
    final=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_scan_equals_the_autograd_loop_in_values_and_gradients(t, b, m, k, slope, h0, final, seed):
    x, mm, w, c, z0 = _inputs(t, b, m, k, seed, h0)
    params = [mm, w, c] + ([z0] if h0 else [])
    fast = leaky_scan(x, mm, w, c, z0, slope, final=final)
    ref = leaky_scan_reference(x, mm, w, c, z0, slope)
    ref = ref[-1] if final else ref
    torch.testing.assert_close(fast, ref, rtol=1e-12, atol=1e-12)
    weights = torch.randn(
        ref.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    g_fast = torch.autograd.grad((fast * weights).sum(), params)
    g_ref = torch.autograd.grad((ref * weights).sum(), params)
    for a, r in zip(g_fast, g_ref, strict=True):
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("final", [False, True])
def test_scan_passes_finite_difference_gradcheck(final):
    x, mm, w, c, z0 = _inputs(5, 3, 4, 2, 0, True)
    assert torch.autograd.gradcheck(
        lambda mm, w, c, z0: leaky_scan(x, mm, w, c, z0, 0.05, final=final), (mm, w, c, z0)
    )


def test_bf16_products_stay_close_and_autocast_selects_them():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(20, 64, 1, generator=g) < 0.5).float()
    mm = torch.randn(100, 100, generator=g) / 12
    w, c = torch.randn(100, 1, generator=g), torch.randn(100, generator=g)
    full = leaky_scan(x, mm, w, c)
    half = leaky_scan(x, mm, w, c, compute_dtype=torch.bfloat16)
    assert half.dtype == torch.float32
    assert 0 < ((half - full).norm() / full.norm()).item() < 1e-2
    with torch.autocast("cpu", dtype=torch.bfloat16):
        auto = leaky_scan(x, mm, w, c)
    torch.testing.assert_close(auto, half)


def test_leaky_rnn_run_and_final_state_match_its_step():
    torch.manual_seed(0)
    model = LeakyRNN(1, 7, 2).double()
    s = torch.randn(3, 9, 2, dtype=torch.float64)
    z = torch.zeros(3, 7, dtype=torch.float64)
    steps = []
    for k in range(9):
        z = model.step(z, s[:, k])
        steps.append(z)
    ref = torch.stack(steps, 1)
    torch.testing.assert_close(model.run(s), ref)
    torch.testing.assert_close(model.final_state(s), ref[:, -1])
    params = [model.W, model.tau, model.b, model.C]
    g1 = torch.autograd.grad(model.final_state(s).sum(), params)
    g2 = torch.autograd.grad(ref[:, -1].sum(), params)
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, b)
