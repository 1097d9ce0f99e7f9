"""``attractor runs``: the runs recorded in the run index."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from attractor.cli._common import cli_errors, fmt, out_console


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
            fmt(m.get("D_stsp")),
            fmt(m.get("D_H")),
            fmt(r.get("wall_time")),
        )
    out_console.print(table)
