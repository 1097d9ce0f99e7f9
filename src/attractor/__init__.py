"""attractor: recurrent neural networks as dynamical systems.

Reconstruct a dynamical system from time series with a recurrent model trained by (generalized)
teacher forcing, measure how faithful it is, and analyse what it learned.

>>> import attractor
>>> run = attractor.fit("lorenz63")          # clipped shPLRNN + adaptive GTF, quick preset
>>> run.metrics["D_stsp"], run.path
"""

from attractor.analysis import analyze_run, find_fixed_points, find_orbits, symbolic_dynamics
from attractor.api.fit import fit
from attractor.api.task import analyze_task_run, fit_hmm, fit_task
from attractor.bench import make_spec, run_sweep
from attractor.data.embedding import delay_embed, embed
from attractor.data.files import read_series, write_series
from attractor.data.filters import Preprocess, preprocess
from attractor.data.pipeline import prepare_data
from attractor.data.real import list_datasets, load_dataset
from attractor.data.series import Scaler, TimeSeries
from attractor.data.systems import SystemInfo, list_systems, load_system, system_info
from attractor.errors import AttractorError
from attractor.models import (
    ALRNN,
    PLRNN,
    DynamicalModel,
    HingeALRNN,
    ShallowPLRNN,
    create,
    model_names,
)
from attractor.models.gated import GRU, LSTM, DiagGRU, DiagLSTM
from attractor.models.leaky import LeakyRNN
from attractor.models.reservoir import EchoStateNetwork
from attractor.models.ssm import DiagonalSSM
from attractor.parallel import linear_scan, newton_solve
from attractor.runs.directory import Run, load_run
from attractor.train.forcing import make_forcing
from attractor.train.loop import TrainConfig
from attractor.train.parallel_rollout import parallel_forced_rollout, parallel_simulate

__version__ = "0.1.0"

__all__ = [
    "ALRNN",
    "GRU",
    "LSTM",
    "PLRNN",
    "AttractorError",
    "DiagGRU",
    "DiagLSTM",
    "DiagonalSSM",
    "DynamicalModel",
    "EchoStateNetwork",
    "HingeALRNN",
    "LeakyRNN",
    "Preprocess",
    "Run",
    "Scaler",
    "ShallowPLRNN",
    "SystemInfo",
    "TimeSeries",
    "TrainConfig",
    "__version__",
    "analyze_run",
    "analyze_task_run",
    "create",
    "delay_embed",
    "embed",
    "find_fixed_points",
    "find_orbits",
    "fit",
    "fit_hmm",
    "fit_task",
    "linear_scan",
    "list_datasets",
    "list_systems",
    "load_dataset",
    "load_run",
    "load_system",
    "make_forcing",
    "make_spec",
    "model_names",
    "newton_solve",
    "parallel_forced_rollout",
    "parallel_simulate",
    "prepare_data",
    "preprocess",
    "read_series",
    "run_sweep",
    "symbolic_dynamics",
    "system_info",
    "write_series",
]
