"""The attractor figure: the geometry of true against generated data.

For ``N ≥ 3`` the first three channels as two 3-D views (true | generated, same limits) above the
three 2-D projections ``x₁–x₂, x₁–x₃, x₂–x₃`` with true (dark grey) and generated (colour)
overlaid; for ``N = 2`` the plane; for ``N = 1`` the delay plot ``x(t+lag)`` against ``x(t)``.
Trajectories are thinned to ``max_points`` points; generated values far outside the true range are
cut off with a note, and a diverged run is drawn as far as it is finite.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from attractor.errors import DataError
from attractor.plots.style import (
    STYLE,
    channels_note,
    count,
    divergence_note,
    figure_path,
    gen_kw,
    limits,
    new_figure,
    note,
    outside,
    pair,
    pair_legend,
    save,
    suptitle,
    thin,
    true_kw,
    view_note,
)


def plot_attractor(
    true: Any,
    generated: Any,
    path: str | os.PathLike[str],
    names: Sequence[str] | None = None,
    title: str | None = None,
    max_points: int = 20_000,
    lag: int = 1,
) -> Path:
    """True against generated attractor; ``true`` ``(T, N)``, ``generated`` ``(T', N)``.

    ``N ≥ 3``: 3-D views of channels 1–3 (true | generated, shared limits) above the three 2-D
    projections with both overlaid; ``N = 2``: the plane; ``N = 1``: the delay plot
    ``x(t + lag)`` against ``x(t)`` (``lag`` in steps; for a finely sampled flow a lag of about
    a quarter period opens the loops). Each trajectory is thinned by a constant stride to at
    most ``max_points`` points.
    """
    path = figure_path(path)  # a bad suffix fails before drawing
    figure = attractor_figure(true, generated, names, title, max_points, lag)
    return save(figure, path)


def attractor_figure(
    true: Any,
    generated: Any,
    names: Sequence[str] | None = None,
    title: str | None = None,
    max_points: int = 20_000,
    lag: int = 1,
) -> Figure:
    """The figure :func:`plot_attractor` saves, as a :class:`~matplotlib.figure.Figure` on the Agg
    canvas (no file is written; arguments as there)."""
    x, y, names = pair(true, generated, names)
    n = x.shape[1]
    max_points = count(max_points, "max_points")
    lag = count(lag, "lag")
    if n == 1 and len(x) <= lag:
        raise DataError(f"true has {len(x)} time points, too few for a delay plot with lag {lag}.")
    notes = divergence_note(y)
    if len(y) == 0:
        notes.append("no generated data")
    title = (title or "attractor: true vs generated") + channels_note(3, n)
    if n == 1:
        x = np.c_[x[:-lag, 0], x[lag:, 0]]
        y = np.c_[y[:-lag, 0], y[lag:, 0]] if len(y) > lag else np.empty((0, 2))
        names = [f"{names[0]}(t)", f"{names[0]}(t+{lag})"]
    x, y = thin(x[:, :3], max_points), thin(y[:, :3], max_points)
    lims = [limits(x[:, j], y[:, j]) for j in range(x.shape[1])]
    if n == 1:  # the delay plot's two axes show the same variable
        both = (min(lims[0][0], lims[1][0]), max(lims[0][1], lims[1][1]))
        lims = [both, both]
    notes += view_note(bool(outside(y, lims).any()))
    lw = STYLE.attractor_lw
    if x.shape[1] == 2:
        fig = new_figure(STYLE.attractor_2d_size)
        ax = fig.add_subplot()
        _plane(ax, x, y, (0, 1), names, lims)
        note(ax, notes)
        fig.legend(handles=pair_legend(), loc="outside lower center", ncols=2, frameon=False)
        suptitle(fig, title)
        return fig
    fig = new_figure(STYLE.attractor_3d_size)
    grid = fig.add_gridspec(2, 6, height_ratios=(1.5, 1.0))
    y_in = y.copy()
    y_in[outside(y, lims)] = np.nan  # 3-D axes do not clip to their box
    for k, (data, kw, label) in enumerate(
        ((x, true_kw(lw), "true"), (y_in, gen_kw(lw), "generated"))
    ):
        ax = fig.add_subplot(grid[0, 3 * k : 3 * k + 3], projection="3d")
        ax.plot(data[:, 0], data[:, 1], data[:, 2], **kw)
        ax.set(xlim=lims[0], ylim=lims[1], zlim=lims[2], title=label)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_zlabel(names[2])
        ax.tick_params(labelsize="small")
        if k == 1:
            note(ax, notes)
    for k, (i, j) in enumerate(((0, 1), (0, 2), (1, 2))):
        ax = fig.add_subplot(grid[1, 2 * k : 2 * k + 2])
        _plane(ax, x, y, (i, j), names, lims)
    fig.legend(handles=pair_legend(), loc="outside lower center", ncols=2, frameon=False)
    suptitle(fig, title)
    return fig


def _plane(
    ax: Axes,
    x: np.ndarray,
    y: np.ndarray,
    ij: tuple[int, int],
    names: Sequence[str],
    lims: Sequence[tuple[float, float]],
) -> None:
    i, j = ij
    lw = STYLE.attractor_lw
    ax.plot(x[:, i], x[:, j], **true_kw(lw))
    ax.plot(y[:, i], y[:, j], **gen_kw(lw))
    ax.set(xlim=lims[i], ylim=lims[j], xlabel=names[i], ylabel=names[j])
