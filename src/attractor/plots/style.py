"""The look, the checks and the one save shared by every figure of :mod:`attractor.plots`.

- :class:`PlotStyle` / :data:`STYLE`: colours, line widths, sizes and the resolution.
- Argument checks that raise one-sentence errors: :func:`as_array` (``(T, N)`` float arrays from
  numpy, torch or :class:`~attractor.data.series.TimeSeries`, non-finite values as NaN),
  :func:`pair`, :func:`channel_names`, :func:`positive`, :func:`count`.
- Drawing helpers: limits that keep the true data visible (:func:`limits`, :data:`VIEW_MARGIN`),
  warning notes (:func:`note`, :func:`title_note`, :func:`divergence_note`), true/generated line
  styles and legend.
- :func:`new_figure` and :func:`save`: figures are :class:`matplotlib.figure.Figure` objects on the
  Agg canvas, without pyplot (no backend switch, no window, nothing registered with pyplot), and
  are written atomically through :func:`attractor.io.atomic_open` (a hidden temporary file beside
  the target, renamed into place), so an interrupted save never leaves a half-written image and an
  existing file is either kept or replaced whole. The format follows the suffix (``.png`` if none).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D

from attractor.data.series import TimeSeries
from attractor.errors import ConfigError, DataError
from attractor.io import atomic_open


@dataclass(frozen=True)
class PlotStyle:
    """Colours, line widths, sizes (inches, ``(width, height)``) and resolution of all figures."""

    true_color: str = "0.2"
    generated_color: str = "#1f6fd1"
    warning_color: str = "#c62828"
    best_color: str = "#e69f00"
    attractor_lw: float = 0.3
    series_lw: float = 0.9
    spectrum_lw: float = 1.3
    curve_lw: float = 1.2
    legend_lw: float = 2.0
    true_alpha: float = 0.75
    generated_alpha: float = 0.65
    marker_size: float = 4.0
    dpi: int = 120
    attractor_3d_size: tuple[float, float] = (12.0, 8.5)
    attractor_2d_size: tuple[float, float] = (6.5, 6.5)
    series_width: float = 10.0
    series_panel_height: float = 1.7
    spectrum_panel_size: tuple[float, float] = (4.3, 3.2)
    training_size: tuple[float, float] = (11.0, 7.5)
    lyapunov_size: tuple[float, float] = (8.0, 5.0)
    title_size: float = 12.0
    note_size: float = 8.5


#: The look of every figure of :mod:`attractor.plots`.
STYLE = PlotStyle()
#: Most channels drawn as separate panels (time series, spectra); the rest are counted.
MAX_PANELS = 6
#: Generated values are followed this fraction of the true range beyond it, then cut off.
VIEW_MARGIN = 0.5


# ---------------------------------------------------------------------------- inputs
def to_numpy(x: Any, name: str) -> np.ndarray:
    """A new float64 array from a numpy array, torch tensor, TimeSeries or nested list."""
    if isinstance(x, TimeSeries):
        x = x.values
    if type(x).__module__.partition(".")[0] == "torch":  # a tensor, without importing torch here
        x = x.detach().cpu().numpy()
    try:
        return np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} could not be read as a numeric array ({exc}).") from None


def as_array(x: Any, name: str, min_length: int = 0) -> np.ndarray:
    """``x`` as a float64 ``(T, N)`` array with every non-finite value replaced by NaN."""
    arr = to_numpy(x, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise DataError(
            f"{name} has shape {arr.shape}; expected (T, N) (time, channels) with N ≥ 1."
        )
    if len(arr) < min_length:
        raise DataError(f"{name} has {len(arr)} time point(s); this figure needs {min_length}.")
    arr[~np.isfinite(arr)] = np.nan
    return arr


def pair(
    true: Any, generated: Any, names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``true`` (at least 2 points) and ``generated`` as arrays with the same channels, and the
    channels' names (:func:`channel_names`)."""
    x = as_array(true, "true", min_length=2)
    y = as_array(generated, "generated")
    if len(y) == 0 and y.shape[1] == 1:
        y = np.empty((0, x.shape[1]))
    if y.shape[1] != x.shape[1]:
        raise DataError(
            f"true has {x.shape[1]} channel(s) but generated has {y.shape[1]}; "
            "both must have the same channels."
        )
    return x, y, channel_names(names, x.shape[1])


def channel_names(names: Sequence[str] | None, n: int) -> list[str]:
    """``names``, one per channel, or ``x₁ … x_n`` in TeX."""
    if names is None:
        return [f"$x_{{{i + 1}}}$" for i in range(n)]
    names = [str(s) for s in names]
    if len(names) != n:
        raise ConfigError(f"got {len(names)} channel name(s) for {n} channel(s); give one each.")
    return names


def positive(value: float, name: str) -> float:
    """``value`` as a float; :class:`ConfigError` unless it is finite and > 0."""
    if not (isinstance(value, (int, float, np.number)) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


def count(value: int, name: str) -> int:
    """``value`` as an int; :class:`ConfigError` unless it is a whole number ≥ 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a whole number ≥ 1, got {value!r}.")
    return int(value)


# ---------------------------------------------------------------------------- helpers
def first_nonfinite(y: np.ndarray) -> int | None:
    """Index of the first time step of ``y`` ``(T, N)`` with a non-finite value, or None."""
    bad = ~np.isfinite(y).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def divergence_note(y: np.ndarray, dt: float | None = None) -> list[str]:
    """A note saying from which step (and time) ``generated`` stops being finite."""
    k = first_nonfinite(y)
    if k is None:
        return []
    if not np.isfinite(y).any():
        return ["generated diverged: no finite values"]
    when = f"step {k}" + ("" if dt is None else f" (t = {k * dt:.4g})")
    return [f"generated diverged: non-finite from {when}"]


def limits(true: np.ndarray, generated: np.ndarray, pad: float = 0.05) -> tuple[float, float]:
    """Axis limits covering the true values and the generated ones near them.

    Generated values are followed at most :data:`VIEW_MARGIN` times the true range beyond the
    true data, so a run that drifted off does not shrink the true attractor to a dot.
    """
    t = true[np.isfinite(true)]
    g = generated[np.isfinite(generated)]
    ref = t if t.size else g
    if ref.size == 0:
        return -1.0, 1.0
    lo, hi = float(ref.min()), float(ref.max())
    span = hi - lo
    if not span > 0:  # a constant channel
        span = max(abs(lo), 1.0)
        lo, hi = lo - 0.5 * span, hi + 0.5 * span
    if g.size and t.size:
        lo = min(lo, max(float(g.min()), lo - VIEW_MARGIN * span))
        hi = max(hi, min(float(g.max()), hi + VIEW_MARGIN * span))
    span = hi - lo
    return lo - pad * span, hi + pad * span


def outside(y: np.ndarray, lims: Sequence[tuple[float, float]]) -> np.ndarray:
    """Boolean ``(T,)``: rows of ``y`` with a finite value outside its channel's limits."""
    out = np.zeros(len(y), dtype=bool)
    for j, (lo, hi) in enumerate(lims):
        with np.errstate(invalid="ignore"):
            out |= (y[:, j] < lo) | (y[:, j] > hi)
    return out


def view_note(outside: bool) -> list[str]:
    """A note that generated data leave the plotted range, if ``outside``."""
    return ["generated leaves the plotted range (cut off)"] if outside else []


def thin(x: np.ndarray, max_points: int) -> np.ndarray:
    """Every k-th row of ``x``, with k the smallest stride leaving ≤ ``max_points`` rows."""
    return x[:: max(1, math.ceil(len(x) / max_points))]


def new_figure(size: tuple[float, float]) -> Figure:
    """A constrained-layout figure of ``size`` inches on its own Agg canvas (no pyplot)."""
    fig = Figure(figsize=size, dpi=STYLE.dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def suptitle(fig: Figure, text: str) -> None:
    """The figure's title in the style's size."""
    fig.suptitle(text, fontsize=STYLE.title_size)


def note(ax: Axes, lines: Sequence[str]) -> None:
    """A red box in ``ax`` with one warning per line, where it hides the least data."""
    if not lines:
        return
    text = "\n".join(dict.fromkeys(lines))  # unique, in order
    if ax.name == "3d":  # 3-D axes: the empty upper-left corner
        box = dict(boxstyle="round,pad=0.3", fc="white", ec=STYLE.warning_color, alpha=0.9)
        ax.text2D(
            0.02,
            0.98,
            text,
            transform=ax.transAxes,
            ha="left",
            va="top",
            color=STYLE.warning_color,
            fontsize=STYLE.note_size,
            bbox=box,
            zorder=10,
        )
        return
    box = Legend(
        ax,
        [Line2D([], [], ls="none")],
        [text],
        loc="best",
        handlelength=0,
        handletextpad=0,
        labelcolor=STYLE.warning_color,
        fontsize=STYLE.note_size,
        edgecolor=STYLE.warning_color,
        framealpha=0.9,
    )
    box.set_zorder(10)
    ax.add_artist(box)  # beside, not instead of, the axes' own legend


def title_note(ax: Axes, lines: Sequence[str]) -> None:
    """Warnings as a red title on the right of ``ax``, above the data."""
    if lines:
        ax.set_title(
            "\n".join(dict.fromkeys(lines)),
            loc="right",
            color=STYLE.warning_color,
            fontsize=STYLE.note_size,
        )


def no_data(ax: Axes, text: str = "no data") -> None:
    """A grey ``text`` in the middle of an empty ``ax``."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.5")


def true_kw(lw: float) -> dict[str, Any]:
    """Line style of true data."""
    return dict(color=STYLE.true_color, lw=lw, alpha=STYLE.true_alpha)


def gen_kw(lw: float) -> dict[str, Any]:
    """Line style of generated data."""
    return dict(color=STYLE.generated_color, lw=lw, alpha=STYLE.generated_alpha)


def pair_legend() -> list[Line2D]:
    """Legend handles: true and generated."""
    return [
        Line2D([], [], color=STYLE.true_color, lw=STYLE.legend_lw, label="true"),
        Line2D([], [], color=STYLE.generated_color, lw=STYLE.legend_lw, label="generated"),
    ]


def channels_note(n_shown: int, n: int) -> str:
    """`` (first k of n channels shown)`` when channels were left out, else ''."""
    return f" (first {n_shown} of {n} channels shown)" if n > n_shown else ""


# ---------------------------------------------------------------------------- saving
def figure_path(path: str | os.PathLike[str]) -> Path:
    """The file a figure is written to: ``path``, with ``.png`` added when it has no suffix;
    :class:`ConfigError` when the suffix names no format matplotlib can write."""
    path = Path(path)
    if not path.suffix:
        path = path.with_name(path.name + ".png")
    if path.suffix[1:].lower() not in FigureCanvasAgg.get_supported_filetypes():
        known = ", ".join(sorted(FigureCanvasAgg.get_supported_filetypes()))
        raise ConfigError(f"cannot save a figure as {path.suffix!r}; use one of: {known}.")
    return path


def save(
    fig: Figure, path: str | os.PathLike[str], *, dpi: float | None = None, **savefig: Any
) -> Path:
    """Write ``fig`` atomically to :func:`figure_path` ``(path)`` in the format of its suffix, at
    ``dpi`` (:data:`STYLE`'s by default; ``savefig`` goes on to :meth:`Figure.savefig`); returns
    the path written. The figure is cleared afterwards, also when saving fails: the ``plot_*``
    functions own the figures they draw.
    """
    path = figure_path(path)
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    try:
        with atomic_open(path) as fh:
            fig.savefig(fh, format=path.suffix[1:].lower(), dpi=dpi or STYLE.dpi, **savefig)
    finally:
        fig.clear()  # drop the artists now; the figure is not registered anywhere else
    return path
