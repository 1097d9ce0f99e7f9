"""attractor: recurrent neural networks as dynamical systems.

Reconstruct a dynamical system from time series with a recurrent model trained by (generalized)
teacher forcing, measure how faithful it is, and analyse what it learned.

>>> import attractor
>>> run = attractor.fit("lorenz63")          # clipped shPLRNN + adaptive GTF, quick preset
>>> run.metrics["D_stsp"], run.path
"""

from attractor.data.embedding import delay_embed, embed
from attractor.data.files import read_series, write_series
from attractor.data.real import list_datasets, load_dataset
from attractor.data.series import Scaler, TimeSeries
from attractor.data.systems import SystemInfo, list_systems, load_system, system_info
from attractor.errors import AttractorError
from attractor.fit import fit, prepare_data
from attractor.models import ALRNN, PLRNN, DynamicalModel, ShallowPLRNN, create, model_names
from attractor.runs import Run, load_run
from attractor.train.forcing import make_forcing
from attractor.train.loop import TrainConfig

__version__ = "0.1.0"

__all__ = [
    "ALRNN",
    "PLRNN",
    "AttractorError",
    "DynamicalModel",
    "Run",
    "Scaler",
    "ShallowPLRNN",
    "SystemInfo",
    "TimeSeries",
    "TrainConfig",
    "__version__",
    "create",
    "delay_embed",
    "embed",
    "fit",
    "list_datasets",
    "list_systems",
    "load_dataset",
    "load_run",
    "load_system",
    "make_forcing",
    "model_names",
    "prepare_data",
    "read_series",
    "system_info",
    "write_series",
]
