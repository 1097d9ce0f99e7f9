"""Figures of memory-task runs and HMM emulation.

- :func:`plot_n_reached` — N reached (and N trained) against epoch; one or several runs.
- :func:`plot_timescales_vs_n` — mean trained τ and mean τ_net against N; one or several runs.
- :func:`plot_forgetting` — accuracy on earlier N' of the networks checkpointed at each N.
- :func:`plot_robustness` — relative accuracy against perturbation size ε (W and τ), and the
  single-neuron ablations of the fastest and slowest neurons.
- :func:`plot_hmm_statistics` — symbol frequencies and transition matrices, RNN vs HMM.

Each ``plot_*`` draws its ``*_figure`` (a :class:`~matplotlib.figure.Figure`, no pyplot) and
writes it atomically with :func:`attractor.plots.style.save`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from attractor.plots.style import save

Runs = Mapping[str, Sequence[Mapping[str, Any]]]
#: How these figures are saved (:func:`attractor.plots.style.save`): 110 dpi, cropped.
SAVE_OPTIONS: dict[str, Any] = {"dpi": 110, "bbox_inches": "tight"}


def _as_runs(data: Sequence[Mapping[str, Any]] | Runs, label: str = "run") -> Runs:
    return data if isinstance(data, Mapping) else {label: data}


def n_reached_figure(history: Sequence[Mapping[str, Any]] | Runs) -> Figure:
    """N reached (solid) and N being trained (dotted) against epoch."""
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for i, (label, rows) in enumerate(_as_runs(history).items()):
        c = f"C{i}"
        ep = np.array([r["epoch"] for r in rows])
        reached = np.array([r.get("n_reached") or np.nan for r in rows], dtype=float)
        ax.step(ep, reached, where="post", color=c, label=f"{label}: reached")
        ax.plot(ep, [r["n"] for r in rows], ":", color=c, lw=1, label=f"{label}: trained")
    ax.set_xlabel("epoch")
    ax.set_ylabel("N")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_n_reached(history: Sequence[Mapping[str, Any]] | Runs, path: str | Path) -> Path:
    """Draw :func:`n_reached_figure` and save it to ``path``; returns the path."""
    return save(n_reached_figure(history), path, **SAVE_OPTIONS)


def timescales_vs_n_figure(per_n: Sequence[Mapping[str, Any]] | Runs) -> Figure:
    """Mean trained τ, median τ_net over neurons (per-neuron fits; the mean is pulled by single
    fits that run to their bound) and τ_λ (slowest mode) against N."""
    fig = Figure(figsize=(14, 4))
    ax1, ax2, ax3 = (fig.add_subplot(1, 3, k) for k in (1, 2, 3))
    for i, (label, rows) in enumerate(_as_runs(per_n).items()):
        n = [r["N"] for r in rows]
        tau = [r.get("tau_mean") for r in rows]
        if any(t is not None for t in tau):
            ax1.plot(n, [np.nan if t is None else t for t in tau], "o-", color=f"C{i}", label=label)
        med = [r.get("tau_net_median", r["tau_net_mean"]) for r in rows]
        ax2.plot(n, med, "o-", color=f"C{i}", label=label)
        lam = [r.get("tau_lambda") for r in rows]
        if any(t is not None for t in lam):
            ax3.plot(n, [np.nan if t is None else t for t in lam], "o-", color=f"C{i}", label=label)
    ax1.set(xlabel="N", ylabel="mean trained τ (steps)", title="single-neuron τ")
    ax2.set(xlabel="N", ylabel="median τ_net (steps)", title="network-mediated τ_net (fits)")
    ax3.set(xlabel="N", ylabel="τ_λ = −1/λ₁ (steps)", title="slowest mode τ_λ")
    for ax in (ax1, ax2, ax3):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return fig


def plot_timescales_vs_n(per_n: Sequence[Mapping[str, Any]] | Runs, path: str | Path) -> Path:
    """Draw :func:`timescales_vs_n_figure` and save it to ``path``; returns the path."""
    return save(timescales_vs_n_figure(per_n), path, **SAVE_OPTIONS)


Forgetting = Mapping[str, Mapping[Any, Mapping[Any, float]]]


def forgetting_figure(acc: Forgetting) -> Figure:
    """``acc[curriculum][N][N']``: accuracy on N' of the network checkpointed at N. Left: the
    first curriculum's table as an image (rows N, columns N'); right: the lowest accuracy on
    any N' < N against N, one line per curriculum."""
    fig = Figure(figsize=(11, 4))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    first = next(iter(acc))
    rows = {int(n): {int(m): a for m, a in r.items()} for n, r in acc[first].items()}
    if rows:
        top = max(rows)
        img = np.full((top - 1, top - 1), np.nan)
        for n, r in rows.items():
            for m, a in r.items():
                img[n - 2, m - 2] = a
        im = ax1.imshow(
            img,
            origin="lower",
            vmin=0.5,
            vmax=1.0,
            cmap="viridis",
            extent=(1.5, top + 0.5, 1.5, top + 0.5),
        )
        fig.colorbar(im, ax=ax1, label="accuracy")
    ax1.set(xlabel="tested on N'", ylabel="network at N", title=f"{first}: accuracy on N'")
    for i, (label, table) in enumerate(acc.items()):
        pts = sorted(
            (int(n), min(a for m, a in r.items() if int(m) < int(n)))
            for n, r in table.items()
            if any(int(m) < int(n) for m in r)
        )
        if pts:
            ax2.plot(*zip(*pts, strict=True), "o-", color=f"C{i}", label=label)
    ax2.set(xlabel="N", ylabel="lowest accuracy on N' < N", title="forgetting of earlier N")
    ax2.axhline(0.5, color="grey", lw=0.8)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    return fig


def plot_forgetting(acc: Forgetting, path: str | Path) -> Path:
    """Draw :func:`forgetting_figure` and save it to ``path``; returns the path."""
    return save(forgetting_figure(acc), path, **SAVE_OPTIONS)


def robustness_figure(results: Mapping[str, Any] | Mapping[str, Mapping[str, Any]]) -> Figure:
    """Relative accuracy vs ε for W and τ perturbations, and ablation of single neurons."""
    runs = results if "perturb_W" not in results else {"run": results}
    fig = Figure(figsize=(12, 4))
    axw, axt, axa = (fig.add_subplot(1, 3, k) for k in (1, 2, 3))
    for i, (label, r) in enumerate(runs.items()):
        c = f"C{i}"
        eps = r.get("epsilons", [])
        if "perturb_W" in r:
            axw.plot(eps, r["perturb_W"], "o-", color=c, label=label)
        if "perturb_tau" in r:
            axt.plot(eps, r["perturb_tau"], "o-", color=c, label=label)
        for j, kind in enumerate(("fastest", "slowest")):
            vals = r.get(f"ablation_{kind}")
            if vals:
                x = np.full(len(vals), 2 * i + j) + np.linspace(-0.2, 0.2, len(vals))
                axa.plot(x, vals, "o", color=c, alpha=0.7, label=f"{label}" if j == 0 else None)
    axw.set(xscale="log", xlabel="ε", ylabel="relative accuracy", title="W ← W + ε‖W‖ d")
    axt.set(xscale="log", xlabel="ε", ylabel="relative accuracy", title="τ ← τ + ε‖τ‖ |d|")
    ticks = [f"{lab}\n{k}" for lab in runs for k in ("fastest", "slowest")]
    axa.set_xticks(range(len(ticks)), ticks, fontsize=7)
    axa.set(ylabel="relative accuracy", title="single-neuron ablation")
    for ax in (axw, axt, axa):
        ax.grid(alpha=0.3)
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.legend(fontsize=8)
    n = next(iter(runs.values())).get("N")
    fig.suptitle(f"robustness at N = {n}")
    return fig


def plot_robustness(
    results: Mapping[str, Any] | Mapping[str, Mapping[str, Any]], path: str | Path
) -> Path:
    """Draw :func:`robustness_figure` and save it to ``path``; returns the path."""
    return save(robustness_figure(results), path, **SAVE_OPTIONS)


def hmm_statistics_figure(metrics: Mapping[str, Any]) -> Figure:
    """Symbol frequencies (bars) and transition matrices, HMM (exact) vs RNN (sampled)."""
    fig = Figure(figsize=(12, 3.8))
    ax = fig.add_subplot(1, 3, 1)
    f_h, f_r = np.asarray(metrics["frequencies_hmm"]), np.asarray(metrics["frequencies_rnn"])
    x = np.arange(len(f_h))
    ax.bar(x - 0.2, f_h, 0.4, label="HMM")
    ax.bar(x + 0.2, f_r, 0.4, label="RNN")
    ax.set(
        xticks=x,
        xlabel="symbol",
        ylabel="frequency",
        title=f"max |Δ| = {metrics['frequency_error']:.3f}",
    )
    ax.legend(fontsize=8)
    for k, (key, title) in enumerate((("transitions_hmm", "HMM"), ("transitions_rnn", "RNN"))):
        a = fig.add_subplot(1, 3, k + 2)
        m = np.asarray(metrics[key])
        im = a.imshow(m, vmin=0, vmax=1, cmap="viridis")
        for (i, j), v in np.ndenumerate(m):
            a.text(j, i, f"{v:.2f}", ha="center", va="center", color="w", fontsize=8)
        a.set(xlabel="next symbol", ylabel="symbol", title=f"P(x_t+1 | x_t): {title}")
        fig.colorbar(im, ax=a, fraction=0.046)
    fig.suptitle(
        f"{metrics.get('hmm', 'HMM')}: transition max |Δ| = {metrics['transition_error']:.3f}"
    )
    return fig


def plot_hmm_statistics(metrics: Mapping[str, Any], path: str | Path) -> Path:
    """Draw :func:`hmm_statistics_figure` and save it to ``path``; returns the path."""
    return save(hmm_statistics_figure(metrics), path, **SAVE_OPTIONS)
