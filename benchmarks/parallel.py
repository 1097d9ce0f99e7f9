"""Parallel-in-time (Newton / associative scan) vs sequential evaluation, in the same process.

Sections (``--sections``, comma-separated; all by default):

* ``gru``: diagonal GRU (hidden 64, batch 16, 4 random inputs, float32), forward + backward of
  the mean-square of all states, T ∈ ``--ts``. Sequential = the library's loop differentiated by
  autograd (its adjoint mode would store B·T dense 64×64 Jacobians: 26 GB at T = 10⁵).
* ``gtf``: GTF-forced clipped shPLRNN (a trained Lorenz-63 model, M = 3, L = 200, batch 16, its
  final α) on Lorenz-63 windows, forward + backward of the MSE. Sequential = the library default
  (adjoint backward).
* ``generation``: free-running generation of the same trained chaotic model by Newton (full and
  damped), iterations and whether it converged, vs sequential ``simulate``.
* ``quality``: ``attractor.fit("lorenz63", noise=0.05)`` with the sequential recipe (windows of
  200, batch 16) and with parallel GTF on long windows (``--long-seq-len``, batch
  ``--long-batch``), same seeds (``--quality-seeds``), same number of epochs
  (``--quality-epochs``, 50 optimiser steps each); quality and wall time of each fit.

Every timing is the fastest of ``--repeats`` (default 2) back-to-back measurements on a 2-core
CPU with ``torch.set_num_threads(--threads)`` (default 1; both methods always see the same
thread count — the sequential loop's tiny per-step operations cannot use a second core, the
parallel path's large batched ones can); the ratios compare runs made back to back. Prints one
table per section and writes JSON to ``--json`` (rewritten after every measurement, so a killed
run keeps what it had).

Usage::

    python benchmarks/parallel.py                       # everything, ~20 min
    python benchmarks/parallel.py --sections gru,gtf --ts 1000,10000
"""

from __future__ import annotations

import argparse
import math
import platform
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

torch.set_num_threads(1)

console = Console()
#: A trained Lorenz-63 shPLRNN for the gtf and generation sections (run directories are not
#: committed; make one with ``attractor fit lorenz63 --noise 0.05 --out benchmarks/runs/quality``).
DEFAULT_RUN = "benchmarks/runs/quality/20261201-142018-seq-s0"


def _write(path: Path, results: dict[str, Any]) -> None:
    from attractor.io import write_json

    write_json(path, results)


#: Measurements per method and T (``--repeats``); the fastest is kept. The first pass at a new
#: T pays one-time costs (page faults on fresh buffers, allocator growth) that say nothing
#: about either method.
REPEATS = 2


def _fwd_bwd(fn, loss_fn, model=None) -> tuple[float, float, Any]:
    """(forward s, backward s, output) of the fastest of ``REPEATS`` runs (by their sum)."""
    best: tuple[float, float, Any] | None = None
    for _ in range(max(1, REPEATS)):
        if model is not None:
            model.zero_grad()
        t0 = time.perf_counter()
        out = fn()
        t1 = time.perf_counter()
        loss_fn(out).backward()
        t2 = time.perf_counter()
        if best is None or (t2 - t0) < best[0] + best[1]:
            best = (t1 - t0, t2 - t1, out)
        del out
    assert best is not None
    return best


def bench_gru(ts: list[int], record) -> None:
    from attractor.models import create
    from attractor.train.parallel_rollout import parallel_forced_rollout
    from attractor.train.rollout import forced_rollout

    torch.manual_seed(0)
    model = create("diaggru", 1, latent_dim=64, n_inputs=4)
    # warm-up: the first backward pass in a process pays a one-time start-up cost (~seconds)
    xw, sw = torch.zeros(2, 11, 1), torch.randn(2, 10, 4)
    (parallel_forced_rollout(model, xw, 0.0, s=sw) ** 2).mean().backward()
    (forced_rollout(model, xw, 0.0, s=sw, mode="autograd") ** 2).mean().backward()
    for t_len in ts:
        g = torch.Generator().manual_seed(t_len)
        x = torch.zeros(16, t_len + 1, 1)
        s = torch.randn(16, t_len, 4, generator=g)
        row: dict[str, Any] = {"T": t_len}
        info_box: list[Any] = []

        def par(x=x, s=s, box=info_box):
            z, info = parallel_forced_rollout(model, x, 0.0, s=s, return_info=True)
            box.append(info)
            return z

        f, b, z_par = _fwd_bwd(par, lambda z: (z**2).mean(), model)
        g_par = [p.grad.clone() for p in model.parameters() if p.grad is not None]
        row.update(parallel_fwd=f, parallel_bwd=b, parallel_s=f + b)
        row["newton_iters"] = info_box[0].iterations
        row["residuals"] = info_box[0].residuals
        f, b, z_seq = _fwd_bwd(
            lambda x=x, s=s: forced_rollout(model, x, 0.0, s=s, mode="autograd"),
            lambda z: (z**2).mean(),
            model,
        )
        g_seq = [p.grad.clone() for p in model.parameters() if p.grad is not None]
        row.update(sequential_fwd=f, sequential_bwd=b, sequential_s=f + b)
        row["speedup"] = row["sequential_s"] / row["parallel_s"]
        row["max_state_diff"] = float((z_par - z_seq).detach().abs().max())
        row["grad_rel_diff"] = float(
            torch.cat([a.flatten() - c.flatten() for a, c in zip(g_par, g_seq, strict=True)]).norm()
            / torch.cat([c.flatten() for c in g_seq]).norm()
        )
        del z_par, z_seq
        record("gru", row)


def lorenz_windows(run, t_len: int, batch: int) -> torch.Tensor:
    from attractor.data.systems import load_system

    spacing = 997
    ts = load_system("lorenz63", n=t_len + 1 + spacing * batch, seed=3)
    x = run.scaler.transform(ts.trials[0])
    return torch.as_tensor(
        np.stack([x[i * spacing : i * spacing + t_len + 1] for i in range(batch)]),
        dtype=torch.float32,
    )


def final_alpha(run_dir: Path) -> float:
    from attractor.runs.directory import read_history

    hist = read_history(run_dir / "history.csv")
    return float(hist[-1]["alpha"])


def bench_gtf(ts: list[int], run_dir: Path, record) -> None:
    from attractor import load_run
    from attractor.train.parallel_rollout import parallel_forced_rollout
    from attractor.train.rollout import forced_rollout

    run = load_run(run_dir)
    model = run.model.float()
    alpha = final_alpha(run_dir)
    xw = lorenz_windows(run, 10, 2)
    for fn in (parallel_forced_rollout, forced_rollout):  # warm-up, as in bench_gru
        (fn(model, xw, alpha) ** 2).mean().backward()
    for t_len in ts:
        x = lorenz_windows(run, t_len, 16)
        row: dict[str, Any] = {"T": t_len, "alpha": alpha}
        info_box: list[Any] = []

        def loss(z, x=x):
            return ((model.observe(z) - x[:, 1:]) ** 2).mean()

        def par(x=x, box=info_box):
            z, info = parallel_forced_rollout(model, x, alpha, return_info=True)
            box.append(info)
            return z

        f, b, z_par = _fwd_bwd(par, loss, model)
        g_par = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        row.update(parallel_fwd=f, parallel_bwd=b, parallel_s=f + b)
        row["newton_iters"] = info_box[0].iterations
        row["residuals"] = info_box[0].residuals
        f, b, z_seq = _fwd_bwd(
            lambda x=x: forced_rollout(model, x, alpha, mode="adjoint"), loss, model
        )
        g_seq = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        row.update(sequential_fwd=f, sequential_bwd=b, sequential_s=f + b)
        row["speedup"] = row["sequential_s"] / row["parallel_s"]
        row["max_state_diff"] = float((z_par - z_seq).detach().abs().max())
        row["grad_rel_diff"] = float((g_par - g_seq).norm() / g_seq.norm())
        record("gtf", row)


def bench_generation(ts: list[int], run_dir: Path, record) -> None:
    from attractor import load_run
    from attractor.parallel.newton import NewtonFallbackWarning
    from attractor.train.parallel_rollout import NewtonOptions, parallel_simulate

    run = load_run(run_dir)
    model = run.model.double()
    x0 = torch.as_tensor(run.scaler.transform(np.load(run_dir / "test.npy")[:4]))
    z0 = model.encode(x0)
    for t_len in ts:
        t0 = time.perf_counter()
        ref = model.simulate(z0=z0, steps=t_len + 1, return_latent=True)[:, 1:]
        seq_s = time.perf_counter() - t0
        for method in ("newton", "damped"):
            cap = min(t_len, 200)
            opts = NewtonOptions(method=method, max_iter=cap, init="start", fallback=False)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NewtonFallbackWarning)
                res = parallel_simulate(model, z0, t_len, options=opts)
            par_s = time.perf_counter() - t0
            err = float((res.states - ref).abs().max())
            record(
                "generation",
                {
                    "T": t_len,
                    "method": method,
                    "max_iter": cap,
                    "iterations": res.iterations,
                    "converged": res.converged,
                    "final_residual": res.residuals[-1],
                    "max_diff_vs_sequential": err if math.isfinite(err) else None,
                    "newton_s": par_s,
                    "sequential_s": seq_s,
                },
            )


def bench_quality(args, record) -> None:
    """Same recipe, data, seed and number of epochs; sequential short windows vs parallel long
    windows. Each fit's wall time is measured around the whole ``attractor.api.fit`` call."""
    import attractor

    setups = [
        ("sequential (T̃=200, S=16)", False, {}),
        (
            f"parallel (T̃={args.long_seq_len}, S={args.long_batch})",
            True,
            {"seq_len": args.long_seq_len, "batch_size": args.long_batch},
        ),
    ]
    for seed in args.quality_seeds:
        for label, parallel, overrides in setups:
            t0 = time.perf_counter()
            run = attractor.fit(
                "lorenz63",
                "shplrnn",
                parallel=parallel,
                noise=0.05,
                seed=seed,
                epochs=args.quality_epochs,
                out=args.quality_out,
                name=f"quality-{'par' if parallel else 'seq'}-s{seed}",
                train_config=overrides,
            )
            wall = time.perf_counter() - t0
            hist = run.history
            iters = [
                float(r["newton_iters"]) for r in hist if r.get("newton_iters") not in (None, "")
            ]
            record(
                "quality",
                {
                    "setup": label,
                    "seed": seed,
                    "parallel": parallel,
                    "D_stsp": run.metrics.get("D_stsp"),
                    "D_H": run.metrics.get("D_H"),
                    "lambda_max": run.metrics.get("lambda_max"),
                    "epochs": len(hist),
                    "train_s": run.metrics.get("train_time"),
                    "newton_iters_mean": float(np.mean(iters)) if iters else None,
                    "newton_iters_max": float(np.max(iters)) if iters else None,
                    "wall_s": wall,
                    "path": str(run.path),
                },
            )


def print_tables(results: dict[str, Any]) -> None:
    cols = {
        "gru": ["T", "sequential_s", "parallel_s", "speedup", "newton_iters", "grad_rel_diff"],
        "gtf": ["T", "sequential_s", "parallel_s", "speedup", "newton_iters", "grad_rel_diff"],
        "generation": [
            "T",
            "method",
            "iterations",
            "converged",
            "final_residual",
            "newton_s",
            "sequential_s",
        ],
        "quality": [
            "setup",
            "seed",
            "D_stsp",
            "D_H",
            "lambda_max",
            "train_s",
            "wall_s",
            "newton_iters_mean",
        ],
    }
    threads = results["machine"]["threads"]
    titles = {
        "gru": f"diagonal GRU (H=64, B=16), forward+backward, CPU {threads} thread(s)",
        "gtf": f"GTF-forced shPLRNN on Lorenz-63 (B=16), forward+backward, CPU {threads} thread(s)",
        "generation": "free-running generation of a trained Lorenz-63 shPLRNN by Newton",
        "quality": "Lorenz-63 (5% noise): sequential recipe vs parallel GTF on long windows",
    }
    for sec, rows in results["sections"].items():
        table = Table(title=titles[sec])
        for c in cols[sec]:
            table.add_column(c)
        for r in rows:
            table.add_row(*[_fmt(r.get(c)) for c in cols[sec]])
        console.print(table)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "–" if v is None else str(v)


def int_list(text: str) -> list[int]:
    """``"1000,10000"`` → ``[1000, 10000]`` (argparse type: bad input is one clear line)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected non-negative integers, got {text!r}")
    return values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sections", default="gru,gtf,generation,quality")
    ap.add_argument("--ts", type=int_list, default="1000,10000,100000")
    ap.add_argument("--gen-ts", type=int_list, default="100,1000,3000")
    ap.add_argument("--run", default=DEFAULT_RUN, help="A trained Lorenz-63 shPLRNN run.")
    ap.add_argument(
        "--quality-seeds", type=int_list, default="0,1,2", help="Seeds of the quality section."
    )
    ap.add_argument("--quality-epochs", type=int, default=120, help="Epochs per quality fit.")
    ap.add_argument("--quality-out", default="benchmarks/runs/quality", help="Run directories.")
    ap.add_argument("--long-seq-len", type=int, default=2000)
    ap.add_argument("--long-batch", type=int, default=4)
    ap.add_argument("--json", default="benchmarks/results/parallel.json")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for both methods.")
    ap.add_argument(
        "--repeats", type=int, default=REPEATS, help="timings per method and T; fastest kept."
    )
    args = ap.parse_args()
    torch.set_num_threads(max(1, args.threads))
    globals()["REPEATS"] = max(1, args.repeats)
    out = Path(args.json)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    ts = args.ts
    results: dict[str, Any] = {
        "args": vars(args),
        "machine": {
            "platform": platform.platform(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "cuda": torch.cuda.is_available(),
        },
        "gpu": "not measured: no GPU was available to this benchmark run",
        "sections": {},
    }
    t_start = time.perf_counter()

    def record(section: str, row: dict[str, Any]) -> None:
        results["sections"].setdefault(section, []).append(row)
        results["total_wall_s"] = time.perf_counter() - t_start
        _write(out, results)
        console.print(
            f"[dim]{section}: { ({k: v for k, v in row.items() if k != 'val_curve'}) }[/]"
        )

    run_dir = Path(args.run)
    if {"gtf", "generation"} & set(sections) and not (run_dir / "config.json").is_file():
        console.print(
            f"[red]--run {run_dir} is not a run directory; the gtf and generation sections need a "
            "trained Lorenz-63 model (attractor fit lorenz63 --noise 0.05 --out DIR).[/]"
        )
        raise SystemExit(2)
    if "gru" in sections:
        bench_gru(ts, record)
    if "gtf" in sections:
        bench_gtf(ts, run_dir, record)
    if "generation" in sections:
        bench_generation(args.gen_ts, run_dir, record)
    if "quality" in sections:
        bench_quality(args, record)
    results["total_wall_s"] = time.perf_counter() - t_start
    _write(out, results)
    print_tables(results)
    console.print(f"total wall time {results['total_wall_s']:.0f} s; results in {out}")


if __name__ == "__main__":
    main()
