"""``ray``: each job is a Ray task (``num_cpus=1``).

Without an address a local Ray instance is started with ``workers`` CPUs; with one, the driver
connects to that cluster after checking that its address answers (so a wrong address fails in
seconds with one sentence instead of Ray's long retry loop).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

from attractor.bench.executors.base import crashed
from attractor.bench.jobs import run_job
from attractor.bench.spec import Job
from attractor.errors import ConfigError

#: Seconds to wait for a Ray cluster's address to accept a TCP connection.
RAY_CONNECT_TIMEOUT = 5.0


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
            f"{RAY_CONNECT_TIMEOUT:.0f} s); start one with `ray start --head` or drop address=."
        ) from None


class RayExecutor:
    """Jobs as Ray tasks on a local instance (default) or the cluster at ``address``."""

    name = "ray"

    def __init__(self, workers: int, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError(
                "executor='ray' needs the ray package; install attractor[bench]."
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
                out.append((ref, crashed(f"the Ray task failed ({type(exc).__name__}: {exc}).")))
        return out

    def shutdown(self) -> None:
        if self._own:
            self._ray.shutdown()
