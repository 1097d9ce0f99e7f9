"""The sweep driver: register the jobs, hand them to an executor, record every result.

Order of work, so that bad input never touches the store: validate the spec (done by
:func:`attractor.bench.spec.make_spec`), check the store file read-only, refuse to silently
re-run a sweep whose jobs are already there (``resume=False``), start the executor (a Ray
address that does not answer fails here), and only then open the store for writing.

At most ``executor.slots`` jobs are in flight; a job is marked ``running`` when it is handed
out and ``done``/``failed`` when its result arrives, each in its own transaction — so after a
crash, even ``kill -9``, ``resume=True`` re-runs only the jobs that were in flight, and the
UNIQUE job key means no job is ever recorded twice.
"""

from __future__ import annotations

import sqlite3
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attractor.bench.executors import make_executor
from attractor.bench.progress import SweepProgress
from attractor.bench.spec import BenchSpec
from attractor.bench.store import Store, check_store
from attractor.errors import ConfigError

#: Seconds between checks for finished jobs.
POLL = 0.5


@dataclass
class SweepSummary:
    """What a sweep did: jobs in the spec, already finished before, run now, and outcomes."""

    total: int
    skipped: int
    ran: int
    done: int
    failed: int
    wall_time: float
    store: Path
    spec_hash: str


def _existing_count(path: Path, spec: BenchSpec) -> int:
    """Jobs of ``spec`` already in the store at ``path`` (read-only look)."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        n = 0
        for j in spec.jobs():
            n += con.execute(
                "SELECT COUNT(*) FROM jobs WHERE spec_hash=? AND system=? AND model=? AND seed=?",
                j.key,
            ).fetchone()[0]
        return n
    except sqlite3.OperationalError:  # a new, empty store of ours
        return 0
    finally:
        con.close()


def run_sweep(
    spec: BenchSpec,
    store: str | Path,
    executor: str = "local",
    workers: int = 1,
    address: str | None = None,
    resume: bool = False,
    retry_failed: bool = False,
    progress: SweepProgress | None = None,
    max_jobs: int | None = None,
) -> SweepSummary:
    """Run every job of ``spec`` not yet finished in ``store``; see the module docstring.

    ``max_jobs`` stops after handing out that many jobs (a sweep in parts).
    """
    path = Path(store)
    progress = progress or SweepProgress()
    check_store(path)
    n_existing = _existing_count(path, spec)
    if n_existing and not resume:
        raise ConfigError(
            f"{path} already holds {n_existing} of these {len(spec.jobs())} jobs "
            f"(spec {spec.spec_hash}); pass resume=True to continue the sweep or choose "
            "another store=."
        )
    ex = make_executor(executor, workers, address)
    t0 = time.perf_counter()
    jobs = spec.jobs()
    try:
        with Store(path) as st:
            counts = st.register(jobs, retry_failed=retry_failed)
            status = st.existing(jobs)
            todo = deque(j for j in jobs if status.get(j.key) == "pending")
            if max_jobs is not None:
                todo = deque(list(todo)[:max_jobs])
            skipped = counts["done"] + counts["failed"]
            progress.start(len(jobs), counts["done"], counts["failed"])
            done = failed = 0
            inflight: dict[Any, Any] = {}
            try:
                while todo or inflight:
                    while todo and len(inflight) < ex.slots:
                        job = todo.popleft()
                        st.mark_running(job)
                        inflight[ex.submit(job)] = job
                        progress.job_started(job)
                    for handle, result in ex.wait(list(inflight), timeout=POLL):
                        job = inflight.pop(handle)
                        st.record(job, result)
                        progress.job_finished(job, result)
                        if result.get("status") == "done":
                            done += 1
                        else:
                            failed += 1
            finally:
                progress.stop()
    finally:
        ex.shutdown()
    return SweepSummary(
        total=len(jobs),
        skipped=skipped,
        ran=done + failed,
        done=done,
        failed=failed,
        wall_time=time.perf_counter() - t0,
        store=path,
        spec_hash=spec.spec_hash,
    )
