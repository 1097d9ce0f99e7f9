"""The training figure: loss, α and learning rate, and validation ``D_stsp`` and ``D_H`` against
epoch, with the best-``D_stsp`` epoch marked; missing and non-finite values are skipped and counted.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from attractor.errors import DataError
from attractor.plots.style import (
    STYLE,
    figure_path,
    new_figure,
    no_data,
    save,
    suptitle,
    title_note,
)


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
    path = figure_path(path)  # a bad suffix fails before drawing
    return save(training_figure(history, title), path)


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
    title_note(ax, [f"{what} not finite in {len(epochs)} epoch(s) (×)"])


def _log_if_positive(ax: Axes, values: np.ndarray) -> None:
    if values.size and (values > 0).all():
        ax.set_yscale("log")


def training_figure(history: Sequence[Mapping[str, Any]], title: str | None = None) -> Figure:
    """The figure :func:`plot_training` saves, as a :class:`~matplotlib.figure.Figure` on the Agg
    canvas (no file is written; arguments as there)."""
    rows = list(history) if history is not None else []
    if not all(isinstance(r, Mapping) for r in rows):
        raise DataError("history must be a list of dicts, one per epoch (as train.loop writes).")
    fig = new_figure(STYLE.training_size)
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
        no_data(ax_loss)
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
        no_data(ax_stsp, "no validation $D_{stsp}$")
    _mark_nonfinite(ax_stsp, bad_stsp, "$D_{stsp}$")
    ax_stsp.set_title("validation $D_{stsp}$", loc="left")
    ax_stsp.set(xlabel="epoch", ylabel="$D_{stsp}$")

    e, v, bad = _column(rows, "D_H")
    if v.size:
        ax_h.plot(e, v, "s", color=STYLE.generated_color, ms=STYLE.marker_size)
        ax_h.set_ylim(0.0, min(1.0, 1.1 * float(v.max())) or 1.0)
        mark_best(ax_h)
    elif not bad.size:
        no_data(ax_h, "no validation $D_H$")
    _mark_nonfinite(ax_h, bad, "$D_H$")
    ax_h.set_title("validation $D_H$", loc="left")
    ax_h.set(xlabel="epoch", ylabel="$D_H$")
    suptitle(fig, title or "training")
    return fig


def _rate_panel(ax: Axes, rows: Sequence[Mapping[str, Any]]) -> None:
    """α on the left axis, the learning rate on a log-scaled right axis."""
    e_a, v_a, _ = _column(rows, "alpha")
    e_l, v_l, _ = _column(rows, "lr")
    ax.set_title("forcing α and learning rate", loc="left")
    if not (v_a.size or v_l.size):
        no_data(ax)
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
