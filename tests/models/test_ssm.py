"""Deep diagonal SSM: scan evaluation = stepping, analytic Jacobian = autograd, stable init."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.errors import ConfigError
from attractor.models import create
from attractor.models.base import DynamicalModel
from attractor.models.ssm import DiagonalSSM


def _model(n=3, seed=0, **kw):
    torch.manual_seed(seed)
    m = DiagonalSSM(n, **kw).double()
    for p in m.out.parameters():  # the zero-initialised readout would hide the dynamics
        torch.nn.init.normal_(p, std=0.3)
    return m


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 30), st.integers(0, 1000))
def test_sequence_scan_matches_forced_steps(n, layers, t_len, seed):
    m = _model(n, seed, layers=layers, modes=4, width=8)
    x = torch.randn(2, t_len, n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    z = m.encode(x[:, 0])
    preds = []
    for t in range(t_len):
        z = z.clone()
        z[:, :n] = x[:, t]
        z = m.step(z)
        preds.append(m.observe(z))
    torch.testing.assert_close(m.sequence(x), torch.stack(preds, 1), rtol=1e-10, atol=1e-10)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 1000))
def test_analytic_jacobian_matches_autograd(n, layers, seed):
    m = _model(n, seed, layers=layers, modes=3, width=5)
    z = torch.randn(
        4, m.latent_dim, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )
    torch.testing.assert_close(m.jacobian(z), DynamicalModel.jacobian(m, z), rtol=1e-9, atol=1e-9)


def test_zoh_discretisation_known_value():
    """One mode, Λ = −1/2 + iπ·0, Δ: Ā = e^{ΛΔ}, B̄ = (Ā − 1)/Λ · B."""
    m = DiagonalSSM(1, width=1, modes=1, layers=1).double()
    with torch.no_grad():
        m.nu.fill_(math.log(0.5))
        m.omega.fill_(2.0)
        m.log_dt.fill_(math.log(0.1))
        m.B_re.fill_(1.0)
        m.B_im.fill_(0.0)
    a, b, _ = m.discrete()
    lam = complex(-0.5, 2.0)
    import cmath

    want_a = cmath.exp(lam * 0.1)
    assert abs(complex(a.item()) - want_a) < 1e-12
    assert abs(complex(b.item()) - (want_a - 1) / lam) < 1e-12
    assert abs(a).max() < 1  # Re Λ < 0: every mode decays


def test_registry_shapes_and_errors():
    m = create("ssm", 3)
    assert m.latent_dim == 3 + 2 * m.modes * m.layers
    assert m.simulate(torch.zeros(3), 5).shape == (5, 3)
    # zero readout at init: persistence
    torch.testing.assert_close(m.simulate(torch.ones(2, 3), 4), torch.ones(2, 4, 3))
    with pytest.raises(ConfigError):
        DiagonalSSM(3, layers=0)
