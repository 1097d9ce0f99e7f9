"""The progress bar of the memory-task commands (imported when a task trains, not at start)."""

from __future__ import annotations

from typing import Any

from attractor.train.progress import RichProgress


class TaskProgress(RichProgress):
    """A rich bar over N (start … max N): epoch, N, loss, accuracies, mean τ, elapsed, ETA."""

    def __init__(self, console: Any, start_n: int, max_n: int, unit: str = "N") -> None:
        super().__init__(console)
        self.start_n, self.max_n, self.unit = start_n, max_n, unit

    def total(self, total_epochs: int) -> int:
        return self.max_n - self.start_n + 1 if self.unit == "N" else total_epochs

    def status(self, epoch: int, info: dict[str, Any]) -> tuple[int, str]:
        if self.unit != "N":
            return epoch, f"loss {info['loss']:.4f}"
        done = (info.get("n_reached") or self.start_n - 1) - self.start_n + 1
        tau = info.get("tau_mean")
        stats = (
            f"epoch {epoch}  N {info['n']}  loss {info['loss']:.3f}  "
            f"acc {info['acc_mean']:.3f}/{info['acc_newest']:.3f}"
            + (f"  τ̄ {tau:.3f}" if tau is not None else "")
        )
        return done, stats


class SearchProgress:
    """A rich bar over the search budget (planned seconds): trial, candidate, its validation
    score, the best so far, elapsed and ETA."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.bar: Any = None
        self.task: Any = None
        self.done = 0.0

    def start_search(self, budget: float) -> None:
        from attractor.train.display import rich_bar

        self.bar = rich_bar(self.console)
        self.bar.start()
        self.task = self.bar.add_task("auto search", total=round(budget), stats="")

    def trial(self, number: int, model: str, score: float, best: float, planned: float) -> None:
        if self.bar is None:
            return
        self.done += planned
        stats = f"trial {number} {model}: {score:.3f}  best {best:.3f}"
        self.bar.update(self.task, completed=min(self.done, self.bar.tasks[0].total), stats=stats)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
