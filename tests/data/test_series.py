"""TimeSeries and Scaler: validation, standardisation round trip, splits, noise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attractor.data.series import Scaler, TimeSeries
from attractor.errors import DataError


@settings(max_examples=30, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(5, 50), st.integers(1, 4)),
        elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
    )
)
def test_standardise_roundtrip(x):
    if (x.std(axis=0) <= 1e-10 * np.maximum(np.abs(x.mean(axis=0)), 1.0)).any():
        with pytest.raises(DataError, match="constant"):
            TimeSeries(x).standardise()
        return
    ts = TimeSeries(x).standardise()
    np.testing.assert_allclose(ts.values.mean(0), 0, atol=1e-8)
    np.testing.assert_allclose(ts.values.std(0), 1, rtol=1e-6)
    np.testing.assert_allclose(ts.destandardise().values, x, rtol=1e-9, atol=1e-9)


def test_scaler_dict_roundtrip():
    sc = Scaler(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    sc2 = Scaler.from_dict(sc.to_dict())
    np.testing.assert_array_equal(sc2.mean, sc.mean)
    x = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_allclose(sc2.inverse(sc2.transform(x)), x)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (np.array([[1.0, np.nan], [2.0, 3.0]]), "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), "infinite"),
        (np.zeros((1, 2)), "at least 2"),
        (np.zeros((2, 2, 2, 2)), "dimensions"),
        (np.array(["a", "b"]), "not numbers"),
        (np.array([[1 + 1j], [2j]]), "complex"),
        (np.zeros((5, 0)), "no channels"),
        (3.0, "single number"),
        ([np.zeros((5, 2)), np.zeros((5, 3))], "different numbers of channels"),
    ],
)
def test_bad_values_are_rejected(values, match):
    with pytest.raises(DataError, match=match):
        TimeSeries(values)


def test_bad_dt_and_names():
    with pytest.raises(DataError, match="dt"):
        TimeSeries(np.zeros((4, 1)), dt=0)
    with pytest.raises(DataError, match="names"):
        TimeSeries(np.zeros((4, 2)), names=["a"])


def test_split_single_and_trials():
    x = np.arange(100.0)[:, None]
    tr, te = TimeSeries(x).split(0.8)
    assert tr.values.shape == (80, 1) and te.values[0, 0] == 80
    ts = TimeSeries([np.ones((10, 1)) * k for k in range(5)])
    tr, te = ts.split(0.6)
    assert tr.n_trials == 3 and te.n_trials == 2


def test_noise_level_matches_request():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200_000, 2)) * [1.0, 10.0]
    noisy = TimeSeries(x).add_noise(0.05, seed=3)
    resid = noisy.values - x
    np.testing.assert_allclose(resid.std(0) / x.std(0), 0.05, rtol=0.02)
    same = TimeSeries(x).add_noise(0.05, seed=3)
    np.testing.assert_array_equal(same.values, noisy.values)


def test_nested_list_is_one_trajectory():
    ts = TimeSeries([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
    assert ts.n_trials == 1 and ts.values.shape == (3, 2)


def test_select_keeps_scaler_columns():
    x = np.random.default_rng(0).normal(size=(50, 3)) * [1, 2, 3]
    ts = TimeSeries(x, names=["a", "b", "c"]).standardise()
    sub = ts.select(["c", 0])
    assert sub.names == ("c", "a")
    np.testing.assert_allclose(sub.destandardise().values, x[:, [2, 0]])
