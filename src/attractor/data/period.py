"""Characteristic period of a sampled series, in samples: one over the median frequency of its
power spectrum.

For each channel of each trial (mean removed, Hann window, Welch segments of up to 8,192 samples
with half overlap; ``scipy.signal.welch``), the power spectra are summed over channels and
trials; the median frequency splits the power in halves::

    P = 1 / f½,   ∫_0^{f½} S(f) df = ½ ∫_0^{1/2} S(f) df          (f in cycles per sample)

The lowest bin (the mean) is left out. For a sinusoid P is its period. Chaotic flows have broad
spectra and the largest peak is fragile (Lorenz-63's x has most power at the slow lobe
switching on short records); the median frequency is not, and it sits at the oscillation that
carries most of the variance. Observation noise adds flat power and shortens P a little, which
only errs towards less decimation. Measured data are often sampled far above what a one-step model
needs (hundreds of samples per period); :func:`decimation_factors` offers integer factors that
keep at least ``min_per_period`` samples per period.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import welch

from attractor.errors import DataError

#: Longest Welch segment (samples).
SEGMENT = 8192


def dominant_period(trials: np.ndarray | Sequence[np.ndarray]) -> float:
    """Samples per characteristic oscillation of ``(T, N)`` data or a list of trials (module)."""
    arrays = [trials] if isinstance(trials, np.ndarray) else list(trials)
    total: np.ndarray | None = None
    freqs = None
    nper = min(SEGMENT, min(np.asarray(a).shape[0] for a in arrays))
    if nper < 16:
        raise DataError(f"a period needs at least 16 samples per trial, got {nper}.")
    for a in arrays:
        x = np.asarray(a, dtype=float)
        x = x[:, None] if x.ndim == 1 else x
        f, s = welch(x - x.mean(axis=0), nperseg=nper, axis=0, detrend=False)
        power = s.sum(axis=1)
        total = power if total is None else total + power
        freqs = f
    assert total is not None and freqs is not None
    cum = np.cumsum(total[1:])
    if not cum[-1] > 0:
        raise DataError("the series is constant; it has no period.")
    k = 1 + int(np.searchsorted(cum, 0.5 * cum[-1]))
    return float(1.0 / freqs[k])


def decimation_factors(period: float, min_per_period: float = 25.0, limit: int = 8) -> list[int]:
    """Factors ``1, 2, 4, …`` (at most ``limit``) that keep ≥ ``min_per_period`` samples per
    period; always at least ``[1]``."""
    out = [1]
    k = 2
    while k <= limit and period / k >= min_per_period:
        out.append(k)
        k *= 2
    return out
