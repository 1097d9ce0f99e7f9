"""attractor: recurrent neural networks as dynamical systems.

Reconstruct a dynamical system from time series with a recurrent model trained by (generalized)
teacher forcing, measure how faithful it is, and analyse what it learned.

>>> import attractor
>>> run = attractor.fit("lorenz63")          # clipped shPLRNN + adaptive GTF, quick preset
>>> run.metrics["D_stsp"], run.path

The public names below are re-exported lazily (PEP 562): ``import attractor`` loads none of torch,
scipy or the layers; the first use of a name imports the module that defines it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any

from attractor.errors import AttractorError as AttractorError

__version__ = "0.1.0"

#: Public name → the module that defines it (imported on first use).
_EXPORTS: dict[str, str] = {
    # one-call API
    "fit": "attractor.api.fit",
    "Reconstructor": "attractor.api.estimator",
    "analyze_task_run": "attractor.api.task",
    "fit_hmm": "attractor.api.task",
    "fit_task": "attractor.api.task",
    # runs
    "Run": "attractor.runs.directory",
    "load_run": "attractor.runs.directory",
    # data
    "TimeSeries": "attractor.data.series",
    "Scaler": "attractor.data.series",
    "read_series": "attractor.data.files",
    "write_series": "attractor.data.files",
    "delay_embed": "attractor.data.embedding",
    "embed": "attractor.data.embedding",
    "Preprocess": "attractor.data.filters",
    "preprocess": "attractor.data.filters",
    "prepare_data": "attractor.data.pipeline",
    "list_datasets": "attractor.data.datasets",
    "load_dataset": "attractor.data.datasets",
    "SystemInfo": "attractor.data.systems",
    "list_systems": "attractor.data.systems",
    "load_system": "attractor.data.systems",
    "system_info": "attractor.data.systems",
    # models
    "DynamicalModel": "attractor.models",
    "PLRNN": "attractor.models",
    "ShallowPLRNN": "attractor.models",
    "ALRNN": "attractor.models",
    "HingeALRNN": "attractor.models",
    "GRU": "attractor.models",
    "LSTM": "attractor.models",
    "DiagGRU": "attractor.models",
    "DiagLSTM": "attractor.models",
    "LeakyRNN": "attractor.models",
    "EchoStateNetwork": "attractor.models.reservoir",
    "DiagonalSSM": "attractor.models.ssm",
    "create": "attractor.models",
    "model_names": "attractor.models",
    # training and the parallel solvers
    "TrainConfig": "attractor.train.loop",
    "make_forcing": "attractor.train.forcing",
    "parallel_forced_rollout": "attractor.train.parallel_rollout",
    "parallel_simulate": "attractor.train.parallel_rollout",
    "linear_scan": "attractor.parallel",
    "newton_solve": "attractor.parallel",
    # analysis and benchmarks
    "analyze_run": "attractor.analysis",
    "find_fixed_points": "attractor.analysis",
    "find_orbits": "attractor.analysis",
    "symbolic_dynamics": "attractor.analysis",
    "make_spec": "attractor.bench",
    "run_sweep": "attractor.bench",
}

#: Subpackages reachable as attributes (``attractor.models.MODELS``) without an explicit import.
_SUBPACKAGES = frozenset(
    {"analysis", "api", "bench", "data", "io", "metrics", "models", "parallel", "plots", "runs"}
    | {"tasks", "train"}
)

__all__ = sorted([*_EXPORTS, "AttractorError", "__version__"])


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Any, Any]:
    """PEP 562 ``__getattr__`` and ``__dir__`` for ``package``: each public name in ``exports``
    (name → the module defining it) is imported on first use and then cached in the package.

    Used by this package and its subpackages (``metrics``, ``plots``, ``train``), so importing
    one name never imports the layers behind the others (``attractor --help`` without torch).
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__


_getattr, __dir__ = lazy_exports(__name__, _EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"attractor.{name}")
    return _getattr(name)
