"""``attractor bench``: run a benchmark sweep; every job is recorded in the results store.

Only argument parsing and printing live here; the work is in :mod:`attractor.bench`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from attractor.cli._common import DEFAULT_STORE, cli_errors, err_console, out_console


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
        spec = make_spec(systems, suite, models, seeds if seeds is not None else "0", **settings)
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
