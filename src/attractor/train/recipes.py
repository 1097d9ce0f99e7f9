"""Training-length presets and the builders that turn a model name plus user overrides into a
model, a forcing and a :class:`TrainConfig`.

The per-model recipes live with the models, in their registry entries
(``get_entry(kind).recipe``, :class:`attractor.models.recipe.Recipe`). One place resolves them,
for ``attractor.fit`` and the benchmarks: explicit arguments first, then the model's recipe,
then the preset.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import torch

from attractor.errors import ConfigError
from attractor.models.base import DynamicalModel
from attractor.models.registry import create, get_entry
from attractor.seeds import Seeds
from attractor.train.forcing import make_forcing
from attractor.train.loop import TrainConfig

#: Training length presets: "quick" is the CLI default (minutes), "full" the benchmark recipe.
PRESETS: dict[str, dict[str, Any]] = {
    # 200 epochs: noise-free Lorenz-63, seeds 0–4, median test D_stsp 0.23 with the named seed
    # streams (0.21 with the earlier seeding; 120 epochs gave 0.48) — figures in the README;
    # about 3 min alone on 2 cores
    "quick": {"epochs": 200, "validate_every": 20},
    # 900 epochs: seed 1 of the noisy Lorenz-63 benchmark reached test D_stsp 0.091 (0.423 at 300)
    "full": {"epochs": 900, "validate_every": 25},
}
#: aGTF annealing rate per preset (α ← r·α + (1−r)·α_est): the short schedule anneals faster;
#: measured on noisy Lorenz-63 at 300 epochs, 0.999 gave test D_stsp 0.351 and 0.99 gave 0.381.
PRESET_ANNEAL: dict[str, float] = {"quick": 0.99, "full": 0.999}


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"unknown device {device!r}; use auto, cpu or cuda.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' was asked for but no CUDA GPU is available; use 'cpu'.")
    return dev


def build_model(
    kind: str, obs_dim: int, latent: int | None, hidden: int | None, n_relu: int | None, seed: int
) -> DynamicalModel:
    entry = get_entry(kind)
    kw = dict(entry.recipe.model)
    if hidden is not None:
        kw["hidden_dim"] = hidden
    if n_relu is not None:
        kw["n_relu"] = n_relu
    if latent is not None:
        kw["latent_dim"] = latent
    else:  # the recipe's size, but at least what the model needs for these data
        floor = entry.cls.min_latent_dim(obs_dim, **kw)
        kw["latent_dim"] = max(kw.get("latent_dim", floor), floor)
    with Seeds(seed).torch_default("init"):  # nn.init draws from torch's default generator
        return create(kind, obs_dim, **kw)


def build_forcing(
    kind: str,
    preset: str,
    forcing: str | None = None,
    alpha: float | None = None,
    interval: int | None = None,
    estimator: str = "geometric",
    anneal: float | None = None,
):
    """The forcing for ``kind``: explicit arguments first, then the model's recipe, then the
    preset's annealing rate (one place that resolves them, for ``fit`` and the benchmarks)."""
    recipe = get_entry(kind).recipe
    return make_forcing(
        forcing or recipe.forcing,
        alpha=alpha if alpha is not None else recipe.alpha,
        interval=interval if interval is not None else recipe.interval,
        estimator=estimator,
        anneal=_first_set(anneal, recipe.anneal, PRESET_ANNEAL.get(preset, 0.999)),
    )


def _first_set(*values: Any) -> Any:
    return next(v for v in values if v is not None)


def make_train_config(
    preset: str, epochs: int | None, seed: int, overrides: dict[str, Any] | None, kind: str
) -> TrainConfig:
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    recipe = get_entry(kind).recipe
    kw: dict[str, Any] = {**PRESETS[preset], **recipe.train, **(overrides or {})}
    if epochs is not None:
        kw["epochs"] = epochs
    kw["seed"] = seed
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(kw) - known)
    if unknown:
        raise ConfigError(f"unknown training setting(s) {', '.join(unknown)}.")
    cfg = TrainConfig(**kw)
    cfg.check()
    return cfg
