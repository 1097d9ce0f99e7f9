"""The noise-level estimator recovers known observation noise on smooth signals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.data.noise import estimate_noise


@settings(max_examples=20, deadline=None)
@given(level=st.floats(0.005, 0.5), period=st.integers(80, 400), seed=st.integers(0, 100))
def test_recovers_white_noise_on_a_smooth_signal(level, period, seed):
    t = np.arange(20_000)
    x = np.stack([np.sin(2 * np.pi * t / period), np.cos(2 * np.pi * t / (1.7 * period))], 1)
    noisy = x + level * np.random.default_rng(seed).standard_normal(x.shape)
    np.testing.assert_allclose(estimate_noise(noisy), level, rtol=0.05)


def test_clean_smooth_data_give_almost_zero():
    t = np.arange(5000)
    x = np.sin(2 * np.pi * t / 100)[:, None]
    assert estimate_noise(x)[0] < 1e-3


def test_trials_are_pooled_and_short_input_is_safe():
    rng = np.random.default_rng(0)
    trials = [0.1 * rng.standard_normal((3000, 1)) for _ in range(3)]
    assert estimate_noise(trials)[0] == pytest.approx(0.1, rel=0.05)
    assert estimate_noise(np.zeros((3, 2))).shape == (2,)
