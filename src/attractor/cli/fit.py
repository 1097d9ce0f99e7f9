"""``attractor fit DATA``: reconstruct a dynamical system from data and write a run directory."""

from __future__ import annotations

from pathlib import Path

import typer

from attractor.cli._common import cli_errors, err_console, out_console, print_metrics
from attractor.errors import ConfigError


@cli_errors
def fit(
    data: str = typer.Argument(
        "lorenz63", help="A dysts system (lorenz63, Rossler, …), a dataset (ecg) or a file."
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model name (see `attractor models`), or auto (the default): search candidates and "
        "their settings on validation within --budget. Training flags (--epochs, --hidden, "
        "--preset, …) need a named model, e.g. --model shplrnn.",
    ),
    budget: str = typer.Option(
        "150s", help="With --model auto: the search budget, e.g. 150s, 5m (planned seconds)."
    ),
    candidates: str | None = typer.Option(
        None,
        help="With --model auto: comma-separated candidates (default by budget: esn; alrnn-lsq "
        "from 300 s; shplrnn from 600 s).",
    ),
    resume: Path | None = typer.Option(
        None, help="With --model auto: continue the search of this run directory."
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
    from attractor.api.fit import fit as fit_run
    from attractor.train.progress import RichProgress

    if seed < 0:
        raise ConfigError(f"--seed must be ≥ 0, got {seed}.")
    named = model is not None
    model = model or "auto"
    if model.lower() == "auto":
        from attractor.api.search import search_fit

        fixed = {
            "--forcing": forcing, "--alpha": alpha, "--interval": interval, "--hidden": hidden,
            "--latent": latent, "--n-relu": n_relu, "--epochs": epochs,
            "--downsample": downsample, "--d-stsp": d_stsp, "--seq-len": seq_len,
            "--batch-size": batch_size,
        }  # fmt: skip
        clash = [k for k, v in fixed.items() if v is not None] + (
            ["--parallel"] if parallel else []
        )
        if clash or preset != "quick":
            flags = ", ".join(clash + (["--preset"] if preset != "quick" else []))
            what = "--model auto" if named else "--model auto (the default)"
            raise ConfigError(
                f"{what} chooses what {flags} would set; drop it or name a model, "
                "e.g. --model shplrnn."
            )
        from attractor.cli._progress import SearchProgress
        from attractor.tasks.presets import parse_duration

        run = search_fit(
            data,
            budget=parse_duration(budget, "search budget"),
            candidates=candidates,
            seed=seed,
            noise=noise,
            lag=lag,
            dim=dim,
            highpass=highpass,
            n_train=n_train,
            out=out,
            name=name,
            resume=resume,
            progress=SearchProgress(err_console),
        )
        _report(run)
        chosen = run.config["search"]["chosen"]
        found = run.metrics.get("search", {})
        if found.get("noise_estimate"):
            out_console.print(
                f"data: dominant period {found['dominant_period_samples']:.0f} samples, "
                f"observation noise ≈ {max(found['noise_estimate']):.1%} of the channel std"
            )
        out_console.print(f"chosen: trial {chosen['trial']} ({chosen['model']}): {chosen['why']}")
        return
    run = fit_run(
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
    _report(run)


def _report(run) -> None:
    print_metrics(run.metrics, f"{run.config['data'].get('source')} — {run.model.kind}")
    out_console.print(f"run directory: [bold]{run.path}[/]")
    figs = sorted((run.path / "figures").glob("*.png"))
    if figs:
        out_console.print("figures: " + ", ".join(str(f) for f in figs))
    if run.metrics.get("stopped") == "interrupted":
        out_console.print("[yellow]training was interrupted; the best model so far was kept.[/]")
