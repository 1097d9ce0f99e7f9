"""Model registry: name → constructor and training recipe, so configs and the CLI can say
``"shplrnn"``.

Each entry maps a user-facing name to a class, the keyword defaults that name implies
(``"shplrnn-plain"`` is the shallow PLRNN without clipping), its training :class:`Recipe` and a
one-line summary. ``create`` builds a model from a name, the observed dimension and keyword
overrides; ``from_config`` rebuilds one from the ``{"kind": …, **config()}`` dictionary a run
directory stores. A new model is one file in ``models/`` plus one :func:`register` call (or one
line in :data:`MODELS`).
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
from attractor.models.parroting import ContextParroting
from attractor.models.plrnn import PLRNN, ShallowPLRNN
from attractor.models.recipe import Recipe
from attractor.models.reservoir import EchoStateNetwork
from attractor.models.rpy_esn import ReservoirPyESN
from attractor.models.sindy import SINDy
from attractor.models.ssm import DiagonalSSM


@dataclass(frozen=True)
class ModelEntry:
    """A registry name's class, its keyword defaults, training recipe and one-line summary."""

    cls: type[DynamicalModel]
    defaults: dict[str, Any] = field(default_factory=dict)
    recipe: Recipe = field(default_factory=Recipe)
    summary: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.cls, type) and issubclass(self.cls, DynamicalModel)):
            raise ConfigError(f"{self.cls!r} is not a DynamicalModel subclass.")
        if not isinstance(self.recipe, Recipe):
            raise ConfigError(
                f"recipe must be an attractor.models.Recipe, got {self.recipe!r} "
                "(ModelEntry's fields are cls, defaults, recipe, summary)."
            )


#: Recipes (REFERENCE §2, tuned on Lorenz-63; see benchmarks/lorenz63.py).
_SHPLRNN = Recipe(model={"hidden_dim": 200})
#: Sparse forcing every 16 steps with a smaller learning rate (AL-RNN, gated cells, SSM).
_STF_SLOW = {"forcing": "stf", "interval": 16}
_LR_SLOW = {"lr": 1e-3, "lr_end": 1e-5}
#: Gated cells: 32 hidden units (the LSTM's state is [h; c]); untuned defaults, sparse forcing.
#: Their identity readout lives in (−1, 1) while z-scored data reach ±2–3, so they are baselines
#: here, not reconstruction models (see models/gated.py).
_GRU = Recipe(model={"latent_dim": 32}, train=_LR_SLOW, **_STF_SLOW)
_LSTM = Recipe(model={"latent_dim": 64}, train=_LR_SLOW, **_STF_SLOW)

MODELS: dict[str, ModelEntry] = {
    "shplrnn": ModelEntry(
        ShallowPLRNN, {"clipped": True}, _SHPLRNN, "clipped shallow PLRNN (default)"
    ),
    "shplrnn-plain": ModelEntry(
        ShallowPLRNN, {"clipped": False}, _SHPLRNN, "shallow PLRNN, plain ReLU"
    ),
    "plrnn": ModelEntry(
        PLRNN, {}, Recipe(model={"latent_dim": 10}), "vanilla PLRNN, z' = A z + W ReLU(z) + h"
    ),
    "alrnn": ModelEntry(
        ALRNN,
        {},
        Recipe(
            model={"latent_dim": 20, "n_relu": 2},
            train={"window_noise": 0.05, **_LR_SLOW},
            **_STF_SLOW,
        ),
        "almost-linear RNN, last P units ReLU",
    ),
    # hinge regression (no BPTT), 16 hinges: noisy Lorenz-63, seeds 0–4, median test D_stsp 0.20
    # (0.15–0.36) in 36 s (P = 4: 1.30–1.60, P = 32: 0.11–0.16; benchmarks/results/alrnn_lsq*.json)
    "alrnn-lsq": ModelEntry(
        HingeALRNN,
        {},
        Recipe(model={"latent_dim": 20, "n_relu": 16}),
        "AL-RNN fitted in seconds by hinge regression",
    ),
    "gru": ModelEntry(GRU, {}, _GRU, "standard GRU cell (dense recurrent weights)"),
    "lstm": ModelEntry(LSTM, {}, _LSTM, "standard LSTM cell, state [h; c]"),
    "diaggru": ModelEntry(DiagGRU, {}, _GRU, "diagonal GRU (ParaGRU-style), diagonal Jacobian"),
    "diaglstm": ModelEntry(
        DiagLSTM, {}, _LSTM, "diagonal LSTM (ParaLSTM-style), 2×2 block Jacobian"
    ),
    "leaky": ModelEntry(
        LeakyRNN, {}, Recipe(), "leaky RNN with learnable per-neuron τ (memory tasks)"
    ),
    # deep diagonal SSM: sparse forcing (its Jacobian is autograd-only, so adaptive GTF is costly)
    "ssm": ModelEntry(
        DiagonalSSM,
        {},
        Recipe(train={**_LR_SLOW, "seq_len": 64}, **_STF_SLOW),
        "deep diagonal linear state-space model (S4D-style)",
    ),
    "esn": ModelEntry(EchoStateNetwork, {}, Recipe(), "echo-state network, ridge readout (ours)"),
    "esn-rpy": ModelEntry(ReservoirPyESN, {}, Recipe(), "echo-state network built by reservoirpy"),
    "sindy": ModelEntry(SINDy, {}, Recipe(), "SINDy polynomial vector field (pysindy), RK4 map"),
    "naive-last": ModelEntry(LastValue, {}, Recipe(), "naive baseline: repeat the last value"),
    "naive-mean": ModelEntry(MeanValue, {}, Recipe(), "naive baseline: the training mean"),
    "parroting": ModelEntry(
        ContextParroting,
        {},
        Recipe(),
        "baseline: copy what followed the nearest match of the recent context",
    ),
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


def register(
    name: str,
    cls: type[DynamicalModel],
    summary: str = "",
    recipe: Recipe | None = None,
    **defaults: Any,
) -> ModelEntry:
    """Add model ``name`` (class ``cls``, keyword ``defaults``, training ``recipe``) to the
    registry and return its entry; every model gets forcing, training, metrics and analysis."""
    entry = ModelEntry(cls, defaults, Recipe() if recipe is None else recipe, summary)
    MODELS[name.lower()] = entry
    return entry


def unregister(name: str) -> None:
    """Remove a model added with :func:`register` (tests, interactive sessions)."""
    get_entry(name)
    del MODELS[name.lower()]
