"""``attractor task parity|dms|hmm``: train a network on a memory task and write a run.

Only parses arguments, calls :mod:`attractor.api.task`, and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from attractor.cli._common import cli_errors, err_console, fmt_fixed, out_console, print_timescales

app = typer.Typer(no_args_is_help=True, help="Memory tasks: N-parity, N-DMS, HMM emulation.")


def _budget(time_budget: str | None, minutes: float | None) -> float | None:
    from attractor.tasks.presets import parse_duration

    if time_budget is not None:
        return parse_duration(time_budget)
    return parse_duration(None if minutes is None else minutes * 60)


def _run_binary(task: str, **kw: Any) -> None:
    from attractor.api.task import fit_task
    from attractor.cli._progress import TaskProgress
    from attractor.tasks.data import check_n
    from attractor.tasks.presets import preset

    check_n(kw["max_n"], "--max-n")
    check_n(kw["start_n"], "--start-n")
    preset(kw["preset"])
    keys = ("batch_size", "steps_per_epoch", "lr", "max_epochs", "precision")
    train = {k: kw[k] for k in keys if kw[k] is not None}
    budget = _budget(kw["time_budget"], kw["minutes"])
    if budget is not None:
        train["time_budget"] = budget
    path = fit_task(
        task,
        kw["curriculum"],
        kw["max_n"],
        kw["model"],
        kw["hidden"],
        kw["nonlinearity"],
        preset=kw["preset"],
        start_n=kw["start_n"],
        init=kw["init"],
        train=train,
        seed=kw["seed"],
        out=kw["out"],
        name=kw["name"],
        analyze=kw["analyze"],
        analysis={"steps": kw["tau_steps"]} if kw["tau_steps"] is not None else None,
        progress=TaskProgress(err_console, kw["start_n"], kw["max_n"]),
    )
    _print_task_run(path)


def _make(task: str) -> Callable[..., None]:
    label = {"parity": "parity", "dms": "DMS"}[task]

    @cli_errors
    def command(
        curriculum: str = typer.Option("multi", help="single | multi | none."),
        max_n: int = typer.Option(20, "--max-n", help="Largest N to train towards (≥ 2)."),
        preset: str = typer.Option(
            "quick",
            help="quick (128 units, batch 128, 200 steps/epoch: minutes) or paper (the "
            "published 500 units, batch 256, 600 steps/epoch).",
        ),
        start_n: int = typer.Option(2, "--start-n", help="N to start the curriculum at."),
        model: str = typer.Option("leaky", "--model", "-m", help="leaky | gru | lstm."),
        hidden: int | None = typer.Option(None, help="Recurrent units (default: the preset's)."),
        nonlinearity: str = typer.Option("outside", help="Leaky RNN: outside | inside."),
        batch_size: int | None = typer.Option(None, "--batch-size", help="Default: preset's."),
        steps_per_epoch: int | None = typer.Option(
            None, "--steps-per-epoch", help="Default: the preset's."
        ),
        lr: float | None = typer.Option(None, help="SGD learning rate (default 0.05)."),
        max_epochs: int | None = typer.Option(None, "--max-epochs", help="Default 1000."),
        time_budget: str | None = typer.Option(
            None,
            "--time-budget",
            help="Wall-clock budget for training, e.g. 90s, 5m, 1.5h; stops cleanly and keeps "
            "every N reached.",
        ),
        minutes: float | None = typer.Option(None, hidden=True, help="Budget in minutes."),
        precision: str | None = typer.Option(
            None, help="fp32 (default) or bf16 (mixed precision: faster matrix products)."
        ),
        init: Path | None = typer.Option(None, help="Start from a task-network checkpoint."),
        analyze: bool = typer.Option(True, help="Measure τ_net and robustness at the end."),
        tau_steps: int | None = typer.Option(
            None, "--tau-steps", help="Steps per trial of the τ_net analysis (10 trials)."
        ),
        seed: int = typer.Option(0, help="Seed for initialisation and sequences."),
        out: Path = typer.Option(Path("runs"), help="Directory for runs and the run index."),
        name: str | None = typer.Option(None, help="Run name."),
    ) -> None:
        _run_binary(task, **{k: v for k, v in locals().items() if k != "task"})

    command.__doc__ = (
        f"Train a network on N-{label} through a curriculum; write a run directory with a "
        "checkpoint at every N reached."
    )
    return command


app.command("parity")(_make("parity"))
app.command("dms")(_make("dms"))


@app.command("hmm")
@cli_errors
def hmm(
    kind: str = typer.Option("linear", help="linear | full | cyclic."),
    states: int = typer.Option(3, help="Hidden states (2–5)."),
    preset: str = typer.Option(
        "quick", help="quick (64 units, 600 steps: ≈ 2 min) or paper (128 units, 3,000 steps)."
    ),
    hidden: int | None = typer.Option(None, help="Units of the noise-driven ReLU RNN."),
    steps: int | None = typer.Option(None, help="Optimiser steps (default: the preset's)."),
    seq_len: int = typer.Option(30, "--seq-len", help="Sequence length compared by Sinkhorn."),
    batch_size: int = typer.Option(256, "--batch-size"),
    time_budget: str | None = typer.Option(
        None, "--time-budget", help="Wall-clock budget, e.g. 90s, 5m; stops cleanly."
    ),
    minutes: float | None = typer.Option(None, hidden=True, help="Budget in minutes."),
    seed: int = typer.Option(0),
    out: Path = typer.Option(Path("runs")),
    name: str | None = typer.Option(None),
) -> None:
    """Train a noise-driven RNN to emit the symbols of an HMM (Sinkhorn divergence)."""
    from attractor.api.task import fit_hmm
    from attractor.cli._progress import TaskProgress

    train: dict[str, Any] = {
        "hidden": hidden,
        "steps": steps,
        "seq_len": seq_len,
        "batch_size": batch_size,
    }
    budget = _budget(time_budget, minutes)
    if budget is not None:
        train["time_budget"] = budget
    path, m = fit_hmm(
        kind,
        states,
        preset=preset,
        train=train,
        seed=seed,
        out=out,
        name=name,
        progress=TaskProgress(err_console, 0, 0, unit="step"),
    )
    table = Table(title=f"{m['hmm']} emulation")
    table.add_column("statistic")
    table.add_column("HMM", justify="right")
    table.add_column("RNN", justify="right")
    table.add_row(
        "symbol frequencies", fmt_fixed(m["frequencies_hmm"]), fmt_fixed(m["frequencies_rnn"])
    )
    table.add_row("max |Δ frequency|", "", f"{m['frequency_error']:.3f}")
    table.add_row("max |Δ transition|", "", f"{m['transition_error']:.3f}")
    table.add_row(
        "log-lik / symbol",
        f"{m['loglik_per_symbol_hmm']:.3f}",
        f"{m['loglik_per_symbol_rnn']:.3f}",
    )
    nf = m["noise_free"]
    table.add_row("noise-free: one fixed point", "", str(nf["collapsed"]))
    out_console.print(table)
    out_console.print(f"run directory: [bold]{path}[/]")


def _print_task_run(path: Path) -> None:
    from attractor.io import read_json

    m = read_json(path / "metrics.json")
    table = Table(title=f"{path.name}")
    table.add_column("N reached")
    table.add_column("epoch", justify="right")
    table.add_column("time (s)", justify="right")
    table.add_column("mean acc", justify="right")
    table.add_column("mean τ", justify="right")
    for r in m.get("reached", []):
        table.add_row(
            str(r["n"]),
            str(r["epoch"]),
            f"{r['time']:.1f}",
            f"{r['acc_mean']:.3f}",
            fmt_fixed(r.get("tau_mean")),
        )
    out_console.print(table)
    out_console.print(f"N reached: {m.get('n_reached')}; stopped: {m.get('stopped')}")
    if m.get("timescales"):
        print_timescales({"per_n": m["timescales"], "robustness": m.get("robustness")})
    out_console.print(f"run directory: [bold]{path}[/]")
