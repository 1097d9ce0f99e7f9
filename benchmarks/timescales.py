"""Single-head vs multi-head curriculum on N-parity: N reached, τ and τ_net, robustness.

Reduced configuration for a shared 2-core CPU (the published one is 500 units, batch 256,
600 steps per epoch): leaky RNN (nonlinearity outside) with 128 units, batch 128, 100 SGD steps
per epoch, the published optimiser otherwise (lr 0.05, Nesterov momentum 0.1, clip 2.0,
threshold 98 %). Both curricula train at the same time as two processes with one thread each
and the same wall-clock budget (``--train-minutes``, default 25). Each worker then measures τ
and τ_net at every N it reached (10 trials × 10,000 steps of random bits, lags 0–30, AIC);
the driver measures robustness of both networks at the largest N both reached, prints a table,
writes ``benchmarks/results/timescales.json`` and comparison figures, and says which published
findings hold.

    .venv/bin/python benchmarks/timescales.py                       # ≈ 30 min
    .venv/bin/python benchmarks/timescales.py --train-minutes 1     # smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "timescales.json"
FIGURES = HERE / "results" / "timescales"
REDUCED = {"hidden": 128, "batch_size": 128, "steps_per_epoch": 100, "test_size": 2048}


def worker(args: argparse.Namespace) -> None:
    """Train one curriculum and analyse its τ / τ_net; print the run directory as JSON."""
    torch.set_num_threads(1)
    from attractor.api.task import analyze_task_run, fit_task

    train = {k: REDUCED[k] for k in ("batch_size", "steps_per_epoch", "test_size")}
    train.update(time_budget=args.train_minutes * 60, max_epochs=100_000)
    path = fit_task(
        "parity",
        args.worker,
        max_n=args.max_n,
        model="leaky",
        hidden=REDUCED["hidden"],
        train=train,
        seed=args.seed,
        out=args.out,
        analyze=False,
    )
    analyze_task_run(path, n_trials=10, steps=args.trial_steps, robust=False, seed=args.seed)
    print(json.dumps({"run": str(path)}))


def spearman(x: list[float], y: list[float]) -> float:
    from scipy.stats import spearmanr

    if len(x) < 3:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--train-minutes", type=float, default=25.0)
    p.add_argument("--max-n", type=int, default=40)
    p.add_argument("--trial-steps", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=HERE / "runs")
    p.add_argument("--worker", choices=["single", "multi"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    procs = {
        c: subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                c,
                "--train-minutes",
                str(args.train_minutes),
                "--max-n",
                str(args.max_n),
                "--trial-steps",
                str(args.trial_steps),
                "--seed",
                str(args.seed),
                "--out",
                str(args.out),
            ],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for c in ("single", "multi")
    }
    paths = {}
    for c, proc in procs.items():
        stdout, _ = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"the {c} worker failed with status {proc.returncode}")
        paths[c] = Path(json.loads(stdout.strip().splitlines()[-1])["run"])

    from attractor.api.task import TIMESCALES, heads_ns, load_task_run
    from attractor.io import read_json
    from attractor.plots import tasks as tf
    from attractor.runs.directory import read_history
    from attractor.tasks.robustness import robustness

    ts = {c: read_json(paths[c] / TIMESCALES) for c in paths}
    met = {c: read_json(paths[c] / "metrics.json") for c in paths}
    hist = {c: read_history(paths[c] / "history.csv") for c in paths}
    reached = {c: met[c]["n_reached"] or 0 for c in paths}
    common = min(reached.values())
    rob = {}
    if common >= 2:
        for c in paths:
            net, _ = load_task_run(paths[c], common)
            rob[c] = robustness(net, "parity", heads_ns(c, common, net.n_heads), seed=args.seed)
    first_time = {c: {r["n"]: (r["epoch"], r["time"]) for r in met[c]["reached"]} for c in paths}

    con = Console()
    table = Table(
        title=f"N-parity, leaky RNN {REDUCED['hidden']} units, "
        f"{args.train_minutes:g} min per curriculum"
    )
    for col in (
        "N",
        "single: epoch",
        "single: τ",
        "single: τ_net",
        "multi: epoch",
        "multi: τ",
        "multi: τ_net",
    ):
        table.add_column(col, justify="right")
    rows = {c: {r["N"]: r for r in ts[c]["per_n"]} for c in paths}
    for n in range(2, max(reached.values()) + 1):
        cells = [str(n)]
        for c in ("single", "multi"):
            r = rows[c].get(n)
            ep = first_time[c].get(n, (None,))[0]
            cells += (
                ["–", "–", "–"]
                if r is None
                else [str(ep), f"{r['tau_mean']:.3f}", f"{r['tau_net_mean']:.2f}"]
            )
        table.add_row(*cells)
    con.print(table)

    def series(c: str, key: str) -> tuple[list[int], list[float]]:
        pts = [
            (r["N"], r[key]) for r in ts[c]["per_n"] if r[key] is not None and np.isfinite(r[key])
        ]
        return [a for a, _ in pts], [b for _, b in pts]

    findings = {}
    n_s, tau_s = series("single", "tau_mean")
    n_m, tau_m = series("multi", "tau_mean")
    n_ms, taunet_m = series("multi", "tau_net_mean")
    n_ss, taunet_s = series("single", "tau_net_mean")
    findings["single_tau_rises"] = {
        "spearman_tau_vs_N": spearman(n_s, tau_s),
        "tau_first_last": [tau_s[0], tau_s[-1]] if tau_s else None,
    }
    findings["multi_tau_constant"] = {
        "spearman_tau_vs_N": spearman(n_m, tau_m),
        "tau_first_last": [tau_m[0], tau_m[-1]] if tau_m else None,
        "relative_change": (tau_m[-1] - tau_m[0]) / tau_m[0] if tau_m else None,
    }
    findings["tau_net_rises"] = {
        "multi_spearman": spearman(n_ms, taunet_m),
        "single_spearman": spearman(n_ss, taunet_s),
        "multi_first_last": [taunet_m[0], taunet_m[-1]] if taunet_m else None,
        "single_first_last": [taunet_s[0], taunet_s[-1]] if taunet_s else None,
    }
    findings["multi_learns_faster"] = {
        "n_reached": reached,
        "time_to_common_N_s": {c: first_time[c].get(common, (None, None))[1] for c in paths},
        "epochs_to_common_N": {c: first_time[c].get(common, (None,))[0] for c in paths},
    }
    if rob:
        findings["multi_more_robust"] = {
            c: {
                "ablation_fastest_mean": rob[c].get("ablation_fastest_mean"),
                "ablation_slowest_mean": rob[c].get("ablation_slowest_mean"),
                "perturb_W_mean": float(np.mean(rob[c]["perturb_W"])),
                "perturb_tau_mean": float(np.mean(rob[c]["perturb_tau"])),
            }
            for c in rob
        }

    rt = Table(title=f"relative accuracy at N = {common} (largest common N)")
    rt.add_column("perturbation")
    for c in rob:
        rt.add_column(c, justify="right")
    if rob:
        rt.add_row("base accuracy", *[f"{rob[c]['base_accuracy']:.3f}" for c in rob])
        rt.add_row(
            "ablate 10 fastest-τ (mean)", *[f"{rob[c]['ablation_fastest_mean']:.3f}" for c in rob]
        )
        rt.add_row(
            "ablate 10 slowest-τ (mean)", *[f"{rob[c]['ablation_slowest_mean']:.3f}" for c in rob]
        )
        for i, e in enumerate(rob["single"]["epsilons"]):
            rt.add_row(f"W, ε = {e}", *[f"{rob[c]['perturb_W'][i]:.3f}" for c in rob])
        for i, e in enumerate(rob["single"]["epsilons"]):
            rt.add_row(f"τ, ε = {e}", *[f"{rob[c]['perturb_tau'][i]:.3f}" for c in rob])
        con.print(rt)

    FIGURES.mkdir(parents=True, exist_ok=True)
    tf.plot_n_reached(hist, FIGURES / "n_reached.png")
    tf.plot_timescales_vs_n({c: ts[c]["per_n"] for c in paths}, FIGURES / "timescales_vs_n.png")
    if rob:
        tf.plot_robustness(rob, FIGURES / "robustness.png")

    result = {
        "config": {
            **REDUCED,
            "model": "leaky (outside)",
            "lr": 0.05,
            "momentum": 0.1,
            "train_minutes": args.train_minutes,
            "max_n": args.max_n,
            "trial_steps": args.trial_steps,
            "seed": args.seed,
            "torch_threads": 1,
            "processes": 2,
        },
        "runs": {c: str(paths[c]) for c in paths},
        "n_reached": reached,
        "largest_common_N": common,
        "per_n": {c: ts[c]["per_n"] for c in paths},
        "robustness": rob,
        "findings": findings,
        "wall_time_s": time.perf_counter() - t0,
    }
    from attractor.io import write_json

    write_json(RESULTS, result)
    con.print_json(json.dumps(findings, default=float))
    con.print(f"wall time {result['wall_time_s']:.0f} s; results in {RESULTS}")


if __name__ == "__main__":
    main()
