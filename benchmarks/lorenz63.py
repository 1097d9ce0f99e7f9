"""Quality benchmark: the default recipes on noisy Lorenz-63 (and other systems), several seeds.

Each job is one ``attractor.api.fit`` call — clean data generated from dysts' Lorenz equations at
100 points per period, 5 % Gaussian observation noise added to the training and validation
trajectories (the GTF paper's setting), evaluated on a clean held-out test trajectory from a
different initial condition with the REFERENCE protocol (generate 1.25·T, drop 0.25·T, compare
T = 50,000 points). Jobs run in separate processes (``--workers``, one torch thread each) and
their wall time is measured inside the job, from data preparation to the written run directory.

Usage::

    python benchmarks/lorenz63.py                              # shplrnn + alrnn, 5 seeds
    python benchmarks/lorenz63.py --models shplrnn --seeds 3 --preset quick
    python benchmarks/lorenz63.py --systems Thomas,Chua,ArnoldBeltramiChildress --seeds 1 \
        --json benchmarks/results/nonpolynomial.json
    python benchmarks/lorenz63.py --models alrnn-lsq --json benchmarks/results/alrnn_lsq.json
    python benchmarks/lorenz63.py --seeds-per-model shplrnn=5,alrnn=3 \
        --also Thomas,Chua,ArnoldBeltramiChildress     # one pool: Lorenz + one seed elsewhere
    python benchmarks/lorenz63.py --systems ecg --models shplrnn --seeds 4 --preset quick \
        --json benchmarks/results/ecg.json             # a shipped dataset: its own defaults

A shipped dataset (``ecg``) is fitted as measured — no noise is added — with its own
pre-processing, embedding and D_stsp estimator; its floor compares its validation and test parts.

Prints one table and writes JSON (per job and medians) to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import statistics
import time
from pathlib import Path
from typing import Any

LORENZ_LAMBDA = 0.9056  # REFERENCE §3 (σ=10, ρ=28, β=8/3); dysts stores 0.892
TARGETS = {
    "shplrnn": {"D_stsp": 0.30, "D_H": 0.10, "lambda_rel": 0.15, "minutes": 20},
    "alrnn": {"D_stsp": 0.40},
}


def job(spec: dict[str, Any]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    import attractor

    t0 = time.perf_counter()
    measured = spec["system"].lower() in attractor.list_datasets()
    try:
        run = attractor.fit(
            spec["system"],
            spec["model"],
            seed=spec["seed"],
            noise=None if measured else spec["noise"],
            preset=spec["preset"],
            epochs=spec.get("epochs"),
            n_relu=spec.get("n_relu"),
            out=spec["out"],
            name=f"{spec['system']}-{spec['model']}-s{spec['seed']}",
        )
        m = run.metrics
        row = {
            k: m.get(k)
            for k in (
                "D_stsp",
                "uncovered",
                "D_H",
                "PE(20)",
                "lambda_max",
                "lyapunov_spectrum",
                "vpt_lyapunov_times",
                "best_epoch",
                "epochs_run",
                "stopped",
            )
        }
        row.update(status="done", path=str(run.path))
    except Exception as exc:  # a failed job is a result, not a crash of the benchmark
        row = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    row.update(spec)
    row["wall_s"] = time.perf_counter() - t0
    return row


def data_floor(system: str, n: int) -> dict[str, float]:
    """D_stsp / D_H between two clean trajectories of the system (the best a model can do);
    for a shipped dataset, between its validation and test parts (equal lengths)."""
    import numpy as np

    import attractor
    from attractor.metrics import d_h, d_stsp

    if system.lower() in attractor.list_datasets():
        p = attractor.prepare_data(system.lower())
        a, b = p.test.values, p.val.values
        k = min(len(a), len(b))
        method = p.info.get("d_stsp_method", "auto")
        return {
            "D_stsp": d_stsp(a[:k], b[:k], method=method),
            "D_H": d_h(a[:k], b[:k]),
            "n": k,
            "finite": True,
        }

    a = attractor.load_system(system, n=n, seed=2).standardise()
    b = attractor.load_system(system, n=n, seed=3).standardise(a.scaler)
    return {
        "D_stsp": d_stsp(a.values, b.values),
        "D_H": d_h(a.values, b.values),
        "n": n,
        "finite": bool(np.isfinite(b.values).all()),
    }


def median(rows: list[dict[str, Any]], key: str) -> float:
    vals = [r[key] for r in rows if r.get("status") == "done" and r.get(key) is not None]
    vals = [v for v in vals if isinstance(v, (int, float))]
    return statistics.median(vals) if vals else math.nan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--systems", default="lorenz63")
    ap.add_argument("--models", default="shplrnn,alrnn")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument(
        "--seeds-per-model", default="", help="e.g. shplrnn=5,alrnn=3 (overrides --seeds)"
    )
    ap.add_argument(
        "--also", default="", help="more systems, first model, one seed, in the same pool"
    )
    ap.add_argument("--noise", type=float, default=0.05)
    ap.add_argument("--preset", default="full")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--n-relu", type=int, default=None, help="P for alrnn / alrnn-lsq")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/runs")
    ap.add_argument("--json", default="benchmarks/results/lorenz63.json")
    args = ap.parse_args()

    per_model = dict(kv.split("=") for kv in args.seeds_per_model.split(",") if kv)
    models = args.models.split(",")
    triples = [
        (s, m, k)
        for s in args.systems.split(",")
        for m in models
        for k in range(int(per_model.get(m, args.seeds)))
    ]
    triples += [(s, models[0], 0) for s in args.also.split(",") if s]
    # longest jobs first (the first model is the slowest), so the pool packs well
    triples.sort(key=lambda t: models.index(t[1]))
    specs = [
        {
            "system": s,
            "model": m,
            "seed": k,
            "noise": args.noise,
            "preset": args.preset,
            "epochs": args.epochs,
            "n_relu": args.n_relu,
            "out": args.out,
        }
        for s, m, k in triples
    ]
    systems = list(dict.fromkeys(t[0] for t in triples))
    t0 = time.perf_counter()
    ctx = mp.get_context("spawn")
    with ctx.Pool(args.workers, maxtasksperchild=1) as pool:
        rows = []
        for row in pool.imap_unordered(job, specs):
            rows.append(row)
            print(
                f"[{len(rows)}/{len(specs)}] {row['system']} {row['model']} seed {row['seed']}: "
                f"{row['status']} D_stsp={row.get('D_stsp')} D_H={row.get('D_H')} "
                f"λ_max={row.get('lambda_max')} wall={row['wall_s']:.0f}s",
                flush=True,
            )
    total = time.perf_counter() - t0

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{args.preset} recipe, noise {args.noise} (dysts systems only)")
    for col in (
        "system",
        "model",
        "runs ok",
        "D_stsp",
        "D_H",
        "PE(20)",
        "λ_max",
        "VPT (Λ t)",
        "wall min",
        "floor D_stsp",
        "floor D_H",
    ):
        table.add_column(col, justify="right")
    summary = []
    for s in systems:
        floor = data_floor(s, 50_000)
        for m in models:
            rs = [r for r in rows if r["system"] == s and r["model"] == m]
            if not rs:
                continue
            med = {
                k: median(rs, k)
                for k in ("D_stsp", "D_H", "PE(20)", "lambda_max", "vpt_lyapunov_times", "wall_s")
            }
            ok = sum(r["status"] == "done" for r in rs)
            summary.append(
                {"system": s, "model": m, "n_ok": ok, "n": len(rs), "median": med, "floor": floor}
            )
            table.add_row(
                s,
                m,
                f"{ok}/{len(rs)}",
                *(
                    f"{med[k]:.3f}"
                    for k in ("D_stsp", "D_H", "PE(20)", "lambda_max", "vpt_lyapunov_times")
                ),
                f"{med['wall_s'] / 60:.1f}",
                f"{floor['D_stsp']:.3f}",
                f"{floor['D_H']:.3f}",
            )
    Console().print(table)
    for item in summary:
        t = TARGETS.get(item["model"]) if item["system"].lower() in ("lorenz63", "lorenz") else None
        if not t:
            continue
        med = item["median"]
        checks = [f"D_stsp {med['D_stsp']:.3f} ≤ {t['D_stsp']}: {med['D_stsp'] <= t['D_stsp']}"]
        if "D_H" in t:
            checks.append(f"D_H {med['D_H']:.3f} ≤ {t['D_H']}: {med['D_H'] <= t['D_H']}")
        if "lambda_rel" in t:
            rel = abs(med["lambda_max"] - LORENZ_LAMBDA) / LORENZ_LAMBDA
            checks.append(
                f"|λ_max − 0.906|/0.906 = {rel:.3f} ≤ {t['lambda_rel']}: {rel <= t['lambda_rel']}"
            )
        if "minutes" in t:
            checks.append(
                f"median wall {med['wall_s'] / 60:.1f} min ≤ {t['minutes']}: "
                f"{med['wall_s'] / 60 <= t['minutes']}"
            )
        print(f"{item['model']}: " + "; ".join(checks))
    print(
        f"total wall time {total / 60:.1f} min with {args.workers} worker(s) "
        f"(one torch thread each) on {os.cpu_count()} cores"
    )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "args": vars(args),
        "total_wall_s": total,
        "summary": summary,
        "jobs": rows,
        "lorenz_lambda_reference": LORENZ_LAMBDA,
    }
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str))
    os.replace(tmp, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
