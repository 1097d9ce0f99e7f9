"""PE(n), sMAPE and the valid prediction time (REFERENCE §3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attractor.errors import ConfigError, DataError
from attractor.metrics.forecast import (
    VPT,
    nrmse,
    prediction_error,
    prediction_error_curve,
    smape,
    valid_prediction_time,
)
from attractor.models.base import DynamicalModel

FAST = settings(max_examples=50, deadline=None)


class LinearMap(DynamicalModel):
    """Test-only model ``z' = A z`` with identity readout of the first N units."""

    def __init__(self, a: np.ndarray, obs_dim: int, l_mat: np.ndarray | None = None) -> None:
        a = np.atleast_2d(np.asarray(a, dtype=np.float64))
        super().__init__(obs_dim, a.shape[0])
        self.A = torch.nn.Parameter(torch.tensor(a))
        if l_mat is not None:
            self.L = torch.nn.Parameter(torch.tensor(np.asarray(l_mat, dtype=np.float64)))
        self.double()

    def step(self, z: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        return z @ self.A.T


def rotation(theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def circle(theta: float, t: int) -> np.ndarray:
    k = np.arange(t)
    return np.c_[np.cos(k * theta), np.sin(k * theta)]


# ---------------------------------------------------------------------- PE(n)
def test_perfect_model_has_zero_prediction_error():
    x = circle(0.1, 300)
    assert prediction_error(LinearMap(rotation(0.1), 2), x, n=20) == pytest.approx(0.0, abs=1e-20)


@pytest.mark.parametrize("n", [1, 5, 20])
def test_pe_of_a_detuned_rotation_is_analytic(n):
    # Every start lies on the unit circle; after n steps prediction and truth differ by the
    # angle nΔ, so the squared error averaged over the 2 dims is 1 − cos(nΔ) for every start.
    theta, delta = 0.1, 0.013
    model = LinearMap(rotation(theta + delta), 2)
    pe = prediction_error(model, circle(theta, 500), n=n)
    assert isinstance(pe, float)
    assert pe == pytest.approx(1.0 - math.cos(n * delta), rel=1e-9)


def test_pe_uses_encode_and_every_valid_start():
    # M = 2 > N = 1: z = [x, L x]; z' = A z. Reference computed directly in numpy.
    a = np.array([[0.9, 0.2], [-0.3, 0.5]])
    l_mat = np.array([[0.7]])
    x = np.random.default_rng(0).standard_normal((57, 1))
    n = 4
    z = np.c_[x, x @ l_mat.T]
    pred = (z @ np.linalg.matrix_power(a, n).T)[:, :1]
    expected = np.mean((pred[: len(x) - n] - x[n:]) ** 2)
    model = LinearMap(a, 1, l_mat)
    assert prediction_error(model, x, n=n) == pytest.approx(expected, rel=1e-12)
    assert prediction_error(model, x, n=n, batch=5) == pytest.approx(expected, rel=1e-12)
    assert prediction_error(model, torch.tensor(x), n=n) == pytest.approx(expected, rel=1e-12)
    assert prediction_error(model, x[: n + 1], n=n) == pytest.approx(
        float(np.mean((pred[0] - x[n]) ** 2))
    )


def test_curve_equals_pe_at_every_horizon():
    a = np.array([[0.95, 0.3], [-0.3, 0.9]])
    x = np.random.default_rng(1).standard_normal((40, 2)).cumsum(axis=0)
    model = LinearMap(a, 2)
    curve = prediction_error_curve(model, x, n_max=12, batch=7)
    assert curve.shape == (12,)
    for n in range(1, 13):
        assert curve[n - 1] == pytest.approx(prediction_error(model, x, n=n), rel=1e-12)


def test_pe_runs_in_the_models_dtype_without_gradients():
    model = LinearMap(rotation(0.2), 2).float()
    x = circle(0.2, 100)
    pe = prediction_error(model, x, n=3)
    assert pe == pytest.approx(0.0, abs=1e-10)
    assert model.A.grad is None and model.A.dtype == torch.float32


def test_pe_bad_input():
    model = LinearMap(rotation(0.1), 2)
    with pytest.raises(DataError, match="needs more than 20"):
        prediction_error(model, circle(0.1, 20), n=20)
    with pytest.raises(DataError, match="the model observes 2"):
        prediction_error(model, np.zeros((50, 3)))
    with pytest.raises(DataError, match="non-finite"):
        prediction_error(model, np.full((50, 2), np.nan))
    with pytest.raises(ConfigError, match="n must be a positive integer"):
        prediction_error(model, circle(0.1, 50), n=0)


# ---------------------------------------------------------------------- sMAPE
def test_smape_known_values():
    y = np.array([1.0, -2.0, 3.0])
    assert smape(y, y) == 0.0
    assert smape(y, -y) == pytest.approx(200.0)
    assert smape([1.0], [3.0]) == pytest.approx(100.0)  # 200·2/4
    assert smape([0.0, 1.0], [0.0, 1.0]) == 0.0  # 0/0 counts as 0
    assert smape([0.0], [5.0]) == pytest.approx(200.0)
    assert smape(np.ones((4, 2)), np.r_[np.ones((2, 2)), 3 * np.ones((2, 2))]) == pytest.approx(
        50.0
    )


# Zero or magnitudes in [1e-6, 1e6]: scaled by c ∈ [1e-3, 1e3] they stay normal floats; otherwise
# the scaled inputs underflow (5e-324 · 0.5 == 0.0) and scale-freeness fails in floating point.
finite = st.one_of(st.just(0.0), st.floats(1e-6, 1e6), st.floats(-1e6, -1e-6))
pairs = st.tuples(st.integers(1, 30), st.integers(1, 3)).flatmap(
    lambda s: st.tuples(
        arrays(np.float64, s, elements=finite), arrays(np.float64, s, elements=finite)
    )
)


@FAST
@given(pairs, st.floats(1e-3, 1e3))
def test_smape_is_bounded_symmetric_and_scale_free(pair, c):
    y, yhat = pair
    v = smape(y, yhat)
    assert 0.0 <= v <= 200.0 + 1e-9
    assert v == pytest.approx(smape(yhat, y))
    assert smape(c * y, c * yhat) == pytest.approx(v, rel=1e-9, abs=1e-9)


def test_smape_shape_mismatch():
    with pytest.raises(DataError, match="a forecast must match its target"):
        smape(np.ones((3, 2)), np.ones((3, 1)))


# ---------------------------------------------------------------------- VPT
def test_vpt_nrmse_crossing_index_and_units():
    h = 100
    y = np.c_[np.sin(np.arange(h) / 5.0), np.cos(np.arange(h) / 7.0)]
    yhat = y + 0.01 * np.arange(h)[:, None]  # NRMSE with σ = 1: 0.01 t, > 0.5 first at t = 51
    v = valid_prediction_time(y, yhat, dt=0.1, lyapunov=0.9, sigma=1.0)
    assert isinstance(v, VPT)
    assert (v.steps, v.censored, v.horizon) == (51, False, h)
    assert v.time == pytest.approx(5.1)
    assert v.lyapunov_times == pytest.approx(5.1 * 0.9)
    with pytest.raises(AttributeError):
        v.steps = 3  # frozen


def test_vpt_default_sigma_is_the_std_of_the_target():
    rng = np.random.default_rng(2)
    y = rng.standard_normal((80, 3)) * [1.0, 5.0, 0.2]
    yhat = y + rng.standard_normal((80, 3)) * np.linspace(0, 1, 80)[:, None] * [1.0, 5.0, 0.2]
    np.testing.assert_allclose(nrmse(y, yhat), nrmse(y, yhat, sigma=y.std(axis=0)))
    assert valid_prediction_time(y, yhat) == valid_prediction_time(y, yhat, sigma=y.std(axis=0))


def test_vpt_smape_variant_uses_the_cumulative_smape():
    h, k = 60, 20
    y = np.ones((h, 1))
    yhat = np.where(np.arange(h)[:, None] < k, 1.0, -1.0)  # per-step sMAPE 0, then 200
    # cumulative sMAPE at index i ≥ k is 200 (i − k + 1)/(i + 1) > 30 first at i = 23
    v = valid_prediction_time(y, yhat, dt=0.5, lyapunov=2.0, sigma=1.0)
    assert (v.smape_steps, v.smape_censored) == (23, False)
    assert v.smape_time == pytest.approx(11.5)
    assert v.smape_lyapunov_times == pytest.approx(23.0)
    assert v.steps == k  # the NRMSE (|−2| > 0.5) fails at once at index k


def test_vpt_perfect_forecast_is_censored_at_the_horizon():
    y = np.sin(np.arange(40.0))[:, None]
    v = valid_prediction_time(y, y)
    assert (v.steps, v.censored, v.smape_steps, v.smape_censored) == (40, True, 40, True)
    assert v.lyapunov_times is None and v.smape_lyapunov_times is None


def test_vpt_immediate_failure_is_zero():
    y = np.sin(np.arange(40.0))[:, None]
    v = valid_prediction_time(y, y + 10.0)
    assert v.steps == 0 and not v.censored and v.time == 0.0


def test_vpt_bad_input():
    y = np.sin(np.arange(40.0))[:, None]
    with pytest.raises(ConfigError, match="lyapunov"):
        valid_prediction_time(y, y, lyapunov=-0.5)
    with pytest.raises(ConfigError, match="dt"):
        valid_prediction_time(y, y, dt=0.0)
    with pytest.raises(ConfigError, match="sigma must be positive"):
        valid_prediction_time(y, y, sigma=0.0)
    with pytest.raises(ConfigError, match="one value per channel"):
        valid_prediction_time(y, y, sigma=[1.0, 2.0])
    with pytest.raises(DataError, match="pass sigma"):
        valid_prediction_time(np.ones((10, 1)), np.ones((10, 1)))
    with pytest.raises(DataError, match="shape"):
        valid_prediction_time(y, y[:-1])
