"""``attractor eval RUN``: metrics of a trained run on its test data or on another file."""

from __future__ import annotations

from pathlib import Path

import typer

from attractor.cli._common import cli_errors, print_metrics


@cli_errors
def eval_(
    run: Path = typer.Argument(..., help="A run directory."),
    data: Path | None = typer.Option(
        None, help="Evaluate on this file instead of the run's test data."
    ),
) -> None:
    """Evaluate a trained run on its held-out test data or on another file."""
    import numpy as np

    from attractor.errors import DataError
    from attractor.metrics.protocol import evaluate
    from attractor.runs.directory import load_run

    r = load_run(run)
    if data is not None:
        from attractor.data.files import read_series
        from attractor.data.pipeline import DataPipeline

        pipeline = DataPipeline.from_config(r.config.get("data", {}))  # old runs: their keys
        ts = read_series(data)
        if ts.meta.get("file", {}).get("dt_from", "").startswith("default") and pipeline.dt:
            ts = ts.with_values(list(ts.trials), dt=pipeline.dt)  # no time stamps: the run's
        ts = pipeline.apply(ts, label=str(data))  # the run's filters, embedding and scaler
        if ts.n_channels != r.model.obs_dim:
            raise DataError(
                f"{data} has {ts.n_channels} channels but the model observes {r.model.obs_dim}."
            )
        x = np.concatenate(ts.trials)
        label = str(data)
    else:
        x = r.test_data()
        if x is None:
            raise DataError(f"{run} holds no test data; pass --data FILE.")
        x = r.to_model_units(x)
        label = "held-out test data"
    method = r.config.get("train", {}).get("d_stsp_method", "auto")  # as the run was scored
    m = evaluate(r.model, x, dt=r.dt, d_stsp_method=method)
    print_metrics(m, f"{r.name} on {label}")
