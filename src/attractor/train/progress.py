"""Progress reporting for training: a rich progress bar, or nothing.

The training loop calls a :class:`Progress` object at fixed points (start, every optimiser epoch,
after validation, at the end) and never prints itself, so the library stays quiet when used from
Python and the CLI decides what a user sees.
"""

from __future__ import annotations

from typing import Any

from attractor.train.display import MISSING, fmt, rich_bar


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


class RichProgress(Progress):
    """A rich progress bar (:func:`attractor.train.display.rich_bar`): epoch, loss, α, latest
    D_stsp / D_H, elapsed time and ETA.

    Subclasses change what is counted and shown by overriding :meth:`total` and :meth:`status`.
    """

    def __init__(self, console: Any = None, transient: bool = False) -> None:
        self.console = console
        self.transient = transient
        self._bar: Any = None
        self._task: Any = None

    def total(self, total_epochs: int) -> int:
        """Length of the bar for a run of ``total_epochs`` epochs."""
        return total_epochs

    def status(self, epoch: int, info: dict[str, Any]) -> tuple[int, str]:
        """How far the bar is after ``epoch`` and the stats text beside it."""
        stats = (
            f"loss {fmt(info.get('loss'), '.4g', nan=MISSING)}  "
            f"α {fmt(info.get('alpha'), '.3f', nan=MISSING)}  "
            f"D_stsp {fmt(info.get('D_stsp'), '.3f', nan=MISSING)}  "
            f"D_H {fmt(info.get('D_H'), '.3f', nan=MISSING)}"
        )
        return epoch, stats

    def start(self, total_epochs: int, description: str = "training") -> None:
        self._bar = rich_bar(self.console, transient=self.transient)
        self._bar.start()
        self._task = self._bar.add_task(
            f"[bold]{description}", total=self.total(total_epochs), stats=""
        )

    def epoch(self, epoch: int, info: dict[str, Any]) -> None:
        if self._bar is None:
            return
        done, stats = self.status(epoch, info)
        self._bar.update(self._task, completed=done, stats=stats)

    def message(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
