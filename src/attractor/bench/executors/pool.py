"""``local`` with ``workers = k > 1``: a process pool of k spawned workers.

Spawn, not fork: forking a process that has started torch's threads can deadlock. A worker that
dies (out of memory, a crash) fails its job and the pool is rebuilt for the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from attractor.bench.executors.base import crashed
from attractor.bench.jobs import run_job
from attractor.bench.spec import Job


class PoolExecutor:
    """A pool of ``workers`` spawned processes."""

    name = "local"

    def __init__(self, workers: int) -> None:
        import multiprocessing as mp

        self.slots = workers
        self._ctx = mp.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=self._ctx)

    def submit(self, job: Job) -> Future:
        try:
            return self._pool.submit(run_job, job)
        except BrokenProcessPool:
            self._pool = ProcessPoolExecutor(max_workers=self.slots, mp_context=self._ctx)
            return self._pool.submit(run_job, job)

    def wait(self, handles: Sequence[Any], timeout: float | None = None) -> list[tuple]:
        done, _ = futures_wait(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        out = []
        for f in done:
            try:
                out.append((f, f.result()))
            except BrokenProcessPool:
                out.append((f, crashed("the worker process died (out of memory or a crash).")))
            except Exception as exc:  # pickling problems and the like
                out.append((f, crashed(f"{type(exc).__name__}: {exc}")))
        return out

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
