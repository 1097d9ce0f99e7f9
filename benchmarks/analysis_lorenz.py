"""What did the models learn? AL-RNN subregions, fixed points and λ_max on Lorenz-63 and Rössler,
and the clipped shPLRNN's fixed points and Lyapunov spectrum on Lorenz-63.

For each AL-RNN run (trained here with ``attractor.fit(system, "alrnn", …)`` — the package's
recipe, P = 2 for Lorenz-63 and P = 1 for Rössler — or reused with ``--runs``), runs
``attractor.analysis.analyze_run`` (which also writes ``RUN/analysis/``) and reports:

* the linear subregions its free run visits, with coverage (published: the minimal
  piecewise-linear Lorenz model uses 3 regions, Rössler 2);
* its fixed points (exact: all 2^P patterns are solved) in data coordinates, next to the true
  equilibria — Lorenz: (0, 0, 0) a saddle and (±√(β(ρ−1)), ±√(β(ρ−1)), ρ−1) two saddle-foci;
* λ_max per time unit against the value computed from the equations (and 0.9056 for Lorenz).

For shPLRNN Lorenz runs (``--shplrnn-runs``, default the directories matching
``benchmarks/runs/*lorenz63-shplrnn-s*``): the same fixed-point table (SCYFI, heuristic for
L = 200) and the full Lyapunov spectrum next to the true one (≈ 0.906, 0, −14.57).

Training hyper-parameters come from the package's recipe; only ``--preset``/``--epochs`` pick the
length. Training jobs run in ``--workers`` processes with one torch thread each; the analysis runs
in this process with one thread.

Usage::

    python benchmarks/analysis_lorenz.py --seeds 5                       # train and analyse
    python benchmarks/analysis_lorenz.py --runs benchmarks/runs/*alrnn*  # analyse existing runs
    python benchmarks/analysis_lorenz.py --systems rossler --seeds 2 --preset quick

Prints tables and writes ``benchmarks/results/analysis_lorenz.json``.
"""

from __future__ import annotations

import argparse
import glob
import math
import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

LORENZ_LAMBDA = 0.9056  # REFERENCE §3; dysts stores 0.892
N_RELU = {"lorenz63": 2, "rossler": 1}
PUBLISHED_REGIONS = {"Lorenz": 3, "Rossler": 2}


def train_job(spec: dict[str, Any]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    import attractor

    t0 = time.perf_counter()
    try:
        run = attractor.fit(
            spec["system"],
            "alrnn",
            n_relu=spec["n_relu"],
            seed=spec["seed"],
            noise=spec["noise"],
            preset=spec["preset"],
            epochs=spec["epochs"],
            out=spec["out"],
            name=f"{spec['system']}-alrnn-P{spec['n_relu']}-s{spec['seed']}",
        )
        return {
            **spec,
            "status": "done",
            "path": str(run.path),
            "train_wall_s": time.perf_counter() - t0,
        }
    except Exception as exc:  # a failed training is a result, not a crash of the benchmark
        return {
            **spec,
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "train_wall_s": time.perf_counter() - t0,
        }


def _short(x: list[float]) -> str:
    return "(" + ", ".join(f"{v:.2f}" for v in x) + ")"


def analyse(path: str, max_period: int) -> dict[str, Any]:
    """Analyse one run directory and keep the numbers the tables need."""
    from attractor.analysis.report import analyze_run
    from attractor.runs.directory import load_run

    t0 = time.perf_counter()
    run = load_run(path)
    rep = analyze_run(run, max_period=max_period)
    lyap = rep["lyapunov"]
    row: dict[str, Any] = {
        "path": path,
        "model": rep["model"]["kind"],
        "system": rep["system"],
        "seed": run.config.get("seed"),
        "D_stsp": run.metrics.get("D_stsp"),
        "D_H": run.metrics.get("D_H"),
        "lambda_max": lyap["model"]["lambda_max"],
        "lambda_max_stderr": lyap["model"]["stderr"][0],
        "lyapunov_converged": lyap["model"]["converged"],
        "spectrum": lyap["model"]["exponents"][:3],
        "spectrum_true": None if lyap["true"] is None else lyap["true"]["exponents"],
        "lambda_max_true": None if lyap["true"] is None else lyap["true"]["lambda_max"],
        "lambda_max_dysts": lyap["comparison"].get("lambda_max_dysts"),
        "fixed_point_method": rep["fixed_points"]["method"],
        "fixed_point_statement": rep["fixed_points"]["statement"],
        "fixed_points": [
            {
                "data": o["data"][0],
                "type": o["type"],
                "unstable_dimension": o["unstable_dimension"],
                "regions": o.get("regions"),
            }
            for o in rep["fixed_points"]["orbits"]
        ],
        "true_equilibria": rep.get("true_equilibria", {}).get("nearest_model_fixed_point", []),
        "cycles": {c["period"]: c["count"] for c in rep.get("cycles", [])},
        "analysis_wall_s": time.perf_counter() - t0,
    }
    if rep["system"] == "Lorenz":
        row["lambda_max_reference"] = LORENZ_LAMBDA
    sym = rep.get("symbolic")
    if sym:
        row["regions_visited"] = sym["n_visited_regions"]
        row["regions_possible"] = sym["n_possible_regions"]
        row["coverage"] = [
            (r["pattern"], r["coverage"], r["fixed_point_real"]) for r in sym["regions"]
        ]
    return row


def _fmt(v: Any, f: str = "{:.3g}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f.format(v) if isinstance(v, (int, float)) else str(v)


def print_tables(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(width=160)
    t = Table(title="AL-RNN / shPLRNN: regions, λ_max, fixed points")
    for col in (
        "run",
        "D_stsp",
        "regions visited (coverage)",
        "λ_max model ± se",
        "λ_max true",
        "FPs",
        "2-cycles",
    ):
        t.add_column(col)
    for r in rows:
        cov = ", ".join(f"{p}:{c:.2f}" for p, c, _ in r.get("coverage", [])) or "–"
        reg = f"{r['regions_visited']}/{r['regions_possible']}: {cov}" if "coverage" in r else "–"
        t.add_row(
            Path(r["path"]).name,
            _fmt(r["D_stsp"]),
            reg,
            f"{r['lambda_max']:.3f} ± {r['lambda_max_stderr']:.3f}"
            + ("" if r["lyapunov_converged"] else " (not conv.)"),
            _fmt(r["lambda_max_true"], "{:.3f}")
            + (f" (ref {r['lambda_max_reference']})" if "lambda_max_reference" in r else ""),
            f"{len(r['fixed_points'])} ({r['fixed_point_method']})",
            _fmt(r["cycles"].get(2)),
        )
    con.print(t)
    t = Table(title="true equilibria vs nearest model fixed point (data coordinates)")
    for col in ("run", "true", "true type", "model", "model type", "dist/std"):
        t.add_column(col)
    for r in rows:
        for m in r["true_equilibria"]:
            t.add_row(
                Path(r["path"]).name,
                _short(m["true"]),
                m["true_type"],
                _short(m["model"]) if m["model"] is not None else "–",
                m["model_type"] or "–",
                _fmt(m["relative_distance"]),
            )
    con.print(t)
    sh = [r for r in rows if r["model"].startswith("shplrnn")]
    if sh:
        t = Table(title="shPLRNN Lyapunov spectrum (per time unit) vs the equations")
        for col in ("run", "λ1", "λ2", "λ3", "true λ1, λ2, λ3"):
            t.add_column(col)
        for r in sh:
            t.add_row(
                Path(r["path"]).name,
                *[f"{v:.3f}" for v in r["spectrum"]],
                _short(r["spectrum_true"]) if r["spectrum_true"] else "–",
            )
        con.print(t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--systems", default="lorenz63,rossler")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--preset", default="full")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--noise", type=float, default=0.05)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/runs")
    ap.add_argument(
        "--runs",
        nargs="*",
        default=None,
        help="Existing AL-RNN run directories to analyse instead of training.",
    )
    ap.add_argument(
        "--train", default=None, help="With --runs: also train these systems (comma-separated)."
    )
    ap.add_argument(
        "--shplrnn-runs",
        nargs="*",
        default=["benchmarks/runs/*lorenz63-shplrnn-s*"],
        help="shPLRNN Lorenz run directories or glob patterns ('none' to skip).",
    )
    ap.add_argument("--max-shplrnn", type=int, default=5)
    ap.add_argument("--max-period", type=int, default=2)
    ap.add_argument("--json", default="benchmarks/results/analysis_lorenz.json")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    paths = list(args.runs or [])
    to_train = (
        (args.train.split(",") if args.train else [])
        if args.runs is not None
        else args.systems.split(",")
    )
    jobs = [
        {
            "system": s,
            "n_relu": N_RELU.get(s.lower(), 2),
            "seed": seed,
            "noise": args.noise,
            "preset": args.preset,
            "epochs": args.epochs,
            "out": args.out,
        }
        for s in to_train
        if s
        for seed in range(args.seeds)
    ]
    trained = []
    if jobs:
        with mp.get_context("spawn").Pool(min(args.workers, len(jobs))) as pool:
            for res in pool.imap_unordered(train_job, jobs):
                trained.append(res)
                print(
                    f"trained {res['system']} seed {res['seed']}: {res['status']} "
                    f"in {res['train_wall_s']:.0f} s",
                    flush=True,
                )
        paths += [r["path"] for r in trained if r["status"] == "done"]
    sh_paths: list[str] = []
    if args.shplrnn_runs and args.shplrnn_runs != ["none"]:
        for p in args.shplrnn_runs:
            sh_paths += sorted(glob.glob(p)) if any(c in p for c in "*?[") else [p]
        sh_paths = sh_paths[: args.max_shplrnn]
    rows = []
    for p in paths + sh_paths:
        print(f"analysing {p}", flush=True)
        try:
            rows.append(analyse(p, args.max_period))
        except Exception as exc:
            rows.append({"path": p, "status": "failed", "error": f"{type(exc).__name__}: {exc}"})
    good = [r for r in rows if "error" not in r]
    print_tables(good)
    for r in rows:
        if "error" in r:
            print(f"FAILED {r['path']}: {r['error']}")
    summary: dict[str, Any] = {}
    for system in sorted({r["system"] for r in good if r["model"] == "alrnn"}):
        sel = [r for r in good if r["model"] == "alrnn" and r["system"] == system]
        summary[system] = {
            "runs": len(sel),
            "regions_visited": [r.get("regions_visited") for r in sel],
            "published_regions": PUBLISHED_REGIONS.get(system),
            "lambda_max": [r["lambda_max"] for r in sel],
            "lambda_max_true": sel[0]["lambda_max_true"],
            "D_stsp": [r["D_stsp"] for r in sel],
        }
    out = {
        "args": vars(args),
        "total_wall_s": time.perf_counter() - t0,
        "trained": trained,
        "summary": summary,
        "rows": rows,
        "lorenz_lambda_reference": LORENZ_LAMBDA,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    from attractor.io import write_json

    write_json(args.json, out)
    print(f"wrote {args.json} in {out['total_wall_s']:.0f} s")


if __name__ == "__main__":
    main()
