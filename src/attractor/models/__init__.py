"""Recurrent models: the DynamicalModel interface, its declared capabilities, and the registry."""

from attractor.models.alrnn import ALRNN
from attractor.models.alrnn_lsq import HingeALRNN
from attractor.models.base import (
    DirectFit,
    DynamicalModel,
    MatrixFreeJVP,
    PiecewiseLinear,
    StructuredJacobian,
)
from attractor.models.gated import GRU, LSTM, DiagGRU, DiagLSTM
from attractor.models.leaky import LeakyRNN
from attractor.models.plrnn import PLRNN, ShallowPLRNN
from attractor.models.recipe import Recipe
from attractor.models.registry import (
    MODELS,
    ModelEntry,
    create,
    from_config,
    get_entry,
    model_names,
    register,
    unregister,
)

__all__ = [
    "ALRNN",
    "GRU",
    "LSTM",
    "MODELS",
    "PLRNN",
    "DiagGRU",
    "DiagLSTM",
    "DirectFit",
    "DynamicalModel",
    "HingeALRNN",
    "LeakyRNN",
    "MatrixFreeJVP",
    "ModelEntry",
    "PiecewiseLinear",
    "Recipe",
    "ShallowPLRNN",
    "StructuredJacobian",
    "create",
    "from_config",
    "get_entry",
    "model_names",
    "register",
    "unregister",
]
