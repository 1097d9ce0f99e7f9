"""Figures of an analysis: the attractor with its fixed points and cycles, region coverage and the
transition graph of piecewise-linear models. (Lyapunov convergence uses
:func:`attractor.plots.lyapunov.plot_lyapunov_convergence`.)

Each function takes plain arrays/dicts in **data coordinates** (the analysis converts), draws one
:class:`matplotlib.figure.Figure` on the Agg canvas (``*_figure``, no pyplot, no window); each
``plot_*`` writes it atomically with :func:`attractor.plots.style.save` and returns the path.

Markers: fixed points are circles (filled if stable, open if not), cycles squares joined by a
dashed line; colour by type (stable, saddle, saddle-focus, unstable, slow point); the true
system's equilibria are black crosses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from attractor.plots.style import new_figure, save

TYPE_COLORS = {
    "stable node": "#2e7d32",
    "stable focus": "#2e7d32",
    "saddle": "#c62828",
    "saddle-focus": "#ef6c00",
    "unstable node": "#6a1b9a",
    "unstable focus": "#6a1b9a",
    "non-hyperbolic": "#757575",
    "slow point": "#0277bd",
}
TRAJECTORY_COLOR = "0.55"
MAX_POINTS = 20_000
#: Most regions drawn in the coverage bar chart (the rest are summed into one bar).
MAX_BARS = 30


def _color(orbit: dict[str, Any]) -> str:
    kind = "slow point" if orbit.get("kind") == "slow point" else orbit.get("type", "")
    return TYPE_COLORS.get(kind, "0.3")


def _legend() -> list[Line2D]:
    kw = {"ls": "none", "markersize": 7}
    handles = [
        Line2D([], [], marker="o", color=TYPE_COLORS["stable node"], label="stable", **kw),
        Line2D([], [], marker="o", color=TYPE_COLORS["saddle"], mfc="none", label="saddle", **kw),
        Line2D(
            [],
            [],
            marker="o",
            color=TYPE_COLORS["saddle-focus"],
            mfc="none",
            label="saddle-focus",
            **kw,
        ),
        Line2D(
            [],
            [],
            marker="o",
            color=TYPE_COLORS["unstable node"],
            mfc="none",
            label="unstable",
            **kw,
        ),
        Line2D([], [], marker="s", color="0.3", mfc="none", label="cycle", **kw),
        Line2D([], [], marker="P", color="k", label="true equilibrium", **kw),
    ]
    return handles


def _draw(
    ax: Axes,
    cols: Sequence[int],
    traj: np.ndarray,
    orbits: Sequence[dict[str, Any]],
    true_points: np.ndarray | None,
) -> None:
    step = max(1, len(traj) // MAX_POINTS)
    t = traj[::step]
    ax.plot(*[t[:, c] for c in cols], color=TRAJECTORY_COLOR, lw=0.3, alpha=0.7)
    for o in orbits:
        pts = np.asarray(o["data"], dtype=float)
        if not np.isfinite(pts).all():
            continue
        color = _color(o)
        filled = bool(o.get("stable"))
        marker = "o" if len(pts) == 1 else "s"
        if len(pts) > 1:
            loop = np.vstack([pts, pts[:1]])
            ax.plot(*[loop[:, c] for c in cols], color=color, ls="--", lw=0.9)
        ax.plot(
            *[pts[:, c] for c in cols],
            ls="none",
            marker=marker,
            markersize=8,
            color=color,
            mfc=color if filled else "white",
            mew=2,
        )
    if true_points is not None and len(true_points):
        tp = np.asarray(true_points, dtype=float)
        ax.plot(*[tp[:, c] for c in cols], ls="none", marker="P", markersize=9, color="k")


def _limits(traj: np.ndarray, pad: float = 0.35) -> list[tuple[float, float]]:
    lo, hi = np.nanmin(traj, axis=0), np.nanmax(traj, axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return [(float(a - pad * s), float(b + pad * s)) for a, b, s in zip(lo, hi, span, strict=True)]


def orbits_figure(
    trajectory: Any,
    orbits: Sequence[dict[str, Any]],
    true_points: Any = None,
    names: Sequence[str] | None = None,
    title: str = "attractor, fixed points and cycles",
    note: str | None = None,
) -> Figure:
    """A free run ``(T, N)`` with ``orbits`` (dicts with ``data`` ``(k, N)``, ``type``,
    ``stable``, ``kind``) and optional true equilibria ``(E, N)`` marked, in data coordinates.

    N ≥ 3: a 3-D view of the first three channels and the x₁–x₃ plane; N = 2: the plane;
    N = 1: the delay plot (x(t), x(t+1)) with fixed points on the diagonal.
    """
    traj = np.asarray(trajectory, dtype=float)
    traj = traj[:, None] if traj.ndim == 1 else traj
    n = traj.shape[1]
    names = list(names) if names else [f"x{i + 1}" for i in range(n)]
    tp = None if true_points is None else np.asarray(true_points, dtype=float).reshape(-1, n)
    if n == 1:  # delay plot: points (x, x) for fixed points
        traj = np.column_stack([traj[:-1, 0], traj[1:, 0]])
        orbits = [
            {
                **o,
                "data": np.column_stack(
                    [np.asarray(o["data"])[:, 0], np.roll(np.asarray(o["data"])[:, 0], -1)]
                ),
            }
            for o in orbits
        ]
        tp = None if tp is None else np.column_stack([tp[:, 0], tp[:, 0]])
        names = [f"{names[0]}(t)", f"{names[0]}(t+1)"]
    finite = traj[np.isfinite(traj).all(1)]
    if n >= 3:
        fig = new_figure((12.0, 5.8))
        ax3 = fig.add_subplot(1, 2, 1, projection="3d")
        _draw(ax3, (0, 1, 2), finite, orbits, tp)
        lim = _limits(finite[:, :3]) if len(finite) else None
        if lim:
            ax3.set(xlim=lim[0], ylim=lim[1], zlim=lim[2])
        ax3.set(xlabel=names[0], ylabel=names[1], zlabel=names[2])
        ax = fig.add_subplot(1, 2, 2)
        _draw(ax, (0, 2), finite, orbits, tp)
        if lim:
            ax.set(xlim=lim[0], ylim=lim[2])
        ax.set(xlabel=names[0], ylabel=names[2])
    else:
        fig = new_figure((6.5, 6.0))
        ax = fig.add_subplot()
        _draw(ax, (0, 1), finite, orbits, tp)
        lim = _limits(finite) if len(finite) else None
        if lim:
            ax.set(xlim=lim[0], ylim=lim[1])
        ax.set(xlabel=names[0], ylabel=names[1])
    fig.legend(
        handles=_legend(), loc="outside lower center", ncol=6, frameon=False, fontsize="small"
    )
    fig.suptitle(title)
    if note:
        ax.text(
            0.01,
            0.01,
            note,
            transform=ax.transAxes,
            fontsize=8,
            va="bottom",
            ha="left",
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.6", "alpha": 0.85},
        )
    return fig


def plot_orbits(
    trajectory: Any,
    orbits: Sequence[dict[str, Any]],
    path: str | Path,
    true_points: Any = None,
    names: Sequence[str] | None = None,
    title: str = "attractor, fixed points and cycles",
    note: str | None = None,
) -> Path:
    """Draw :func:`orbits_figure` and save it to ``path``; returns the path."""
    return save(orbits_figure(trajectory, orbits, true_points, names, title, note), path)


def region_coverage_figure(
    regions: Sequence[dict[str, Any]], title: str = "visited linear subregions"
) -> Figure:
    """Bar chart of region coverage (ranked; dicts with ``pattern``, ``coverage``,
    ``fixed_point_real``) with the cumulative coverage as a line."""
    fig = new_figure((8.0, 4.8))
    ax = fig.add_subplot()
    shown = list(regions[:MAX_BARS])
    labels = [r["pattern"] for r in shown]
    cov = [float(r["coverage"]) for r in shown]
    rest = sum(float(r["coverage"]) for r in regions[MAX_BARS:])
    if rest > 0:
        labels.append(f"{len(regions) - MAX_BARS} more")
        cov.append(rest)
    x = np.arange(len(cov))
    colors = ["#1f6fd1" if r.get("fixed_point_real") else "#90b8ea" for r in shown]
    colors += ["0.7"] * (len(cov) - len(shown))
    ax.bar(x, cov, color=colors)
    ax.plot(x, np.cumsum(cov), color="k", marker=".", lw=1.0, label="cumulative")
    ax.set_xticks(x, labels, rotation=60 if len(x) > 8 else 0, fontsize="small")
    ax.set(ylabel="fraction of time steps", ylim=(0, 1.05), xlabel="activation pattern")
    ax.legend(
        handles=[
            Line2D([], [], color="#1f6fd1", lw=6, label="has a real fixed point"),
            Line2D([], [], color="#90b8ea", lw=6, label="virtual fixed point"),
            Line2D([], [], color="k", marker=".", label="cumulative"),
        ],
        fontsize="small",
        frameon=False,
        loc="center right",
    )
    fig.suptitle(f"{title}: {len(regions)} visited")
    return fig


def plot_region_coverage(
    regions: Sequence[dict[str, Any]], path: str | Path, title: str = "visited linear subregions"
) -> Path:
    """Draw :func:`region_coverage_figure` and save it to ``path``; returns the path."""
    return save(region_coverage_figure(regions, title), path)


def transition_graph_figure(
    graph: nx.DiGraph, title: str = "transitions between linear subregions"
) -> Figure:
    """Nodes (size ∝ coverage, labelled by pattern) and edges (width ∝ transition probability);
    self-loops show dwelling. Layout: networkx's circular layout (deterministic)."""
    fig = new_figure((7.0, 6.5))
    ax = fig.add_subplot()
    ax.set_axis_off()
    if graph.number_of_nodes() == 0:
        ax.text(0.5, 0.5, "no transitions", ha="center", va="center", transform=ax.transAxes)
        return fig
    pos = (
        nx.circular_layout(graph)
        if graph.number_of_nodes() > 1
        else {next(iter(graph.nodes)): np.zeros(2)}
    )
    cov = np.array([graph.nodes[v].get("coverage", 0.0) for v in graph.nodes])
    nx.draw_networkx_nodes(
        graph, pos, ax=ax, node_size=300 + 3000 * cov, node_color="#90b8ea", edgecolors="#1f6fd1"
    )
    labels = {v: graph.nodes[v].get("pattern", str(v)) for v in graph.nodes}
    nx.draw_networkx_labels(graph, pos, labels=labels, ax=ax, font_size=9)
    widths = [0.5 + 4.0 * graph.edges[e].get("probability", 0.0) for e in graph.edges]
    nx.draw_networkx_edges(
        graph,
        pos,
        ax=ax,
        width=widths,
        arrows=True,
        arrowsize=14,
        connectionstyle="arc3,rad=0.15",
        edge_color="0.35",
        node_size=300 + 3000 * cov,
    )
    edge_labels = {e: f"{graph.edges[e].get('probability', 0.0):.2f}" for e in graph.edges}
    nx.draw_networkx_edge_labels(
        graph, pos, edge_labels=edge_labels, ax=ax, font_size=7, connectionstyle="arc3,rad=0.15"
    )
    ax.margins(0.2)
    fig.suptitle(title)
    return fig


def plot_transition_graph(
    graph: nx.DiGraph, path: str | Path, title: str = "transitions between linear subregions"
) -> Path:
    """Draw :func:`transition_graph_figure` and save it to ``path``; returns the path."""
    return save(transition_graph_figure(graph, title), path)
