"""Training recipes: per-model defaults, training-length presets, and the builders that turn a
model name plus user overrides into a model, a forcing and a :class:`TrainConfig`.

One place resolves them, for ``attractor.fit`` and the benchmarks: explicit arguments first,
then the model's recipe, then the preset.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import torch

from attractor.errors import ConfigError
from attractor.models.base import DynamicalModel
from attractor.models.registry import create, get_entry
from attractor.train.forcing import make_forcing
from attractor.train.loop import TrainConfig


@dataclass(frozen=True)
class Recipe:
    """Per-model defaults: model keyword arguments, forcing, and training overrides."""

    model: dict[str, Any] = field(default_factory=dict)
    forcing: str = "agtf"
    alpha: float | None = None
    interval: int | None = None
    anneal: float | None = None  # None: the preset's annealing rate
    train: dict[str, Any] = field(default_factory=dict)


#: The recipes (REFERENCE §2, tuned on Lorenz-63; see benchmarks/lorenz63.py).
RECIPES: dict[str, Recipe] = {
    "shplrnn": Recipe(model={"hidden_dim": 200}),
    "shplrnn-plain": Recipe(model={"hidden_dim": 200}),
    "plrnn": Recipe(model={"latent_dim": 10}),
    "alrnn": Recipe(
        model={"latent_dim": 20, "n_relu": 2},
        forcing="stf",
        interval=16,
        train={"window_noise": 0.05, "lr": 1e-3, "lr_end": 1e-5},
    ),
    # hinge regression (no BPTT), 16 hinges: noisy Lorenz-63, seeds 0–4, median test D_stsp 0.20
    # (0.15–0.36) in 36 s (P = 4: 1.30–1.60, P = 32: 0.11–0.16; benchmarks/results/alrnn_lsq*.json)
    "alrnn-lsq": Recipe(model={"latent_dim": 20, "n_relu": 16}),
    # gated cells: 32 hidden units (the LSTM's state is [h; c]); untuned defaults, sparse forcing.
    # Their identity readout lives in (−1, 1) while z-scored data reach ±2–3, so they are
    # baselines here, not reconstruction models (see models/gated.py).
    **{
        name: Recipe(
            model={"latent_dim": latent},
            forcing="stf",
            interval=16,
            train={"lr": 1e-3, "lr_end": 1e-5},
        )
        for name, latent in (("gru", 32), ("diaggru", 32), ("lstm", 64), ("diaglstm", 64))
    },
    # deep diagonal SSM: sparse forcing (its Jacobian is autograd-only, so adaptive GTF is costly)
    "ssm": Recipe(forcing="stf", interval=16, train={"lr": 1e-3, "lr_end": 1e-5, "seq_len": 64}),
}

#: Training length presets: "quick" is the CLI default (minutes), "full" the benchmark recipe.
PRESETS: dict[str, dict[str, Any]] = {
    # 200 epochs: noise-free Lorenz-63, seeds 0–4, test D_stsp 0.21 / 0.91 / 0.15 / 0.12 / 0.28
    # (120 epochs gave 0.48 / 2.58 / 0.30 / 0.40 / 1.18); 148 s alone on 2 cores, ~3 min per job
    # with two jobs sharing them
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
        raise ConfigError("--device cuda was asked for but no CUDA GPU is available; use cpu.")
    return dev


def build_model(
    kind: str, obs_dim: int, latent: int | None, hidden: int | None, n_relu: int | None, seed: int
) -> DynamicalModel:
    entry = get_entry(kind)
    recipe = RECIPES.get(kind.lower(), Recipe())
    kw = dict(recipe.model)
    if hidden is not None:
        kw["hidden_dim"] = hidden
    if n_relu is not None:
        kw["n_relu"] = n_relu
    if latent is not None:
        kw["latent_dim"] = latent
    else:  # the recipe's size, but at least what the model needs for these data
        floor = entry.cls.min_latent_dim(obs_dim, **kw)
        kw["latent_dim"] = max(kw.get("latent_dim", floor), floor)
    torch.manual_seed(seed)
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
    recipe = RECIPES.get(kind.lower(), Recipe())
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
    recipe = RECIPES.get(kind.lower(), Recipe())
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
