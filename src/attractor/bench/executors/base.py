"""The executor interface the sweep driver talks to, and the result of a job that crashed.

``slots`` jobs may be in flight; ``submit(job)`` starts one and returns a handle;
``wait(handles, timeout)`` returns the ``(handle, result)`` pairs that finished; ``shutdown()``
releases the workers. Workers only compute (:func:`attractor.bench.jobs.run_job`) and return
results; the driver alone writes the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from attractor.bench.spec import Job


class Executor(Protocol):
    """Where jobs run (see the module docstring)."""

    name: str
    slots: int

    def submit(self, job: Job) -> Any: ...

    def wait(self, handles: Sequence[Any], timeout: float | None = None) -> list[tuple]: ...

    def shutdown(self) -> None: ...


def crashed(reason: str) -> dict[str, Any]:
    """The result recorded for a job whose worker died or could not return."""
    return {"status": "failed", "metrics": {}, "timings": {}, "error": reason, "traces": None}
