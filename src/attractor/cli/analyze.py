"""``attractor analyze RUN`` and ``attractor analyze-timescales RUN``: what a model learned.

``analyze`` parses options, calls :func:`attractor.analysis.report.analyze_run` and prints summary
tables (Lyapunov spectrum, fixed points and cycles, symbolic dynamics); the numbers and figures go
to ``RUN/analysis/``. ``analyze-timescales`` measures τ and τ_net of a memory-task run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from attractor.cli._common import cli_errors, out_console, print_timescales


def _num(v: Any, fmt: str = "{:.4g}") -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return fmt.format(v)
    return str(v)


def _vec(v: Any) -> str:
    return "(" + ", ".join(f"{x:.3g}" for x in v) + ")"


def _print_report(rep: dict[str, Any]) -> None:
    out_console.print(
        f"[bold]{rep['run']}[/] — {rep['model']['kind']}; coordinates: {rep['coordinates']}"
    )
    lyap = rep.get("lyapunov")
    if lyap and "error" in lyap:
        out_console.print(f"[yellow]Lyapunov spectrum not computed: {lyap['error']}[/]")
    elif lyap:
        m = lyap["model"]
        t = Table(title="Lyapunov spectrum (per time unit)")
        for col in ("i", "model", "± stderr", "true (equations)", "dysts (approx.)"):
            t.add_column(col, justify="right")
        for row in lyap["comparison"]["rows"]:
            t.add_row(
                str(row["index"]),
                _num(row["model"]),
                _num(row["model_stderr"], "{:.2g}"),
                _num(row["true"]),
                _num(row["dysts"]),
            )
        out_console.print(t)
        conv = "converged" if m["converged"] else "[yellow]NOT converged (run longer)[/]"
        ky_true = lyap["comparison"].get("kaplan_yorke_true")
        out_console.print(
            f"λ_max {m['lambda_max']:.4g} ({conv}, drift {m['drift'][0]:.2g}); "
            f"D_KY {m['kaplan_yorke_dimension']:.3g}"
            + (f" (true {ky_true:.3g})" if ky_true is not None else "")
        )
        out_console.print(f"[dim]{lyap['comparison']['note']}[/]")
    for key, title in (("fixed_points", "fixed points"),):
        sec = rep.get(key)
        if not sec:
            continue
        t = Table(title=f"{title} ({sec['method']}: {sec['count']} found)")
        for col in ("data coordinates", "type", "unstable dim", "max |μ|", "regions"):
            t.add_column(col)
        for o in sec["orbits"]:
            t.add_row(
                _vec(o["data"][0]),
                o["type"] if o["kind"] != "slow point" else "slow point",
                str(o["unstable_dimension"]),
                _num(o["spectral_radius"]),
                _num(o.get("regions")),
            )
        out_console.print(t)
        out_console.print(f"[dim]{sec['statement']}.[/]")
    eq = rep.get("true_equilibria")
    if eq and eq.get("nearest_model_fixed_point"):
        t = Table(title="true equilibria and the nearest model fixed point")
        for col in ("true", "type", "model", "type", "distance / attractor std"):
            t.add_column(col)
        for row in eq["nearest_model_fixed_point"]:
            t.add_row(
                _vec(row["true"]),
                row["true_type"],
                _vec(row["model"]) if row["model"] is not None else "–",
                row["model_type"] or "–",
                _num(row["relative_distance"], "{:.3g}"),
            )
        out_console.print(t)
    for cy in rep.get("cycles", []):
        types = ", ".join(o["type"] for o in cy["orbits"]) or "none"
        out_console.print(f"{cy['period']}-cycles ({cy['method']}): {cy['count']} — {types}")
    sym = rep.get("symbolic")
    if sym:
        t = Table(
            title=f"visited subregions: {sym['n_visited_regions']} of {sym['n_possible_regions']}"
        )
        for col in ("pattern", "coverage", "cumulative", "mean dwell", "fixed point"):
            t.add_column(col)
        for r in sym["regions"][:12]:
            kind = ("real " if r["fixed_point_real"] else "virtual ") + r["fixed_point_type"]
            t.add_row(
                r["pattern"],
                f"{r['coverage']:.3f}",
                f"{r['cumulative_coverage']:.3f}",
                f"{r['mean_dwell']:.1f}",
                kind,
            )
        out_console.print(t)
    out_console.print(
        f"wrote {Path(rep['run']) / 'analysis'} (analysis.json, {', '.join(rep['figures'])}) "
        f"in {rep['wall_time']:.1f} s"
    )


@cli_errors
def analyze(
    run: Path = typer.Argument(..., help="A run directory."),
    only: str | None = typer.Option(
        None,
        help="Comma-separated sections: lyapunov, fixed_points, cycles, symbolic "
        "(default: all that apply to the model).",
    ),
    steps: int | None = typer.Option(
        None, help="Free-run steps analysed after a transient (default: the library's)."
    ),
    max_period: int | None = typer.Option(
        None, "--max-period", help="Longest cycle period searched (default: the library's)."
    ),
    lyapunov_steps: int | None = typer.Option(
        None, "--lyapunov-steps", help="Steps of the QR Lyapunov estimate."
    ),
    inits: int | None = typer.Option(
        None, help="SCYFI initialisations when exhaustive search is infeasible."
    ),
    seed: int = typer.Option(0, help="Seed of the heuristic searches."),
    no_true: bool = typer.Option(
        False, "--no-true", help="Skip the true-system comparison (equations from dysts)."
    ),
) -> None:
    """What the model learned: Lyapunov spectrum, fixed points and cycles, symbolic codes."""
    from attractor.analysis.report import analyze_run

    sections = [s.strip().replace("-", "_") for s in only.split(",")] if only else None
    given = {"steps": steps, "max_period": max_period, "lyapunov_steps": lyapunov_steps}
    rep = analyze_run(
        run,
        sections=sections,
        n_inits=inits,
        seed=seed,
        true_system=not no_true,
        **{k: v for k, v in given.items() if v is not None},
    )
    _print_report(rep)


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
    print_timescales(s)
    out_console.print(f"wrote {run / 'timescales.json'} and figures in {run / 'figures'}")
