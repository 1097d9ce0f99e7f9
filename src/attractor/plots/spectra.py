"""The spectra figure: one panel per channel with the normalised, smoothed power spectra that
``D_H`` compares (:func:`attractor.metrics.spectrum.power_spectrum`), as densities on a log axis
against frequency ``f_k = k / (T Δt)`` in cycles per time unit, the frequency axis cut where the
true spectrum holds :data:`SPECTRUM_MASS` of its mass.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from attractor.errors import ConfigError, DataError
from attractor.metrics.spectrum import SMOOTHING, power_spectrum
from attractor.plots.style import (
    MAX_PANELS,
    STYLE,
    channels_note,
    divergence_note,
    figure_path,
    first_nonfinite,
    gen_kw,
    new_figure,
    no_data,
    note,
    pair,
    pair_legend,
    positive,
    save,
    suptitle,
    true_kw,
)

#: The spectra's frequency axis ends where the true spectrum holds this fraction of its mass.
SPECTRUM_MASS = 0.99
#: Shortest finite stretch of a channel whose spectrum is drawn.
MIN_SPECTRUM_LENGTH = 8
#: Most points drawn per spectrum (the smoothed curves need far fewer than long series give).
MAX_SPECTRUM_POINTS = 4_000


def plot_spectra(
    true: Any,
    generated: Any,
    path: str | os.PathLike[str],
    dt: float = 1.0,
    names: Sequence[str] | None = None,
    smoothing: float = SMOOTHING,
    title: str | None = None,
) -> Path:
    """Smoothed normalised power spectra (those of ``D_H``) of true and generated, per channel.

    The spectrum ``p_k`` of :func:`~attractor.metrics.spectrum.power_spectrum` is drawn as the
    density ``p_k T dt`` against ``f_k = k / (T dt)`` in cycles per time unit, each series on
    its own grid, so series of different lengths compare (for equal lengths this only shifts
    the log axis). The axis ends where the true spectrum reaches :data:`SPECTRUM_MASS` of its
    mass. A generated channel that diverged is drawn from its finite leading stretch.
    """
    path = figure_path(path)  # a bad suffix fails before drawing
    return save(spectra_figure(true, generated, dt, names, smoothing, title), path)


def _spectrum(col: np.ndarray, dt: float, smoothing: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Frequencies ``f_k = k/(T dt)`` and density ``p_k T dt`` of one channel, both ``(F,)``.

    ``p`` is :func:`power_spectrum` of the channel's finite leading stretch (length ``T``);
    dividing by the bin width ``1/(T dt)`` makes spectra of different lengths comparable (each
    integrates to 1 over frequency). None when the channel has no spectrum.
    """
    k = first_nonfinite(col[:, None])
    seg = col if k is None else col[:k]
    if len(seg) < MIN_SPECTRUM_LENGTH:
        return None
    try:
        with np.errstate(all="ignore"):
            p = power_spectrum(seg[:, None], smoothing)[:, 0]
    except DataError:  # a constant channel
        return None
    if not np.isfinite(p).all():
        return None
    width = len(seg) * dt
    return np.arange(len(p)) / width, p * width


def spectra_figure(
    true: Any,
    generated: Any,
    dt: float = 1.0,
    names: Sequence[str] | None = None,
    smoothing: float = SMOOTHING,
    title: str | None = None,
) -> Figure:
    """The figure :func:`plot_spectra` saves, as a :class:`~matplotlib.figure.Figure` on the Agg
    canvas (no file is written; arguments as there)."""
    x, y, names = pair(true, generated, names)
    n = x.shape[1]
    dt = positive(dt, "dt")
    if not (isinstance(smoothing, (int, float, np.number)) and smoothing >= 0):
        raise ConfigError(f"smoothing must be a number ≥ 0 (in bins), got {smoothing!r}.")
    shown = min(n, MAX_PANELS)
    cols = min(shown, 3)
    rows = math.ceil(shown / cols)
    w, h = STYLE.spectrum_panel_size
    fig = new_figure((w * cols, h * rows + 0.9))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    notes = divergence_note(y, dt)
    if notes:
        notes.append("(spectrum of the finite part)")
    if len(y) == 0:
        notes.append("no generated data")
    for i, ax in enumerate(axes):
        if i >= shown:
            ax.set_axis_off()
            continue
        ax.set_title(names[i])
        _spectrum_panel(ax, x[:, i], y[:, i], dt, smoothing, notes if i == 0 else [])
    fig.supxlabel("frequency (cycles per time unit)", fontsize="medium")
    fig.supylabel("normalised power density", fontsize="medium")
    fig.legend(handles=pair_legend(), loc="outside upper right", ncols=2, frameon=False)
    suptitle(fig, (title or "power spectra: true vs generated") + channels_note(shown, n))
    return fig


def _visible(f: np.ndarray, p: np.ndarray, f_max: float) -> tuple[np.ndarray, np.ndarray]:
    """The part of a spectrum up to just past ``f_max``, thinned to ``MAX_SPECTRUM_POINTS``."""
    end = int(np.searchsorted(f, f_max, side="right")) + 1
    stride = max(1, math.ceil(end / MAX_SPECTRUM_POINTS))
    return f[:end:stride], p[:end:stride]


def _spectrum_panel(
    ax: Axes, x: np.ndarray, y: np.ndarray, dt: float, smoothing: float, notes: list[str]
) -> None:
    true, gen = _spectrum(x, dt, smoothing), _spectrum(y, dt, smoothing)
    notes = list(notes)
    if true is None:
        no_data(ax, "true channel is constant\nor too short: no spectrum")
        note(ax, notes)
        return
    if gen is None and len(y) > 0:
        notes.append("generated: no spectrum (constant or not finite)")
    f, p = true
    k = int(np.searchsorted(np.cumsum(p) / p.sum(), SPECTRUM_MASS)) + 1
    f_max = float(f[min(max(k, 2), len(f) - 1)])
    ax.semilogy(*_visible(f, p, f_max), **true_kw(STYLE.spectrum_lw))
    top = float(p[f <= f_max].max())
    if gen is not None:
        ax.semilogy(*_visible(*gen, f_max), **gen_kw(STYLE.spectrum_lw))
        near = gen[1][gen[0] <= f_max]
        top = max(top, float(near.max())) if near.size else top
    low = p[(f <= f_max) & (p > 0)]
    bottom = max(float(low.min()) if low.size else top * 1e-6, top * 1e-8)
    ax.set(xlim=(0.0, f_max), ylim=(bottom / 3, top * 2))
    note(ax, notes)
