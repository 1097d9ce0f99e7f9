"""Recurrent models: the DynamicalModel interface, PL models, and the registry."""

from attractor.models.alrnn import ALRNN
from attractor.models.base import DynamicalModel
from attractor.models.plrnn import PLRNN, ShallowPLRNN
from attractor.models.registry import MODELS, create, from_config, model_names, register

__all__ = [
    "ALRNN",
    "MODELS",
    "PLRNN",
    "DynamicalModel",
    "ShallowPLRNN",
    "create",
    "from_config",
    "model_names",
    "register",
]
