"""CLI for memory tasks: ``attractor task parity|dms|hmm`` and ``attractor analyze-timescales``.

Only parses arguments, calls :mod:`attractor.api.task`, and prints; every library error becomes
one line and exit status 2 (via :func:`attractor.cli.cli_errors`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from attractor.train.progress import Progress


class TaskProgress(Progress):
    """A rich bar over N (start … max N): epoch, N, loss, accuracies, mean τ, elapsed, ETA."""

    def __init__(self, console: Any, start_n: int, max_n: int, unit: str = "N") -> None:
        self.console = console
        self.start_n, self.max_n, self.unit = start_n, max_n, unit
        self._bar: Any = None
        self._task: Any = None

    def start(self, total_epochs: int, description: str = "training") -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RProgress

        self._bar = RProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        total = self.max_n - self.start_n + 1 if self.unit == "N" else total_epochs
        self._bar.start()
        self._task = self._bar.add_task(description, total=total, stats="")

    def epoch(self, epoch: int, info: dict[str, Any]) -> None:
        if self._bar is None:
            return
        if self.unit == "N":
            done = (info.get("n_reached") or self.start_n - 1) - self.start_n + 1
            tau = info.get("tau_mean")
            stats = (
                f"epoch {epoch}  N {info['n']}  loss {info['loss']:.3f}  "
                f"acc {info['acc_mean']:.3f}/{info['acc_newest']:.3f}"
                + (f"  τ̄ {tau:.3f}" if tau is not None else "")
            )
        else:
            done, stats = epoch, f"loss {info['loss']:.4f}"
        self._bar.update(self._task, completed=done, stats=stats)

    def message(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _fmt(v: Any, spec: str = ".3f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x, spec) for x in v)
    return format(v, spec) if isinstance(v, float) else str(v)


def register(app: typer.Typer) -> None:
    """Add ``task`` (parity, dms, hmm) and ``analyze-timescales`` to ``app``."""
    from attractor.cli import cli_errors, err_console, out_console

    task_app = typer.Typer(
        no_args_is_help=True, help="Memory tasks: N-parity, N-DMS, HMM emulation."
    )
    app.add_typer(task_app, name="task")

    def run_binary(task: str, **kw: Any) -> None:
        from attractor.api.task import fit_task
        from attractor.tasks.data import check_n

        check_n(kw["max_n"], "--max-n")
        check_n(kw["start_n"], "--start-n")
        train = {
            k: kw[k]
            for k in ("batch_size", "steps_per_epoch", "lr", "max_epochs")
            if kw[k] is not None
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

    def make(task: str):
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
            steps_per_epoch: int | None = typer.Option(
                None, "--steps-per-epoch", help="Default 600."
            ),
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
            run_binary(task, **{k: v for k, v in locals().items() if k != "task"})

        command.__doc__ = (
            f"Train a network on N-{label} through a curriculum; write a run directory with a "
            "checkpoint at every N reached."
        )
        return command

    task_app.command("parity")(make("parity"))
    task_app.command("dms")(make("dms"))

    @task_app.command("hmm")
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
        table.add_row("symbol frequencies", _fmt(m["frequencies_hmm"]), _fmt(m["frequencies_rnn"]))
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

    @app.command("analyze-timescales")
    @cli_errors
    def analyze_timescales(
        run: Path = typer.Argument(..., help="A run directory made by `attractor task`."),
        trials: int = typer.Option(10, help="Trials of random-bit drive."),
        steps: int = typer.Option(10_000, help="Steps per trial (the first 500 are dropped)."),
        robustness: bool = typer.Option(True, help="Also measure robustness at the largest N."),
        robustness_at: int | None = typer.Option(None, "--robustness-at", help="N for robustness."),
        seed: int = typer.Option(0),
    ) -> None:
        """τ (trained) and τ_net (autocorrelation fits) at every N reached, plus robustness."""
        from attractor.api.task import analyze_task_run

        s = analyze_task_run(run, trials, steps, robustness_at, robustness, seed)
        _print_timescales(s)
        out_console.print(f"wrote {run / 'timescales.json'} and figures in {run / 'figures'}")

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
                _fmt(r.get("tau_mean")),
            )
        out_console.print(table)
        out_console.print(f"N reached: {m.get('n_reached')}; stopped: {m.get('stopped')}")
        if m.get("timescales"):
            _print_timescales({"per_n": m["timescales"], "robustness": m.get("robustness")})
        out_console.print(f"run directory: [bold]{path}[/]")

    def _print_timescales(s: dict[str, Any]) -> None:
        table = Table(title="timescales")
        for col in ("N", "mean τ", "mean τ_net", "median τ_net", "τ population", "dim (90 %)"):
            table.add_column(col, justify="right")
        for r in s["per_n"]:
            table.add_row(
                str(r["N"]),
                _fmt(r["tau_mean"]),
                _fmt(r["tau_net_mean"]),
                _fmt(r["tau_net_median"]),
                _fmt(r["tau_population"]),
                str(r["dimension_90"]),
            )
        out_console.print(table)
        rob = s.get("robustness")
        if rob and "perturb_W" in rob:
            rt = Table(
                title=f"relative accuracy at N = {rob['N']} (base {rob['base_accuracy']:.3f})"
            )
            rt.add_column("perturbation")
            rt.add_column("relative accuracy", justify="right")
            rt.add_row("ablate fastest-τ neurons (mean)", _fmt(rob["ablation_fastest_mean"]))
            rt.add_row("ablate slowest-τ neurons (mean)", _fmt(rob["ablation_slowest_mean"]))
            for e, v in zip(rob["epsilons"], rob["perturb_W"], strict=True):
                rt.add_row(f"W, ε = {e}", _fmt(v))
            for e, v in zip(rob["epsilons"], rob.get("perturb_tau", []), strict=False):
                rt.add_row(f"τ, ε = {e}", _fmt(v))
            out_console.print(rt)
