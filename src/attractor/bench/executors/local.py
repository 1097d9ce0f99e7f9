"""``local`` with one worker: each job runs in the driver process when it is waited for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attractor.bench.jobs import run_job
from attractor.bench.spec import Job


class SequentialExecutor:
    """Runs jobs one at a time in this process."""

    name = "local"
    slots = 1

    def submit(self, job: Job) -> Job:
        return job

    def wait(self, handles: Sequence[Any], timeout: float | None = None) -> list[tuple]:
        h = handles[0]
        return [(h, run_job(h))]

    def shutdown(self) -> None:
        pass
