"""``attractor models``: the registered models."""

from __future__ import annotations

from rich.table import Table

from attractor.cli._common import cli_errors, out_console


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
