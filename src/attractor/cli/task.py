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


def _run_binary(task: str, **kw: Any) -> None:
    from attractor.api.task import fit_task
    from attractor.cli._progress import TaskProgress
    from attractor.tasks.data import check_n

    check_n(kw["max_n"], "--max-n")
    check_n(kw["start_n"], "--start-n")
    train = {
        k: kw[k] for k in ("batch_size", "steps_per_epoch", "lr", "max_epochs") if kw[k] is not None
    }
    if kw["minutes"] is not None:
        train["time_budget"] = kw["minutes"] * 60
    path = fit_task(
        task,
        kw["curriculum"],
        kw["max_n"],
        kw["model"],
        kw["hidden"],
        kw["nonlinearity"],
        start_n=kw["start_n"],
        init=kw["init"],
        train=train,
        seed=kw["seed"],
        out=kw["out"],
        name=kw["name"],
        analyze=kw["analyze"],
        progress=TaskProgress(err_console, kw["start_n"], kw["max_n"]),
    )
    _print_task_run(path)


def _make(task: str) -> Callable[..., None]:
    label = {"parity": "parity", "dms": "DMS"}[task]

    @cli_errors
    def command(
        curriculum: str = typer.Option("multi", help="single | multi | none."),
        max_n: int = typer.Option(20, "--max-n", help="Largest N to train towards (≥ 2)."),
        start_n: int = typer.Option(2, "--start-n", help="N to start the curriculum at."),
        model: str = typer.Option("leaky", "--model", "-m", help="leaky | gru | lstm."),
        hidden: int = typer.Option(500, help="Recurrent units (published: 500)."),
        nonlinearity: str = typer.Option("outside", help="Leaky RNN: outside | inside."),
        batch_size: int | None = typer.Option(None, "--batch-size", help="Default 256."),
        steps_per_epoch: int | None = typer.Option(None, "--steps-per-epoch", help="Default 600."),
        lr: float | None = typer.Option(None, help="SGD learning rate (default 0.05)."),
        max_epochs: int | None = typer.Option(None, "--max-epochs", help="Default 1000."),
        minutes: float | None = typer.Option(None, help="Wall-clock budget in minutes."),
        init: Path | None = typer.Option(None, help="Start from a task-network checkpoint."),
        analyze: bool = typer.Option(True, help="Measure τ_net and robustness at the end."),
        tau_steps: int = typer.Option(
            10_000, "--tau-steps", help="Steps per trial of the τ_net analysis (10 trials)."
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
    hidden: int = typer.Option(64, help="Units of the noise-driven ReLU RNN."),
    steps: int = typer.Option(1500, help="Optimiser steps."),
    seq_len: int = typer.Option(30, "--seq-len", help="Sequence length compared by Sinkhorn."),
    batch_size: int = typer.Option(256, "--batch-size"),
    minutes: float | None = typer.Option(None, help="Wall-clock budget in minutes."),
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
    if minutes is not None:
        train["time_budget"] = minutes * 60
    path, m = fit_hmm(
        kind,
        states,
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
