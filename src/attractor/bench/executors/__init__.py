"""Executors: where jobs run. Local (in-process, sequential), a process pool, or Ray.

All three share one small interface used by the sweep driver: ``slots`` jobs may be in flight,
``submit(job)`` starts one and returns a handle, ``wait(handles, timeout)`` returns the
``(handle, result)`` pairs that finished. Workers only compute (``attractor.bench.jobs.run_job``)
and return results; the driver alone writes the store. Every job sets its own seeds and thread
count, so the same job gives the same metrics on every executor.

* ``local`` — ``--workers 1``: runs each job in the driver process when it is waited for;
  ``--workers k > 1``: a ``concurrent.futures.ProcessPoolExecutor`` with k spawned workers
  (spawn, not fork: forking a process that has started torch's threads can deadlock).
* ``ray`` — each job is a Ray task (``num_cpus=1``). Without ``--address`` a local Ray instance
  is started with ``--workers`` CPUs; with one, the driver connects to that cluster after
  checking that its address answers (so a wrong address fails in seconds with one sentence
  instead of Ray's long retry loop).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from attractor.bench.jobs import run_job
from attractor.bench.spec import Job
from attractor.errors import ConfigError, UnknownNameError, did_you_mean

EXECUTORS = ("local", "ray")
#: Seconds to wait for a Ray cluster's address to accept a TCP connection.
RAY_CONNECT_TIMEOUT = 5.0


def _crashed(reason: str) -> dict[str, Any]:
    return {"status": "failed", "metrics": {}, "timings": {}, "error": reason, "traces": None}


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
                out.append((f, _crashed("the worker process died (out of memory or a crash).")))
            except Exception as exc:  # pickling problems and the like
                out.append((f, _crashed(f"{type(exc).__name__}: {exc}")))
        return out

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def check_address(address: str) -> None:
    """Raise ConfigError unless ``host:port`` accepts a TCP connection within the timeout."""
    if address == "auto":
        return
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"the Ray address {address!r} is not of the form host:port.")
    try:
        with socket.create_connection((host, int(port)), timeout=RAY_CONNECT_TIMEOUT):
            pass
    except OSError:
        raise ConfigError(
            f"no Ray cluster answers at {address} (nothing accepted a connection within "
            f"{RAY_CONNECT_TIMEOUT:.0f} s); start one with `ray start --head` or drop --address."
        ) from None


class RayExecutor:
    """Jobs as Ray tasks on a local instance (default) or the cluster at ``address``."""

    name = "ray"

    def __init__(self, workers: int, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "--executor ray needs the ray package; install attractor[bench]."
            ) from None
        if address:
            check_address(address)
        env = {k: os.environ[k] for k in ("ATTRACTOR_CACHE",) if k in os.environ}
        kwargs: dict[str, Any] = {
            "ignore_reinit_error": True,
            "include_dashboard": False,
            "log_to_driver": False,
            "runtime_env": {"env_vars": env} if env else None,
        }
        self._own = not ray.is_initialized()
        try:
            if address:
                ray.init(address=address, **kwargs)
            else:
                ray.init(num_cpus=workers, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(
                f"could not connect to Ray at {address or 'local'} ({exc})."
            ) from None
        self._ray = ray
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_job)
        cpus = int(ray.cluster_resources().get("CPU", workers))
        self.slots = max(1, cpus if address else workers)

    def submit(self, job: Job) -> Any:
        return self._remote.remote(job)

    def wait(self, handles: Sequence[Any], timeout: float | None = None) -> list[tuple]:
        ready, _ = self._ray.wait(list(handles), num_returns=1, timeout=timeout)
        out = []
        for ref in ready:
            try:
                out.append((ref, self._ray.get(ref)))
            except Exception as exc:  # a worker that died: record the job as failed
                out.append((ref, _crashed(f"the Ray task failed ({type(exc).__name__}: {exc}).")))
        return out

    def shutdown(self) -> None:
        if self._own:
            self._ray.shutdown()


def make_executor(name: str, workers: int = 1, address: str | None = None) -> Any:
    """``local`` (sequential for one worker, else a process pool) or ``ray``."""
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}.")
    key = name.lower()
    if key == "local":
        if address:
            raise ConfigError("--address only applies to --executor ray.")
        return SequentialExecutor() if workers == 1 else PoolExecutor(workers)
    if key == "ray":
        return RayExecutor(workers, address)
    raise UnknownNameError(
        f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}."
        + did_you_mean(name, EXECUTORS)
    )
