"""Training: forcing strategies, the forced rollout, the loop, recipes, progress reporting.

Names are re-exported lazily (PEP 562), so ``attractor.train.display`` and
``attractor.train.progress`` — used by the command line at start-up — do not import torch.
"""

from __future__ import annotations

from attractor import lazy_exports

#: Public name → the module of attractor.train that defines it.
_EXPORTS: dict[str, str] = {
    "Forcing": "forcing",
    "GeneralizedForcing": "forcing",
    "NoForcing": "forcing",
    "SparseForcing": "forcing",
    "estimate_sigma": "forcing",
    "make_forcing": "forcing",
    "TrainConfig": "loop",
    "TrainResult": "loop",
    "train": "loop",
    "forced_rollout": "rollout",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"{__name__}.{module}" for name, module in _EXPORTS.items()}
)
