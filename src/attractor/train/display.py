"""What a person reads: the one number formatter and the one rich progress bar.

Shared by the training and sweep progress displays, the HTML report and the command line; it
imports nothing heavy (rich only inside :func:`rich_bar`), so the CLI starts fast.
"""

from __future__ import annotations

import math
from typing import Any

#: How a missing value (None) is shown.
MISSING = "–"
#: Spellings of +∞ and −∞: plain (as Python's ``format`` writes them) and mathematical.
PLAIN_INF = ("inf", "-inf")
MATH_INF = ("∞", "−∞")


def fmt(
    value: Any,
    spec: str = ".3g",
    *,
    nan: str = "nan",
    inf: tuple[str, str] = PLAIN_INF,
) -> str:
    """``value`` as text: a float with ``format(value, spec)``, NaN as ``nan``, ``±∞`` as
    ``inf[0]``/``inf[1]``; None as :data:`MISSING`; a list or tuple item by item joined by
    ``", "``; anything else (ints, strings) with ``str``."""
    if value is None:
        return MISSING
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v, spec, nan=nan, inf=inf) for v in value)
    if isinstance(value, float):
        if math.isnan(value):
            return nan
        if math.isinf(value):
            return inf[0] if value > 0 else inf[1]
        return format(value, spec)
    return str(value)


def rich_bar(console: Any = None, *, spinner: bool = False, transient: bool = False) -> Any:
    """A :class:`rich.progress.Progress` with the columns of every attractor bar: [spinner,]
    description, bar, done/total, ``task.fields["stats"]``, elapsed time and ETA."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    if spinner:
        columns.insert(0, SpinnerColumn())
    return Progress(*columns, console=console, transient=transient)
