"""The ``attractor`` command line: parse arguments, call the library, print the result.

Every user error (an :class:`attractor.errors.AttractorError`) is printed as one line on
stderr and exits with status 2; nothing here does numerical work itself.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from attractor.errors import AttractorError, ConfigError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Recurrent neural networks as dynamical systems: reconstruct, evaluate, simulate.",
)
systems_app = typer.Typer(no_args_is_help=True, help="The dysts catalogue of chaotic systems.")
app.add_typer(systems_app, name="systems")

out_console = Console()
err_console = Console(stderr=True)


def cli_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one readable line and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AttractorError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("interrupted.")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # an internal bug: still one line unless debugging
            if os.environ.get("ATTRACTOR_DEBUG"):
                raise
            err_console.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc} "
                "(set ATTRACTOR_DEBUG=1 to see the traceback)",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf"
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


# ---------------------------------------------------------------------------- systems
@systems_app.command("list")
@cli_errors
def systems_list(
    filter: str | None = typer.Option(None, "--filter", "-f", help="Substring of the name."),
) -> None:
    """List the continuous chaotic systems of dysts."""
    from attractor.data.systems import list_systems, system_info

    table = Table(title="dysts systems")
    for col in ("name", "dim", "λ_max (dysts)", "period", "kind"):
        table.add_column(col)
    names = [n for n in list_systems() if not filter or filter.lower() in n.lower()]
    for n in names:
        info = system_info(n)
        table.add_row(
            n,
            str(info.dimension),
            _fmt(info.lyapunov_max),
            _fmt(info.period),
            "delay" if info.delay else ("non-autonomous" if info.nonautonomous else "ODE"),
        )
    out_console.print(table)
    out_console.print(f"{len(names)} systems. λ_max values are dysts' numerical estimates.")


@systems_app.command("show")
@cli_errors
def systems_show(name: str = typer.Argument(..., help="System name, e.g. Lorenz.")) -> None:
    """Parameters, invariants and equations of one system."""
    from rich.syntax import Syntax

    from attractor.data.systems import system_info

    info = system_info(name)
    table = Table(title=info.name, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows = [
        ("description", info.description),
        ("dimension", info.dimension),
        ("parameters", ", ".join(f"{k}={_fmt(v)}" for k, v in info.parameters.items())),
        ("initial condition", info.initial_conditions),
        ("period", info.period),
        ("sampling", f"{info.pts_per_period} points per period"),
        ("λ_max (dysts estimate)", info.lyapunov_max),
        ("Lyapunov spectrum (dysts)", info.lyapunov_spectrum),
        ("correlation dimension", info.correlation_dimension),
        ("Kaplan–Yorke dimension", info.kaplan_yorke_dimension),
        ("delay equation", info.delay),
        ("citation", info.citation),
    ]
    for k, v in rows:
        table.add_row(k, _fmt(v) if not isinstance(v, str) else v)
    out_console.print(table)
    out_console.print(Syntax(info.equations, "python", theme="ansi_dark", line_numbers=False))


# ---------------------------------------------------------------------------- fit
@app.command()
@cli_errors
def fit(
    data: str = typer.Argument(
        "lorenz63", help="A dysts system (lorenz63, Rossler, …), a dataset (ecg) or a file."
    ),
    model: str = typer.Option(
        "shplrnn", "--model", "-m", help="Model name (see `attractor models`)."
    ),
    forcing: str | None = typer.Option(
        None, help="agtf | gtf | stf | none (default: the model's recipe)."
    ),
    alpha: float | None = typer.Option(None, help="Fixed GTF α (with --forcing gtf)."),
    interval: int | None = typer.Option(None, help="STF interval τ in steps (with --forcing stf)."),
    estimator: str = typer.Option(
        "geometric", help="σ estimator of adaptive GTF: geometric|max|mean|bound."
    ),
    hidden: int | None = typer.Option(None, help="Hidden width L (shPLRNN)."),
    latent: int | None = typer.Option(None, help="Latent size M (≥ observed dimension)."),
    n_relu: int | None = typer.Option(None, "--n-relu", help="Number of ReLU units P (AL-RNN)."),
    epochs: int | None = typer.Option(
        None, help="Epochs of 50 optimiser steps (overrides --preset)."
    ),
    preset: str = typer.Option(
        "quick", help="quick (a few minutes) or full (the benchmark recipe)."
    ),
    seed: int = typer.Option(0, help="Seed for initialisation, noise and batches."),
    noise: float | None = typer.Option(
        None, help="Observation noise added to the data, × channel std."
    ),
    lag: int | None = typer.Option(
        None, help="Delay-embedding lag in samples (default: the dataset's own, else automatic)."
    ),
    dim: int | None = typer.Option(
        None, help="Delay-embedding dimension (default: the dataset's own, else automatic)."
    ),
    highpass: float | None = typer.Option(
        None,
        help="High-pass cutoff in cycles per time unit (Hz for seconds) before embedding; "
        "0 = off (default: the dataset's own, ECG 0.5 Hz, else off).",
    ),
    downsample: int | None = typer.Option(
        None,
        help="Keep every q-th sample after anti-alias filtering; 1 = off "
        "(default: the dataset's own, ECG 3, else off).",
    ),
    d_stsp: str | None = typer.Option(
        None,
        "--d-stsp",
        help="D_stsp estimator for validation and test: auto (binned up to 5 dims) | binned | "
        "gmm (default: the dataset's own, ECG gmm, else auto).",
    ),
    n_train: int | None = typer.Option(
        None, "--n-train", help="Training samples generated for a dysts system (default 100,000)."
    ),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    out: Path = typer.Option(Path("runs"), help="Directory for run directories and the run index."),
    name: str | None = typer.Option(None, help="Name of the run (default: data-model)."),
    parallel: bool = typer.Option(
        False, "--parallel", help="Solve the forced rollout in parallel over time (Newton)."
    ),
    seq_len: int | None = typer.Option(
        None, "--seq-len", help="Training window length T̃ (long windows suit --parallel)."
    ),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Windows per step S."),
) -> None:
    """Reconstruct a dynamical system from data and write a run directory."""
    import attractor
    from attractor.train.progress import RichProgress

    if seed < 0:
        raise ConfigError(f"--seed must be ≥ 0, got {seed}.")
    run = attractor.fit(
        data,
        model,
        forcing=forcing,
        alpha=alpha,
        interval=interval,
        estimator=estimator,
        hidden=hidden,
        latent=latent,
        n_relu=n_relu,
        epochs=epochs,
        preset=preset,
        seed=seed,
        noise=noise,
        lag=lag,
        dim=dim,
        highpass=highpass,
        downsample=downsample,
        d_stsp=d_stsp,
        n_train=n_train,
        device=device,
        out=out,
        name=name,
        progress=RichProgress(console=err_console),
        parallel=parallel,
        train_config={
            k: v for k, v in (("seq_len", seq_len), ("batch_size", batch_size)) if v is not None
        }
        or None,
    )
    _print_metrics(run.metrics, f"{run.config['data'].get('source')} — {run.model.kind}")
    out_console.print(f"run directory: [bold]{run.path}[/]")
    figs = sorted((run.path / "figures").glob("*.png"))
    if figs:
        out_console.print("figures: " + ", ".join(str(f) for f in figs))
    if run.metrics.get("stopped") == "interrupted":
        out_console.print("[yellow]training was interrupted; the best model so far was kept.[/]")


def _print_metrics(m: dict[str, Any], title: str) -> None:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("D_stsp", "D_stsp"),
        ("share of test points in unvisited cells", "uncovered"),
        ("D_H", "D_H"),
        ("PE(20)", "PE(20)"),
        ("λ_max (per time unit)", "lambda_max"),
        ("λ_max reference (dysts)", "lambda_max_reference"),
        ("Lyapunov spectrum", "lyapunov_spectrum"),
        ("VPT (Lyapunov times)", "vpt_lyapunov_times"),
        ("VPT (time units)", "vpt_time"),
        ("test points", "n_test"),
        ("epochs (best)", "best_epoch"),
        ("stopped", "stopped"),
        ("wall time (s)", "wall_time"),
    ]
    for label, key in rows:
        if key in m:
            table.add_row(label, _fmt(m[key]))
    out_console.print(table)
    if m.get("diverged"):
        out_console.print(
            "[yellow]the model's free run from the first test point diverged (values not finite "
            "or beyond 1e6), so D_stsp and D_H are infinite; try another --seed, more training "
            "or another model.[/]"
        )


# ---------------------------------------------------------------------------- eval / simulate
@app.command("eval")
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
        from attractor.data.filters import Preprocess, preprocess

        ts = read_series(data)
        steps = Preprocess.from_dict(r.config.get("data", {}).get("preprocess"))
        raw_dt = r.dt / (steps.downsample or 1)  # the sampling the run was trained from
        if ts.meta.get("file", {}).get("dt_from", "").startswith("default"):
            ts = ts.with_values(list(ts.trials), dt=raw_dt)  # no time stamps: take the run's
        elif abs(ts.dt - raw_dt) > 0.01 * raw_dt:
            raise DataError(
                f"{data} is sampled every {ts.dt:g} but the run was trained on data sampled "
                f"every {raw_dt:g}; resample the file to the run's sampling first."
            )
        ts = preprocess(ts, steps)  # the run's own drift removal / downsampling, if any
        emb = r.config.get("data", {}).get("embedding")
        if emb:
            from attractor.data.embedding import embed

            ts = embed(ts, lag=emb["lag"], dim=emb["dim"])
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
        label = "held-out test data"
    method = r.config.get("train", {}).get("d_stsp_method", "auto")  # as the run was scored
    m = evaluate(r.model, r.to_model_units(x), dt=r.dt, d_stsp_method=method)
    _print_metrics(m, f"{r.name} on {label}")


@app.command()
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


@app.command()
@cli_errors
def runs(
    out: Path = typer.Option(Path("runs"), help="Directory holding attractor.sqlite."),
) -> None:
    """List the runs recorded in the run index."""
    from attractor.runs.index import list_runs

    rows = list_runs(out)
    table = Table(title=f"runs in {out}")
    for col in ("id", "name", "status", "model", "D_stsp", "D_H", "wall s"):
        table.add_column(col)
    for r in rows:
        m = r.get("metrics") or {}
        table.add_row(
            str(r["id"]),
            r["name"],
            r["status"],
            r["model"] or "",
            _fmt(m.get("D_stsp")),
            _fmt(m.get("D_H")),
            _fmt(r.get("wall_time")),
        )
    out_console.print(table)


@app.command()
@cli_errors
def models() -> None:
    """List the registered models."""
    from attractor.models.registry import MODELS

    table = Table(title="models")
    table.add_column("name")
    table.add_column("description")
    for k in sorted(MODELS):
        table.add_row(k, MODELS[k].summary)
    out_console.print(table)


from attractor.cli_analysis import register as _register_analysis  # noqa: E402

_register_analysis(app)


from attractor.cli_tasks import register as register_tasks  # noqa: E402

register_tasks(app)

from attractor.cli_bench import register as register_bench  # noqa: E402

register_bench(app)


def main() -> None:  # pragma: no cover - console entry point alternative
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
