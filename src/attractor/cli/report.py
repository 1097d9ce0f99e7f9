"""``attractor report``: leaderboards of a results store, with CSV/JSON/HTML exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from attractor.cli._common import DEFAULT_STORE, cli_errors, out_console
from attractor.train import display


def _fmt(v: Any) -> str:
    return display.fmt(v, ".3g", inf=display.MATH_INF)


@cli_errors
def report(
    store: Path = typer.Option(DEFAULT_STORE, help="SQLite results store."),
    html: Path | None = typer.Option(None, "--html", help="Write the HTML report here."),
    csv: Path | None = typer.Option(None, "--csv", help="Export one row per job as CSV."),
    json_out: Path | None = typer.Option(None, "--json", help="Export leaderboards + jobs."),
    spec: str | None = typer.Option(None, help="Only jobs of this spec hash."),
    metric: str | None = typer.Option(None, help="Only this metric's leaderboard."),
) -> None:
    """Leaderboard of a results store (rich table), with CSV/JSON/HTML exports."""
    from attractor.bench import leaderboard as lb
    from attractor.bench.html import write_html
    from attractor.bench.store import Store, dumps
    from attractor.errors import ConfigError, UnknownNameError, did_you_mean
    from attractor.io import atomic_write_bytes

    with Store(store, create=False) as st:
        rows = st.rows(spec)
        if not rows:
            raise ConfigError(f"{store} holds no jobs" + (f" of spec {spec}." if spec else "."))
        metrics = lb.available_metrics(rows)
        if metric is not None:
            if metric not in lb.METRIC_BY_KEY:
                keys = list(lb.METRIC_BY_KEY)
                raise UnknownNameError(
                    f"unknown metric {metric!r}; choose one of {', '.join(keys)}."
                    + did_you_mean(metric, keys)
                )
            metrics = [lb.METRIC_BY_KEY[metric]]
        for m in metrics:
            t = Table(title=f"{m.label} ({'lower' if m.lower_is_better else 'higher'} is better)")
            for col in ("model", "median", "q25", "q75", "systems", "failed"):
                t.add_column(col, justify="left" if col == "model" else "right")
            for e in lb.leaderboard(rows, m):
                t.add_row(
                    e["model"],
                    _fmt(e["median"]),
                    _fmt(e["q25"]),
                    _fmt(e["q75"]),
                    str(e["n_systems"]),
                    str(e["failed"]),
                )
            out_console.print(t)
        if csv is not None:
            atomic_write_bytes(csv, lb.to_csv(rows).encode())
            out_console.print(f"wrote {csv}")
        if json_out is not None:
            text = dumps(lb.to_json(rows))
            atomic_write_bytes(json_out, text.encode())
            out_console.print(f"wrote {json_out}")
        if html is not None:
            index = write_html(st, rows, html)
            out_console.print(f"wrote {index}")
