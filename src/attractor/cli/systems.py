"""``attractor systems list|show``: the dysts catalogue of chaotic systems."""

from __future__ import annotations

import typer
from rich.table import Table

from attractor.cli._common import cli_errors, fmt, out_console

app = typer.Typer(no_args_is_help=True, help="The dysts catalogue of chaotic systems.")


@app.command("list")
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
            fmt(info.lyapunov_max),
            fmt(info.period),
            "delay" if info.delay else ("non-autonomous" if info.nonautonomous else "ODE"),
        )
    out_console.print(table)
    out_console.print(f"{len(names)} systems. λ_max values are dysts' numerical estimates.")


@app.command("show")
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
        ("parameters", ", ".join(f"{k}={fmt(v)}" for k, v in info.parameters.items())),
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
        table.add_row(k, fmt(v) if not isinstance(v, str) else v)
    out_console.print(table)
    out_console.print(Syntax(info.equations, "python", theme="ansi_dark", line_numbers=False))
