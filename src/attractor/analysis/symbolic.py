"""Symbolic dynamics of piecewise-linear models (AL-RNN, PLRNN): codes, coverage, transitions.

Each latent state ``z_t`` lies in the linear subregion named by its activation pattern
``d_t = 1[G z_t + g > 0]`` (for an AL-RNN the signs of its P ReLU units), encoded as the symbol
``s_t = Σ_k d_{t,k} 2^k`` — the same integer as :meth:`ALRNN.symbols`. From a long free run:

* the **visited subregions**, ranked by visit frequency, with their coverage (fraction of time
  steps), cumulative coverage and mean dwell time (mean length of uninterrupted visits);
* the **transition graph** (a ``networkx.DiGraph``): one node per visited symbol (``count``,
  ``coverage``, ``pattern``), an edge ``s → s'`` for every observed transition with ``count``
  and ``probability`` = count / visits of ``s`` (row-normalised); self-loops are dwells;
* the **fixed point of each visited region**, ``z*_d = (I − J_d)^{-1} c_d``: *real* if its own
  pattern is ``d`` (a fixed point of the model), *virtual* otherwise (it still organises the flow
  inside the region); with its stability.

The AL-RNN paper reports that the minimal piecewise-linear Lorenz-63 model uses 3 subregions
and Rössler 2. Graph layout and storage are networkx's (``node_link_data`` for JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from attractor.analysis.piecewise import PiecewiseLinearForm, piecewise_linear_form
from attractor.analysis.scyfi import consistent
from attractor.analysis.stability import Stability, classify_map, complex_pairs
from attractor.data.series import Scaler
from attractor.errors import ConfigError, DataError
from attractor.models.base import DynamicalModel

#: Most boundary units for which symbolic codes are computed (2^20 possible regions).
MAX_SYMBOL_BITS = 20


@dataclass
class Region:
    """One visited linear subregion and its (real or virtual) fixed point."""

    code: int
    pattern: str
    count: int
    coverage: float
    mean_dwell: float
    fixed_point: np.ndarray | None  # (M,) latent; None if I − J_d is singular
    real: bool
    multipliers: np.ndarray
    stability: Stability

    def to_dict(self, obs_dim: int, scaler: Scaler | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "pattern": self.pattern,
            "count": self.count,
            "coverage": self.coverage,
            "mean_dwell": self.mean_dwell,
            "fixed_point_real": self.real,
            **{f"fixed_point_{k}": v for k, v in self.stability.to_dict().items()},
            "multipliers": complex_pairs(self.multipliers),
        }
        if self.fixed_point is not None:
            x = self.fixed_point[:obs_dim]
            out["fixed_point_latent"] = self.fixed_point.tolist()
            out["fixed_point_data"] = (scaler.inverse(x) if scaler is not None else x).tolist()
        return out


@dataclass
class SymbolicDynamics:
    """Symbols of a trajectory, its ranked regions and its transition graph."""

    codes: np.ndarray
    regions: list[Region]
    graph: nx.DiGraph
    n_possible: int
    unit_labels: tuple[str, ...]

    @property
    def n_visited(self) -> int:
        return len(self.regions)

    def to_dict(self, obs_dim: int, scaler: Scaler | None = None) -> dict[str, Any]:
        cum = np.cumsum([r.coverage for r in self.regions]).tolist()
        return {
            "n_steps": len(self.codes),
            "n_possible_regions": self.n_possible,
            "n_visited_regions": self.n_visited,
            "boundary_units": list(self.unit_labels),
            "regions": [
                {**r.to_dict(obs_dim, scaler), "cumulative_coverage": c}
                for r, c in zip(self.regions, cum, strict=True)
            ],
            "transition_graph": nx.node_link_data(self.graph, edges="edges"),
        }


def symbol_form(model: DynamicalModel) -> PiecewiseLinearForm:
    """The model's piecewise-linear form if symbolic codes apply to it, else ConfigError."""
    form = piecewise_linear_form(model)
    if form.n_bits > MAX_SYMBOL_BITS:
        raise ConfigError(
            f"this {form.kind} has {form.n_bits} boundary units (up to 2^{form.n_bits} linear "
            f"subregions), too many for symbolic codes (at most {MAX_SYMBOL_BITS}); symbolic "
            "dynamics is meant for AL-RNNs (few ReLU units) and small PLRNNs."
        )
    return form


def symbol_sequence(model: DynamicalModel, states: Any) -> np.ndarray:
    """Symbols ``(T,)`` of latent states ``(T, M)`` of a piecewise-linear model."""
    form = symbol_form(model)
    z = _check(states, form.latent_dim)
    return form.codes(form.pattern(z))


def _check(states: Any, m: int) -> np.ndarray:
    z = np.asarray(states, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != m or len(z) < 2 or not np.isfinite(z).all():
        raise DataError(
            f"symbolic dynamics needs a finite latent trajectory (T ≥ 2, {m}), got shape "
            f"{z.shape}{'' if np.isfinite(z).all() else ' with non-finite values'}."
        )
    return z


def transition_graph(codes: Any) -> nx.DiGraph:
    """Directed graph of symbol transitions with ``count``/``probability`` on edges and
    ``count``/``coverage`` on nodes (self-loops are dwells)."""
    s = np.asarray(codes, dtype=np.int64).ravel()
    graph = nx.DiGraph()
    values, counts = np.unique(s, return_counts=True)
    for v, c in zip(values.tolist(), counts.tolist(), strict=True):
        graph.add_node(v, count=c, coverage=c / len(s))
    pairs, pc = np.unique(np.stack([s[:-1], s[1:]], axis=1), axis=0, return_counts=True)
    out = {v: 0 for v in values.tolist()}
    for (a, _), c in zip(pairs.tolist(), pc.tolist(), strict=True):
        out[a] += c
    for (a, b), c in zip(pairs.tolist(), pc.tolist(), strict=True):
        graph.add_edge(a, b, count=c, probability=c / out[a])
    return graph


def _dwell(codes: np.ndarray) -> dict[int, float]:
    """Mean run length of each symbol."""
    change = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [len(codes)]]))
    out: dict[int, list[int]] = {}
    for st, ln in zip(starts.tolist(), lengths.tolist(), strict=True):
        out.setdefault(int(codes[st]), []).append(ln)
    return {k: float(np.mean(v)) for k, v in out.items()}


def region_fixed_point(
    form: PiecewiseLinearForm, d: np.ndarray
) -> tuple[np.ndarray | None, bool, np.ndarray]:
    """``(z*, real, multipliers)`` of subregion ``d`` ``(K,)``: ``z* = (I − J_d)^{-1} c_d``."""
    jac, c = form.pieces(np.asarray(d, dtype=bool)[None])
    mult = np.linalg.eigvals(jac[0])
    lhs = np.eye(form.latent_dim) - jac[0]
    if np.linalg.cond(lhs) > 1e12:
        return None, False, mult
    z = np.linalg.solve(lhs, c[0])
    real = bool(consistent(form, z[None, None], np.asarray(d, dtype=bool)[None, None])[0])
    return z, real, mult


def symbolic_dynamics(model: DynamicalModel, states: Any) -> SymbolicDynamics:
    """Symbolic codes, ranked regions and transition graph of latent ``states`` ``(T, M)``
    (a free run of ``model`` after its transient)."""
    form = symbol_form(model)
    z = _check(states, form.latent_dim)
    codes = form.codes(form.pattern(z))
    graph = transition_graph(codes)
    dwell = _dwell(codes)
    regions = []
    for code in sorted(graph.nodes, key=lambda v: (-graph.nodes[v]["count"], v)):
        d = form.decode(code)
        fp, real, mult = region_fixed_point(form, d)
        regions.append(
            Region(
                code=int(code),
                pattern=form.pattern_string(d),
                count=int(graph.nodes[code]["count"]),
                coverage=float(graph.nodes[code]["coverage"]),
                mean_dwell=dwell[int(code)],
                fixed_point=fp,
                real=real,
                multipliers=mult,
                stability=classify_map(mult),
            )
        )
        graph.nodes[code]["pattern"] = form.pattern_string(d)
    return SymbolicDynamics(codes, regions, graph, 2**form.n_bits, form.unit_labels)
