"""The time-series figure: one panel per channel (at most
:data:`~attractor.plots.style.MAX_PANELS`), true and generated against physical time ``t = k·Δt``
over the first ``n_points`` steps. True and generated may differ in length; where the generated
run stops being finite a red line marks it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from attractor.plots.style import (
    MAX_PANELS,
    STYLE,
    channels_note,
    count,
    divergence_note,
    figure_path,
    first_nonfinite,
    gen_kw,
    limits,
    new_figure,
    outside,
    pair,
    pair_legend,
    positive,
    save,
    suptitle,
    title_note,
    true_kw,
    view_note,
)


def plot_time_series(
    true: Any,
    generated: Any,
    path: str | os.PathLike[str],
    dt: float = 1.0,
    names: Sequence[str] | None = None,
    n_points: int = 2_000,
    title: str | None = None,
) -> Path:
    """True and generated channels against time ``t = k·dt`` over the first ``n_points`` steps.

    One panel per channel, at most :data:`MAX_PANELS`; the title says how many were left out.
    """
    path = figure_path(path)  # a bad suffix fails before drawing
    return save(time_series_figure(true, generated, dt, names, n_points, title), path)


def time_series_figure(
    true: Any,
    generated: Any,
    dt: float = 1.0,
    names: Sequence[str] | None = None,
    n_points: int = 2_000,
    title: str | None = None,
) -> Figure:
    """The figure :func:`plot_time_series` saves, as a :class:`~matplotlib.figure.Figure` on the Agg
    canvas (no file is written; arguments as there)."""
    x, y, names = pair(true, generated, names)
    n = x.shape[1]
    dt = positive(dt, "dt")
    n_points = count(n_points, "n_points")
    notes = divergence_note(y, dt)  # also when it happens after the window shown
    x, y = x[:n_points], y[:n_points]
    shown = min(n, MAX_PANELS)
    fig = new_figure((STYLE.series_width, 1.1 + STYLE.series_panel_height * shown))
    axes = fig.subplots(shown, 1, sharex=True, squeeze=False)[:, 0]
    lims = [limits(x[:, i], y[:, i]) for i in range(shown)]
    notes += view_note(bool(outside(y[:, :shown], lims).any()))
    if len(y) == 0:
        notes.append("no generated data")
    t_true, t_gen = np.arange(len(x)) * dt, np.arange(len(y)) * dt
    k = first_nonfinite(y)
    for i, ax in enumerate(axes):
        ax.plot(t_true, x[:, i], **true_kw(STYLE.series_lw))
        ax.plot(t_gen, y[:, i], **gen_kw(STYLE.series_lw))
        if k is not None:
            ax.axvline(k * dt, color=STYLE.warning_color, lw=0.8, ls=":")
        ax.set(ylim=lims[i], ylabel=names[i])
    axes[0].set_xlim(0.0, max(len(x), len(y), 2) * dt - dt)
    axes[-1].set_xlabel("time" if dt == 1.0 else f"time (Δt = {dt:.4g})")
    title_note(axes[0], notes)
    fig.legend(handles=pair_legend(), loc="outside upper right", ncols=2, frameon=False)
    suptitle(fig, (title or "time series: true vs generated") + channels_note(shown, n))
    return fig
