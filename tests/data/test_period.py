"""Characteristic period (median frequency of the power spectrum) and decimation factors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.data.period import decimation_factors, dominant_period
from attractor.errors import DataError


@settings(max_examples=20, deadline=None)
@given(period=st.floats(8.0, 400.0), phase=st.floats(0.0, 6.28), channels=st.integers(1, 3))
def test_a_sinusoid_has_its_own_period(period, phase, channels):
    t = np.arange(20_000)
    x = np.stack([np.sin(2 * np.pi * t / period + phase + k) for k in range(channels)], axis=1)
    # the Welch grid resolves frequencies to 1/8192 cycles per sample
    assert dominant_period(x) == pytest.approx(period, rel=0.02 + period / 8192)


def test_noise_and_trials_do_not_move_it_much():
    rng = np.random.default_rng(0)
    t = np.arange(12_000)
    trials = [np.sin(2 * np.pi * t / 60)[:, None] + 0.05 * rng.normal(size=(12_000, 1))] * 2
    assert dominant_period(trials) == pytest.approx(60, rel=0.05)


def test_lorenz_period_is_stable_across_record_lengths():
    from conftest import lorenz

    """A short record must not jump to the slow lobe switching (hundreds of samples)."""
    x = lorenz(20_000, dt=0.01)
    long, short = dominant_period(x), dominant_period(x[:1500])
    assert 40 < long < 120 and 40 < short < 120
    assert short == pytest.approx(long, rel=0.35)


def test_decimation_keeps_enough_samples_per_period():
    assert decimation_factors(10) == [1]
    assert decimation_factors(100) == [1, 2, 4]
    assert decimation_factors(10_000) == [1, 2, 4, 8]
    assert all(100 / k >= 25 for k in decimation_factors(100))


def test_constant_or_short_series_are_refused():
    with pytest.raises(DataError, match="constant"):
        dominant_period(np.ones((100, 2)))
    with pytest.raises(DataError, match="at least 16"):
        dominant_period(np.zeros((8, 1)))
