"""Benchmarks: systems × models × seeds, run by an executor, recorded in a SQLite store.

>>> from attractor.bench import make_spec, run_sweep
>>> spec = make_spec(suite="quick", models="shplrnn,esn", seeds="0", budget_seconds=60)
>>> run_sweep(spec, "runs/bench.sqlite", workers=2)
"""

from attractor.bench.spec import BenchSpec, Job, Settings, load_spec, make_spec
from attractor.bench.store import Store, StoreError
from attractor.bench.sweep import SweepSummary, run_sweep

__all__ = [
    "BenchSpec",
    "Job",
    "Settings",
    "Store",
    "StoreError",
    "SweepSummary",
    "load_spec",
    "make_spec",
    "run_sweep",
]
