"""D_H: the Hellinger distance between smoothed power spectra of a true and a generated series.

For each dimension ``d`` of a series ``x`` of shape ``(T, N)``::

    u      = (x_d − mean(x_d)) / std(x_d)                  z-score
    P(f)   = |rfft(u)(f)|²,  f = 0 … ⌊T/2⌋                 (F = ⌊T/2⌋ + 1 frequencies)
    P̃      = max(0, G_σ * P)                               Gaussian smoothing, σ = 20 bins
    p(f)   = P̃(f) / Σ_f P̃(f)                               normalised to sum 1

where ``G_σ *`` is ``scipy.ndimage.gaussian_filter1d`` with its defaults (``mode="reflect"``,
``truncate=4``). Between true (``p``) and generated (``q``) spectra::

    H_d = sqrt(1 − Σ_f sqrt(p(f) q(f)))  =  sqrt(½ Σ_f (√p(f) − √q(f))²)      ∈ [0, 1]
    D_H = mean_d H_d

Both series must have the same length ``T`` (so the frequency grids agree). D_H ignores the
phase, an overall scale and offset of each channel, and time reversal. A generated channel that
is constant (e.g. a model that fell onto a fixed point) has no spectrum and counts as ``H_d = 1``;
a constant *true* channel is an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from attractor.errors import ConfigError, DataError
from attractor.metrics.geometry import as_pair, as_trajectory

#: Standard deviation of the Gaussian smoothing kernel, in frequency bins (GTF paper).
SMOOTHING = 20.0
#: scipy's default kernel truncation (in σ); a kernel narrower than one bin is skipped.
_TRUNCATE = 4.0
#: Relative standard deviation below which a channel counts as constant.
CONSTANT_TOL = 1e-12


def _constant_channels(x: np.ndarray) -> np.ndarray:
    """Boolean ``(N,)``: channels whose standard deviation is negligible against their scale."""
    scale = np.maximum(np.abs(x).max(axis=0), 1e-300)
    return x.std(axis=0) <= CONSTANT_TOL * scale


def _spectra(x: np.ndarray, smoothing: float) -> np.ndarray:
    """Normalised smoothed spectra ``(F, N)`` of the non-constant channels of ``x``.

    Constant channels get a column of zeros (the caller decides what they mean).
    """
    const = _constant_channels(x)
    sd = np.where(const, 1.0, x.std(axis=0))
    u = (x - x.mean(axis=0)) / sd
    ps = np.abs(np.fft.rfft(u, axis=0)) ** 2
    if int(_TRUNCATE * smoothing + 0.5) > 0:  # a kernel radius of 0 is the identity
        ps = gaussian_filter1d(ps, sigma=smoothing, axis=0)
    ps = np.clip(ps, 0.0, None)
    ps[:, const] = 0.0
    total = ps.sum(axis=0)
    total[const] = 1.0
    return ps / total


def _check_smoothing(smoothing: float) -> None:
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise ConfigError(f"smoothing must be a finite number ≥ 0 (in bins), got {smoothing}.")


def power_spectrum(x: Any, smoothing: float = SMOOTHING) -> np.ndarray:
    """Normalised, smoothed power spectrum of every channel of ``x`` ``(T, N)`` → ``(F, N)``.

    ``F = ⌊T/2⌋ + 1``; every column is ≥ 0 and sums to 1. ``smoothing`` is the Gaussian
    kernel's σ in frequency bins (0 turns smoothing off). Raises :class:`DataError` for a
    constant channel (it has no spectrum once z-scored).
    """
    arr = as_trajectory(x, "x")
    _check_smoothing(smoothing)
    const = np.flatnonzero(_constant_channels(arr))
    if const.size:
        raise DataError(
            f"channel {int(const[0])} of x is constant, so it has no power spectrum once "
            "z-scored; drop constant channels first."
        )
    return _spectra(arr, float(smoothing))


def hellinger(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hellinger distance ``sqrt(1 − Σ sqrt(p q))`` along axis 0 of two ``(F, ...)`` arrays.

    ``p`` and ``q`` must each sum to 1 along axis 0. Evaluated as the equal
    ``sqrt(½ Σ (√p − √q)²)``, which is exactly 0 for ``p = q`` (``1 − Σ√(pq)`` leaves a rounding
    residue of ~1e-16 that the square root would blow up to ~1e-8).
    """
    h2 = 0.5 * np.square(np.sqrt(p) - np.sqrt(q)).sum(axis=0)
    return np.sqrt(np.clip(h2, 0.0, 1.0))


def d_h_per_dim(x_true: Any, x_gen: Any, smoothing: float = SMOOTHING) -> np.ndarray:
    """``H_d`` for every dimension, ``(N,)``; :func:`d_h` is its mean."""
    x, y = as_pair(x_true, x_gen)
    if len(x) != len(y):
        raise DataError(
            f"D_H needs series of equal length, got {len(x)} (x_true) and {len(y)} (x_gen) "
            "time points; generate or cut the series to the same length."
        )
    _check_smoothing(smoothing)
    const_true = np.flatnonzero(_constant_channels(x))
    if const_true.size:
        raise DataError(
            f"channel {int(const_true[0])} of x_true is constant, so it has no power spectrum; "
            "drop constant channels first."
        )
    h = hellinger(_spectra(x, float(smoothing)), _spectra(y, float(smoothing)))
    h[_constant_channels(y)] = 1.0
    return h


def d_h(x_true: Any, x_gen: Any, smoothing: float = SMOOTHING) -> float:
    """Power-spectrum Hellinger distance ``D_H`` in ``[0, 1]`` (see the module docstring).

    ``x_true`` and ``x_gen`` are ``(T, N)`` with the same ``T`` and ``N``; 0 for identical
    spectra, near 1 for spectra with no overlap.
    """
    return float(np.mean(d_h_per_dim(x_true, x_gen, smoothing)))
