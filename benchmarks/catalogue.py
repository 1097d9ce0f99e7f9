"""Reconstruction across the dysts catalogue through the path a user takes: a noisy file in,
``attractor fit FILE``, scored on clean data from another initial condition.

For each system of the development set (:data:`DEV_SET`, chosen by a rule, not by results: the
first 30 three-dimensional autonomous dysts flows in alphabetical order with a positive λ_max;
the rest of the catalogue is held out):

1. 20,000 samples at 100 points per period (dysts' period) with 5 % Gaussian observation noise
   (× each channel's std) are written to ``train.csv`` — the file a scientist would bring;
2. a clean 50,000-sample test trajectory from another initial condition to ``test.csv``, and a
   second clean trajectory of the same length gives the **data floor**: D_stsp and D_H between
   two clean trajectories, i.e. what a perfect model would score at these lengths;
3. every model runs ``attractor fit train.csv --model M`` as a subprocess (``--model auto`` with
   ``--budget``), and its run is scored on ``test.csv`` exactly as ``attractor eval RUN --data
   test.csv`` does (the run's own pipeline: split, filters, embedding, scaler);
4. λ_max error = |λ_model − λ_dysts| / λ_dysts (dysts' reference exponent, per unit time).

Peers on the same files: ``esn-rpy`` (reservoirpy, ridge chosen on validation), ``sindy``
(pysindy, polynomial degree 2), ``parroting`` (context parroting) and ``naive-mean``. Output: a
table per system, medians and the share of systems with D_stsp ≤ 0.5 per model,
``benchmarks/results/catalogue.json`` (rewritten after every job, so ``--resume`` skips finished
ones) and ``catalogue_thumbnails.png`` beside it (one row per system: the clean test attractor
and each model's free run, projected on the first two channels).

    .venv/bin/python benchmarks/catalogue.py --models auto,esn-rpy,sindy,parroting,naive-mean
    .venv/bin/python benchmarks/catalogue.py --systems Lorenz,Thomas --models auto --resume
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
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "catalogue.json"
N_TRAIN, N_TEST, NOISE = 20_000, 50_000, 0.05
DEFAULT_MODELS = ("auto", "esn-rpy", "sindy", "parroting", "naive-mean")
#: Seeds of the three trajectories of a system (load_system: k > 0 perturbs dysts' IC).
SEEDS = {"train": 1, "test": 2, "floor": 3}


def dev_set(n: int = 30) -> list[str]:
    """The rule: 3-D, autonomous, not delay, λ_max > 0; alphabetical; the first ``n``."""
    from attractor.data.systems import list_systems, system_info

    out = []
    for name in sorted(list_systems()):
        info = system_info(name)
        if info.dimension == 3 and not info.delay and not info.nonautonomous:
            if info.lyapunov_max is not None and info.lyapunov_max > 0:
                out.append(info.name)
        if len(out) == n:
            break
    return out


def write_data(system: str, folder: Path) -> dict:
    """``train.csv`` (noisy), ``test.csv`` and ``floor.csv`` (clean); returns the data floor."""
    from attractor.data.files import write_series
    from attractor.data.systems import load_system
    from attractor.metrics.protocol import compare
    from attractor.metrics.registry import Comparison

    folder.mkdir(parents=True, exist_ok=True)
    floor_file = folder / "floor.json"
    if floor_file.exists():
        return json.loads(floor_file.read_text())
    train = load_system(system, n=N_TRAIN, seed=SEEDS["train"], noise=NOISE)
    test = load_system(system, n=N_TEST, seed=SEEDS["test"])
    other = load_system(system, n=N_TEST, seed=SEEDS["floor"])
    write_series(folder / "train.csv", train)
    write_series(folder / "test.csv", test)
    x, y = test.trials[0], other.trials[0]
    mu, sd = x.mean(0), x.std(0)
    m = compare(Comparison((x - mu) / sd, (y - mu) / sd, test.dt))
    floor = {"D_stsp": float(m["D_stsp"]), "D_H": float(m["D_H"]), "dt": test.dt}
    floor_file.write_text(json.dumps(floor))
    return floor


def fit(model: str, folder: Path, budget: float, seed: int) -> tuple[Path | None, float, str]:
    """``attractor fit train.csv --model M`` as a user runs it; returns (run, seconds, error)."""
    out = folder / "runs"
    args = [sys.executable, "-m", "attractor.cli", "fit", str(folder / "train.csv")]
    args += ["--model", model, "--out", str(out), "--name", model, "--seed", str(seed)]
    if model == "auto":
        args += ["--budget", f"{budget:g}s"]
    before = set(out.glob("*")) if out.exists() else set()
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env={**os.environ})
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        return None, seconds, (proc.stderr or proc.stdout).strip().splitlines()[-1][:300]
    new = sorted(p for p in out.glob("*") if p.is_dir() and p not in before)
    return (new[-1] if new else None), seconds, ""


def score(run: Path, test_file: Path, lam_ref: float | None) -> dict:
    """The metrics ``attractor eval RUN --data test.csv`` prints."""
    from attractor.data.files import read_series
    from attractor.data.pipeline import DataPipeline
    from attractor.metrics.protocol import evaluate
    from attractor.runs.directory import load_run

    r = load_run(run)
    pipeline = DataPipeline.from_config(r.config.get("data", {}))
    ts = pipeline.apply(read_series(test_file), label=str(test_file))
    x = np.concatenate(ts.trials)
    method = r.config.get("train", {}).get("d_stsp_method", "auto")
    m = evaluate(r.model, x, dt=ts.dt, d_stsp_method=method, return_generated=True)
    gen = m.pop("generated")
    lam = m.get("lambda_max")
    err = (
        abs(lam - lam_ref) / lam_ref if lam_ref and lam is not None and math.isfinite(lam) else None
    )
    thumb = pipeline.scaler.inverse(gen[: min(len(gen), 5000)]) if np.isfinite(gen).all() else None
    keep = {k: m.get(k) for k in ("D_stsp", "D_H", "lambda_max", "PE(20)")}
    return {**keep, "lambda_error": err, "model_kind": r.model.kind, "thumb": thumb}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--systems", help="comma-separated (default: the development set)")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--budget", type=float, default=150.0, help="auto's budget, seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=HERE / "runs" / "catalogue")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument(
        "--part", help="K/N: only every N-th system from the K-th on (run parts side by side)"
    )
    ap.add_argument("--merge", help="comma-separated result files of parts to combine into --out")
    args = ap.parse_args()
    from attractor.data.systems import system_info
    from attractor.io import write_json

    systems = args.systems.split(",") if args.systems else dev_set()
    if args.part:
        k, n = (int(v) for v in args.part.split("/"))
        systems = systems[k - 1 :: n]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    old = json.loads(args.out.read_text()) if (args.resume and args.out.exists()) else {}
    rows: dict[str, dict] = old.get("rows", {})
    for part in args.merge.split(",") if args.merge else []:
        rows.update(json.loads(Path(part).read_text())["rows"])
    thumbs: dict[str, dict] = {}
    con = Console()
    for system in systems:
        info = system_info(system)
        folder = args.work / info.name
        floor = write_data(info.name, folder)
        for model in models:
            key = f"{info.name}/{model}"
            if key in rows:
                continue
            run, seconds, error = fit(model, folder, args.budget, args.seed)
            row = {"system": info.name, "model": model, "wall_s": seconds, "error": error}
            if run is not None:
                s = score(run, folder / "test.csv", info.lyapunov_max)
                thumb = s.pop("thumb")
                if thumb is not None:
                    (folder / "thumbs").mkdir(exist_ok=True)
                    np.save(folder / "thumbs" / f"{model}.npy", thumb)
                row.update(s, run=str(run))
            row["floor_D_stsp"], row["floor_D_H"] = floor["D_stsp"], floor["D_H"]
            rows[key] = row
            con.print(
                f"{info.name:>22} {model:>10}  D_stsp {row.get('D_stsp', math.nan):8.3f}  "
                f"D_H {row.get('D_H', math.nan):6.3f}  {seconds:6.0f} s  {error}"
            )
            write_json(
                args.out,
                {
                    "config": vars(args) | {"work": str(args.work), "out": str(args.out)},
                    "rows": rows,
                },
            )
        from attractor.data.files import read_series

        thumbs[info.name] = {"test": read_series(folder / "test.csv").trials[0][:5000]}
        for model in models:  # saved at scoring time, so resumed and merged parts have them
            f = folder / "thumbs" / f"{model}.npy"
            thumbs[info.name][model] = np.load(f) if f.exists() else None
    summary = summarise(rows, models)
    write_json(
        args.out,
        {"config": vars(args) | {"work": str(args.work), "out": str(args.out)}, "rows": rows,
         "summary": summary, "systems": systems},
    )  # fmt: skip
    table = Table(title=f"{len(systems)} systems, {NOISE:.0%} noise, {N_TRAIN:,} training samples")
    for col in ("model", "median D_stsp", "share ≤ 0.5", "median D_H", "median λ error",
                "median wall s", "failed"):  # fmt: skip
        table.add_column(col, justify="right")
    for m in models:
        s = summary[m]
        table.add_row(
            m, f"{s['median_D_stsp']:.3f}", f"{s['share_le_0.5']:.0%}", f"{s['median_D_H']:.3f}",
            f"{s['median_lambda_error']:.2f}", f"{s['median_wall_s']:.0f}", str(s["failed"]),
        )  # fmt: skip
    con.print(table)
    if thumbs:
        path = args.out.with_name(args.out.stem + "_thumbnails.png")
        thumbnails(thumbs, models, path)
        con.print(f"wrote {args.out} and {path}")


def summarise(rows: dict[str, dict], models: list[str]) -> dict[str, dict]:
    out = {}
    for m in models:
        rs = [r for r in rows.values() if r["model"] == m]
        # (non-finite values come back from the JSON file as strings such as "inf")
        d = np.array([float(r["D_stsp"]) if r.get("D_stsp") is not None else np.inf for r in rs])
        h = np.array([float(r["D_H"]) if r.get("D_H") is not None else np.nan for r in rs])
        lam = np.array([float(r["lambda_error"]) for r in rs if r.get("lambda_error") is not None])
        out[m] = {
            "systems": len(rs),
            "median_D_stsp": float(np.median(d)) if len(d) else math.nan,
            "share_le_0.5": float(np.mean(d <= 0.5)) if len(d) else math.nan,
            "median_D_H": float(np.nanmedian(h)) if len(h) else math.nan,
            "median_lambda_error": float(np.median(lam)) if len(lam) else math.nan,
            "median_wall_s": float(np.median([r["wall_s"] for r in rs])) if rs else math.nan,
            "max_wall_s": float(max((r["wall_s"] for r in rs), default=math.nan)),
            "failed": sum(1 for r in rs if r.get("error")),
        }
    return out


def thumbnails(thumbs: dict[str, dict], models: list[str], path: Path) -> None:
    from matplotlib.figure import Figure

    from attractor.plots.style import save

    systems = list(thumbs)
    cols = ["test", *models]
    fig = Figure(figsize=(1.8 * len(cols), 1.8 * len(systems)))
    for i, s in enumerate(systems):
        for j, c in enumerate(cols):
            ax = fig.add_subplot(len(systems), len(cols), i * len(cols) + j + 1)
            x = thumbs[s].get(c)
            if x is not None and np.ndim(x) == 2 and x.shape[1] >= 2:
                ax.plot(x[:, 0], x[:, 1], lw=0.2, color="k" if c == "test" else "C0")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(c, fontsize=8)
            if j == 0:
                ax.set_ylabel(s, fontsize=7)
    save(fig, path, dpi=90, bbox_inches="tight")


if __name__ == "__main__":
    main()
