"""Denoised copies of noisy measured trials, for judging free runs against them.

A model run freely produces a clean orbit; measured validation data carry observation noise.
Comparing the two directly penalises every model by the noise, and adding matching noise to the
model's orbit (:mod:`attractor.data.noise`) blurs both histograms until good and bad models
score alike (noisy Lorenz-63, 20,000 samples: validation D_stsp + D_H 0.77–1.12 over ESNs whose
clean-test scores span 0.08–0.68). This module removes most of the noise instead.

**Smoother.** A Savitzky–Golay filter (``scipy.signal.savgol_filter``: the least-squares
polynomial of order ``p`` over a centred window of ``w`` samples, evaluated at the centre) is a
linear smoother ``ŝ = H x`` whose hat matrix has the constant diagonal ``h₀`` (the central
filter coefficient, ``scipy.signal.savgol_coeffs``) away from the ends.

**Choice of (p, w): generalised cross-validation** (Craven & Wahba 1979), per trial::

    GCV(p, w) = mean‖x − ŝ‖² / (1 − h₀)²

the leave-one-out prediction error of the smoother; it needs no noise level and picks almost no
smoothing for clean data. On 5 %-noisy dysts flows at 100 samples per period the choice matched
the window with the smallest error against the clean signal (Lorenz, Thomas, Aizawa, Halvorsen),
halving the error (0.050 → 0.014–0.027 of the channel std) in 0.3 s for 20,000 × 3 samples.

SciPy does the filtering; the GCV search over a small grid is written here because SciPy's only
GCV smoother (``make_smoothing_spline``) took 15 s for the same data and gave no smaller error.
The denoised copies are used to *judge* models (the auto search's validation reference); models
are still trained on the data as measured (smoothing the training data did not help: the noise
regularises the ESN's regression).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Polynomial orders and the largest window tried.
ORDERS = (2, 3, 4)
MAX_WINDOW = 81


def gcv_score(x: np.ndarray, order: int, window: int) -> float:
    """``GCV(p, w)`` of a ``(T, N)`` trial, averaged over channels (module docstring)."""
    from scipy.signal import savgol_coeffs, savgol_filter

    s = savgol_filter(x, window, order, axis=0)
    h0 = float(savgol_coeffs(window, order)[window // 2])
    return float(np.mean((x - s) ** 2) / (1.0 - h0) ** 2)


def choose_window(x: np.ndarray, max_window: int = MAX_WINDOW) -> tuple[int, int] | None:
    """The ``(order, window)`` of least GCV for trial ``x``; ``None`` when it is too short."""
    best: tuple[float, int, int] | None = None
    for p in ORDERS:
        for w in range((p + 3) | 1, min(max_window, x.shape[0] - 1) + 1, 2):
            g = gcv_score(x, p, w)
            if best is None or g < best[0]:
                best = (g, p, w)
    return None if best is None else (best[1], best[2])


def denoise(
    trials: np.ndarray | Sequence[np.ndarray], max_window: int = MAX_WINDOW
) -> list[np.ndarray]:
    """Savitzky–Golay-smoothed copies of ``(T, N)`` trials, each with its own GCV choice; a trial
    too short for the smallest window is returned unchanged."""
    from scipy.signal import savgol_filter

    arrays = [trials] if isinstance(trials, np.ndarray) else list(trials)
    out = []
    for v in arrays:
        v = np.asarray(v, dtype=float)
        x = v[:, None] if v.ndim == 1 else v
        choice = choose_window(x, max_window)
        s = x if choice is None else savgol_filter(x, choice[1], choice[0], axis=0)
        out.append(s.reshape(v.shape))
    return out


__all__ = ["choose_window", "denoise", "gcv_score"]
