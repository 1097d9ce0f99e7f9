"""The ``attractor`` command line: parse arguments, call the library, print the result.

One file per command; this module builds the typer app and adds each command to it, in the order
``attractor --help`` lists them. Every user error (an :class:`attractor.errors.AttractorError`)
is printed as one line on stderr and exits with status 2; nothing here does numerical work, and
every command imports the library inside its body, so ``attractor --help`` starts without torch.
"""

from __future__ import annotations

import typer

from . import analyze, bench, fit, models, report, runs, simulate, systems, task
from . import eval as eval_cmd

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Recurrent neural networks as dynamical systems: reconstruct, evaluate, simulate.",
)
app.add_typer(systems.app, name="systems")
app.command("fit")(fit.fit)
app.command("eval")(eval_cmd.eval_)
app.command("simulate")(simulate.simulate)
app.command("runs")(runs.runs)
app.command("models")(models.models)
app.command("analyze")(analyze.analyze)
app.command("analyze-timescales")(analyze.analyze_timescales)
app.add_typer(task.app, name="task")
app.command("bench")(bench.bench)
app.command("report")(report.report)

__all__ = ["app"]
