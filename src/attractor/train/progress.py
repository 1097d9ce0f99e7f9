"""Progress reporting for training: a rich progress bar, or nothing.

The training loop calls a :class:`Progress` object at fixed points (start, every optimiser epoch,
after validation, at the end) and never prints itself, so the library stays quiet when used from
Python and the CLI decides what a user sees.
"""

from __future__ import annotations

import math
from typing import Any


class Progress:
    """Silent progress sink; subclass to show something."""

    def start(self, total_epochs: int, description: str = "training") -> None:
        """Training begins."""

    def epoch(self, epoch: int, info: dict[str, Any]) -> None:
        """One epoch done; ``info`` has loss, alpha, lr and the latest validation metrics."""

    def message(self, text: str) -> None:
        """Something worth telling (recovery from a non-finite loss, interruption)."""

    def stop(self) -> None:
        """Training ended (normally or not)."""


def _fmt(x: Any, spec: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return format(x, spec)


class RichProgress(Progress):
    """A rich progress bar: epoch, loss, α, latest D_stsp / D_H, elapsed time and ETA."""

    def __init__(self, console: Any = None, transient: bool = False) -> None:
        self.console = console
        self.transient = transient
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
        from rich.progress import (
            Progress as RProgress,
        )

        self._bar = RProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=self.transient,
        )
        self._bar.start()
        self._task = self._bar.add_task(description, total=total_epochs, stats="")

    def epoch(self, epoch: int, info: dict[str, Any]) -> None:
        if self._bar is None:
            return
        stats = (
            f"loss {_fmt(info.get('loss'), '.4g')}  α {_fmt(info.get('alpha'))}  "
            f"D_stsp {_fmt(info.get('D_stsp'))}  D_H {_fmt(info.get('D_H'))}"
        )
        self._bar.update(self._task, completed=epoch, stats=stats)

    def message(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
