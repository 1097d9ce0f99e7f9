"""What every command shares: the error wrapper, the two consoles, number formats, tables.

Every user error (an :class:`attractor.errors.AttractorError`) is printed as one line on
stderr and exits with status 2; the library names Python parameters (``latent=``), which the
error wrapper rewrites to the command's flags (``--latent``) through :data:`FLAGS`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from attractor.errors import AttractorError
from attractor.train import display

out_console = Console()
err_console = Console(stderr=True)

#: The results store of ``attractor bench`` and ``attractor report``.
DEFAULT_STORE = Path("runs/bench.sqlite")


def cli_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one readable line and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AttractorError as exc:
            err_console.print(
                f"[bold red]error:[/] {to_flags(str(exc))}", highlight=False, soft_wrap=True
            )
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


#: Library parameter → command-line flag, for the parameters library errors name.
FLAGS: dict[str, str] = {
    name: "--" + name.replace("_", "-")
    for name in (
        *("latent", "n_relu", "seq_len", "batch_size", "device", "downsample", "out", "name"),
        *("lr", "max_n", "start_n", "steps", "seed"),
        *("suite", "systems", "models", "seeds", "resume", "store", "workers", "address"),
        "executor",
    )
}

#: Library calls a message may point to → the command that shows the same.
COMMANDS: dict[str, str] = {
    "list_systems()": "`attractor systems list`",
    "model_names()": "`attractor models`",
}

_EDGE = r"(?<![\w./\\-])"  # not inside a word, a path or a flag
#: ``name=`` with an optional value: a quoted string or a bare token (``3``, ``0.5``, ``True``).
_ASSIGN = re.compile(_EDGE + r"([a-z][a-z0-9_]*)=('[^']*'|\"[^\"]*\"|[\w+-]+(?:\.\w+)*)?")
#: A bare snake_case parameter name (unambiguous, unlike ``latent`` or ``out``).
_SNAKE = re.compile(_EDGE + "(" + "|".join(n for n in FLAGS if "_" in n) + r")(?![\w=/-]|\.\w)")


def to_flags(message: str) -> str:
    """Rewrite the parameters a library message names as the CLI's flags.

    ``latent=`` → ``--latent``, ``latent=3`` → ``--latent 3``, ``device='cpu'`` → ``--device cpu``,
    ``resume=True`` → ``--resume``, a bare snake_case name (``seq_len``) → ``--seq-len``, and a
    library call (``list_systems()``) → its command (:data:`COMMANDS`); names not in
    :data:`FLAGS` are left as they are.
    """

    def assign(m: re.Match[str]) -> str:
        flag, value = FLAGS.get(m.group(1)), m.group(2)
        if flag is None:
            return m.group(0)
        if value is None or value == "True":
            return flag
        return f"{flag} {value.strip(chr(39) + chr(34))}"

    for call, command in COMMANDS.items():
        message = message.replace(call, command)
    message = _ASSIGN.sub(assign, message)
    return _SNAKE.sub(lambda m: FLAGS[m.group(1)], message)


def fmt(v: Any) -> str:
    """A value for a table cell: 4 significant digits, ``–`` for None, lists comma-joined."""
    return display.fmt(v, ".4g")


def fmt_fixed(v: Any, spec: str = ".3f") -> str:
    """A value in fixed-point notation (``spec``), ``–`` for None or NaN, lists comma-joined."""
    return display.fmt(v, spec, nan=display.MISSING)


def print_metrics(m: dict[str, Any], title: str) -> None:
    """The reconstruction metrics of a run as a two-column table (only the keys present)."""
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
            table.add_row(label, fmt(m[key]))
    out_console.print(table)
    if m.get("diverged"):
        out_console.print(
            "[yellow]the model's free run from the first test point diverged (values not finite "
            "or beyond 1e6), so D_stsp and D_H are infinite; try another --seed, more training "
            "or another model.[/]"
        )


def print_timescales(s: dict[str, Any]) -> None:
    """τ and τ_net per N of a task run, and its robustness table when present."""
    table = Table(title="timescales")
    cols = ("N", "mean τ", "mean τ_net", "median τ_net", "τ_λ", "τ population", "dim (90 %)")
    for col in cols:
        table.add_column(col, justify="right")
    for r in s["per_n"]:
        table.add_row(
            str(r["N"]),
            fmt_fixed(r["tau_mean"]),
            fmt_fixed(r["tau_net_mean"]),
            fmt_fixed(r["tau_net_median"]),
            fmt_fixed(r.get("tau_lambda")),
            fmt_fixed(r["tau_population"]),
            str(r["dimension_90"]),
        )
    out_console.print(table)
    rob = s.get("robustness")
    if rob and "perturb_W" in rob:
        rt = Table(title=f"relative accuracy at N = {rob['N']} (base {rob['base_accuracy']:.3f})")
        rt.add_column("perturbation")
        rt.add_column("relative accuracy", justify="right")
        rt.add_row("ablate fastest-τ neurons (mean)", fmt_fixed(rob["ablation_fastest_mean"]))
        rt.add_row("ablate slowest-τ neurons (mean)", fmt_fixed(rob["ablation_slowest_mean"]))
        for e, v in zip(rob["epsilons"], rob["perturb_W"], strict=True):
            rt.add_row(f"W, ε = {e}", fmt_fixed(v))
        for e, v in zip(rob["epsilons"], rob.get("perturb_tau", []), strict=False):
            rt.add_row(f"τ, ε = {e}", fmt_fixed(v))
        out_console.print(rt)
