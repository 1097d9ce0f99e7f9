"""Recipe: how a registry model is trained by default (plain data, read by ``attractor.train``).

A recipe holds the model keyword arguments the training builders start from, the forcing
(``agtf``, ``gtf``, ``stf`` or ``none``, with its α / interval / annealing rate) and overrides of
:class:`attractor.train.loop.TrainConfig`. Explicit user arguments beat the recipe, which beats
the training preset (:mod:`attractor.train.recipes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """Per-model defaults: model keyword arguments, forcing, and training overrides."""

    model: dict[str, Any] = field(default_factory=dict)
    forcing: str = "agtf"
    alpha: float | None = None
    interval: int | None = None
    anneal: float | None = None  # None: the preset's annealing rate
    train: dict[str, Any] = field(default_factory=dict)
