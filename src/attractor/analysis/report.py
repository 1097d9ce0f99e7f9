"""``attractor analyze RUN``: what a trained model learned, written to ``RUN/analysis/``.

:func:`analyze_run` loads the run, runs the model freely from the first held-out test point
(``transient`` steps dropped, then ``steps`` latent states kept) and computes the sections:

* ``lyapunov`` — the model's spectrum with convergence diagnostics
  (:mod:`attractor.analysis.lyapunov`), next to the true system's (computed from the dysts
  equations where possible) and dysts' stored estimates;
* ``fixed_points`` and ``cycles`` (periods 2 … ``max_period``) — exact for piecewise-linear
  models, by optimisation otherwise (:mod:`attractor.analysis.fixedpoints`), each with
  stability, in latent and data coordinates; for a dysts system observed directly, the true
  equilibria (:mod:`attractor.analysis.truesystem`) and the nearest model fixed point to each;
* ``symbolic`` — codes, region coverage and transition graph for piecewise-linear models with
  few boundary units (:mod:`attractor.analysis.symbolic`).

Writes ``analysis/analysis.json`` (every number) and PNGs (``orbits.png``,
``lyapunov.png``, and for symbolic dynamics ``coverage.png``, ``transitions.png``).
Data coordinates are ``scaler⁻¹(z_{1:N})``; for a delay-embedded run they are coordinates of
the delay embedding (lag and dimension in the JSON), not of the original system.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from attractor.analysis.fixedpoints import OrbitSearch, find_orbits
from attractor.analysis.lyapunov import compare_spectra, model_spectrum
from attractor.analysis.piecewise import has_form, piecewise_linear_form
from attractor.analysis.slowpoints import float64_twin
from attractor.analysis.symbolic import MAX_SYMBOL_BITS, symbol_form, symbolic_dynamics
from attractor.errors import AttractorError, ConfigError, RunError
from attractor.io import write_json
from attractor.runs.directory import Run, load_run

SECTIONS = ("lyapunov", "fixed_points", "cycles", "symbolic")
#: Defaults: free-run length (after a transient) for figures and symbols, longest cycle
#: period searched, and the length of the model's Lyapunov run.
STEPS = 20_000
TRANSIENT = 2_000
MAX_PERIOD = 2
LYAPUNOV_STEPS = 20_000
#: A latent state this large (model units, i.e. z-scored) counts as escaped to infinity.
ESCAPED = 1e8
ANALYSIS_DIR = "analysis"
REPORT_FILE = "analysis.json"


def _sections(model: Any, only: Sequence[str] | None) -> list[str]:
    if only is None:
        out = ["lyapunov", "fixed_points", "cycles"]
        if has_form(model) and piecewise_linear_form(model).n_bits <= MAX_SYMBOL_BITS:
            out.append("symbolic")
        return out
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        raise ConfigError(
            f"unknown analysis section {bad[0]!r}; choose from {', '.join(SECTIONS)}."
        )
    if "symbolic" in only:
        symbol_form(model)  # unsupported model: one clear sentence before any work
    return list(dict.fromkeys(only))


def _free_run(run: Run, steps: int, transient: int) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Latent states ``(T, M)`` of a free run from the first test point, the model-units start
    observation, and a note if the run left the finite numbers."""
    test = run.test_data()
    model = run.model
    x0 = run.to_model_units(test[0]) if test is not None else np.zeros(model.obs_dim)
    twin = float64_twin(model)
    dtype = next(twin.parameters()).dtype
    with torch.no_grad():
        z0 = twin.encode(torch.as_tensor(np.asarray(x0), dtype=dtype)[None])
        z = twin.simulate(z0=z0, steps=transient + steps, return_latent=True)[0]
    z = z.double().numpy()[transient:]
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(z) < ESCAPED).all(1)
    note = None
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        note = (
            f"the free run became non-finite (escaped beyond |z| = {ESCAPED:.0e}) after "
            f"{transient + first} steps; the rest of the analysis uses the states before that"
        )
        z = z[:first]
    return z, np.asarray(x0, dtype=float), note


def _match_equilibria(
    true_eq: list[dict[str, Any]], model_fps: list[dict[str, Any]], scale: np.ndarray
) -> list[dict[str, Any]]:
    """For every true equilibrium the nearest model fixed point (data coordinates); distances
    also relative to the true attractor's per-channel std ``scale`` (of the test data)."""
    rows = []
    for e in true_eq:
        x = np.asarray(e["data"])
        best, dist = None, float("inf")
        for fp in model_fps:
            y = np.asarray(fp["data"][0])
            d = float(np.linalg.norm(y - x))
            if d < dist:
                best, dist = fp, d
        rows.append(
            {
                "true": e["data"],
                "true_type": e["type"],
                "model": None if best is None else best["data"][0],
                "model_type": None if best is None else best["type"],
                "distance": None if best is None else dist,
                "relative_distance": None
                if best is None
                else float(np.linalg.norm((np.asarray(best["data"][0]) - x) / scale)),
                "same_type": None if best is None else best["type"] == e["type"],
            }
        )
    return rows


def _system(run: Run) -> tuple[str | None, dict[str, Any] | None]:
    data = run.config.get("data", {})
    return (data.get("system") if data.get("kind") == "system" else None), data.get("embedding")


def _lyapunov_section(
    r: Run,
    x0: np.ndarray,
    system: str | None,
    n_steps: int,
    seed: int,
    out_dir: Path | None,
) -> tuple[dict[str, Any], list[str]]:
    """The model's spectrum next to the true system's and dysts'; a figure if ``out_dir``."""
    try:
        rep = model_spectrum(r.model, dt=r.dt, x0=x0, n_steps=n_steps, seed=seed)
    except AttractorError as exc:  # e.g. the orbit escapes: report it, analyse the rest
        return {"error": str(exc)}, []
    true_rep, true_note = None, None
    dysts_spec = dysts_max = dysts_ky = None
    if system is not None:
        from attractor.analysis.truesystem import has_true_spectrum, true_spectrum
        from attractor.data.systems import system_info

        info = system_info(system)
        dysts_spec, dysts_max = info.lyapunov_spectrum, info.lyapunov_max
        dysts_ky = info.kaplan_yorke_dimension
        if has_true_spectrum(system):
            true_rep = true_spectrum(system)
        else:
            true_note = "no analytic Jacobian in dysts (or not an autonomous ODE)"
    out = {
        "model": rep.to_dict(),
        "true": None if true_rep is None else true_rep.to_dict(),
        "true_note": true_note,
        "comparison": compare_spectra(rep, true_rep, dysts_spec, dysts_max),
    }
    if dysts_ky is not None:
        out["comparison"]["kaplan_yorke_dysts"] = float(dysts_ky)
    if out_dir is None:
        return out, []
    from attractor.plots.lyapunov import plot_lyapunov_convergence

    k = min(len(rep.exponents), 6)
    ref = true_rep.exponents[:k] if true_rep is not None else None
    plot_lyapunov_convergence(
        rep.history_steps,
        rep.history[:, :k],
        out_dir / "lyapunov.png",
        reference=ref,
        title=f"Lyapunov spectrum per time unit (leading {k})"
        + (", true system dashed" if ref is not None else ""),
    )
    return out, ["lyapunov.png"]


def analyze_run(
    run: Run | str | Path,
    sections: Sequence[str] | None = None,
    steps: int = STEPS,
    transient: int = TRANSIENT,
    max_period: int = MAX_PERIOD,
    lyapunov_steps: int = LYAPUNOV_STEPS,
    n_inits: int | None = None,
    seed: int = 0,
    true_system: bool = True,
    write: bool = True,
) -> dict[str, Any]:
    """Analyse a run (a :class:`Run` or its directory) and, with ``write``, save
    ``analysis/`` into it. Returns the report (what ``analysis.json`` holds)."""
    t0 = time.perf_counter()
    r = run if isinstance(run, Run) else load_run(run)
    for v, name, low in (
        (steps, "steps", 100),
        (transient, "transient", 0),
        (max_period, "max_period", 1),
        (lyapunov_steps, "lyapunov_steps", 100),
    ):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ConfigError(f"{name} must be an integer ≥ {low}, got {v!r}.")
    model = r.model
    todo = _sections(model, sections)
    system, embedding = _system(r)
    n_obs = model.obs_dim
    names = list(r.config.get("data", {}).get("names") or [f"x{i + 1}" for i in range(n_obs)])
    coords = (
        f"delay-embedding coordinates (lag {embedding.get('lag')}, dimension "
        f"{embedding.get('dim')}) of the measured series, in data units"
        if embedding
        else "data units of the run's channels"
    )
    states, x0, run_note = _free_run(r, steps, transient)
    if len(states) < 2:
        raise RunError(f"the model of {r.path} diverges at once, so there is nothing to analyse.")
    traj_data = r.to_data_units(states[:, :n_obs])
    report: dict[str, Any] = {
        "run": str(r.path),
        "model": {"kind": r.config.get("model", {}).get("kind", model.kind), **model.config()},
        "piecewise_linear": has_form(model),
        "system": system,
        "embedding": embedding,
        "coordinates": coords,
        "dt": r.dt,
        "free_run": {"steps": len(states), "transient": transient, "note": run_note},
        "sections": todo,
    }
    out_dir = r.path / ANALYSIS_DIR
    figures: list[str] = []
    true_eq: list[dict[str, Any]] = []

    if "lyapunov" in todo:
        report["lyapunov"], fig = _lyapunov_section(
            r, x0, system if true_system else None, lyapunov_steps, seed, out_dir if write else None
        )
        figures += fig

    searches: list[OrbitSearch] = []
    kw: dict[str, Any] = {"states": states, "seed": seed}
    if n_inits is not None:
        kw["n_inits"] = n_inits
    if "fixed_points" in todo:
        fp = find_orbits(model, 1, **kw)
        searches.append(fp)
        report["fixed_points"] = fp.to_dict(n_obs, r.scaler, r.dt)
        if system is not None and true_system and not embedding:
            from attractor.analysis.truesystem import true_equilibria

            try:
                eq, how = true_equilibria(system)
            except ConfigError as exc:
                report["true_equilibria"] = {"note": str(exc), "equilibria": []}
            else:
                if eq and len(eq[0].point) == n_obs:
                    true_eq = [e.to_dict() for e in eq]
                    test = r.test_data()  # the true attractor's spread sets the scale
                    ref = test if test is not None and len(test) > 1 else traj_data
                    scale = ref.std(0) + 1e-12
                    report["true_equilibria"] = {
                        "jacobian": how,
                        "equilibria": true_eq,
                        "nearest_model_fixed_point": _match_equilibria(
                            true_eq, report["fixed_points"]["orbits"], scale
                        ),
                    }
    if "cycles" in todo:
        report["cycles"] = []
        for k in range(2, max_period + 1):
            cy = find_orbits(model, k, **kw)
            searches.append(cy)
            report["cycles"].append(cy.to_dict(n_obs, r.scaler, r.dt))

    from attractor.plots import analysis as figs  # matplotlib: only when drawing

    if "symbolic" in todo:
        sym = symbolic_dynamics(model, states)
        report["symbolic"] = sym.to_dict(n_obs, r.scaler)
        if write:
            figs.plot_region_coverage(report["symbolic"]["regions"], out_dir / "coverage.png")
            figs.plot_transition_graph(sym.graph, out_dir / "transitions.png")
            figures += ["coverage.png", "transitions.png"]

    if write and ("fixed_points" in todo or "cycles" in todo):
        orbits = [o for s in searches for o in s.to_dict(n_obs, r.scaler)["orbits"]]
        true_pts = np.array([e["data"] for e in true_eq]) if true_eq else None
        counts = ", ".join(
            f"{len(s.orbits)} {'fixed point' if s.period == 1 else f'{s.period}-cycle'}"
            + ("" if len(s.orbits) == 1 else "s")
            for s in searches
        )
        figs.plot_orbits(
            traj_data,
            orbits,
            out_dir / "orbits.png",
            true_points=true_pts,
            names=names,
            title=f"{r.name}: {counts}",
            note=f"coordinates: {coords}" if embedding else None,
        )
        figures.append("orbits.png")
    report["figures"] = figures
    report["wall_time"] = time.perf_counter() - t0
    if write:
        write_json(out_dir / REPORT_FILE, report)
    return report
