"""Savitzky–Golay denoising with the window chosen by generalised cross-validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.data.denoise import choose_window, denoise, gcv_score


def signal(n: int = 4000, period: float = 100.0) -> np.ndarray:
    t = np.arange(n)
    return np.stack([np.sin(2 * np.pi * t / period), np.cos(2 * np.pi * t / (1.7 * period))], 1)


def test_noise_is_removed_and_a_clean_signal_is_left_alone():
    clean = signal()
    noisy = clean + 0.05 * np.random.default_rng(1).standard_normal(clean.shape)
    (out,) = denoise([noisy])
    assert np.sqrt(np.mean((out - clean) ** 2)) < 0.4 * 0.05
    (same,) = denoise(clean)
    assert np.max(np.abs(same - clean)) < 1e-6


def test_gcv_prefers_wider_windows_for_noisier_data():
    clean = signal()
    rng = np.random.default_rng(2)
    w_low = choose_window(clean + 0.01 * rng.standard_normal(clean.shape))[1]
    w_high = choose_window(clean + 0.2 * rng.standard_normal(clean.shape))[1]
    assert w_high > w_low


def test_gcv_is_the_leave_one_out_error_of_the_smoother():
    """For a linear smoother with constant diagonal h₀ the leave-one-out residual is
    r_i / (1 − h₀); away from the ends GCV equals its mean square (slow reference)."""
    from scipy.signal import savgol_coeffs

    rng = np.random.default_rng(3)
    x = signal(600)[:, :1] + 0.1 * rng.standard_normal((600, 1))
    p, w = 3, 11
    c = savgol_coeffs(w, p)
    h = w // 2
    loo = []
    for i in range(h, 600 - h):  # predict x_i from its window without x_i (refit by hand)
        t = np.arange(-h, h + 1)
        keep = t != 0
        coef = np.polyfit(t[keep], x[i - h : i + h + 1, 0][keep], p)
        loo.append(x[i, 0] - np.polyval(coef, 0.0))
    s = np.convolve(x[:, 0], c[::-1], mode="same")
    inner = (x[h:-h, 0] - s[h:-h]) / (1 - c[h])
    np.testing.assert_allclose(inner, loo, rtol=1e-8, atol=1e-10)
    assert gcv_score(x, p, w) == pytest.approx(np.mean(np.square(loo)), rel=0.05)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(3, 400),
    channels=st.integers(1, 3),
    one_d=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_shapes_are_kept_and_short_trials_pass_through(n, channels, one_d, seed):
    x = np.random.default_rng(seed).standard_normal((n, channels))
    x = x[:, 0] if one_d else x
    (out,) = denoise([x])
    assert out.shape == x.shape and np.all(np.isfinite(out))
    if n <= 6:  # shorter than the smallest window (order 2, 5 samples) + 1
        np.testing.assert_array_equal(out, x)
