"""``attractor bench`` and ``attractor report``: run a benchmark sweep, show and export results.

Only argument parsing and printing live here; the work is in :mod:`attractor.bench`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

DEFAULT_STORE = Path("runs/bench.sqlite")


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if math.isinf(v):
            return "∞"
        return "nan" if math.isnan(v) else f"{v:.3g}"
    return str(v)


def register(app: typer.Typer) -> None:
    """Add the ``bench`` and ``report`` commands to ``app``."""
    from attractor.cli import cli_errors, err_console, out_console

    @app.command()
    @cli_errors
    def bench(
        spec_file: Path | None = typer.Option(None, "--spec", help="TOML spec file."),
        suite: str | None = typer.Option(None, help="System suite: quick (10) or all (135)."),
        systems: str | None = typer.Option(None, help="Comma-separated system names."),
        models: str | None = typer.Option(None, help="Comma-separated model names."),
        seeds: str | None = typer.Option(None, help="Comma-separated seeds (default 0)."),
        protocol: str | None = typer.Option(None, help="reconstruction | forecast | both."),
        epochs: int | None = typer.Option(None, help="Epoch cap per job (default: preset's)."),
        budget_seconds: float | None = typer.Option(
            None, "--budget-seconds", help="Training CPU seconds per job, equal for all models."
        ),
        n_train: int | None = typer.Option(None, "--n-train", help="Training samples/system."),
        noise: float | None = typer.Option(None, help="Observation noise, × channel std."),
        executor: str = typer.Option("local", help="local | ray."),
        workers: int = typer.Option(1, help="Parallel jobs (local pool or local Ray CPUs)."),
        address: str | None = typer.Option(None, help="Address of a running Ray cluster."),
        store: Path = typer.Option(DEFAULT_STORE, help="SQLite results store."),
        resume: bool = typer.Option(False, help="Continue a sweep already in the store."),
        retry_failed: bool = typer.Option(False, help="With --resume: re-run failed jobs too."),
        max_jobs: int | None = typer.Option(None, help="Stop after this many jobs (in parts)."),
    ) -> None:
        """Run systems × models × seeds; every job is recorded in the results store."""
        from attractor.bench.progress import RichSweepProgress
        from attractor.bench.spec import load_spec, make_spec
        from attractor.bench.sweep import run_sweep

        settings = {
            "protocol": protocol,
            "epochs": epochs,
            "budget_seconds": budget_seconds,
            "n_train": n_train,
            "noise": noise,
        }
        if spec_file is not None:
            over = {"suite": suite, "systems": systems, "models": models, "seeds": seeds}
            spec = load_spec(spec_file, **over, **settings)
        else:
            spec = make_spec(
                systems, suite, models, seeds if seeds is not None else "0", **settings
            )
        err_console.print(
            f"{len(spec.systems)} systems × {len(spec.models)} models × {len(spec.seeds)} seeds "
            f"= {len(spec.jobs())} jobs, protocol {spec.settings.protocol}, spec {spec.spec_hash}"
        )
        s = run_sweep(
            spec,
            store,
            executor=executor,
            workers=workers,
            address=address,
            resume=resume,
            retry_failed=retry_failed,
            progress=RichSweepProgress(console=err_console),
            max_jobs=max_jobs,
        )
        out_console.print(
            f"ran {s.ran} jobs ({s.done} done, {s.failed} failed) in {s.wall_time:.1f} s; "
            f"{s.skipped} were already finished. Store: {s.store}"
        )

    @app.command()
    @cli_errors
    def report(
        store: Path = typer.Option(DEFAULT_STORE, help="SQLite results store."),
        html: Path | None = typer.Option(None, "--html", help="Write the HTML report here."),
        csv: Path | None = typer.Option(None, "--csv", help="Export one row per job as CSV."),
        json_out: Path | None = typer.Option(None, "--json", help="Export leaderboards + jobs."),
        spec: str | None = typer.Option(None, help="Only jobs of this spec hash."),
        metric: str | None = typer.Option(None, help="Only this metric's leaderboard."),
    ) -> None:
        """Leaderboard of a results store (rich table), with CSV/JSON/HTML exports."""
        from attractor.bench import leaderboard as lb
        from attractor.bench.html import write_html
        from attractor.bench.store import Store, dumps
        from attractor.errors import ConfigError, UnknownNameError, did_you_mean
        from attractor.io import atomic_write_bytes

        with Store(store, create=False) as st:
            rows = st.rows(spec)
            if not rows:
                raise ConfigError(f"{store} holds no jobs" + (f" of spec {spec}." if spec else "."))
            metrics = lb.available_metrics(rows)
            if metric is not None:
                if metric not in lb.METRIC_BY_KEY:
                    keys = list(lb.METRIC_BY_KEY)
                    raise UnknownNameError(
                        f"unknown metric {metric!r}; choose one of {', '.join(keys)}."
                        + did_you_mean(metric, keys)
                    )
                metrics = [lb.METRIC_BY_KEY[metric]]
            for m in metrics:
                t = Table(
                    title=f"{m.label} ({'lower' if m.lower_is_better else 'higher'} is better)"
                )
                for col in ("model", "median", "q25", "q75", "systems", "failed"):
                    t.add_column(col, justify="left" if col == "model" else "right")
                for e in lb.leaderboard(rows, m):
                    t.add_row(
                        e["model"],
                        _fmt(e["median"]),
                        _fmt(e["q25"]),
                        _fmt(e["q75"]),
                        str(e["n_systems"]),
                        str(e["failed"]),
                    )
                out_console.print(t)
            if csv is not None:
                atomic_write_bytes(csv, lb.to_csv(rows).encode())
                out_console.print(f"wrote {csv}")
            if json_out is not None:
                text = dumps(lb.to_json(rows))
                atomic_write_bytes(json_out, text.encode())
                out_console.print(f"wrote {json_out}")
            if html is not None:
                index = write_html(st, rows, html)
                out_console.print(f"wrote {index}")
