"""Our echo-state network: ridge readout against a direct least-squares solve, analytic
Jacobian, closed-loop generation, naive baselines."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.errors import DataError
from attractor.models import create
from attractor.models.base import DynamicalModel
from attractor.models.reservoir import EchoStateNetwork, ridge_solve
from conftest import lorenz


@settings(max_examples=20, deadline=None)
@given(st.integers(5, 40), st.integers(1, 4), st.integers(1, 3), st.floats(1e-6, 10.0))
def test_ridge_solve_matches_normal_equations(s_len, f, n, beta):
    rng = np.random.default_rng(s_len * 7 + f)
    phi = np.column_stack([np.ones(s_len), rng.normal(size=(s_len, f))])
    y = rng.normal(size=(s_len, n))
    w = ridge_solve(torch.as_tensor(phi), torch.as_tensor(y), beta).numpy()
    # slow reference: augmented least squares with an unpenalised intercept
    pen = np.sqrt(beta) * np.eye(f + 1)
    pen[0, 0] = 0.0
    a = np.vstack([phi, pen])
    b = np.vstack([y, np.zeros((f + 1, n))])
    ref = np.linalg.lstsq(a, b, rcond=None)[0].T
    np.testing.assert_allclose(w, ref, rtol=1e-6, atol=1e-8)


def test_jacobian_matches_autograd():
    torch.manual_seed(0)
    m = EchoStateNetwork(3, reservoir=20).double()
    m.W_out.normal_()
    z = torch.randn(5, m.latent_dim, dtype=torch.float64)
    torch.testing.assert_close(m.jacobian(z), DynamicalModel.jacobian(m, z))


@pytest.mark.parametrize("readout_input", [True, False])
def test_jvp_matches_jacobian_times_vector(readout_input):
    torch.manual_seed(1)
    m = EchoStateNetwork(3, reservoir=30, readout_input=readout_input).double()
    m.W_out.normal_()
    z = torch.randn(4, m.latent_dim, dtype=torch.float64)
    v = torch.randn(4, m.latent_dim, dtype=torch.float64)
    expected = torch.einsum("bij,bj->bi", m.jacobian(z), v)
    torch.testing.assert_close(m.jvp(z, v), expected)


def test_lambda_max_by_jvp_equals_full_jacobian_path(lorenz_std, monkeypatch):
    """λ_max of a 203-d reservoir: the Jacobian-vector path (used when k ≪ M) and the full
    (M, M) Jacobian path give the same number."""
    from attractor.metrics import lyapunov as lyap

    torch.manual_seed(0)
    m = EchoStateNetwork(3, reservoir=200)
    m.fit_direct([lorenz_std[:3000]])
    kw = dict(x0=lorenz_std[0], n_steps=400, n_transient=100, k=1, dt=0.01)
    fast = lyap.lyapunov_spectrum(m, **kw)
    monkeypatch.setattr(lyap, "TANGENT_MIN_DIM", 10**9)
    full = lyap.lyapunov_spectrum(m, **kw)
    np.testing.assert_allclose(fast.exponents, full.exponents, rtol=1e-9)
    np.testing.assert_allclose(fast.history, full.history, rtol=1e-9)


@pytest.fixture(scope="module")
def lorenz_std():
    x = lorenz(6000)
    return (x - x.mean(0)) / x.std(0)


def test_esn_learns_lorenz(lorenz_std):
    torch.manual_seed(0)
    m = create("esn", 3, reservoir=200)
    m.fit_direct([lorenz_std[:5000]])
    test = torch.as_tensor(lorenz_std[5000:], dtype=torch.float32)
    # driven by the data (reservoir synchronised), the one-step error is far below persistence
    r = m.harvest(test[:-1])
    pred = m.features(test[:-1], r) @ m.W_out.T
    one_step = ((pred[100:] - test[1:][100:]) ** 2).mean().item()
    persistence = ((test[1:] - test[:-1]) ** 2).mean().item()
    assert one_step < 0.01 * persistence
    # from a single observation (linear encoder) it still beats persistence
    enc = ((m.observe(m.step(m.encode(test[:-1]))) - test[1:]) ** 2).mean().item()
    assert enc < persistence
    run = m.simulate(test[0], 3000).numpy()
    assert np.isfinite(run).all() and run.std(0).min() > 0.3  # stays on a chaotic attractor


def test_esn_errors():
    with pytest.raises(DataError):
        create("esn", 3, washout=100).fit_direct([np.zeros((50, 3))])


def test_naive_baselines(lorenz_std):
    last = create("naive-last", 3)
    x0 = torch.tensor([[1.0, 2.0, 3.0]])
    torch.testing.assert_close(last.simulate(x0, 4), x0[:, None].expand(1, 4, 3))
    mean = create("naive-mean", 3)
    mean.fit_direct([lorenz_std + 2.0])
    out = mean.simulate(x0, 3)
    np.testing.assert_allclose(out[0, 1].numpy(), (lorenz_std + 2.0).mean(0), rtol=1e-5)
    assert torch.equal(out[0, 0], x0[0])


def test_ridge_is_chosen_on_validation_data(lorenz_std):
    """With held-out data the ESN keeps the ridge whose free run validates best; the kept
    readout equals a fresh fit at that ridge, and every candidate is in the history."""
    from attractor.metrics.protocol import validate
    from attractor.models.reservoir import RIDGE_GRID
    from attractor.train.loop import TrainConfig, train

    train_part, val_part = lorenz_std[:4000], lorenz_std[4000:6000]
    torch.manual_seed(3)
    m = EchoStateNetwork(3, reservoir=60)
    cfg = TrainConfig(val_trajectories=2, val_length=1000)
    res = train(m, [train_part], [val_part], config=cfg, validator=validate)
    assert [row["ridge"] for row in res.history] == list(RIDGE_GRID)
    scores = [row["D_stsp"] for row in res.history]
    assert res.best_metrics["D_stsp"] == min(scores)
    assert m.ridge == RIDGE_GRID[int(np.argmin(scores))] and m._design is None
    torch.manual_seed(3)
    fresh = EchoStateNetwork(3, reservoir=60, ridge=m.ridge)
    fresh.fit_direct([train_part])
    torch.testing.assert_close(fresh.W_out, m.W_out)
    again = validate(m, [val_part], 2, 1000)
    assert again["D_stsp"] == pytest.approx(res.best_metrics["D_stsp"])
