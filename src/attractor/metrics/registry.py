"""The metric registry: one entry per metric — its key, label, direction and how it is computed.

The key is the name a metric has in ``metrics.json``, in the results store and in leaderboards
(``"D_stsp"``, ``"PE(20)"``, ``"vpt_lyapunov"``); the label is how tables and reports name it;
``lower_is_better`` is its direction (``None`` for a property of the model, such as ``λ_max``,
that is compared with a reference rather than ranked).

A metric with a ``fn`` compares a model's free run with held-out data:
``fn(c: Comparison) -> float | None`` (``None``: not defined for these data, the key is left
out). :func:`attractor.metrics.protocol.evaluate` computes every such entry, in registry order,
so adding a metric is one file in ``metrics/`` plus one :func:`register` call::

    from attractor.metrics.registry import MetricEntry, register
    register(MetricEntry("rmse", "RMSE", True, fn=lambda c: rms(c.true - c.generated)))

Entries without ``fn`` are reported by a protocol that needs more than one free run — the
model's Jacobians (``λ_max``), many forecasts (``VPT``) or the benchmarks' forecast protocol —
and are here for their label and direction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from attractor.errors import ConfigError, UnknownNameError, did_you_mean

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Comparison:
    """What a free-run metric compares: held-out data and the model's free run, both ``(T, N)``
    in the model's (standardised) units, sampled every ``dt``; ``d_stsp_method`` is the D_stsp
    estimator the run asked for (``auto`` | ``binned`` | ``gmm``)."""

    true: np.ndarray
    generated: np.ndarray
    dt: float = 1.0
    d_stsp_method: str = "auto"


@dataclass(frozen=True)
class MetricEntry:
    """One metric: ``key`` (as stored), ``label`` (as shown), ``lower_is_better`` (``None``: not
    ranked), ``fn`` (free-run metrics; ``None``: reported by a protocol), ``protocol`` (which
    evaluation reports it: ``reconstruction`` or ``forecast``), ``on_diverged`` (its value when
    the free run diverged; ``None`` leaves it out) and a one-line ``summary``."""

    key: str
    label: str
    lower_is_better: bool | None
    fn: Callable[[Comparison], float | None] | None = None
    protocol: str = "reconstruction"
    on_diverged: float | None = math.inf
    summary: str = ""

    @property
    def worst(self) -> float:
        """The worst possible value (``+inf`` if lower is better, 0 otherwise): what a failed
        job counts as."""
        return math.inf if self.lower_is_better else 0.0


# ---------------------------------------------------------------------------- the free-run metrics
def _d_stsp(c: Comparison) -> float:
    from attractor.metrics.geometry import d_stsp

    return d_stsp(c.true, c.generated, method=c.d_stsp_method)


def _uncovered(c: Comparison) -> float | None:
    """The share of test points in cells the free run never visits, where D_stsp is binned."""
    from attractor.metrics.geometry import MAX_BINNED_DIM, coverage

    binned = c.d_stsp_method == "binned" or (
        c.d_stsp_method == "auto" and c.true.shape[1] <= MAX_BINNED_DIM
    )
    return coverage(c.true, c.generated)["uncovered"] if binned else None


def _d_h(c: Comparison) -> float:
    from attractor.metrics.spectrum import d_h

    return d_h(c.true, c.generated)


_BUILTIN = (
    MetricEntry("D_stsp", "D_stsp", True, _d_stsp, summary="state-space divergence"),
    MetricEntry(
        "uncovered",
        "share of test points in unvisited cells",
        True,
        _uncovered,
        on_diverged=None,
        summary="true mass in grid cells the free run never visits (binned D_stsp only)",
    ),
    MetricEntry("D_H", "D_H", True, _d_h, summary="Hellinger distance of power spectra"),
    MetricEntry("PE(20)", "PE(20)", True, summary="20-step prediction error"),
    MetricEntry("lambda_max", "λ_max (per time unit)", None, summary="largest Lyapunov exponent"),
    MetricEntry(
        "lambda_max_error",
        "λ_max rel. error",
        True,
        summary="|λ_model − λ_ref| / |λ_ref| against the system's reference",
    ),
    MetricEntry("kaplan_yorke_dimension", "Kaplan–Yorke dimension", None),
    MetricEntry("vpt_lyapunov_times", "VPT (Lyapunov times)", False),
    MetricEntry("vpt_time", "VPT (time units)", False),
    MetricEntry("vpt_steps", "VPT (steps)", False),
    MetricEntry("vpt_lyapunov", "VPT (Lyapunov times, NRMSE)", False, protocol="forecast"),
    MetricEntry("vpt_smape_steps", "VPT (steps, sMAPE)", False, protocol="forecast"),
    MetricEntry("vpt_smape_lyapunov", "VPT (Lyapunov times, sMAPE)", False, protocol="forecast"),
    MetricEntry("smape_2p", "sMAPE, 2 periods", True, protocol="forecast"),
    MetricEntry("smape", "sMAPE, 50 periods", True, protocol="forecast"),
)

#: The registry, in display order: key → entry.
METRICS: dict[str, MetricEntry] = {m.key: m for m in _BUILTIN}
_BUILTIN_KEYS = frozenset(METRICS)


def metric_keys() -> list[str]:
    """Every registered key, in registry order."""
    return list(METRICS)


def get_metric(key: str) -> MetricEntry:
    """The entry of ``key``; an unknown key raises :class:`UnknownNameError` naming the keys."""
    if key not in METRICS:
        raise UnknownNameError(
            f"unknown metric {key!r}; known metrics: {', '.join(METRICS)}."
            + did_you_mean(key, list(METRICS))
        )
    return METRICS[key]


def free_run_metrics() -> list[MetricEntry]:
    """The entries computed from a :class:`Comparison`, in registry order."""
    return [m for m in METRICS.values() if m.fn is not None]


def register(entry: MetricEntry, replace: bool = False) -> MetricEntry:
    """Add a metric (user extensions); an existing key needs ``replace=True``."""
    if not isinstance(entry, MetricEntry):
        raise ConfigError(f"register takes a MetricEntry, got {type(entry).__name__}.")
    if entry.key in METRICS and not replace:
        raise ConfigError(
            f"a metric {entry.key!r} is already registered; pass replace=True to replace it."
        )
    METRICS[entry.key] = entry
    return entry


def unregister(key: str) -> None:
    """Remove a user metric (unknown key: :class:`UnknownNameError`; built-ins stay)."""
    get_metric(key)
    if key in _BUILTIN_KEYS:
        raise ConfigError(f"{key!r} is a built-in metric and cannot be removed.")
    del METRICS[key]
