"""Progress of a sweep: an overall bar (done / failed / running, ETA) and one line per job.

The driver calls a :class:`SweepProgress` at fixed points and never prints itself; the CLI
passes :class:`RichSweepProgress`, library users get silence by default.
"""

from __future__ import annotations

from typing import Any

from attractor.bench.spec import Job
from attractor.train.display import MISSING, fmt, rich_bar


class SweepProgress:
    """Silent sink; subclass to show something."""

    def start(self, total: int, done: int, failed: int) -> None:
        """The sweep begins; ``done``/``failed`` jobs are already in the store."""

    def job_started(self, job: Job) -> None:
        """A job was handed to a worker."""

    def job_finished(self, job: Job, result: dict[str, Any]) -> None:
        """A job's result was recorded."""

    def stop(self) -> None:
        """The sweep ended (normally or not)."""


class RichSweepProgress(SweepProgress):
    """Overall rich bar with done/failed/running counts and ETA; a spinner row per running job;
    a line per finished job with its headline metrics or its failure reason."""

    def __init__(self, console: Any = None) -> None:
        self.console = console
        self._bar: Any = None
        self._overall: Any = None
        self._rows: dict[tuple, Any] = {}
        self.done = self.failed = 0

    def _stats(self) -> str:
        return (
            f"[green]{self.done} done[/]  [red]{self.failed} failed[/]  "
            f"[yellow]{len(self._rows)} running[/]"
        )

    def start(self, total: int, done: int, failed: int) -> None:
        self.done, self.failed = done, failed
        self._bar = rich_bar(self.console, spinner=True)
        self._bar.start()
        self._overall = self._bar.add_task(
            "[bold]sweep", total=total, completed=done + failed, stats=self._stats()
        )

    def job_started(self, job: Job) -> None:
        if self._bar is None:
            return
        self._rows[job.key] = self._bar.add_task(f"  {job.label}", total=None, stats="running")
        self._bar.update(self._overall, stats=self._stats())

    def job_finished(self, job: Job, result: dict[str, Any]) -> None:
        if self._bar is None:
            return
        task = self._rows.pop(job.key, None)
        if task is not None:
            self._bar.remove_task(task)
        t = result.get("timings", {}).get("total_s")
        if result.get("status") == "done":
            self.done += 1
            m = result.get("metrics", {})
            parts = [
                f"{k} {fmt(m.get(k), nan=MISSING)}"
                for k in ("D_stsp", "D_H", "vpt_lyapunov")
                if k in m
            ]
            self._bar.console.print(
                f"[green]✓[/] {job.label}: {', '.join(parts)} ({fmt(t, nan=MISSING)} s)"
            )
        else:
            self.failed += 1
            self._bar.console.print(
                f"[red]✗[/] {job.label}: {result.get('error')} ({fmt(t, nan=MISSING)} s)",
                highlight=False,
            )
        self._bar.update(self._overall, advance=1, stats=self._stats())

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
