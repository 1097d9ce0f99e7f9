"""Benchmark: generating dysts trajectories with attractor.data.systems vs dysts' make_trajectory.

Measures, for 10,000 Lorenz points at 100 points per period:

* the time of ``load_system`` with the cache disabled (DOP853, rtol = atol = 1e-10) and of
  dysts' ``make_trajectory(10000)`` with its defaults (Radau, rtol = atol = 1e-12), and their
  ratio (target ≥ 20×);
* the time of a second, cached ``load_system`` request;
* statistical sameness: D_stsp (binned, 30 bins per dimension, REFERENCE §3) between dysts'
  trajectory and ours, next to D_stsp between two dysts trajectories from different initial
  conditions (the floor any generator can reach at this length);
* for a delay system, MackeyGlass: ``load_system`` vs ``make_trajectory`` time.

dysts is imported once before timing, so neither side pays the ~2 s import. Run it as a script
(``python benchmarks/data_generation.py``; about 4 minutes, mostly dysts' Radau); it prints a
table and writes ``benchmarks/results/data_generation.json``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from attractor.data.systems import load_system
from attractor.data.systems.catalogue import dysts_flows
from attractor.metrics.geometry import d_stsp

N = 10_000
PTS_PER_PERIOD = 100
N_BINS = 30
RESULTS = Path(__file__).parent / "results" / "data_generation.json"


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def moments(x: np.ndarray) -> dict[str, list[float]]:
    return {"mean": x.mean(0).round(3).tolist(), "std": x.std(0).round(3).tolist()}


def run() -> dict[str, Any]:
    _, t_import = timed(dysts_flows)
    flows = dysts_flows()
    from importlib.metadata import version

    lorenz = flows.Lorenz()
    ours, t_ours = timed(load_system, "Lorenz", n=N, pts_per_period=PTS_PER_PERIOD, cache=False)
    ours1 = load_system("Lorenz", n=N, pts_per_period=PTS_PER_PERIOD, seed=1, cache=False)
    dysts_a, t_dysts = timed(lorenz.make_trajectory, N, pts_per_period=PTS_PER_PERIOD)
    # a second dysts trajectory from another initial condition (our seed-1 start point)
    ic_b = np.asarray(ours1.meta["ic"])
    dysts_b, t_dysts_b = timed(
        lorenz.make_trajectory, N, pts_per_period=PTS_PER_PERIOD, init_cond=ic_b
    )

    with tempfile.TemporaryDirectory() as tmp:
        _, t_first = timed(load_system, "Lorenz", n=N, pts_per_period=PTS_PER_PERIOD, cache_dir=tmp)
        cached, t_cached = timed(
            load_system, "Lorenz", n=N, pts_per_period=PTS_PER_PERIOD, cache_dir=tmp
        )
        same = bool(np.array_equal(cached.values, ours.values))

    d = {
        "dysts vs ours (seed 0)": d_stsp(dysts_a, ours.values, n_bins=N_BINS),
        "dysts vs ours (seed 1)": d_stsp(dysts_a, ours1.values, n_bins=N_BINS),
        "dysts vs dysts (other IC)": d_stsp(dysts_a, dysts_b, n_bins=N_BINS),
        "ours vs dysts (other IC)": d_stsp(ours.values, dysts_b, n_bins=N_BINS),
        "ours seed 0 vs seed 1": d_stsp(ours.values, ours1.values, n_bins=N_BINS),
    }

    mg = flows.MackeyGlass()
    mg_ours, t_mg_ours = timed(load_system, "MackeyGlass", n=N, cache=False)
    mg_dysts, t_mg_dysts = timed(mg.make_trajectory, N, pts_per_period=PTS_PER_PERIOD)

    return {
        "n": N,
        "pts_per_period": PTS_PER_PERIOD,
        "lorenz": {
            "ours_s": t_ours,
            "ours_method": ours.meta["integrator"],
            "dysts_s": t_dysts,
            "dysts_other_ic_s": t_dysts_b,
            "dysts_method": "Radau, rtol = atol = 1e-12 (make_trajectory defaults)",
            "speedup": t_dysts / t_ours,
            "first_cached_call_s": t_first,
            "cached_call_s": t_cached,
            "cached_identical": same,
            "d_stsp": d,
            "moments": {
                "ours": moments(ours.values),
                "ours_seed1": moments(ours1.values),
                "dysts": moments(dysts_a),
                "dysts_other_ic": moments(dysts_b),
            },
        },
        "mackey_glass": {
            "ours_s": t_mg_ours,
            "ours_method": mg_ours.meta["integrator"],
            "dysts_s": t_mg_dysts,
            "speedup": t_mg_dysts / t_mg_ours,
            "moments": {"ours": moments(mg_ours.values[:, :1]), "dysts": moments(mg_dysts[:, :1])},
        },
        "dysts_import_s": t_import,
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": version("scipy"),
            "dysts": version("dysts"),
        },
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }


def show(r: dict[str, Any]) -> None:
    lz, mg = r["lorenz"], r["mackey_glass"]
    rows = [
        ("Lorenz, ours (DOP853 1e-10, no cache)", f"{lz['ours_s']:.2f} s"),
        ("Lorenz, dysts make_trajectory (Radau 1e-12)", f"{lz['dysts_s']:.1f} s"),
        ("speed ratio (target ≥ 20×)", f"{lz['speedup']:.0f}×"),
        ("Lorenz, cached request", f"{lz['cached_call_s'] * 1e3:.1f} ms"),
        ("cached result identical", str(lz["cached_identical"])),
    ]
    rows += [(f"D_stsp {k}", f"{v:.3f}") for k, v in lz["d_stsp"].items()]
    rows += [
        ("MackeyGlass, ours (method of steps + DOP853)", f"{mg['ours_s']:.2f} s"),
        ("MackeyGlass, dysts make_trajectory (ddeint)", f"{mg['dysts_s']:.2f} s"),
        ("dysts import (not in the timings)", f"{r['dysts_import_s']:.2f} s"),
    ]
    title = f"{r['n']:,} points at {r['pts_per_period']} pts/period"
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        table.add_column("measurement")
        table.add_column("value", justify="right")
        for k, v in rows:
            table.add_row(k, v)
        Console().print(table)
    except ImportError:
        print(title)
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"{k:<{width}}  {v:>10}")


def save(r: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=RESULTS.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(r, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, RESULTS)


if __name__ == "__main__":
    result = run()
    show(result)
    save(result)
