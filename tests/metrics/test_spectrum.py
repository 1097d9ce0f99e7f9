"""D_H: Hellinger distance between smoothed power spectra (REFERENCE §3)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.ndimage import gaussian_filter1d

from attractor.errors import ConfigError, DataError
from attractor.metrics.spectrum import d_h, d_h_per_dim, hellinger, power_spectrum

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T = 10_000


def sine(cycles: float, phase: float = 0.0, t: int = T) -> np.ndarray:
    """``cycles`` full periods over ``t`` samples, shape (t, 1)."""
    return np.sin(2 * np.pi * cycles * np.arange(t) / t + phase)[:, None]


# ---------------------------------------------------------------------- the spectrum
def test_power_spectrum_follows_the_reference_recipe():
    rng = np.random.default_rng(0)
    x = np.c_[sine(50) + 0.3 * rng.standard_normal((T, 1)), 3.0 + 2.0 * rng.standard_normal(T)]
    ps = power_spectrum(x)
    assert ps.shape == (T // 2 + 1, 2)
    assert np.all(ps >= 0)
    np.testing.assert_allclose(ps.sum(axis=0), 1.0)
    u = (x - x.mean(0)) / x.std(0)
    ref = gaussian_filter1d(np.abs(np.fft.rfft(u, axis=0)) ** 2, 20.0, axis=0)
    np.testing.assert_allclose(ps, ref / ref.sum(0), rtol=1e-10, atol=1e-15)


def test_a_sine_peaks_at_its_frequency_bin():
    ps = power_spectrum(sine(300), smoothing=20.0)[:, 0]
    assert int(np.argmax(ps)) == 300
    raw = power_spectrum(sine(300), smoothing=0.0)[:, 0]
    assert raw[300] == pytest.approx(1.0)  # all power in one bin without smoothing


def test_odd_length_and_torch_input():
    x = np.random.default_rng(1).standard_normal((101, 2))
    assert power_spectrum(x).shape == (51, 2)
    np.testing.assert_allclose(power_spectrum(torch.tensor(x)), power_spectrum(x))


# ---------------------------------------------------------------------- known values
def test_identical_series_give_zero():
    x = np.random.default_rng(2).standard_normal((2000, 3)).cumsum(axis=0)
    assert d_h(x, x) == 0.0


def test_same_sine_with_another_phase_and_amplitude_gives_zero():
    assert d_h(sine(100), 5.0 * sine(100, phase=1.0) - 2.0) == pytest.approx(0.0, abs=1e-6)


def test_sines_at_different_frequencies_are_nearly_one_apart():
    # Peaks 300 bins apart, each smoothed with σ = 20 bins: overlap ~ exp(−300²/(8·20²)) ≈ 0.
    assert d_h(sine(100), sine(400)) > 0.99
    near = d_h(sine(100), sine(110))  # 10 bins apart: mostly overlapping
    assert 0.05 < near < 0.5


def test_hellinger_matches_a_hand_computation():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.0, 0.5, 0.5])
    assert float(hellinger(p, q)) == pytest.approx(np.sqrt(0.5))
    assert float(hellinger(p, p)) == 0.0


def test_two_stretches_of_noise_are_close_and_red_noise_is_not():
    rng = np.random.default_rng(3)
    white = rng.standard_normal((T, 2))
    floor = d_h(white, rng.standard_normal((T, 2)))
    assert floor < 0.1  # the periodogram's own scatter, like the data-vs-data floors
    red = np.zeros((T, 2))  # AR(1), x_t = 0.9 x_{t−1} + ε: power piled up at low frequencies
    eps = rng.standard_normal((T, 2))
    for t in range(1, T):
        red[t] = 0.9 * red[t - 1] + eps[t]
    assert d_h(white, red) > 3 * floor


def test_d_h_is_the_mean_over_dimensions():
    x = np.c_[sine(100), sine(30)]
    y = np.c_[sine(100), sine(400)]
    per = d_h_per_dim(x, y)
    assert per.shape == (2,)
    assert per[0] == pytest.approx(0.0, abs=1e-6) and per[1] > 0.99
    assert d_h(x, y) == pytest.approx(per.mean())


def test_a_constant_generated_channel_counts_as_maximally_distant():
    x = np.c_[sine(100), sine(30)]
    y = np.c_[sine(100), np.full(T, 0.7)]  # a model stuck on a fixed point in channel 1
    per = d_h_per_dim(x, y)
    assert per[1] == 1.0
    assert d_h(x, y) == pytest.approx(0.5, abs=1e-6)


# ---------------------------------------------------------------------- properties
def _pairs(draw_len: st.SearchStrategy[int]) -> st.SearchStrategy:
    elems = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
    return st.tuples(draw_len, st.integers(1, 3)).flatmap(
        lambda tn: st.tuples(
            arrays(np.float64, tn, elements=elems), arrays(np.float64, tn, elements=elems)
        )
    )


def varied(x: np.ndarray) -> bool:
    return bool(np.all(x.std(axis=0) > 1e-3))


@FAST
@given(_pairs(st.integers(8, 200)), st.floats(0.0, 30.0))
def test_bounded_and_symmetric(pair, smoothing):
    x, y = pair
    assume(varied(x) and varied(y))
    h = d_h(x, y, smoothing)
    assert 0.0 <= h <= 1.0
    assert h == pytest.approx(d_h(y, x, smoothing), abs=1e-12)


@FAST
@given(
    _pairs(st.integers(8, 200)),
    st.floats(1e-2, 1e2).flatmap(lambda a: st.sampled_from([a, -a])),
    st.floats(-1e2, 1e2),
)
def test_invariant_to_scale_offset_and_time_reversal_of_the_generated_series(pair, a, b):
    x, y = pair
    assume(varied(x) and varied(y))
    h = d_h(x, y)
    assert d_h(x, a * y + b) == pytest.approx(h, abs=1e-7)
    assert d_h(x, y[::-1]) == pytest.approx(h, abs=1e-7)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (sine(100), sine(100, t=T - 1), "equal length"),
        (np.c_[sine(100), sine(3)], sine(100), "x_true has 2 channel"),
        (sine(100), np.r_[sine(100)[:-1], [[np.nan]]], "x_gen has 1 non-finite value"),
        (np.ones((T, 1)), sine(100), "constant"),
        (sine(100, t=1), sine(100, t=1), "at least 2"),
    ],
)
def test_bad_data_raise_one_clear_sentence(x, y, match):
    with pytest.raises(DataError, match=match) as err:
        d_h(x, y)
    assert str(err.value).endswith(".") and "\n" not in str(err.value)


def test_bad_settings_raise():
    with pytest.raises(ConfigError, match="smoothing"):
        d_h(sine(10), sine(10), smoothing=-1.0)
    with pytest.raises(DataError, match="constant"):
        power_spectrum(np.c_[sine(10), np.zeros(T)])
