"""Delay embedding of scalar or few-channel measurements.

A single measured coordinate ``x(t)`` of a d-dimensional system does not show the dynamics on its
own; by Takens' theorem the delay vectors

.. math::  y(t) = \\big(x(t),\\; x(t-τ),\\; …,\\; x(t-(m-1)τ)\\big) ∈ ℝ^{m·C}

reconstruct an attractor diffeomorphic to the original one for almost every lag ``τ`` once the
dimension ``m`` is large enough (``m > 2·d_box`` suffices; far less is usually enough). This module
chooses the two numbers the classical way and builds the vectors:

* **lag** ``τ`` — the first minimum of the time-delayed mutual information ``I(τ)`` (Fraser &
  Swinney 1986) that stands out from the estimator's noise, falling back to the first lag where
  the autocorrelation drops below ``1/e`` when ``I(τ)`` has no such minimum in range;
* **dimension** ``m`` — the first ``m`` whose fraction of false nearest neighbours drops below
  1 % (Kennel, Brown & Abarbanel 1992), or the ``m`` with the smallest fraction if none does;
* :func:`embed` does both for a :class:`~attractor.data.series.TimeSeries` and records the choice
  in ``meta["embedding"]``.

Why this is written here rather than imported. The Python packages on PyPI were checked:
``nolds`` has no mutual-information or false-neighbour tools; ``teaspoon`` 1.6 has both (with the
same Kennel tolerances as here) but requires gudhi, ripser, POT, numba, scikit-learn and pandas
and pins ``pyparsing<3.1``; ``giotto-tda`` (``SingleTakensEmbedding``) is a topological
data-analysis toolkit on scikit-learn, last released May 2024; ``neurokit2`` (``complexity_delay``,
``complexity_dimension``) is a physiology toolbox on pandas and scikit-learn;
``pecuzal-embedding`` (PECUZAL) was last released in August 2021. Each would add a heavy or stale
dependency for about a hundred lines of numpy and scipy whose every step is stated below, and we
want the per-lag and per-dimension curves recorded with the choice. PECUZAL (Krämer et al. 2021)
is the better unified method; DynamicalSystems.jl has the reference implementation.

Shapes: a series is ``(T,)`` or ``(T, C)`` with ``C`` channels; an embedding with dimension ``m``
is ``(T − (m−1)·τ, m·C)``, delay-major: the first ``C`` columns are the current measurement
``x(t)``, the next ``C`` are ``x(t−τ)``, and so on. Row ``i`` belongs to time index
``i + (m−1)·τ`` of the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from attractor.data.series import Scaler, TimeSeries
from attractor.errors import DataError

# ---------------------------------------------------------------------------- defaults (one place)
#: Largest lag (in samples) searched for the first minimum of the mutual information (the search
#: is further capped at a quarter of the series).
DEFAULT_MAX_LAG = 500
#: Histogram bins per axis for the mutual information (TISEAN's ``mutual`` uses 16).
DEFAULT_N_BINS = 16
#: Largest embedding dimension tried by the false-nearest-neighbour test.
DEFAULT_MAX_DIM = 10
#: Kennel et al. (1992) criterion 1: a neighbour is false if the added distance exceeds
#: ``FNN_RTOL`` times the distance in ``m`` dimensions.
FNN_RTOL = 15.0
#: Kennel et al. (1992) criterion 2: … or if the distance in ``m+1`` dimensions exceeds
#: ``FNN_ATOL`` times the attractor size ``R_A`` (the standard deviation of the data).
FNN_ATOL = 2.0
#: The dimension is the first one whose false-neighbour fraction is below this.
FNN_THRESHOLD = 0.01
#: Reference points drawn (at random, fixed seed) for the FNN test on long series.
FNN_MAX_POINTS = 2000
#: Neighbours asked of the k-d tree first; points whose neighbours all fall inside the Theiler
#: window are asked again with enough neighbours to be sure.
FNN_FIRST_K = 8
#: Delay vectors put in the k-d tree at most (a random subset of longer series, so that the
#: test stays fast in high dimensions while every part of the record is represented).
FNN_MAX_TREE = 40_000
#: A minimum of the mutual information counts once the curve climbs this many standard errors
#: above it before dropping below it again (rejects wiggles of the estimator).
MI_MIN_Z = 2.0
#: Fewest sample pairs per histogram bin (per axis) for the mutual information.
MIN_PAIRS_PER_BIN = 2
#: Autocorrelation level that defines the fallback lag (first lag with ``ρ(τ) < 1/e``).
ACF_THRESHOLD = float(np.exp(-1.0))
#: Distances below this fraction of the attractor size count as round-off in the FNN test.
ROUNDOFF = 1e-9
#: Fewest samples for which lag and dimension are chosen automatically.
MIN_SAMPLES = 100


# ---------------------------------------------------------------------------- helpers
def _as_2d(x: np.ndarray | Sequence[float], what: str = "the series") -> np.ndarray:
    """``(T,)`` or ``(T, C)`` → float64 ``(T, C)``, rejecting anything else."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[1] == 0:
        raise DataError(f"{what} must have shape (T,) or (T, C), got {a.shape}.")
    if not np.isfinite(a).all():
        raise DataError(f"{what} contains NaN or infinite values; remove them before embedding.")
    return a


def _check_lag(lag: int) -> int:
    if int(lag) != lag or lag < 1:
        raise DataError(f"the delay must be a positive whole number of samples, got {lag}.")
    return int(lag)


def _check_dim(dim: int) -> int:
    if int(dim) != dim or dim < 1:
        raise DataError(f"the embedding dimension must be a positive integer, got {dim}.")
    return int(dim)


# ---------------------------------------------------------------------------- delay vectors
def delay_embed(x: np.ndarray | Sequence[float], lag: int, dim: int) -> np.ndarray:
    """Delay vectors ``[x(t), x(t−τ), …, x(t−(m−1)τ)]`` for every ``t ≥ (m−1)τ``.

    Parameters
    ----------
    x: ``(T,)`` or ``(T, C)`` samples.
    lag: the delay ``τ`` in samples (≥ 1).
    dim: the embedding dimension ``m`` (≥ 1; ``m = 1`` returns ``x`` as ``(T, C)``).

    Returns
    -------
    ``(T − (m−1)·τ, m·C)`` array, delay-major: columns ``k·C … (k+1)·C − 1`` hold ``x(t − kτ)``.
    Row ``i`` corresponds to input time index ``i + (m−1)·τ``.
    """
    a = _as_2d(x)
    lag, dim = _check_lag(lag), _check_dim(dim)
    span = (dim - 1) * lag
    n = a.shape[0] - span
    if n < 2:
        raise DataError(
            f"a series of {a.shape[0]} samples is too short for a {dim}-dimensional embedding with "
            f"delay {lag} (it needs at least {span + 2}); use a smaller delay or dimension."
        )
    return np.concatenate([a[span - k * lag : span - k * lag + n] for k in range(dim)], axis=1)


# ---------------------------------------------------------------------------- lag
def _bin_indices(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bin index in ``0 … n_bins−1`` of every sample of a 1-D array."""
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        raise DataError("the series is constant, so it has no delay structure to measure.")
    b = np.floor((x - lo) / (hi - lo) * n_bins).astype(np.int64)
    return np.clip(b, 0, n_bins - 1)


def _mi_with_errors(a: np.ndarray, max_lag: int, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """``I(τ)`` and its delta-method standard error, each ``(max_lag+1, C)``, for ``(T, C)``."""
    T = a.shape[0]
    mi = np.empty((max_lag + 1, a.shape[1]))
    se = np.empty_like(mi)
    for c in range(a.shape[1]):
        b = _bin_indices(a[:, c], n_bins)
        for tau in range(max_lag + 1):
            n = T - tau
            joint = np.bincount(b[:n] * n_bins + b[tau:], minlength=n_bins * n_bins)
            p = joint.reshape(n_bins, n_bins) / n
            nz = p > 0
            log_ratio = np.log(p[nz] / np.outer(p.sum(axis=1), p.sum(axis=0))[nz])
            i = float(np.sum(p[nz] * log_ratio))
            mi[tau, c] = i
            spread = max(float(np.sum(p[nz] * log_ratio**2)) - i * i, 0.0) / n
            null = (n_bins - 1) ** 2 / (2.0 * n * n)  # variance of χ²/(2n) at independence
            se[tau, c] = np.sqrt(spread + null)
    return mi, se


def _check_mi_args(T: int, max_lag: int, n_bins: int) -> None:
    if max_lag < 1 or n_bins < 2:
        raise DataError(f"need max_lag ≥ 1 and n_bins ≥ 2, got {max_lag} and {n_bins}.")
    if T - max_lag < MIN_PAIRS_PER_BIN * n_bins:
        raise DataError(
            f"a series of {T} samples is too short for the mutual information up to lag "
            f"{max_lag} with {n_bins} bins; use a smaller max_lag or n_bins, or a longer series."
        )


def mutual_information(
    x: np.ndarray | Sequence[float],
    max_lag: int = DEFAULT_MAX_LAG,
    n_bins: int = DEFAULT_N_BINS,
) -> np.ndarray:
    """Time-delayed mutual information ``I(τ)`` for ``τ = 0 … max_lag``, in nats.

    Histogram estimator (Fraser & Swinney 1986, as in TISEAN's ``mutual``): the range of ``x`` is
    cut into ``n_bins`` equal-width bins, ``p_ij(τ)`` is the fraction of the ``T−τ`` pairs
    ``(x_t, x_{t+τ})`` that fall into bins ``(i, j)``, and ``p_i``, ``p_j`` are its marginals:

    .. math::  I(τ) = \\sum_{i,j} p_{ij}(τ) \\, \\ln \\frac{p_{ij}(τ)}{p_i(τ)\\, p_j(τ)} .

    ``I(0)`` is the entropy of the binned signal. ``(T,)`` gives ``(max_lag+1,)``; several
    channels ``(T, C)`` give ``(max_lag+1, C)``, one curve per channel. The plug-in estimate is
    biased upwards by about ``(n_bins−1)²/(2(T−τ))`` nats, nearly the same for every lag, which
    does not move its minima.
    """
    a = _as_2d(x)
    _check_mi_args(a.shape[0], int(max_lag), int(n_bins))
    mi, _ = _mi_with_errors(a, int(max_lag), int(n_bins))
    return mi[:, 0] if np.ndim(x) == 1 else mi


def autocorrelation(x: np.ndarray | Sequence[float], max_lag: int | None = None) -> np.ndarray:
    """Normalised autocorrelation ``ρ(τ) = Σ_t x̃_t x̃_{t+τ} / Σ_t x̃_t²`` of the centred ``x̃``.

    Computed with the FFT (zero-padded, so not circular) for ``τ = 0 … max_lag`` (default
    ``T−1``); ``(T,)`` in, ``(max_lag+1,)`` out, ``(T, C)`` in, ``(max_lag+1, C)`` out.
    """
    a = _as_2d(x)
    T = a.shape[0]
    max_lag = T - 1 if max_lag is None else min(int(max_lag), T - 1)
    z = a - a.mean(axis=0)
    n = 1 << int(np.ceil(np.log2(2 * T)))
    f = np.fft.rfft(z, n=n, axis=0)
    acf = np.fft.irfft(f * np.conj(f), n=n, axis=0)[: max_lag + 1]
    denom = acf[0].copy()
    denom[denom == 0] = 1.0
    acf = acf / denom
    return acf[:, 0] if np.ndim(x) == 1 else acf


def _first_significant_minimum(curve: np.ndarray, se: np.ndarray, z: float) -> int | None:
    """Smallest ``τ ≥ 1`` with ``I(τ−1) > I(τ) ≤ I(τ+1)`` after which ``I`` climbs to
    ``I(τ) + z·se(τ)`` before it first drops below ``I(τ)``; None if there is none."""
    for tau in range(1, len(curve) - 1):
        if not curve[tau - 1] > curve[tau] <= curve[tau + 1]:
            continue
        for later in curve[tau + 1 :]:
            if later < curve[tau]:
                break
            if later >= curve[tau] + z * se[tau]:
                return tau
    return None


def _choose_lag(a: np.ndarray, max_lag: int, n_bins: int) -> tuple[int, np.ndarray, str]:
    """Lag for ``(T, C)`` data: the smallest per-channel choice, with the MI curves and method."""
    T = a.shape[0]
    max_lag = min(int(max_lag), T // 4)
    if T < MIN_SAMPLES or max_lag < 2:
        raise DataError(
            f"a series of {T} samples is too short to choose a delay automatically (it needs at "
            f"least {MIN_SAMPLES}); pass the delay explicitly."
        )
    _check_mi_args(T, max_lag, int(n_bins))
    mi, se = _mi_with_errors(a, max_lag, int(n_bins))
    lags, methods = [], []
    for c in range(a.shape[1]):
        rho = autocorrelation(a[:, c])
        if rho[1] < ACF_THRESHOLD:  # no memory from one sample to the next (noise-like)
            lags.append(1)
            methods.append("autocorrelation below 1/e already at lag 1")
            continue
        tau = _first_significant_minimum(mi[:, c], se[:, c], MI_MIN_Z)
        if tau is not None:
            lags.append(tau)
            methods.append("first minimum of the mutual information")
            continue
        below = np.flatnonzero(rho[1:] < ACF_THRESHOLD)
        if below.size == 0:
            raise DataError(
                "the series decorrelates too slowly to choose a delay: the mutual information has "
                f"no clear minimum up to lag {max_lag} and the autocorrelation never drops below "
                "1/e; pass the delay explicitly (or a larger max_lag)."
            )
        lags.append(int(below[0]) + 1)
        methods.append("autocorrelation below 1/e (no minimum of the mutual information)")
    k = int(np.argmin(lags))
    return lags[k], mi, methods[k]


def first_minimum_lag(
    x: np.ndarray | Sequence[float],
    max_lag: int = DEFAULT_MAX_LAG,
    n_bins: int = DEFAULT_N_BINS,
) -> int:
    """Delay ``τ`` at the first minimum of the mutual information :func:`mutual_information`.

    ``τ`` is the smallest lag with ``I(τ−1) > I(τ) ≤ I(τ+1)`` (Fraser & Swinney 1986) that is not
    a wiggle of the estimator: after ``τ`` the curve must climb to ``I(τ) + 2·SE(τ)`` before it
    falls below ``I(τ)``, where ``SE² = (Σ p_ij ln²(p_ij/p_i p_j) − I²)/(T−τ)`` is the delta-method
    variance of the plug-in estimate (pairs treated as independent, so SE is a lower bound).
    Lags up to ``min(max_lag, T/4)`` are searched. If there is no such minimum (``I`` keeps
    falling, as for slowly decaying signals) the fallback is the first lag where the
    autocorrelation ``ρ(τ)`` drops below ``1/e``; if it does so already at ``τ = 1`` (noise-like
    data with no memory between samples) the lag is 1. With several channels the smallest
    per-channel lag is used. Raises DataError if neither exists or the series has fewer than
    100 samples.

    A noiseless sine is a degenerate case: its pairs lie on a curve, ``I`` is infinite in theory
    and the histogram estimate is flat and jagged between about P/12 and 5P/12, so the choice
    there is arbitrary; with a little measurement noise the minimum sits at a quarter period.
    """
    lag, _, _ = _choose_lag(_as_2d(x), max_lag, n_bins)
    return lag


# ---------------------------------------------------------------------------- dimension
def _fnn_min_points(theiler: int) -> int:
    """Fewest delay vectors the false-neighbour test needs with a Theiler window of ``theiler``."""
    return max(MIN_SAMPLES // 2, 2 * theiler + 3)


def _nearest_outside_window(
    tree: cKDTree, y: np.ndarray, times: np.ndarray, ref: np.ndarray, w: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distance to and tree index of the nearest neighbour of each tree point ``ref`` whose time
    differs by more than ``w`` samples (index −1 where there is none).

    ``y`` holds the tree's points and ``times`` their time indices. The tree is asked for a few
    neighbours first and for more only where all of those lie inside the window; ``2w+2`` always
    suffice, since at most ``2w+1`` points lie inside it.
    """
    n = y.shape[0]
    r = np.full(len(ref), np.inf)
    nn = np.full(len(ref), -1)
    todo = np.arange(len(ref))
    k = min(n, FNN_FIRST_K)
    while todo.size:
        dist, idx = tree.query(y[ref[todo]], k=k)
        dist, idx = dist.reshape(len(todo), k), idx.reshape(len(todo), k)
        ok = np.abs(times[idx] - times[ref[todo], None]) > w
        first = np.argmax(ok, axis=1)
        found = ok[np.arange(len(todo)), first]
        r[todo[found]] = dist[found, first[found]]
        nn[todo[found]] = idx[found, first[found]]
        todo = todo[~found]
        if k >= min(n, 2 * w + 2):
            break
        k = min(n, 2 * w + 2, 4 * k)
    return r, nn


def false_nearest_neighbors(
    x: np.ndarray | Sequence[float],
    lag: int,
    max_dim: int = DEFAULT_MAX_DIM,
    rtol: float = FNN_RTOL,
    atol: float = FNN_ATOL,
    theiler: int | None = None,
    max_points: int = FNN_MAX_POINTS,
    seed: int = 0,
) -> np.ndarray:
    """Fraction of false nearest neighbours for embedding dimensions ``m = 1 … max_dim``.

    Kennel, Brown & Abarbanel (1992). Let ``R_m`` be the Euclidean distance from a delay vector
    ``y_m(t)`` to its nearest neighbour ``y_m(s)``. Going to ``m+1`` dimensions adds one
    coordinate, and the neighbour is *false* if

    1. ``|x(t+τ) − x(s+τ)| / R_m > rtol`` (the added coordinate tears them apart), or
    2. ``R_{m+1} / R_A > atol`` with ``R_{m+1}² = R_m² + |x(t+τ) − x(s+τ)|²`` and ``R_A`` the
       standard deviation of the data (they were neighbours only because both lie far out).

    The added coordinate is the sample one delay *after* the newest one, as in Kennel et al.'s
    forward vectors ``(x_n, x_{n+τ}, …)`` extended by ``x_{n+mτ}`` (the same point set as our
    backward vectors). Extending into the past instead, by ``x(t−mτ)``, runs the dynamics
    backwards, which blows up the strongly contracting directions of dissipative flows and
    leaves a few per cent of false neighbours in any dimension.

    Neighbours within ``theiler`` samples of the reference point (default: ``lag``) are excluded,
    so that on densely sampled flows the neighbour is not just the next sample on the same orbit
    (Theiler window). On long series the k-d tree holds a random subset of ``FNN_MAX_TREE`` delay
    vectors and the fraction is taken over at most ``max_points`` of them drawn at random with
    ``seed``, which keeps the test fast.

    Several channels use the norm over channels in both criteria. Exact duplicates (``R_m = 0``,
    as in quantised data) count as false when the added coordinate differs by more than
    round-off (``1e-9·R_A``).

    Returns ``(max_dim,)``: entry ``m−1`` is the false-neighbour fraction of dimension ``m``.
    """
    a = _as_2d(x)
    lag, max_dim = _check_lag(lag), _check_dim(max_dim)
    w = lag if theiler is None else int(theiler)
    T = a.shape[0]
    if T - max_dim * lag < _fnn_min_points(w):
        raise DataError(
            f"a series of {T} samples is too short for the false-nearest-neighbour test up to "
            f"dimension {max_dim} with delay {lag}; use a smaller max_dim or delay."
        )
    r_a = float(np.sqrt(np.sum(a.var(axis=0))))
    if r_a == 0:
        raise DataError("the series is constant, so it has no neighbours to test.")
    rng = np.random.default_rng(seed)
    fractions = np.empty(max_dim)
    for m in range(1, max_dim + 1):
        y = delay_embed(a, lag, m)[:-lag]  # times t = (m−1)τ … T−1−τ, so x(t + τ) exists
        added = a[m * lag :]  # x(t + τ) for the same rows
        n = y.shape[0]
        keep = np.arange(n) if n <= FNN_MAX_TREE else np.sort(rng.choice(n, FNN_MAX_TREE, False))
        y, added = y[keep], added[keep]
        ref = np.arange(len(keep))
        if len(ref) > max_points:
            ref = np.sort(rng.choice(len(ref), max_points, replace=False))
        r_m, nn = _nearest_outside_window(cKDTree(y), y, keep, ref, w)
        rows = np.flatnonzero(nn >= 0)
        r_m, nn = r_m[rows], nn[rows]
        gap = np.linalg.norm(added[ref[rows]] - added[nn], axis=1)
        # distances below round-off (exact recurrences of periodic data) are not resolved
        torn = gap > rtol * np.maximum(r_m, ROUNDOFF * r_a)
        far = np.sqrt(r_m**2 + gap**2) > atol * r_a
        fractions[m - 1] = float(np.mean(torn | far)) if rows.size else np.nan
    return fractions


def choose_dimension(fnn: np.ndarray | Sequence[float], threshold: float = FNN_THRESHOLD) -> int:
    """First dimension ``m`` whose false-neighbour fraction is below ``threshold``.

    ``fnn[m−1]`` is the fraction for dimension ``m`` (as returned by
    :func:`false_nearest_neighbors`). If no dimension gets below the threshold (noisy data), the
    dimension with the smallest fraction is returned.
    """
    f = np.asarray(fnn, dtype=float)
    if f.ndim != 1 or f.size == 0:
        raise DataError(f"expected a 1-D array of false-neighbour fractions, got shape {f.shape}.")
    below = np.flatnonzero(f < threshold)
    return int(below[0]) + 1 if below.size else int(np.nanargmin(f)) + 1


# ---------------------------------------------------------------------------- TimeSeries
def _delay_names(names: Sequence[str], dim: int) -> list[str]:
    """``x(t), y(t), x(t-τ), y(t-τ), x(t-2τ), …`` (delay-major, like :func:`delay_embed`)."""
    out = []
    for k in range(dim):
        shift = "" if k == 0 else ("-τ" if k == 1 else f"-{k}τ")
        out.extend(f"{n}(t{shift})" for n in names)
    return out


def embed(
    series: TimeSeries,
    lag: int | None = None,
    dim: int | None = None,
    max_dim: int = DEFAULT_MAX_DIM,
    channel: int | str | Sequence[int | str] | None = None,
    max_lag: int = DEFAULT_MAX_LAG,
    n_bins: int = DEFAULT_N_BINS,
    threshold: float = FNN_THRESHOLD,
) -> TimeSeries:
    """Delay-embed a measured series, choosing the delay and dimension when not given.

    ``channel`` picks the channel(s) to embed (index or name; default: all). The delay is the
    first minimum of the mutual information (:func:`first_minimum_lag`), the dimension the first
    with under ``threshold`` false nearest neighbours (:func:`false_nearest_neighbors`,
    :func:`choose_dimension`). With several trials the choice is made on the longest and every
    trial is embedded with it.

    Returns a TimeSeries of ``m·C`` channels named ``x(t), x(t-τ), x(t-2τ), …`` (delay-major),
    each trial ``(T_k − (m−1)τ, m·C)``, with ``dt``, units and source unchanged and
    ``meta["embedding"] = {"lag", "dim", "mi", "fnn", "method", "channels", "start_index"}``
    (``mi[τ]`` for ``τ = 0…``, ``fnn[m−1]`` for ``m = 1…``; empty when not computed). A
    standardised input keeps its scaler, repeated for every delay.
    """
    s = (
        series
        if channel is None
        else series.select([channel] if isinstance(channel, (int, str)) else list(channel))
    )
    longest = s.trials[int(np.argmax(s.lengths))]
    auto = lag is None or dim is None
    if auto and longest.shape[0] < MIN_SAMPLES:
        raise DataError(
            f"the series has {longest.shape[0]} samples; choosing the delay and dimension "
            f"automatically needs at least {MIN_SAMPLES}, so pass lag and dim explicitly."
        )
    mi: list[Any] = []
    fnn: list[float] = []
    if lag is None:
        lag, mi_curves, lag_method = _choose_lag(longest, max_lag, n_bins)
        mi = (
            np.round(mi_curves, 6).T.tolist()
            if s.n_channels > 1
            else np.round(mi_curves[:, 0], 6).tolist()
        )
    else:
        lag, lag_method = _check_lag(lag), "given"
    if dim is None:
        top = _check_dim(max_dim)
        while top > 1 and longest.shape[0] - top * lag < _fnn_min_points(lag):
            top -= 1  # short series: test as many dimensions as the data allow
        fractions = false_nearest_neighbors(longest, lag, max_dim=top)
        dim = choose_dimension(fractions, threshold)
        fnn = np.round(fractions, 6).tolist()
        dim_method = (
            f"false nearest neighbours (Kennel 1992) below {threshold:g}"
            if fractions[dim - 1] < threshold
            else f"fewest false nearest neighbours (Kennel 1992; none below {threshold:g})"
        )
    else:
        dim, dim_method = _check_dim(dim), "given"
    trials = [delay_embed(v, lag, dim) for v in s.trials]
    scaler = s.scaler
    if scaler is not None:
        scaler = Scaler(np.tile(scaler.mean, dim), np.tile(scaler.std, dim))
    info = {
        "lag": lag,
        "dim": dim,
        "lag_time": lag * s.dt,
        "mi": mi,
        "fnn": fnn,
        "method": {"lag": lag_method, "dim": dim_method},
        "channels": list(s.names),
        "start_index": (dim - 1) * lag,
    }
    return s.with_values(
        trials,
        names=_delay_names(s.names, dim),
        units=list(s.units) * dim,
        scaler=scaler,
        meta={**s.meta, "embedding": info},
    )
