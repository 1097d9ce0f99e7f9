"""D_stsp: binned and Gaussian-mixture state-space divergence (REFERENCE §3)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attractor.data.series import TimeSeries
from attractor.errors import ConfigError, DataError, UnknownNameError
from attractor.metrics.geometry import (
    SMOOTHING_ALPHA,
    _log_mixture,
    bin_edges,
    binned_distributions,
    coverage,
    d_stsp,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def gauss(n: int, dim: int, seed: int, shift: float | list[float] = 0.0, scale: float = 1.0):
    return np.random.default_rng(seed).standard_normal((n, dim)) * scale + np.asarray(shift)


def dense_histograms(x: np.ndarray, y: np.ndarray, n_bins: int):
    """Independent dense counts and smoothed distributions with np.histogramdd (low N only)."""
    sd = x.std(axis=0)
    edges = [
        np.linspace(x[:, d].min() - 0.1 * sd[d], x[:, d].max() + 0.1 * sd[d], n_bins + 1)
        for d in range(x.shape[1])
    ]
    cells = n_bins ** x.shape[1]
    ct = np.histogramdd(x, bins=edges)[0]
    cg = np.histogramdd(y, bins=edges)[0]
    p = (ct + SMOOTHING_ALPHA) / (ct.sum() + SMOOTHING_ALPHA * cells)
    q = (cg + SMOOTHING_ALPHA) / (cg.sum() + SMOOTHING_ALPHA * cells)
    return ct, cg, p, q


def histogramdd_reference(x: np.ndarray, y: np.ndarray, n_bins: int) -> float:
    """Independent dense D_stsp."""
    _, _, p, q = dense_histograms(x, y, n_bins)
    return float(np.sum(p * np.log(p / q)))


# ---------------------------------------------------------------------- known values
@pytest.mark.parametrize("method", ["binned", "gmm"])
def test_identical_series_give_zero(method):
    x = gauss(3000, 3, 0)
    assert d_stsp(x, x, method=method) == 0.0


def test_accepts_torch_and_timeseries_and_1d():
    x, y = gauss(2000, 2, 0), gauss(2000, 2, 1, shift=0.3)
    ref = d_stsp(x, y)
    assert isinstance(ref, float)
    assert d_stsp(torch.tensor(x), torch.tensor(y, dtype=torch.float32)) == pytest.approx(ref)
    assert d_stsp(TimeSeries(x), TimeSeries(y)) == ref
    assert d_stsp(x[:, 0], y[:, 0]) == d_stsp(x[:, :1], y[:, :1])


def test_disjoint_supports_give_a_large_divergence():
    rng = np.random.default_rng(0)
    x = np.concatenate([gauss(3000, 2, 0, shift=-5.0), gauss(3000, 2, 1, shift=5.0)])
    middle = gauss(6000, 2, 2, scale=0.5)  # inside the box, but where x has no points
    one_cluster = x[rng.permutation(len(x))][: len(x) // 2]
    one_cluster = one_cluster[one_cluster[:, 0] > 0]  # half of x's mass missing
    d_mid, d_half = d_stsp(x, middle), d_stsp(x, one_cluster)
    assert d_mid > 10.0
    assert d_mid > d_half > 1.0


def test_no_generated_point_in_the_box_gives_infinity():
    x = gauss(2000, 3, 0)
    assert d_stsp(x, gauss(2000, 3, 1, shift=50.0)) == np.inf


@pytest.mark.parametrize(
    ("dim", "shift", "n", "n_bins", "rel"),
    [(1, [1.0], 200_000, 30, 0.05), (2, [0.6, -0.8], 300_000, 30, 0.10)],
)
def test_binned_matches_the_analytic_kl_of_shifted_gaussians(dim, shift, n, n_bins, rel):
    # KL(N(0, I) ‖ N(μ, I)) = |μ|²/2; binning loses a little, sparse tails add a little.
    x, y = gauss(n, dim, 10), gauss(n, dim, 11, shift=shift)
    expected = 0.5 * float(np.sum(np.square(shift)))
    assert d_stsp(x, y, n_bins=n_bins) == pytest.approx(expected, rel=rel)


@pytest.mark.parametrize(("s", "mu"), [(1.0, 1.0), (0.5, 1.5)])
def test_gmm_matches_the_kl_of_the_kernel_smoothed_gaussians(s, mu):
    # The mixtures smooth N(0, s²) and N(μ, s²) into N(0, s²+σ²) and N(μ, s²+σ²).
    x, y = gauss(10_000, 1, 20, scale=s), gauss(10_000, 1, 21, shift=mu, scale=s)
    expected = mu**2 / (2 * (s**2 + 1.0))
    assert d_stsp(x, y, method="gmm", n_samples=4000) == pytest.approx(expected, abs=0.05)


def test_gmm_monte_carlo_converges_to_the_exact_kl_between_the_mixtures():
    # In 1-D the KL between the two mixtures can be integrated on a grid.
    x, y = gauss(2000, 1, 30, scale=2.0), gauss(2000, 1, 31, shift=2.0, scale=2.0)
    grid = np.linspace(-20, 22, 8001)[:, None]
    lp, lq = _log_mixture(grid, x, 1.0), _log_mixture(grid, y, 1.0)
    exact = float(np.sum(np.exp(lp) * (lp - lq)) * (grid[1, 0] - grid[0, 0]))
    mc = d_stsp(x, y, method="gmm", n_samples=20_000, seed=3)
    # Monte Carlo standard error: std of the log-ratio (≈ μ/√(s²+1) ≈ 0.9) / √20000 ≈ 0.006.
    assert mc == pytest.approx(exact, abs=0.025)


def test_gmm_is_stable_in_high_dimension():
    # Densities are ~exp(−1000) here: a plain sum of exponentials underflows to 0/0.
    x = gauss(1000, 50, 40)
    y = gauss(1000, 50, 41, shift=6.0)
    d = d_stsp(x, y)  # N = 50 → "auto" uses the mixture
    assert np.isfinite(d)
    assert d > 200.0
    assert d == d_stsp(x, y, method="gmm")


def test_gmm_uses_only_the_first_max_points_and_is_seeded():
    x, y = gauss(3000, 6, 50), gauss(3000, 6, 51, shift=0.5)
    a = d_stsp(x, y, method="gmm", max_points=500, seed=4)
    assert a == d_stsp(x[:500], y[:500], method="gmm", max_points=500, seed=4)
    assert a == d_stsp(x, y, method="gmm", max_points=500, seed=4)
    assert a != d_stsp(x, y, method="gmm", max_points=500, seed=5)


# ---------------------------------------------------------------------- the binning itself
@pytest.mark.parametrize(("dim", "n_bins"), [(1, 30), (2, 30), (3, 12)])
def test_sparse_binned_equals_a_dense_histogramdd_implementation(dim, n_bins):
    x = gauss(4000, dim, 60)
    y = gauss(3000, dim, 61, shift=0.7, scale=1.5)  # some points leave the box
    assert d_stsp(x, y, n_bins=n_bins) == pytest.approx(
        histogramdd_reference(x, y, n_bins), rel=1e-10
    )
    p, q, edges = binned_distributions(x, y, n_bins)
    assert p.shape == q.shape == (n_bins,) * dim
    assert edges.shape == (dim, n_bins + 1)
    assert p.sum() == pytest.approx(1.0) and q.sum() == pytest.approx(1.0)
    assert float(np.sum(p * np.log(p / q))) == pytest.approx(d_stsp(x, y, n_bins=n_bins))


def test_box_spans_the_true_range_plus_a_tenth_of_a_standard_deviation():
    x = gauss(500, 2, 70)
    edges = bin_edges(x, 10)
    sd = x.std(axis=0)
    np.testing.assert_allclose(edges[:, 0], x.min(axis=0) - 0.1 * sd)
    np.testing.assert_allclose(edges[:, -1], x.max(axis=0) + 0.1 * sd)


def test_the_lowest_bin_counts():
    # True and generated data differ only inside the lowest bin: a divergence must show.
    x = np.linspace(0.0, 1.0, 1000)[:, None]
    y = x.copy()
    lowest = x[:, 0] < bin_edges(x, 10)[0, 1]
    y[lowest] = 0.5  # move every point of the lowest bin to the middle
    assert d_stsp(x, y, n_bins=10) > 1.0  # ≈ 0.09 · log(0.09 / 1e-8)


def test_points_outside_the_box_fall_into_no_bin():
    x = gauss(2000, 2, 80)
    outliers = gauss(500, 2, 81, shift=100.0)
    assert d_stsp(x, np.concatenate([x, outliers])) == 0.0


def test_binned_is_sparse_in_five_dimensions_and_fast_for_100k_points():
    x, y = gauss(100_000, 3, 90), gauss(100_000, 3, 91, shift=0.2)
    t0 = time.perf_counter()
    d = d_stsp(x, y)
    assert time.perf_counter() - t0 < 2.0  # ~0.1 s; 27,000 dense bins would also be fine
    assert 0 < d < 1
    x5, y5 = gauss(20_000, 5, 92), gauss(20_000, 5, 93)
    assert np.isfinite(d_stsp(x5, y5))  # 30^5 = 24 M cells, never allocated


def test_binned_beyond_int64_cell_ids():
    # 30^13 > 2^63: cells are identified by their coordinate rows instead of a flat index.
    x, y = gauss(300, 13, 100), gauss(300, 13, 101, shift=0.5)
    d = d_stsp(x, y, method="binned")
    assert d > 0
    perm = np.random.default_rng(0).permutation(13)
    assert d_stsp(x[:, perm], y[:, perm], method="binned") == pytest.approx(d)
    assert d_stsp(x, x, method="binned") == 0.0


# ---------------------------------------------------------------------- properties
# Zero or magnitudes ≥ 1e-6: scaling by 2^±4 then stays exact (no subnormal underflow to 0).
finite = st.one_of(st.just(0.0), st.floats(1e-6, 1e3), st.floats(-1e3, -1e-6))
series = st.integers(1, 3).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, st.tuples(st.integers(5, 60), st.just(n)), elements=finite),
        arrays(np.float64, st.tuples(st.integers(2, 60), st.just(n)), elements=finite),
    )
)


def nonconstant(x: np.ndarray) -> bool:
    return bool(np.all(np.ptp(x, axis=0) > 1e-6 * np.maximum(np.abs(x).max(axis=0), 1.0)))


@FAST
@given(series, st.integers(1, 40))
def test_binned_is_non_negative(pair, n_bins):
    x, y = pair
    if not nonconstant(x):
        return
    assert d_stsp(x, y, n_bins=n_bins) >= -1e-12


@FAST
@given(series, st.integers(-4, 4))
def test_binned_is_invariant_to_scaling_both_series(pair, power):
    x, y = pair
    if not nonconstant(x):
        return
    c = 2.0**power  # exact in floating point, so no point changes its bin
    assert d_stsp(c * x, c * y) == pytest.approx(d_stsp(x, y), rel=1e-9, abs=1e-12)


@FAST
@given(series, st.randoms(use_true_random=False))
def test_binned_ignores_time_order_and_channel_order(pair, rnd):
    x, y = pair
    if not nonconstant(x):
        return
    ref = d_stsp(x, y)
    perm_t = np.array(rnd.sample(range(len(x)), len(x)))
    perm_c = np.array(rnd.sample(range(x.shape[1]), x.shape[1]))
    assert d_stsp(x[perm_t][:, perm_c], y[:, perm_c]) == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_divergence_is_not_symmetric():
    x = gauss(5000, 2, 110)
    y = gauss(5000, 2, 111, scale=0.3)  # concentrated inside x's support
    assert d_stsp(x, y) > 2 * d_stsp(y, x) or d_stsp(y, x) > 2 * d_stsp(x, y)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (np.full((10, 2), np.nan), np.zeros((10, 2)), "non-finite"),
        (gauss(10, 2, 0), np.vstack([gauss(9, 2, 1), [[np.inf, 0.0]]]), "x_gen has 1 non-finite"),
        (gauss(10, 2, 0), gauss(10, 3, 1), "x_true has 2 channel"),
        (gauss(1, 2, 0), gauss(10, 2, 1), "at least 2"),
        (np.zeros((4, 2, 2)), gauss(10, 2, 1), "expected \\(T, N\\)"),
        (np.array([["a", "b"]] * 3), gauss(10, 2, 1), "not numbers"),
        (np.c_[gauss(10, 1, 0), np.ones(10)], gauss(10, 2, 1), "channel 1 of x_true is constant"),
    ],
)
def test_bad_data_raise_one_clear_sentence(x, y, match):
    with pytest.raises(DataError, match=match) as err:
        d_stsp(x, y)
    msg = str(err.value)
    assert msg.endswith(".") and "\n" not in msg


def test_bad_settings_raise():
    x = gauss(50, 2, 0)
    with pytest.raises(UnknownNameError, match="Did you mean 'gmm'"):
        d_stsp(x, x, method="gm")
    with pytest.raises(ConfigError, match="n_bins"):
        d_stsp(x, x, n_bins=0)
    with pytest.raises(ConfigError, match="sigma2"):
        d_stsp(x, x, method="gmm", sigma2=-1.0)
    with pytest.raises(ConfigError, match="too many"):
        binned_distributions(gauss(50, 6, 0), gauss(50, 6, 1))


# ---------------------------------------------------------------------- coverage
def dense_uncovered(x: np.ndarray, y: np.ndarray, n_bins: int) -> tuple[float, float]:
    """Independent dense version of ``coverage``."""
    ct, cg, p, q = dense_histograms(x, y, n_bins)
    miss = (cg == 0) & (ct > 0)
    return float(ct[miss].sum() / ct.sum()), float(np.sum(p[miss] * np.log(p[miss] / q[miss])))


def test_coverage_of_identical_series_is_complete():
    x = gauss(3000, 3, 0)
    assert coverage(x, x) == {"uncovered": 0.0, "uncovered_D": 0.0}


def test_coverage_of_half_the_support():
    # true points fill the unit square; the generated ones only its left half
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (40_000, 2))
    y = x[x[:, 0] < 0.5]
    c = coverage(x, y, n_bins=20)
    assert c["uncovered"] == pytest.approx(0.5, abs=0.05)
    # the missed half costs about half of log(p / alpha-smoothed q) and dominates D_stsp
    assert c["uncovered_D"] > 0.9 * d_stsp(x, y, n_bins=20) > 2.0


@pytest.mark.parametrize(("dim", "n_bins"), [(1, 30), (2, 30), (3, 12)])
def test_coverage_equals_a_dense_histogramdd_implementation(dim, n_bins):
    x = gauss(4000, dim, 60)
    y = gauss(300, dim, 61, shift=0.7, scale=0.8)  # sparse: many true cells left empty
    got = coverage(x, y, n_bins=n_bins)
    ref = dense_uncovered(x, y, n_bins)
    assert got["uncovered"] == pytest.approx(ref[0], rel=1e-12)
    assert got["uncovered_D"] == pytest.approx(ref[1], rel=1e-10)
    assert 0 < got["uncovered"] < 1


def test_coverage_when_no_generated_point_is_in_the_box():
    x = gauss(1000, 2, 0)
    assert coverage(x, x + 100.0) == {"uncovered": 1.0, "uncovered_D": float("inf")}


@FAST
@given(seed=st.integers(0, 10_000), shift=st.floats(-3, 3), n_gen=st.integers(2, 2000))
def test_coverage_bounds(seed, shift, n_gen):
    x, y = gauss(1500, 2, seed), gauss(n_gen, 2, seed + 1, shift=shift)
    c = coverage(x, y)
    assert 0.0 <= c["uncovered"] <= 1.0
    assert c["uncovered_D"] >= 0.0
    assert (c["uncovered"] == 0.0) == (c["uncovered_D"] == 0.0)
