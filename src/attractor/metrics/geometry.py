"""D_stsp: the state-space (geometric) divergence between a true and a generated attractor.

Both variants estimate a Kullback–Leibler divergence ``KL(p_true ‖ p_gen)`` between the
distributions of points in state space; the time order of the points does not matter.
Inputs are ``x_true`` of shape ``(T, N)`` and ``x_gen`` of shape ``(T', N)`` (numpy arrays,
torch tensors or single-trial :class:`~attractor.data.series.TimeSeries`; a 1-D array is one
channel). ``T`` and ``T'`` may differ.

**Binned** (the default for ``N ≤ 5``). Per dimension ``d`` the ``n_b + 1`` equally spaced
edges span the *true* data's ``[min_d − 0.1 σ_d, max_d + 0.1 σ_d]`` (``σ_d`` the population
standard deviation). Points of either series are counted in the ``n_b^N`` cells; points outside
the box fall into no cell (the lowest cell is kept). With Laplace smoothing ``α = 1e-5``::

    p_i = (c_i + α) / (Σ_j c_j + α n_b^N)
    D_stsp = Σ_i p_true,i log(p_true,i / p_gen,i)

If no generated point lies inside the box the divergence is ``inf`` (smoothing alone would
make ``p_gen`` uniform and score a run that left the attractor entirely *better* than one that
overlaps it poorly). The sum runs over all ``n_b^N`` cells but is evaluated sparsely: only
cells occupied by either series are visited, and the ``K₀`` cells empty in both contribute in
closed form ``K₀ (α/Z_t) log(Z_g/Z_t)`` with ``Z = Σc + α n_b^N``. Cost ``O((T + T') N)`` time
and memory, independent of ``n_b^N``.

**Gaussian mixture** (the default for ``N > 5``). Each series' first ``≤ max_points`` points
``μ_i`` carry an isotropic Gaussian of variance ``σ²`` (1 on z-scored data)::

    p(s) = 1/n Σ_i N(s; μ_i, σ² I)

and the divergence is a Monte Carlo average over ``n_samples`` draws ``s`` from the true mixture,
``D ≈ mean_s [log p_true(s) − log p_gen(s)]``, with log-sum-exp so high dimensions do not
underflow. This estimates the KL divergence between the two *kernel-smoothed* distributions;
for ``N(0, s²)`` versus ``N(μ, s²)`` data it tends to ``μ² / (2 (s² + σ²))`` per shifted
dimension, not ``μ²/(2 s²)``. ``σ²`` is in the data's units, so pass z-scored data.

:func:`coverage` splits the binned estimate: the share of the true points in cells the generated
series never visits, and how much of D_stsp those cells make up.

This module also holds :func:`as_trajectory`, the input check shared by all metrics.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from attractor.data.series import TimeSeries
from attractor.errors import ConfigError, DataError, UnknownNameError, did_you_mean

#: Bins per dimension for the binned D_stsp (GTF paper).
N_BINS = 30
#: Laplace-smoothing pseudo-count added to every bin.
SMOOTHING_ALPHA = 1e-5
#: Margin of the binning box beyond the true data's range, in standard deviations.
BOX_MARGIN = 0.1
#: Largest dimension for which ``method="auto"`` uses the binned estimator.
MAX_BINNED_DIM = 5
#: Monte Carlo samples drawn from the true mixture (GMM variant).
N_SAMPLES = 1000
#: Points of each series used as mixture centres (GMM variant): the first ``MAX_POINTS``.
MAX_POINTS = 10_000
#: Kernel variance of the mixture components (GMM variant; data assumed z-scored).
SIGMA2 = 1.0
#: The estimators ``d_stsp`` knows.
METHODS = ("auto", "binned", "gmm")
#: Shortest series any metric accepts.
MIN_LENGTH = 2
#: Most dense cells :func:`binned_distributions` will allocate.
MAX_DENSE_CELLS = 10_000_000
#: Floats per block of the (samples × centres) distance matrix in the GMM variant.
_BLOCK_FLOATS = 2_000_000


# ---------------------------------------------------------------------- input checks
def as_trajectory(x: Any, name: str = "x", min_length: int = MIN_LENGTH) -> np.ndarray:
    """Validate one trajectory and return it as a float64 array of shape ``(T, N)``.

    Accepts a numpy array, a torch tensor (any device, detached) or a single-trial TimeSeries;
    a 1-D input is one channel. Raises :class:`DataError` for non-numeric, complex, wrongly
    shaped, too short or non-finite input.
    """
    if isinstance(x, TimeSeries):
        x = x.values
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} could not be read as a numeric array ({exc}).") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise DataError(f"{name} has dtype {arr.dtype}, not numbers; convert it to floats first.")
    if np.iscomplexobj(arr):
        raise DataError(f"{name} is complex; pass real-valued trajectories.")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(f"{name} has shape {arr.shape}; expected (T, N) (time, channels).")
    if arr.shape[1] == 0:
        raise DataError(f"{name} has no channels; expected shape (T, N) with N ≥ 1.")
    if arr.shape[0] < min_length:
        raise DataError(
            f"{name} has {arr.shape[0]} time point(s); this metric needs at least {min_length}."
        )
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        t, c = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(arr[t, c]) else "infinite"
        raise DataError(
            f"{name} has {int(bad.sum())} non-finite value(s) (first: {what} at time index {t}, "
            f"channel {c}); metrics need finite values (a diverged run cannot be scored)."
        )
    return arr


def as_pair(x_true: Any, x_gen: Any, min_length: int = MIN_LENGTH) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (true, generated) pair: both ``(T, N)`` with the same number of channels."""
    a = as_trajectory(x_true, "x_true", min_length)
    b = as_trajectory(x_gen, "x_gen", min_length)
    if a.shape[1] != b.shape[1]:
        raise DataError(
            f"x_true has {a.shape[1]} channel(s) but x_gen has {b.shape[1]}; "
            "both must have the same channels."
        )
    return a, b


# ---------------------------------------------------------------------- binned estimator
def bin_edges(x_true: Any, n_bins: int = N_BINS) -> np.ndarray:
    """Bin edges ``(N, n_bins + 1)`` on ``[min − 0.1σ, max + 0.1σ]`` of the true data per dim."""
    x = as_trajectory(x_true, "x_true")
    _check_positive_int(n_bins, "n_bins")
    lo, hi = _box(x)
    return np.linspace(lo, hi, n_bins + 1, axis=1)


def _box(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mn, mx, sd = x.min(axis=0), x.max(axis=0), x.std(axis=0)
    const = np.flatnonzero(mx - mn <= 1e-12 * np.maximum(np.abs(mx), 1.0))
    if const.size:
        raise DataError(
            f"channel {int(const[0])} of x_true is constant, so its state-space bins are "
            "undefined; drop constant channels before computing D_stsp."
        )
    return mn - BOX_MARGIN * sd, mx + BOX_MARGIN * sd


def _cell_indices(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_bins: int) -> np.ndarray:
    """Integer cell coordinates ``(T_in, N)`` of the points inside the box (others dropped).

    Cell ``k`` of a dimension is ``[edge_k, edge_{k+1})``; the top edge belongs to the last cell.
    """
    width = (hi - lo) / n_bins
    idx = np.floor((x - lo) / width)
    idx[x == hi] = n_bins - 1
    inside = ((idx >= 0) & (idx < n_bins)).all(axis=1)
    return idx[inside].astype(np.int64)


def _compact_ids(a: np.ndarray, b: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Map the cell coordinates of both series to ids ``0 … U−1`` over the occupied cells."""
    n = a.shape[1]
    both = np.concatenate([a, b], axis=0)
    if n * math.log2(n_bins) < 62:  # flat index fits in int64
        flat = np.ravel_multi_index(both.T, (n_bins,) * n) if n > 1 else both[:, 0]
        uniq, inv = np.unique(flat, return_inverse=True)
    else:
        uniq, inv = np.unique(both, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    return inv[: len(a)], inv[len(a) :], len(uniq)


def _binned_counts(
    x: np.ndarray, y: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Counts of both series over the cells occupied by either, and the number of cells;
    ``None`` when no generated point lies inside the true data's box."""
    lo, hi = _box(x)
    ct, cg = _cell_indices(x, lo, hi, n_bins), _cell_indices(y, lo, hi, n_bins)
    it, ig, n_occ = _compact_ids(ct, cg, n_bins)
    if len(ig) == 0:
        return None
    c_t = np.bincount(it, minlength=n_occ).astype(np.float64)
    c_g = np.bincount(ig, minlength=n_occ).astype(np.float64)
    return c_t, c_g, float(n_bins) ** x.shape[1]


def _smoothed(c: np.ndarray, n_cells: float) -> tuple[np.ndarray, float]:
    z = c.sum() + SMOOTHING_ALPHA * n_cells
    return (c + SMOOTHING_ALPHA) / z, z


def _d_stsp_binned(x: np.ndarray, y: np.ndarray, n_bins: int) -> float:
    counts = _binned_counts(x, y, n_bins)
    if counts is None:  # no generated point in the box: no overlap at all
        return math.inf
    c_t, c_g, n_cells = counts
    (p, z_t), (q, z_g) = _smoothed(c_t, n_cells), _smoothed(c_g, n_cells)
    occupied = float(np.sum(p * np.log(p / q)))
    empty = (n_cells - len(c_t)) * (SMOOTHING_ALPHA / z_t) * math.log(z_g / z_t)
    return occupied + empty


def coverage(x_true: Any, x_gen: Any, n_bins: int = N_BINS) -> dict[str, float]:
    """How much of the true attractor a generated one misses, on the binned D_stsp's grid.

    Returns ``uncovered``, the share of the true points (inside the box) that lie in cells no
    generated point visits, and ``uncovered_D``, those cells' part of the binned D_stsp,
    ``Σ_{i: c_gen,i = 0} p_true,i log(p_true,i / p_gen,i)``. There ``p_gen,i`` is only the
    smoothing ``1e-5 / Σc_gen``, so for series of equal length each unit of uncovered true mass
    costs ``log(c_true,i / 1e-5)`` ≈ 12–15: a few per cent uncovered already dominate D_stsp,
    while a low ``uncovered`` with a high D_stsp points at misplaced mass instead.
    ``uncovered`` is 1 and ``uncovered_D`` ``inf`` when no generated point lies in the box.
    """
    x, y = as_pair(x_true, x_gen)
    _check_positive_int(n_bins, "n_bins")
    counts = _binned_counts(x, y, n_bins)
    if counts is None:
        return {"uncovered": 1.0, "uncovered_D": math.inf}
    c_t, c_g, n_cells = counts
    (p, _), (q, _) = _smoothed(c_t, n_cells), _smoothed(c_g, n_cells)
    miss = (c_g == 0) & (c_t > 0)
    return {
        "uncovered": float(c_t[miss].sum() / c_t.sum()),
        "uncovered_D": float(np.sum(p[miss] * np.log(p[miss] / q[miss]))),
    }


def binned_distributions(
    x_true: Any, x_gen: Any, n_bins: int = N_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense Laplace-smoothed histograms ``(p_true, p_gen)`` of shape ``(n_bins,)*N`` and edges.

    For plots and checks in low dimension; ``D_stsp = Σ p_true log(p_true/p_gen)`` over these
    arrays equals :func:`d_stsp` with ``method="binned"``. Returns ``(p_true, p_gen, edges)``
    with ``edges`` of shape ``(N, n_bins + 1)``.
    """
    x, y = as_pair(x_true, x_gen)
    _check_positive_int(n_bins, "n_bins")
    n = x.shape[1]
    if float(n_bins) ** n > MAX_DENSE_CELLS:
        raise ConfigError(
            f"{n_bins}^{n} cells is too many for a dense histogram; use d_stsp, which is sparse."
        )
    lo, hi = _box(x)
    out = []
    for pts in (x, y):
        cells = _cell_indices(pts, lo, hi, n_bins)
        flat = np.ravel_multi_index(cells.T, (n_bins,) * n)
        counts = np.bincount(flat, minlength=n_bins**n).astype(np.float64)
        p = (counts + SMOOTHING_ALPHA) / (counts.sum() + SMOOTHING_ALPHA * n_bins**n)
        out.append(p.reshape((n_bins,) * n))
    return out[0], out[1], np.linspace(lo, hi, n_bins + 1, axis=1)


# ---------------------------------------------------------------------- mixture estimator
def _log_mixture(s: np.ndarray, centres: np.ndarray, sigma2: float) -> np.ndarray:
    """``log(1/n Σ_i N(s; μ_i, σ²I))`` for samples ``(S, N)``, centres ``(n, N)`` → ``(S,)``."""
    n, dim = centres.shape
    c2 = np.einsum("ij,ij->i", centres, centres)
    out = np.empty(len(s))
    block = max(1, _BLOCK_FLOATS // n)
    for a in range(0, len(s), block):
        sb = s[a : a + block]
        d2 = np.einsum("ij,ij->i", sb, sb)[:, None] - 2.0 * sb @ centres.T + c2[None]
        e = -np.maximum(d2, 0.0) / (2.0 * sigma2)
        m = e.max(axis=1, keepdims=True)
        out[a : a + block] = m[:, 0] + np.log(np.exp(e - m).sum(axis=1))
    return out - math.log(n) - 0.5 * dim * math.log(2.0 * math.pi * sigma2)


def _d_stsp_gmm(
    x: np.ndarray, y: np.ndarray, n_samples: int, max_points: int, sigma2: float, seed: int
) -> float:
    x, y = x[:max_points], y[:max_points]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=n_samples)
    s = x[idx] + math.sqrt(sigma2) * rng.standard_normal((n_samples, x.shape[1]))
    return float(np.mean(_log_mixture(s, x, sigma2) - _log_mixture(s, y, sigma2)))


# ---------------------------------------------------------------------- public entry point
def d_stsp(
    x_true: Any,
    x_gen: Any,
    n_bins: int = N_BINS,
    method: str = "auto",
    n_samples: int = N_SAMPLES,
    max_points: int = MAX_POINTS,
    sigma2: float = SIGMA2,
    seed: int = 0,
) -> float:
    """State-space divergence ``D_stsp = KL(p_true ‖ p_gen)`` (see the module docstring).

    ``x_true`` ``(T, N)``, ``x_gen`` ``(T', N)``. ``method``: ``"binned"`` (``n_bins`` per dim),
    ``"gmm"`` (``n_samples``, ``max_points``, ``sigma2``, ``seed``) or ``"auto"`` (binned for
    ``N ≤ 5``). Returns a float ≥ 0 for the binned variant (0 for identical point sets, ``inf``
    when no generated point falls inside the true data's box); the
    Monte Carlo GMM estimate is 0 for identical inputs and may dip slightly below 0 otherwise.
    """
    if method not in METHODS:
        raise UnknownNameError(
            f"unknown D_stsp method {method!r}; choose one of {', '.join(METHODS)}."
            + did_you_mean(method, METHODS)
        )
    x, y = as_pair(x_true, x_gen)
    if method == "auto":
        method = "binned" if x.shape[1] <= MAX_BINNED_DIM else "gmm"
    if method == "binned":
        _check_positive_int(n_bins, "n_bins")
        return _d_stsp_binned(x, y, n_bins)
    _check_positive_int(n_samples, "n_samples")
    _check_positive_int(max_points, "max_points")
    if not (math.isfinite(sigma2) and sigma2 > 0):
        raise ConfigError(f"sigma2 must be a positive finite number, got {sigma2}.")
    return _d_stsp_gmm(x, y, n_samples, max_points, float(sigma2), seed)


def _check_positive_int(v: int, name: str) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ConfigError(f"{name} must be a positive integer, got {v!r}.")
