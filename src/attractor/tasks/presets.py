"""Named settings for the memory tasks: ``quick`` (the default, minutes on a laptop) and
``paper`` (the published sizes, REFERENCE §4).

A preset fills every setting the caller leaves unset; explicit arguments always win. Binary
tasks (N-parity, N-DMS)::

    quick:  128 units, batch 128, 200 SGD steps per epoch, τ_net from 10 trials × 2,000 steps
    paper:  500 units, batch 256, 600 SGD steps per epoch, τ_net from 10 trials × 10,000 steps

Both use the published optimiser (SGD lr 0.05, Nesterov momentum 0.1, clip 2.0, threshold
98 %). The HMM emulation has no published network size; ``quick`` is 64 units and 600 steps
(≈ 2 min here) and ``paper`` 128 units and 3,000 steps.

Durations are written as seconds or with a unit: ``90``, ``90s``, ``5m``, ``1.5h``.
"""

from __future__ import annotations

import re
from typing import Any

from attractor.errors import ConfigError, UnknownNameError, did_you_mean

PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "hidden": 128,
        "batch_size": 128,
        "steps_per_epoch": 200,
        "tau_trials": 10,
        "tau_steps": 2_000,
    },
    "paper": {
        "hidden": 500,
        "batch_size": 256,
        "steps_per_epoch": 600,
        "tau_trials": 10,
        "tau_steps": 10_000,
    },
}
HMM_PRESETS: dict[str, dict[str, Any]] = {
    "quick": {"hidden": 64, "steps": 600},
    "paper": {"hidden": 128, "steps": 3_000},
}
DEFAULT_PRESET = "quick"

_DURATION = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([smh]?)\s*$")
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def preset(name: str, table: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The settings of preset ``name`` (a copy)."""
    table = PRESETS if table is None else table
    key = name.lower()
    if key not in table:
        raise UnknownNameError(
            f"unknown preset {name!r}; choose one of {', '.join(table)}."
            + did_you_mean(name, list(table))
        )
    return dict(table[key])


def resolve(name: str, given: dict[str, Any], table: dict[str, dict[str, Any]] | None = None):
    """Preset ``name`` overridden by every non-``None`` value in ``given``."""
    out = preset(name, table)
    out.update({k: v for k, v in given.items() if v is not None})
    return out


def parse_duration(text: str | float | None, what: str = "time budget") -> float | None:
    """Seconds from ``90``, ``90s``, ``5m`` or ``1.5h``; ``None`` stays ``None``; must be > 0."""
    if text is None:
        return None
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        m = _DURATION.match(text)
        if not m:
            raise ConfigError(
                f"the {what} {text!r} is not a duration; write seconds or e.g. 90s, 5m, 1.5h."
            )
        seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if not seconds > 0:
        raise ConfigError(f"the {what} must be positive, got {text!r}.")
    return seconds
