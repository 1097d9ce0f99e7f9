"""Training: forcing strategies, the forced rollout, the loop, progress reporting."""

from attractor.train.forcing import (
    Forcing,
    GeneralizedForcing,
    NoForcing,
    SparseForcing,
    estimate_sigma,
    make_forcing,
)
from attractor.train.loop import TrainConfig, TrainResult, train
from attractor.train.rollout import forced_rollout

__all__ = [
    "Forcing",
    "GeneralizedForcing",
    "NoForcing",
    "SparseForcing",
    "TrainConfig",
    "TrainResult",
    "estimate_sigma",
    "forced_rollout",
    "make_forcing",
    "train",
]
