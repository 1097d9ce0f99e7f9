"""Recurrent models: the DynamicalModel interface, PL models, and the registry."""

from attractor.models.alrnn import ALRNN
from attractor.models.alrnn_lsq import HingeALRNN
from attractor.models.base import DynamicalModel
from attractor.models.gated import GRU, LSTM, DiagGRU, DiagLSTM
from attractor.models.leaky import LeakyRNN
from attractor.models.plrnn import PLRNN, ShallowPLRNN
from attractor.models.registry import MODELS, create, from_config, model_names, register

__all__ = [
    "ALRNN",
    "GRU",
    "LSTM",
    "MODELS",
    "PLRNN",
    "DiagGRU",
    "DiagLSTM",
    "DynamicalModel",
    "HingeALRNN",
    "LeakyRNN",
    "ShallowPLRNN",
    "create",
    "from_config",
    "model_names",
    "register",
]
