"""``attractor simulate RUN``: a free run of a trained model, saved in the data's own units."""

from __future__ import annotations

from pathlib import Path

import typer

from attractor.cli._common import cli_errors, out_console
from attractor.errors import ConfigError


@cli_errors
def simulate(
    run: Path = typer.Argument(..., help="A run directory."),
    steps: int = typer.Option(10_000, help="Number of points to generate."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.npy, .npz, .csv or .tsv)."),
) -> None:
    """Run a trained model freely and save the trajectory in the data's own units."""
    from attractor.data.files import write_series
    from attractor.runs.directory import load_run

    if steps < 1:
        raise ConfigError(f"--steps must be at least 1, got {steps}.")
    if out.suffix.lower() not in (".npy", ".npz", ".csv", ".tsv"):
        raise ConfigError(
            f"cannot write {out.suffix or 'a file without extension'}; "
            "use .npy, .npz, .csv or .tsv."
        )
    r = load_run(run)
    x = r.simulate(steps)
    names = r.config.get("data", {}).get("names")
    write_series(out, x, names=names, dt=r.dt)
    out_console.print(f"wrote {steps} points × {x.shape[1]} channels to {out}")
