"""Figures of a run: how a generated trajectory compares with the data, and how training went.

Each function draws one figure from numpy arrays (torch tensors and single-trial
:class:`~attractor.data.series.TimeSeries` work too; trajectories are ``(T, N)``, a 1-D array is
one channel), writes it to ``path`` and returns the :class:`~pathlib.Path` written.

- :func:`plot_attractor` — the geometry. For ``N ≥ 3`` the first three channels as two 3-D views
  (true | generated, same limits) above the three 2-D projections ``x₁–x₂, x₁–x₃, x₂–x₃`` with
  true (dark grey) and generated (colour) overlaid; for ``N = 2`` the plane; for ``N = 1`` the
  delay plot ``x(t+1)`` against ``x(t)``. Trajectories are thinned to ``max_points`` points.
- :func:`plot_time_series` — one panel per channel (at most :data:`MAX_PANELS`), true and generated
  against physical time ``t = k·Δt`` over the first ``n_points`` steps.
- :func:`plot_spectra` — one panel per channel: the normalised, smoothed power spectra that
  ``D_H`` compares (:func:`attractor.metrics.spectrum.power_spectrum`), as densities on a log
  axis against frequency ``f_k = k / (T Δt)`` in cycles per time unit, the frequency axis cut
  where the true spectrum holds :data:`SPECTRUM_MASS` of its mass.
- :func:`plot_training` — loss, α and learning rate, and validation ``D_stsp`` and ``D_H`` against
  epoch, with the best-``D_stsp`` epoch marked.
- :func:`plot_lyapunov_convergence` — running estimates ``λ_i`` against steps, with optional
  reference values (e.g. the true system's spectrum) as dashed lines.

Generated data that diverged are drawn as far as they are finite, with a red note saying from
which step they are not; values far outside the true data's range are cut off (with a note) so
the true attractor stays visible. True and generated series may differ in length.

Files are written atomically: to a hidden temporary file in the target directory, then renamed,
so an interrupted save never leaves a half-written image and an existing file is either kept or
replaced whole. The format follows the suffix of ``path`` (``.png`` if it has none). Figures
are :class:`matplotlib.figure.Figure` objects rendered by the Agg canvas directly, without
pyplot: importing this module never switches the user's backend, opens a window or registers a
figure with pyplot, and each figure is released when its function returns. Colours, line widths,
sizes and the resolution live in :data:`STYLE`.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from attractor.data.series import TimeSeries
from attractor.errors import ConfigError, DataError
from attractor.metrics.spectrum import SMOOTHING, power_spectrum


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


#: The look of every figure in this module.
STYLE = PlotStyle()
#: Most channels drawn as separate panels (time series, spectra); the rest are counted.
MAX_PANELS = 6
#: The spectra's frequency axis ends where the true spectrum holds this fraction of its mass.
SPECTRUM_MASS = 0.99
#: Shortest finite stretch of a channel whose spectrum is drawn.
MIN_SPECTRUM_LENGTH = 8
#: Most points drawn per spectrum (the smoothed curves need far fewer than long series give).
MAX_SPECTRUM_POINTS = 4_000
#: Generated values are followed this fraction of the true range beyond it, then cut off.
VIEW_MARGIN = 0.5
#: Most exponents named one by one in the Lyapunov legend.
MAX_LEGEND_ENTRIES = 10


# ---------------------------------------------------------------------------- inputs
def _to_numpy(x: Any, name: str) -> np.ndarray:
    """A new float64 array from a numpy array, torch tensor, TimeSeries or nested list."""
    if isinstance(x, TimeSeries):
        x = x.values
    if hasattr(x, "detach"):  # a torch tensor, without importing torch here
        x = x.detach().cpu().numpy()
    try:
        return np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} could not be read as a numeric array ({exc}).") from None


def _as_array(x: Any, name: str, min_length: int = 0) -> np.ndarray:
    """``x`` as a float64 ``(T, N)`` array with every non-finite value replaced by NaN."""
    arr = _to_numpy(x, name)
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


def _pair(true: Any, generated: Any) -> tuple[np.ndarray, np.ndarray]:
    x = _as_array(true, "true", min_length=2)
    y = _as_array(generated, "generated")
    if len(y) == 0 and y.shape[1] == 1:
        y = np.empty((0, x.shape[1]))
    if y.shape[1] != x.shape[1]:
        raise DataError(
            f"true has {x.shape[1]} channel(s) but generated has {y.shape[1]}; "
            "both must have the same channels."
        )
    return x, y


def _names(names: Sequence[str] | None, n: int) -> list[str]:
    if names is None:
        return [f"$x_{{{i + 1}}}$" for i in range(n)]
    names = [str(s) for s in names]
    if len(names) != n:
        raise ConfigError(f"got {len(names)} channel name(s) for {n} channel(s); give one each.")
    return names


def _positive(value: float, name: str) -> float:
    if not (isinstance(value, (int, float, np.number)) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a whole number ≥ 1, got {value!r}.")
    return int(value)


# ---------------------------------------------------------------------------- helpers
def _first_nonfinite(y: np.ndarray) -> int | None:
    """Index of the first time step of ``y`` ``(T, N)`` with a non-finite value, or None."""
    bad = ~np.isfinite(y).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def _divergence_note(y: np.ndarray, dt: float | None = None) -> list[str]:
    k = _first_nonfinite(y)
    if k is None:
        return []
    if not np.isfinite(y).any():
        return ["generated diverged: no finite values"]
    when = f"step {k}" + ("" if dt is None else f" (t = {k * dt:.4g})")
    return [f"generated diverged: non-finite from {when}"]


def _limits(true: np.ndarray, generated: np.ndarray, pad: float = 0.05) -> tuple[float, float]:
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


def _outside(y: np.ndarray, lims: Sequence[tuple[float, float]]) -> np.ndarray:
    """Boolean ``(T,)``: rows of ``y`` with a finite value outside its channel's limits."""
    out = np.zeros(len(y), dtype=bool)
    for j, (lo, hi) in enumerate(lims):
        with np.errstate(invalid="ignore"):
            out |= (y[:, j] < lo) | (y[:, j] > hi)
    return out


def _view_note(outside: bool) -> list[str]:
    return ["generated leaves the plotted range (cut off)"] if outside else []


def _thin(x: np.ndarray, max_points: int) -> np.ndarray:
    return x[:: max(1, math.ceil(len(x) / max_points))]


def _figure(size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size, dpi=STYLE.dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _title(fig: Figure, text: str) -> None:
    fig.suptitle(text, fontsize=STYLE.title_size)


def _note(ax: Axes, lines: Sequence[str]) -> None:
    """A red box in ``ax`` with one warning per line, where it hides the least data."""
    if not lines:
        return
    text = "\n".join(dict.fromkeys(lines))  # unique, in order
    if hasattr(ax, "text2D"):  # 3-D axes: the empty upper-left corner
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


def _title_note(ax: Axes, lines: Sequence[str]) -> None:
    """Warnings as a red title on the right of ``ax``, above the data."""
    if lines:
        ax.set_title(
            "\n".join(dict.fromkeys(lines)),
            loc="right",
            color=STYLE.warning_color,
            fontsize=STYLE.note_size,
        )


def _no_data(ax: Axes, text: str = "no data") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.5")


def _true_kw(lw: float) -> dict[str, Any]:
    return dict(color=STYLE.true_color, lw=lw, alpha=STYLE.true_alpha)


def _gen_kw(lw: float) -> dict[str, Any]:
    return dict(color=STYLE.generated_color, lw=lw, alpha=STYLE.generated_alpha)


def _pair_legend() -> list[Line2D]:
    return [
        Line2D([], [], color=STYLE.true_color, lw=STYLE.legend_lw, label="true"),
        Line2D([], [], color=STYLE.generated_color, lw=STYLE.legend_lw, label="generated"),
    ]


def _channels_note(n_shown: int, n: int) -> str:
    return f" (first {n_shown} of {n} channels shown)" if n > n_shown else ""


# ---------------------------------------------------------------------------- saving
def _target(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """The file to write and its format (from the suffix; ``.png`` when there is none)."""
    path = Path(path)
    if not path.suffix:
        path = path.with_name(path.name + ".png")
    fmt = path.suffix[1:].lower()
    if fmt not in FigureCanvasAgg.get_supported_filetypes():
        known = ", ".join(sorted(FigureCanvasAgg.get_supported_filetypes()))
        raise ConfigError(f"cannot save a figure as {path.suffix!r}; use one of: {known}.")
    return path, fmt


def _save(fig: Figure, path: Path, fmt: str) -> Path:
    """Write ``fig`` to a temporary file next to ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = path.with_name(f".{path.stem}.tmp-{secrets.token_hex(4)}{path.suffix}")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
            break
        except FileExistsError:  # pragma: no cover - a 32-bit random name collided
            continue
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=STYLE.dpi)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        fig.clear()  # drop the artists now; the figure is not registered anywhere else
    return path


# ---------------------------------------------------------------------------- attractor
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
    target = _target(path)
    figure = _attractor_figure(true, generated, names, title, max_points, lag)
    return _save(figure, *target)


def _attractor_figure(
    true: Any,
    generated: Any,
    names: Sequence[str] | None = None,
    title: str | None = None,
    max_points: int = 20_000,
    lag: int = 1,
) -> Figure:
    x, y = _pair(true, generated)
    n = x.shape[1]
    names = _names(names, n)
    max_points = _count(max_points, "max_points")
    lag = _count(lag, "lag")
    if n == 1 and len(x) <= lag:
        raise DataError(f"true has {len(x)} time points, too few for a delay plot with lag {lag}.")
    notes = _divergence_note(y)
    if len(y) == 0:
        notes.append("no generated data")
    title = (title or "attractor: true vs generated") + _channels_note(3, n)
    if n == 1:
        x = np.c_[x[:-lag, 0], x[lag:, 0]]
        y = np.c_[y[:-lag, 0], y[lag:, 0]] if len(y) > lag else np.empty((0, 2))
        names = [f"{names[0]}(t)", f"{names[0]}(t+{lag})"]
    x, y = _thin(x[:, :3], max_points), _thin(y[:, :3], max_points)
    lims = [_limits(x[:, j], y[:, j]) for j in range(x.shape[1])]
    if n == 1:  # the delay plot's two axes show the same variable
        both = (min(lims[0][0], lims[1][0]), max(lims[0][1], lims[1][1]))
        lims = [both, both]
    notes += _view_note(bool(_outside(y, lims).any()))
    lw = STYLE.attractor_lw
    if x.shape[1] == 2:
        fig = _figure(STYLE.attractor_2d_size)
        ax = fig.add_subplot()
        _plane(ax, x, y, (0, 1), names, lims)
        _note(ax, notes)
        fig.legend(handles=_pair_legend(), loc="outside lower center", ncols=2, frameon=False)
        _title(fig, title)
        return fig
    fig = _figure(STYLE.attractor_3d_size)
    grid = fig.add_gridspec(2, 6, height_ratios=(1.5, 1.0))
    y_in = y.copy()
    y_in[_outside(y, lims)] = np.nan  # 3-D axes do not clip to their box
    for k, (data, kw, label) in enumerate(
        ((x, _true_kw(lw), "true"), (y_in, _gen_kw(lw), "generated"))
    ):
        ax = fig.add_subplot(grid[0, 3 * k : 3 * k + 3], projection="3d")
        ax.plot(data[:, 0], data[:, 1], data[:, 2], **kw)
        ax.set(xlim=lims[0], ylim=lims[1], zlim=lims[2], title=label)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_zlabel(names[2])
        ax.tick_params(labelsize="small")
        if k == 1:
            _note(ax, notes)
    for k, (i, j) in enumerate(((0, 1), (0, 2), (1, 2))):
        ax = fig.add_subplot(grid[1, 2 * k : 2 * k + 2])
        _plane(ax, x, y, (i, j), names, lims)
    fig.legend(handles=_pair_legend(), loc="outside lower center", ncols=2, frameon=False)
    _title(fig, title)
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
    ax.plot(x[:, i], x[:, j], **_true_kw(lw))
    ax.plot(y[:, i], y[:, j], **_gen_kw(lw))
    ax.set(xlim=lims[i], ylim=lims[j], xlabel=names[i], ylabel=names[j])


# ---------------------------------------------------------------------------- time series
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
    target = _target(path)
    return _save(_time_series_figure(true, generated, dt, names, n_points, title), *target)


def _time_series_figure(
    true: Any,
    generated: Any,
    dt: float = 1.0,
    names: Sequence[str] | None = None,
    n_points: int = 2_000,
    title: str | None = None,
) -> Figure:
    x, y = _pair(true, generated)
    n = x.shape[1]
    names = _names(names, n)
    dt = _positive(dt, "dt")
    n_points = _count(n_points, "n_points")
    notes = _divergence_note(y, dt)  # also when it happens after the window shown
    x, y = x[:n_points], y[:n_points]
    shown = min(n, MAX_PANELS)
    fig = _figure((STYLE.series_width, 1.1 + STYLE.series_panel_height * shown))
    axes = fig.subplots(shown, 1, sharex=True, squeeze=False)[:, 0]
    lims = [_limits(x[:, i], y[:, i]) for i in range(shown)]
    notes += _view_note(bool(_outside(y[:, :shown], lims).any()))
    if len(y) == 0:
        notes.append("no generated data")
    t_true, t_gen = np.arange(len(x)) * dt, np.arange(len(y)) * dt
    k = _first_nonfinite(y)
    for i, ax in enumerate(axes):
        ax.plot(t_true, x[:, i], **_true_kw(STYLE.series_lw))
        ax.plot(t_gen, y[:, i], **_gen_kw(STYLE.series_lw))
        if k is not None:
            ax.axvline(k * dt, color=STYLE.warning_color, lw=0.8, ls=":")
        ax.set(ylim=lims[i], ylabel=names[i])
    axes[0].set_xlim(0.0, max(len(x), len(y), 2) * dt - dt)
    axes[-1].set_xlabel("time" if dt == 1.0 else f"time (Δt = {dt:.4g})")
    _title_note(axes[0], notes)
    fig.legend(handles=_pair_legend(), loc="outside upper right", ncols=2, frameon=False)
    _title(fig, (title or "time series: true vs generated") + _channels_note(shown, n))
    return fig


# ---------------------------------------------------------------------------- spectra
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
    target = _target(path)
    return _save(_spectra_figure(true, generated, dt, names, smoothing, title), *target)


def _spectrum(col: np.ndarray, dt: float, smoothing: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Frequencies ``f_k = k/(T dt)`` and density ``p_k T dt`` of one channel, both ``(F,)``.

    ``p`` is :func:`power_spectrum` of the channel's finite leading stretch (length ``T``);
    dividing by the bin width ``1/(T dt)`` makes spectra of different lengths comparable (each
    integrates to 1 over frequency). None when the channel has no spectrum.
    """
    k = _first_nonfinite(col[:, None])
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


def _spectra_figure(
    true: Any,
    generated: Any,
    dt: float = 1.0,
    names: Sequence[str] | None = None,
    smoothing: float = SMOOTHING,
    title: str | None = None,
) -> Figure:
    x, y = _pair(true, generated)
    n = x.shape[1]
    names = _names(names, n)
    dt = _positive(dt, "dt")
    if not (isinstance(smoothing, (int, float, np.number)) and smoothing >= 0):
        raise ConfigError(f"smoothing must be a number ≥ 0 (in bins), got {smoothing!r}.")
    shown = min(n, MAX_PANELS)
    cols = min(shown, 3)
    rows = math.ceil(shown / cols)
    w, h = STYLE.spectrum_panel_size
    fig = _figure((w * cols, h * rows + 0.9))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    notes = _divergence_note(y, dt)
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
    fig.legend(handles=_pair_legend(), loc="outside upper right", ncols=2, frameon=False)
    _title(fig, (title or "power spectra: true vs generated") + _channels_note(shown, n))
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
        _no_data(ax, "true channel is constant\nor too short: no spectrum")
        _note(ax, notes)
        return
    if gen is None and len(y) > 0:
        notes.append("generated: no spectrum (constant or not finite)")
    f, p = true
    k = int(np.searchsorted(np.cumsum(p) / p.sum(), SPECTRUM_MASS)) + 1
    f_max = float(f[min(max(k, 2), len(f) - 1)])
    ax.semilogy(*_visible(f, p, f_max), **_true_kw(STYLE.spectrum_lw))
    top = float(p[f <= f_max].max())
    if gen is not None:
        ax.semilogy(*_visible(*gen, f_max), **_gen_kw(STYLE.spectrum_lw))
        near = gen[1][gen[0] <= f_max]
        top = max(top, float(near.max())) if near.size else top
    low = p[(f <= f_max) & (p > 0)]
    bottom = max(float(low.min()) if low.size else top * 1e-6, top * 1e-8)
    ax.set(xlim=(0.0, f_max), ylim=(bottom / 3, top * 2))
    _note(ax, notes)


# ---------------------------------------------------------------------------- training
def plot_training(
    history: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    title: str | None = None,
) -> Path:
    """Training curves from per-epoch rows ``{epoch, loss, alpha, lr[, D_stsp, D_H]}``.

    Panels: loss (log scale when positive); α and the learning rate (log, right axis);
    validation ``D_stsp`` (log when positive) and ``D_H`` as markers, with the best-``D_stsp``
    epoch marked in all panels but α/lr. Missing and non-finite values are skipped and counted.
    """
    target = _target(path)
    return _save(_training_figure(history, title), *target)


def _float(v: Any) -> float | None:
    """``v`` as a float; None for a missing or non-numeric value (NaN/inf stay as they are)."""
    if v is None or (isinstance(v, (str, bytes)) and not v.strip()):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _column(
    rows: Sequence[Mapping[str, Any]], key: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epochs and values of ``key`` where it is finite, and the epochs where it is not."""
    epochs, values, bad = [], [], []
    for i, row in enumerate(rows):
        v = _float(row.get(key))
        if v is None:
            continue
        e = _float(row.get("epoch"))
        e = float(i + 1) if e is None or not math.isfinite(e) else e
        if math.isfinite(v):
            epochs.append(e)
            values.append(v)
        else:
            bad.append(e)
    return np.array(epochs), np.array(values), np.array(bad)


def _mark_nonfinite(ax: Axes, epochs: np.ndarray, what: str) -> None:
    """Red crosses along the bottom of ``ax`` at the epochs where ``what`` was not finite."""
    if not epochs.size:
        return
    ax.plot(
        epochs,
        np.full(len(epochs), 0.03),
        "x",
        color=STYLE.warning_color,
        ms=STYLE.marker_size + 1,
        transform=blended_transform_factory(ax.transData, ax.transAxes),
        clip_on=False,
    )
    _title_note(ax, [f"{what} not finite in {len(epochs)} epoch(s) (×)"])


def _log_if_positive(ax: Axes, values: np.ndarray) -> None:
    if values.size and (values > 0).all():
        ax.set_yscale("log")


def _training_figure(history: Sequence[Mapping[str, Any]], title: str | None = None) -> Figure:
    rows = list(history) if history is not None else []
    if not all(isinstance(r, Mapping) for r in rows):
        raise DataError("history must be a list of dicts, one per epoch (as train.loop writes).")
    fig = _figure(STYLE.training_size)
    (ax_loss, ax_rate), (ax_stsp, ax_h) = fig.subplots(2, 2, sharex=True)
    e_stsp, v_stsp, bad_stsp = _column(rows, "D_stsp")
    best = int(np.argmin(v_stsp)) if v_stsp.size else None

    def mark_best(ax: Axes) -> None:
        if best is not None:
            ax.axvline(e_stsp[best], color=STYLE.best_color, lw=1.0, ls=":", zorder=0)

    e, v, bad = _column(rows, "loss")
    if v.size:
        ax_loss.plot(e, v, color=STYLE.true_color, lw=STYLE.curve_lw, marker="." * (len(v) < 30))
        _log_if_positive(ax_loss, v)
        mark_best(ax_loss)
    elif not bad.size:
        _no_data(ax_loss)
    _mark_nonfinite(ax_loss, bad, "loss")
    ax_loss.set_title("training loss", loc="left")
    ax_loss.set_ylabel("loss")

    _rate_panel(ax_rate, rows)

    if v_stsp.size:
        ax_stsp.plot(e_stsp, v_stsp, "o", color=STYLE.generated_color, ms=STYLE.marker_size)
        _log_if_positive(ax_stsp, v_stsp)
        ax_stsp.plot(
            e_stsp[best],
            v_stsp[best],
            "*",
            color=STYLE.best_color,
            mec="black",
            mew=0.6,
            ms=14,
            label=f"best: epoch {e_stsp[best]:g}, $D_{{stsp}}$ = {v_stsp[best]:.3g}",
        )
        ax_stsp.legend(loc="best", fontsize="small")
        mark_best(ax_stsp)
    elif not bad_stsp.size:
        _no_data(ax_stsp, "no validation $D_{stsp}$")
    _mark_nonfinite(ax_stsp, bad_stsp, "$D_{stsp}$")
    ax_stsp.set_title("validation $D_{stsp}$", loc="left")
    ax_stsp.set(xlabel="epoch", ylabel="$D_{stsp}$")

    e, v, bad = _column(rows, "D_H")
    if v.size:
        ax_h.plot(e, v, "s", color=STYLE.generated_color, ms=STYLE.marker_size)
        ax_h.set_ylim(0.0, min(1.0, 1.1 * float(v.max())) or 1.0)
        mark_best(ax_h)
    elif not bad.size:
        _no_data(ax_h, "no validation $D_H$")
    _mark_nonfinite(ax_h, bad, "$D_H$")
    ax_h.set_title("validation $D_H$", loc="left")
    ax_h.set(xlabel="epoch", ylabel="$D_H$")
    _title(fig, title or "training")
    return fig


def _rate_panel(ax: Axes, rows: Sequence[Mapping[str, Any]]) -> None:
    """α on the left axis, the learning rate on a log-scaled right axis."""
    e_a, v_a, _ = _column(rows, "alpha")
    e_l, v_l, _ = _column(rows, "lr")
    ax.set_title("forcing α and learning rate", loc="left")
    if not (v_a.size or v_l.size):
        _no_data(ax)
        return
    a_color, l_color = STYLE.generated_color, STYLE.best_color
    if v_a.size:
        ax.plot(e_a, v_a, color=a_color, lw=STYLE.curve_lw, drawstyle="steps-post")
        ax.set_ylim(min(0.0, float(v_a.min())), max(1.0, float(v_a.max())) * 1.05)
    ax.set_ylabel("α", color=a_color)
    ax.tick_params(axis="y", colors=a_color)
    if v_l.size:
        twin = ax.twinx()
        twin.plot(e_l, v_l, color=l_color, lw=STYLE.curve_lw, ls="--")
        _log_if_positive(twin, v_l)
        twin.set_ylabel("learning rate", color=l_color)
        twin.tick_params(axis="y", which="both", colors=l_color)


# ---------------------------------------------------------------------------- Lyapunov
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
    target = _target(path)
    return _save(_lyapunov_figure(history_steps, history, reference, title), *target)


def _exponent_colors(m: int) -> list[Any]:
    from matplotlib import colormaps

    if m <= 10:
        return [colormaps["tab10"](i) for i in range(m)]
    return [colormaps["viridis"](v) for v in np.linspace(0.0, 0.9, m)]


def _lyapunov_figure(
    history_steps: Any, history: Any, reference: Any = None, title: str | None = None
) -> Figure:
    steps = _as_array(history_steps, "history_steps")
    h = _as_array(history, "history")
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
    ref = np.empty(0) if reference is None else np.ravel(_to_numpy(reference, "reference"))
    m = h.shape[1]
    colors = _exponent_colors(max(m, 1))
    fig = _figure(STYLE.lyapunov_size)
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
        _no_data(ax, "no finite estimates")
    elif not np.isfinite(h).all():
        _note(ax, ["non-finite estimates (diverged)"])
    if ax.get_legend_handles_labels()[0]:
        fig.legend(loc="outside right upper", fontsize="small", frameon=False)
    ax.set(xlabel="steps", ylabel="Lyapunov exponent estimate")
    _title(fig, title or "Lyapunov spectrum: convergence of the estimates")
    return fig
