"""Delay embedding: shapes and values, the mutual-information lag, false nearest neighbours."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from attractor.data.embedding import (
    autocorrelation,
    choose_dimension,
    delay_embed,
    embed,
    false_nearest_neighbors,
    first_minimum_lag,
    mutual_information,
)
from attractor.data.series import TimeSeries
from attractor.errors import DataError


@pytest.fixture(scope="module")
def lorenz_x() -> np.ndarray:
    """x-coordinate of Lorenz-63, dt = 0.01, 5,000 points after a transient."""

    def rhs(t, u, s=10.0, r=28.0, b=8.0 / 3.0):
        x, y, z = u
        return [s * (y - x), x * (r - z) - y, x * y - b * z]

    t = np.arange(6000) * 0.01
    sol = solve_ivp(rhs, (0, t[-1]), [1.0, 1.0, 1.0], t_eval=t, rtol=1e-8, atol=1e-8)
    return sol.y[0, 1000:]


def noisy_sine(period: float, n: int = 5000, noise: float = 0.1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sin(2 * np.pi * np.arange(n) / period) + noise * rng.standard_normal(n)


# ---------------------------------------------------------------------------- delay_embed
def test_delay_embed_ramp_shape_and_values():
    x = np.arange(10.0)
    y = delay_embed(x, lag=2, dim=3)
    assert y.shape == (10 - 2 * 2, 3)
    np.testing.assert_array_equal(y[0], [4, 2, 0])  # x(t), x(t-τ), x(t-2τ) at t = 4
    np.testing.assert_array_equal(y[-1], [9, 7, 5])
    np.testing.assert_array_equal(delay_embed(x, 3, 1), x[:, None])


def test_delay_embed_several_channels_is_delay_major():
    x = np.column_stack([np.arange(6.0), 10 + np.arange(6.0)])
    y = delay_embed(x, lag=1, dim=2)
    assert y.shape == (5, 4)
    np.testing.assert_array_equal(y[0], [1, 11, 0, 10])


@pytest.mark.parametrize(("lag", "dim"), [(0, 2), (1, 0), (1.5, 2), (5, 3)])
def test_delay_embed_rejects_bad_arguments(lag, dim):
    with pytest.raises(DataError):
        delay_embed(np.arange(10.0), lag, dim)


# ---------------------------------------------------------------------------- lag
def test_mutual_information_basics():
    x = noisy_sine(40.0)
    mi = mutual_information(x, max_lag=30)
    assert mi.shape == (31,)
    assert np.all(mi >= 0) and mi[0] == mi.max()  # I(0) is the entropy of the binned signal
    two = mutual_information(np.column_stack([x, -x]), max_lag=5)
    assert two.shape == (6, 2)
    np.testing.assert_allclose(two[:, 0], two[:, 1])


@pytest.mark.parametrize("period", [20.0, 47.3, 100.0])
def test_mi_lag_of_a_sine_is_a_quarter_period(period):
    lag = first_minimum_lag(noisy_sine(period))
    assert abs(lag - period / 4) <= 0.2 * period / 4


def test_mi_lag_of_lorenz_x(lorenz_x):
    assert 14 <= first_minimum_lag(lorenz_x) <= 20  # ≈ 0.16 time units, the textbook value


def test_lag_falls_back_to_autocorrelation():
    # a random walk's mutual information decays without a minimum
    x = np.cumsum(np.random.default_rng(1).standard_normal(4000))
    rho = autocorrelation(x)
    lag = first_minimum_lag(x, max_lag=20)
    assert rho[lag] < np.exp(-1) <= rho[lag - 1]


def test_white_noise_gets_lag_one():
    assert first_minimum_lag(np.random.default_rng(2).standard_normal(3000)) == 1


def test_too_short_series_for_a_lag():
    with pytest.raises(DataError, match="too short"):
        first_minimum_lag(np.sin(np.arange(50.0)))
    with pytest.raises(DataError, match="too short"):
        mutual_information(np.arange(30.0), max_lag=20)


# ---------------------------------------------------------------------------- dimension
def test_fnn_picks_three_for_lorenz(lorenz_x):
    fnn = false_nearest_neighbors(lorenz_x, lag=16, max_dim=6)
    assert fnn.shape == (6,)
    assert fnn[0] > 0.5  # one delay coordinate folds the attractor onto itself
    assert choose_dimension(fnn) == 3


def test_fnn_picks_two_for_a_sine():
    x = np.sin(2 * np.pi * np.arange(5000) / 50.3)
    assert choose_dimension(false_nearest_neighbors(x, lag=12, max_dim=5)) in (1, 2)


def test_choose_dimension_falls_back_to_the_minimum():
    assert choose_dimension([0.9, 0.2, 0.004, 0.0]) == 3
    assert choose_dimension([0.9, 0.2, 0.05, 0.08]) == 3
    with pytest.raises(DataError):
        choose_dimension([])


def test_fnn_too_short():
    with pytest.raises(DataError, match="too short"):
        false_nearest_neighbors(np.sin(np.arange(60.0)), lag=5, max_dim=10)


# ---------------------------------------------------------------------------- embed
def test_embed_lorenz_records_the_choice(lorenz_x):
    s = TimeSeries(lorenz_x, dt=0.01, names=["x"], units=["m"], source="lorenz")
    e = embed(s)
    info = e.meta["embedding"]
    assert info["dim"] == 3 and 14 <= info["lag"] <= 20
    lag = info["lag"]
    assert e.values.shape == (len(lorenz_x) - 2 * lag, 3)
    assert e.names == ("x(t)", "x(t-τ)", "x(t-2τ)")
    assert e.units == ("m", "m", "m") and e.dt == 0.01 and e.source == "lorenz"
    assert len(info["mi"]) > lag and len(info["fnn"]) == 10
    assert info["lag_time"] == pytest.approx(0.01 * lag)
    np.testing.assert_array_equal(e.values[:, 0], lorenz_x[2 * lag :])
    np.testing.assert_array_equal(e.values[:, 2], lorenz_x[: -2 * lag])


def test_embed_with_given_lag_and_dim_several_trials_and_a_scaler():
    rng = np.random.default_rng(0)
    s = TimeSeries([rng.standard_normal((30, 2)), rng.standard_normal((40, 2))], names=["a", "b"])
    e = embed(s.standardise(), lag=3, dim=2, channel="b")
    assert e.lengths == [27, 37] and e.names == ("b(t)", "b(t-τ)")
    assert e.meta["embedding"]["method"] == {"lag": "given", "dim": "given"}
    assert e.scaler is not None and e.scaler.mean.shape == (2,)
    np.testing.assert_allclose(e.destandardise().trials[0][:, 0], s.trials[0][3:, 1])


def test_embed_too_short_for_automatic_choice():
    with pytest.raises(DataError, match="pass lag and dim"):
        embed(TimeSeries(np.sin(np.arange(40.0))))
