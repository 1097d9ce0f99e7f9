"""The Lyapunov convergence figure: running estimates ``λ_i`` against steps, with optional
reference values (e.g. the true system's spectrum) as dashed lines.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from attractor.errors import DataError
from attractor.plots.style import (
    STYLE,
    as_array,
    figure_path,
    new_figure,
    no_data,
    note,
    save,
    suptitle,
    to_numpy,
)

#: Most exponents named one by one in the Lyapunov legend.
MAX_LEGEND_ENTRIES = 10


def plot_lyapunov_convergence(
    history_steps: Any,
    history: Any,
    path: str | os.PathLike[str],
    reference: Any = None,
    title: str | None = None,
) -> Path:
    """Running Lyapunov exponent estimates ``history`` ``(K, M)`` against steps ``(K,)``.

    ``reference`` ``(M',)``, optional, is drawn as dashed horizontal lines (in the matching
    exponent's colour when ``M' = M``). The y-range follows the later half of the estimates
    and the references, so wild early estimates do not flatten the converged part.
    """
    path = figure_path(path)  # a bad suffix fails before drawing
    return save(lyapunov_figure(history_steps, history, reference, title), path)


def _exponent_colors(m: int) -> list[Any]:
    from matplotlib import colormaps

    if m <= 10:
        return [colormaps["tab10"](i) for i in range(m)]
    return [colormaps["viridis"](v) for v in np.linspace(0.0, 0.9, m)]


def lyapunov_figure(
    history_steps: Any, history: Any, reference: Any = None, title: str | None = None
) -> Figure:
    """The figure :func:`plot_lyapunov_convergence` saves, as a
    :class:`~matplotlib.figure.Figure` on the Agg canvas (no file is written; arguments as
    there)."""
    steps = as_array(history_steps, "history_steps")
    h = as_array(history, "history")
    if steps.shape[1] != 1:
        raise DataError(f"history_steps has shape {steps.shape}; expected (K,).")
    if len(h) == 0 and h.shape[1] == 1 and len(steps) == 0:
        h = np.empty((0, 0))
    if len(steps) != len(h):
        raise DataError(
            f"history_steps has {len(steps)} entries but history has {len(h)} rows; "
            "give one step count per row of estimates."
        )
    steps = steps[:, 0]
    ref = np.empty(0) if reference is None else np.ravel(to_numpy(reference, "reference"))
    m = h.shape[1]
    colors = _exponent_colors(max(m, 1))
    fig = new_figure(STYLE.lyapunov_size)
    ax = fig.add_subplot()
    ax.axhline(0.0, color="0.75", lw=0.8, zorder=0)
    for i in range(m):
        label = f"$\\lambda_{{{i + 1}}}$" if m <= MAX_LEGEND_ENTRIES else None
        ax.plot(steps, h[:, i], color=colors[i], lw=STYLE.curve_lw, label=label)
    for j, r in enumerate(ref):
        if np.isfinite(r):
            color = colors[j] if len(ref) == m else STYLE.true_color
            ax.axhline(r, color=color, lw=1.0, ls="--", alpha=0.8)
    if ref.size and np.isfinite(ref).any():
        ax.plot([], [], color=STYLE.true_color, ls="--", lw=1.0, label="reference")
    finite_steps = steps[np.isfinite(steps)]
    if (
        finite_steps.size
        and finite_steps.min() > 0
        and finite_steps.max() >= 100 * finite_steps.min()
    ):
        ax.set_xscale("log")
    late = h[len(h) // 2 :]
    span = np.concatenate([late[np.isfinite(late)], ref[np.isfinite(ref)]])
    if span.size:
        lo, hi = float(span.min()), float(span.max())
        pad = 0.15 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.5
        ax.set_ylim(lo - pad, hi + pad)
    if m == 0 or not np.isfinite(h).any():
        no_data(ax, "no finite estimates")
    elif not np.isfinite(h).all():
        note(ax, ["non-finite estimates (diverged)"])
    if ax.get_legend_handles_labels()[0]:
        fig.legend(loc="outside right upper", fontsize="small", frameon=False)
    ax.set(xlabel="steps", ylabel="Lyapunov exponent estimate")
    suptitle(fig, title or "Lyapunov spectrum: convergence of the estimates")
    return fig
