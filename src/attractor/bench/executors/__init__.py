"""Executors: where benchmark jobs run. One file each; :data:`EXECUTORS` maps a name to it.

* ``local`` — one worker: :class:`~attractor.bench.executors.local.SequentialExecutor` runs each
  job in the driver process; ``workers = k > 1``: a pool of k spawned processes
  (:mod:`~attractor.bench.executors.pool`).
* ``ray`` — each job is a Ray task, on a local instance or the cluster at ``address``
  (:mod:`~attractor.bench.executors.ray`).

All share the small interface of :class:`~attractor.bench.executors.base.Executor`. Every job
sets its own seeds and thread count, so the same job gives the same metrics on every executor.
A new executor is one file here plus one entry in :data:`EXECUTORS`.
"""

from __future__ import annotations

from collections.abc import Callable

from attractor.bench.executors.base import Executor
from attractor.errors import ConfigError, UnknownNameError, did_you_mean


def _local(workers: int, address: str | None) -> Executor:
    if address:
        raise ConfigError("address= only applies to executor='ray'.")
    if workers == 1:
        from attractor.bench.executors.local import SequentialExecutor

        return SequentialExecutor()
    from attractor.bench.executors.pool import PoolExecutor

    return PoolExecutor(workers)


def _ray(workers: int, address: str | None) -> Executor:
    from attractor.bench.executors.ray import RayExecutor

    return RayExecutor(workers, address)


#: Executor name → factory ``(workers, address) -> Executor``.
EXECUTORS: dict[str, Callable[[int, str | None], Executor]] = {"local": _local, "ray": _ray}


def make_executor(name: str, workers: int = 1, address: str | None = None) -> Executor:
    """The executor called ``name`` (case-insensitive) with ``workers`` slots."""
    if workers < 1:
        raise ConfigError(f"workers= must be at least 1, got {workers}.")
    factory = EXECUTORS.get(name.lower())
    if factory is None:
        raise UnknownNameError(
            f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}."
            + did_you_mean(name, list(EXECUTORS))
        )
    return factory(workers, address)


__all__ = ["EXECUTORS", "Executor", "make_executor"]
