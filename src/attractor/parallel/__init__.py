"""Parallel-in-time primitives: associative scans and Newton (DEER/ParaRNN) solves.

The ground floor of the library: pure tensor code that imports nothing from attractor except
its errors. Models and training adapt to it (:mod:`attractor.train.parallel_rollout`).
"""

from attractor.parallel.newton import (
    NewtonFallbackWarning,
    NewtonResult,
    newton_solve,
    sequential_solve,
)
from attractor.parallel.scan import linear_scan, reverse_adjoint, sequential_scan

__all__ = [
    "NewtonFallbackWarning",
    "NewtonResult",
    "linear_scan",
    "newton_solve",
    "reverse_adjoint",
    "sequential_scan",
    "sequential_solve",
]
