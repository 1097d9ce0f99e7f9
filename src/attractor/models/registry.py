"""Model registry: name → constructor, so configs and the CLI can say ``"shplrnn"``.

Each entry maps a user-facing name to a class and the keyword defaults that name implies
(``"shplrnn-plain"`` is the shallow PLRNN without clipping). ``create`` builds a model from
a name, the observed dimension and keyword overrides; ``from_config`` rebuilds one from the
``{"kind": …, **config()}`` dictionary a run directory stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attractor.errors import ConfigError, UnknownNameError, did_you_mean
from attractor.models.alrnn import ALRNN
from attractor.models.alrnn_lsq import HingeALRNN
from attractor.models.base import DynamicalModel
from attractor.models.baselines import LastValue, MeanValue
from attractor.models.gated import GRU, LSTM, DiagGRU, DiagLSTM
from attractor.models.leaky import LeakyRNN
from attractor.models.plrnn import PLRNN, ShallowPLRNN
from attractor.models.reservoir import EchoStateNetwork
from attractor.models.rpy_esn import ReservoirPyESN
from attractor.models.sindy import SINDy
from attractor.models.ssm import DiagonalSSM


@dataclass(frozen=True)
class ModelEntry:
    cls: type[DynamicalModel]
    defaults: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


MODELS: dict[str, ModelEntry] = {
    "shplrnn": ModelEntry(ShallowPLRNN, {"clipped": True}, "clipped shallow PLRNN (default)"),
    "shplrnn-plain": ModelEntry(ShallowPLRNN, {"clipped": False}, "shallow PLRNN, plain ReLU"),
    "plrnn": ModelEntry(PLRNN, {}, "vanilla PLRNN, z' = A z + W ReLU(z) + h"),
    "alrnn": ModelEntry(ALRNN, {}, "almost-linear RNN, last P units ReLU"),
    "alrnn-lsq": ModelEntry(HingeALRNN, {}, "AL-RNN fitted in seconds by hinge regression"),
    "gru": ModelEntry(GRU, {}, "standard GRU cell (dense recurrent weights)"),
    "lstm": ModelEntry(LSTM, {}, "standard LSTM cell, state [h; c]"),
    "diaggru": ModelEntry(DiagGRU, {}, "diagonal GRU (ParaGRU-style), diagonal Jacobian"),
    "diaglstm": ModelEntry(DiagLSTM, {}, "diagonal LSTM (ParaLSTM-style), 2×2 block Jacobian"),
    "leaky": ModelEntry(LeakyRNN, {}, "leaky RNN with learnable per-neuron τ (memory tasks)"),
    "ssm": ModelEntry(DiagonalSSM, {}, "deep diagonal linear state-space model (S4D-style)"),
    "esn": ModelEntry(EchoStateNetwork, {}, "echo-state network, ridge readout (ours)"),
    "esn-rpy": ModelEntry(ReservoirPyESN, {}, "echo-state network built by reservoirpy"),
    "sindy": ModelEntry(SINDy, {}, "SINDy polynomial vector field (pysindy), RK4 map"),
    "naive-last": ModelEntry(LastValue, {}, "naive baseline: repeat the last value"),
    "naive-mean": ModelEntry(MeanValue, {}, "naive baseline: the training mean"),
}


def model_names() -> list[str]:
    return sorted(MODELS)


def get_entry(name: str) -> ModelEntry:
    key = name.lower()
    if key not in MODELS:
        raise UnknownNameError(
            f"unknown model {name!r}; known models: {', '.join(model_names())}."
            + did_you_mean(name, model_names())
        )
    return MODELS[key]


def create(name: str, obs_dim: int, **kwargs: Any) -> DynamicalModel:
    """Build model ``name`` for ``obs_dim`` observed channels; ``None`` kwargs are ignored."""
    entry = get_entry(name)
    kw = {**entry.defaults, **{k: v for k, v in kwargs.items() if v is not None}}
    try:
        return entry.cls(obs_dim=obs_dim, **kw)
    except TypeError as exc:
        raise ConfigError(f"model {name!r} does not accept these settings: {exc}.") from None


def from_config(kind: str, config: dict[str, Any]) -> DynamicalModel:
    """Rebuild a model from its registry kind and :meth:`DynamicalModel.config`."""
    entry = get_entry(kind)
    return entry.cls(**config)


def register(name: str, cls: type[DynamicalModel], summary: str = "", **defaults: Any) -> None:
    """Add a model to the registry (for user extensions)."""
    if not issubclass(cls, DynamicalModel):
        raise ConfigError(f"{cls.__name__} is not a DynamicalModel subclass.")
    MODELS[name.lower()] = ModelEntry(cls, defaults, summary)
