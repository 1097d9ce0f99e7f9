"""Single-head vs multi-head curriculum on N-parity: N reached, τ and τ_net, forgetting, robustness.

``--preset paper`` is the published configuration (leaky RNN, nonlinearity outside, 500 units,
batch 256, 600 SGD steps per epoch, lr 0.05, Nesterov momentum 0.1, clip 2.0, threshold 98 %);
``--preset reduced`` the earlier 128 units, batch 128, 100 steps per epoch. Training runs in
mixed precision (``--precision bf16``, bfloat16 matrix products; ``fp32`` for full float32),
which reached every N ≤ 6 in the same epochs as float32 at the paper size. Both curricula train
at the same time as two processes with one thread each and the same wall-clock budget
(``--train-minutes`` per part). With ``--resume`` a part continues each curriculum from the
last network of the previous part (the next N, a fresh optimiser), so a long run can be done in
parts; ``runs.json`` in the part directory lists them. Then, over all parts:

- τ (trained) and τ_net at every N reached (10 trials × 10,000 steps of random bits, lags 0–30,
  AIC between one and two exponentials);
- forgetting: the single-head network at each reached N tested on every earlier N' (its one
  head), and the multi-head network's head for N' at the same moment;
- robustness of both networks at the largest N both reached;
- a check of the τ_net estimator on a linear leaky RNN whose slow mode is known
  (:func:`estimator_check`), before trusting it on trained networks.

It prints tables, writes ``benchmarks/results/timescales[_paper].json`` and the figures
``timescales_vs_n.png``, ``n_reached.png``, ``forgetting.png`` and ``robustness.png``.

    .venv/bin/python benchmarks/timescales.py --preset paper --train-minutes 60
    .venv/bin/python benchmarks/timescales.py --preset paper --train-minutes 30 --resume
    .venv/bin/python benchmarks/timescales.py --preset reduced --train-minutes 1    # smoke test
"""

from __future__ import annotations

import argparse
import json
import math
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
PRESETS = {
    "reduced": {"hidden": 128, "batch_size": 128, "steps_per_epoch": 100, "test_size": 2048},
    "paper": {"hidden": 500, "batch_size": 256, "steps_per_epoch": 600, "test_size": 2048},
}
CURRICULA = ("single", "multi")


def results_path(preset: str) -> tuple[Path, Path]:
    suffix = "" if preset == "reduced" else f"_{preset}"
    return HERE / "results" / f"timescales{suffix}.json", HERE / "results" / f"timescales{suffix}"


def part_dir(args: argparse.Namespace) -> Path:
    return args.out / f"timescales-{args.preset}-seed{args.seed}"


def worker(args: argparse.Namespace) -> None:
    """Train one curriculum for one part (from the previous part's network with ``--resume``);
    print the run directory as JSON."""
    torch.set_num_threads(1)
    from attractor.api.task import fit_task
    from attractor.io import read_json

    cfg = PRESETS[args.preset]
    train = {k: cfg[k] for k in ("batch_size", "steps_per_epoch", "test_size")}
    train.update(time_budget=args.train_minutes * 60, max_epochs=100_000, precision=args.precision)
    state = part_dir(args) / "runs.json"
    parts = read_json(state)[args.worker] if state.exists() else []
    init, start_n = None, 2
    if parts:
        last = Path(parts[-1])
        reached = read_json(last / "metrics.json")["n_reached"]
        if reached:
            init, start_n = last / "model.safetensors", reached + 1
        else:
            init = last / "model.safetensors"
            start_n = read_json(last / "config.json")["task"]["start_n"]
    path = fit_task(
        "parity",
        args.worker,
        max_n=args.max_n,
        model="leaky",
        hidden=cfg["hidden"],
        start_n=start_n,
        init=init,
        train=train,
        seed=args.seed + len(parts),
        out=part_dir(args),
        name=f"part{len(parts)}-{args.worker}",
        analyze=False,
    )
    print(json.dumps({"run": str(path)}))


def estimator_check(tau0: float = 2.0, slow: float = 0.95, units: int = 40) -> dict:
    """τ_net of a *linear* leaky RNN (φ = identity) with a known slow mode.

    All τ_i = τ0 and ``W = c (J − I)/(M − 1)`` (zero diagonal), so
    ``M = (1 − 1/τ0) I + W/τ0`` has the uniform eigenvector with eigenvalue ``slow`` and
    ``M − 1`` others at ``1 − 1/τ0 − c/((M − 1) τ0)``. Driven by random bits, every unit is a sum
    of AR(1) processes, so its autocorrelation's slowest timescale is ``−1/ln(slow)`` (19.5
    steps for 0.95) while no single neuron is slower than ``−1/ln(1 − 1/τ0)`` (1.44 for τ0 = 2).
    """
    from attractor.models.leaky import LeakyRNN
    from attractor.tasks.heads import DynamicalCore, TaskNetwork
    from attractor.tasks.timescales import network_timescales

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LeakyRNN(1, units, 1, negative_slope=1.0)
    c = (slow - (1 - 1 / tau0)) * tau0
    with torch.no_grad():
        model.tau.fill_(tau0)
        model.W.copy_(c * (torch.ones(units, units) - torch.eye(units)) / (units - 1))
    net = TaskNetwork(DynamicalCore(model, "leaky"), 1)
    ts = network_timescales(net, n_trials=10, steps=10_000)
    expected = -1 / math.log(slow)
    return {
        "expected_tau_net": expected,
        "single_neuron_timescale": -1 / math.log(1 - 1 / tau0),
        "tau_net_median": float(np.nanmedian(ts.tau_net)),
        "tau_net_mean": float(np.nanmean(ts.tau_net)),
        "relative_error_median": float(np.nanmedian(ts.tau_net) / expected - 1),
        "fraction_double": float(np.mean([m == "double" for m in ts.model])),
        "tau_lambda": ts.tau_lambda,
        "relative_error_tau_lambda": ts.tau_lambda / expected - 1,
    }


def forgetting(runs: dict[str, list[Path]], seed: int) -> dict[str, dict[int, dict[int, float]]]:
    """Accuracy on every earlier N' of the network checkpointed at each reached N: the single
    head for ``single``, head N' for ``multi``."""
    from attractor.api.task import heads_ns, task_checkpoints
    from attractor.tasks.curricula import evaluate_accuracy
    from attractor.tasks.heads import load_task_network

    gen = torch.Generator().manual_seed(seed)
    out: dict[str, dict[int, dict[int, float]]] = {}
    for c, parts in runs.items():
        out[c] = {}
        for part in parts:
            for n, path in task_checkpoints(part).items():
                net = load_task_network(path).eval()
                earlier = list(range(2, n + 1))
                if c == "single":
                    acc = {
                        m: float(evaluate_accuracy(net, "parity", [m], 1024, gen)[0])
                        for m in earlier
                    }
                else:
                    ns = heads_ns(c, n, net.n_heads)
                    accs = evaluate_accuracy(net, "parity", ns, 1024, gen)
                    acc = {m: float(a) for m, a in zip(ns, accs, strict=True) if m <= n}
                out[c][n] = acc
    return out


def spearman(x: list[float], y: list[float]) -> float:
    from scipy.stats import spearmanr

    if len(x) < 3:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def train_part(args: argparse.Namespace) -> dict[str, list[str]]:
    """Run one part of both curricula side by side; return the updated part list."""
    from attractor.io import read_json, write_json

    state = part_dir(args) / "runs.json"
    runs = read_json(state) if (args.resume and state.exists()) else {c: [] for c in CURRICULA}
    if not args.resume:
        write_json(state, runs)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    flags = ["--preset", args.preset, "--train-minutes", str(args.train_minutes)]
    flags += ["--max-n", str(args.max_n), "--seed", str(args.seed), "--out", str(args.out)]
    flags += ["--precision", args.precision]
    procs = {
        c: subprocess.Popen(
            [sys.executable, __file__, "--worker", c, *flags],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for c in CURRICULA
    }
    for c, proc in procs.items():
        stdout, _ = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"the {c} worker failed with status {proc.returncode}")
        runs[c].append(json.loads(stdout.strip().splitlines()[-1])["run"])
    write_json(state, runs)
    return runs


def merged(runs: dict[str, list[Path]], trial_steps: int, seed: int) -> dict[str, dict]:
    """Per-N timescales, reached-N times (cumulative over parts) and history of every part."""
    from attractor.api.task import TIMESCALES, analyze_task_run
    from attractor.io import read_json
    from attractor.runs.directory import read_history

    out = {}
    for c, parts in runs.items():
        per_n, reached, hist, offset, epochs = [], [], [], 0.0, 0
        for part in parts:
            if not (part / TIMESCALES).exists():
                analyze_task_run(part, n_trials=10, steps=trial_steps, robust=False, seed=seed)
            per_n += read_json(part / TIMESCALES)["per_n"]
            met = read_json(part / "metrics.json")
            for r in met["reached"]:
                reached.append({**r, "time": r["time"] + offset, "epoch": r["epoch"] + epochs})
            for row in read_history(part / "history.csv"):
                hist.append({**row, "time": row["time"] + offset, "epoch": row["epoch"] + epochs})
            offset += met["train_time"]
            epochs += met["epochs_run"]
        n_reached = max((r["n"] for r in reached), default=0)
        out[c] = {"per_n": per_n, "reached": reached, "history": hist, "n_reached": n_reached}
        out[c]["train_time_s"] = offset
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), default="paper")
    p.add_argument("--train-minutes", type=float, default=60.0, help="per part")
    p.add_argument("--max-n", type=int, default=40)
    p.add_argument("--trial-steps", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", choices=("fp32", "bf16"), default="bf16")
    p.add_argument("--out", type=Path, default=HERE / "runs")
    p.add_argument("--resume", action="store_true", help="continue from the previous part")
    p.add_argument("--analyze-only", action="store_true", help="no training; analyse the parts")
    p.add_argument("--worker", choices=CURRICULA, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)

    from attractor.api.task import heads_ns, load_task_run
    from attractor.io import read_json, write_json
    from attractor.plots import tasks as tf
    from attractor.tasks.robustness import robustness

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    if args.analyze_only:
        runs = read_json(part_dir(args) / "runs.json")
    else:
        runs = train_part(args)
    paths = {c: [Path(r) for r in runs[c]] for c in CURRICULA}
    res_path, figures = results_path(args.preset)
    con = Console()
    check = estimator_check()
    con.print(
        f"τ_net estimator on a linear RNN with a slow mode of {check['expected_tau_net']:.1f} "
        f"steps (single neurons ≤ {check['single_neuron_timescale']:.2f}): median τ_net "
        f"{check['tau_net_median']:.2f} ({check['relative_error_median']:+.1%}), τ_λ "
        f"{check['tau_lambda']:.2f} ({check['relative_error_tau_lambda']:+.1%})"
    )
    data = merged(paths, args.trial_steps, args.seed)
    reached = {c: data[c]["n_reached"] for c in CURRICULA}
    common = min(reached.values())
    rob = {}
    if common >= 2:
        for c in CURRICULA:
            part = next(
                q
                for q in reversed(paths[c])
                if (q / "checkpoints" / f"N{common:03d}.safetensors").exists()
            )
            net, _ = load_task_run(part, common)
            rob[c] = robustness(net, "parity", heads_ns(c, common, net.n_heads), seed=args.seed)
    forget = forgetting(paths, args.seed)
    first = {c: {r["n"]: r for r in data[c]["reached"]} for c in CURRICULA}
    rows = {c: {r["N"]: r for r in data[c]["per_n"]} for c in CURRICULA}

    cfg = PRESETS[args.preset]
    table = Table(
        title=f"N-parity, leaky RNN {cfg['hidden']} units, batch {cfg['batch_size']}, "
        f"{cfg['steps_per_epoch']} steps/epoch ({args.preset})"
    )
    for col in ("N", "single: time", "τ", "τ_net", "τ_λ", "multi: time", "τ", "τ_net", "τ_λ"):
        table.add_column(col, justify="right")
    for n in range(2, max(reached.values(), default=1) + 1):
        cells = [str(n)]
        for c in CURRICULA:
            r, f = rows[c].get(n), first[c].get(n)
            if r is None or f is None:
                cells += ["–"] * 4
            else:
                cells += [
                    f"{f['time'] / 60:.1f} min",
                    f"{r['tau_mean']:.3f}",
                    f"{r['tau_net_mean']:.2f}",
                    f"{r.get('tau_lambda', math.nan):.2f}",
                ]
        table.add_row(*cells)
    con.print(table)

    ft = Table(title="forgetting: accuracy on earlier N' of the network at N (single head)")
    ft.add_column("N")
    ft.add_column("acc on N' = 2 … N (single)")
    ft.add_column("min over heads (multi)", justify="right")
    for n, acc in sorted(forget["single"].items()):
        multi = forget["multi"].get(n)
        ft.add_row(
            str(n),
            " ".join(f"{a:.2f}" for _, a in sorted(acc.items())),
            f"{min(multi.values()):.3f}" if multi else "–",
        )
    con.print(ft)

    def series(c: str, key: str) -> tuple[list[int], list[float]]:
        pts = [
            (r["N"], r[key])
            for r in data[c]["per_n"]
            if r.get(key) is not None and np.isfinite(r[key])
        ]
        return [a for a, _ in pts], [b for _, b in pts]

    findings: dict = {"estimator_check": check}
    for c in CURRICULA:
        n_c, tau_c = series(c, "tau_mean")
        n_n, net_c = series(c, "tau_net_mean")
        findings[f"{c}_tau"] = {
            "spearman_tau_vs_N": spearman(n_c, tau_c),
            "tau_first_last": [tau_c[0], tau_c[-1]] if tau_c else None,
        }
        findings[f"{c}_tau_net"] = {
            "spearman_tau_net_vs_N": spearman(n_n, net_c),
            "tau_net_first_last": [net_c[0], net_c[-1]] if net_c else None,
        }
        n_l, lam_c = series(c, "tau_lambda")
        findings[f"{c}_tau_lambda"] = {
            "spearman_tau_lambda_vs_N": spearman(n_l, lam_c),
            "tau_lambda_first_last": [lam_c[0], lam_c[-1]] if lam_c else None,
        }
    single_forget = {
        n: min(a for m, a in acc.items() if m < n) for n, acc in forget["single"].items() if n > 2
    }
    findings["single_forgets"] = {
        "min_acc_on_earlier_N": single_forget,
        "multi_min_head_acc": {n: min(a.values()) for n, a in forget["multi"].items()},
    }
    findings["multi_learns_faster"] = {
        "n_reached": reached,
        "time_to_common_N_s": {c: first[c].get(common, {}).get("time") for c in CURRICULA},
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
        rt.add_row("base accuracy", *[f"{rob[c]['base_accuracy']:.3f}" for c in rob])
        for kind in ("fastest", "slowest"):
            rt.add_row(
                f"ablate {kind}-τ (mean)", *[f"{rob[c][f'ablation_{kind}_mean']:.3f}" for c in rob]
            )
        for i, e in enumerate(rob["single"]["epsilons"]):
            rt.add_row(f"W, ε = {e}", *[f"{rob[c]['perturb_W'][i]:.3f}" for c in rob])
        for i, e in enumerate(rob["single"]["epsilons"]):
            rt.add_row(f"τ, ε = {e}", *[f"{rob[c]['perturb_tau'][i]:.3f}" for c in rob])
        con.print(rt)

    figures.mkdir(parents=True, exist_ok=True)
    tf.plot_n_reached({c: data[c]["history"] for c in CURRICULA}, figures / "n_reached.png")
    tf.plot_timescales_vs_n(
        {c: data[c]["per_n"] for c in CURRICULA}, figures / "timescales_vs_n.png"
    )
    tf.plot_forgetting(forget, figures / "forgetting.png")
    if rob:
        tf.plot_robustness(rob, figures / "robustness.png")

    result = {
        "config": {
            **cfg,
            "preset": args.preset,
            "model": "leaky (outside)",
            "lr": 0.05,
            "momentum": 0.1,
            "train_minutes_per_part": args.train_minutes,
            "parts": {c: len(paths[c]) for c in CURRICULA},
            "max_n": args.max_n,
            "trial_steps": args.trial_steps,
            "seed": args.seed,
            "precision": args.precision,
            "torch_threads": 1,
            "processes": 2,
        },
        "runs": {c: [str(q) for q in paths[c]] for c in CURRICULA},
        "n_reached": reached,
        "train_time_s": {c: data[c]["train_time_s"] for c in CURRICULA},
        "reached": {c: data[c]["reached"] for c in CURRICULA},
        "largest_common_N": common,
        "per_n": {c: data[c]["per_n"] for c in CURRICULA},
        "forgetting": forget,
        "robustness": rob,
        "findings": findings,
        "wall_time_s": time.perf_counter() - t0,
    }
    write_json(res_path, result)
    con.print_json(json.dumps(findings, default=float))
    con.print(f"wall time {result['wall_time_s']:.0f} s; results in {res_path}")


if __name__ == "__main__":
    main()
