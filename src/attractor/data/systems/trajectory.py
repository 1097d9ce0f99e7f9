"""``load_system``: a seeded, cached trajectory of a dysts system as a TimeSeries.

Sampling, initial conditions, seeds and transients follow the conventions stated in
:mod:`attractor.data.systems`; the values come from :mod:`.integrate` or the disk cache
(:mod:`.cache`), and observation noise is added after the cache.
"""

from __future__ import annotations

import json
import math
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from attractor.data.series import TimeSeries
from attractor.data.systems import integrate
from attractor.data.systems.cache import (
    CACHE_FORMAT,
    cache_key,
    default_cache_dir,
    read_cache,
    write_cache,
)
from attractor.data.systems.catalogue import (
    PTS_PER_PERIOD,
    canonical_name,
    channel_names,
    dysts_flows,
    dysts_version,
    entry,
)
from attractor.data.systems.integrate import ATOL, FALLBACK_METHOD, METHOD, RTOL
from attractor.errors import DataError

#: Default transient, in dominant periods, integrated and dropped before the returned samples.
TRANSIENT_PERIODS = 10
#: Delay systems also drop at least this many delays τ (their constant history is off-attractor).
TRANSIENT_DELAYS = 10
#: Size of the seeded initial-condition perturbation, in units of the attractor's per-channel std.
IC_PERTURBATION = 0.01
#: Seeds k > 0 also start sampling a seeded U(0, SEED_OFFSET_PERIODS) periods later, so that weakly
#: chaotic and quasi-periodic systems, where a small perturbation barely grows, still give
#: trajectories at another phase of the attractor.
SEED_OFFSET_PERIODS = 10

_IC_STREAM = 0x1C  # separates the initial-condition random stream from the noise stream


def _check_int(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise DataError(f"{what} must be an integer ≥ {minimum}, got {value!r}.")
    return int(value)


def _start_state(
    key: str, m: dict[str, Any], ic: np.ndarray | None, seed: int
) -> tuple[np.ndarray, str, float]:
    """The integration's initial state (ODE: ``(D,)``; delay: ``(1,)`` constant history), where
    it came from, and the seeded extra integration time before the transient."""
    delay = bool(m.get("delay"))
    dim = int(m["embedding_dimension"])
    if ic is None:
        start = np.asarray(m["initial_conditions"], dtype=float)
        origin = "dysts"
    else:
        try:
            start = np.asarray(ic, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise DataError(f"ic must be an array of numbers, got {ic!r}.") from None
        origin = "user"
        sizes = (1, dim) if delay else (dim,)
        if start.size not in sizes or not np.all(np.isfinite(start)):
            want = f"1 or {dim} finite values" if delay else f"{dim} finite values"
            raise DataError(f"ic for {key} must have {want}, got shape {np.shape(ic)}.")
    if delay:
        start = start[:1]  # dysts: constant history equal to the first entry
    offset = 0.0
    if seed > 0:
        std = np.asarray(m.get("std") or np.ones(dim), dtype=float)[: start.size]
        std = np.where(np.isfinite(std), np.abs(std), 0.0)
        rng = np.random.default_rng([_IC_STREAM, seed])
        start = start + IC_PERTURBATION * std * rng.standard_normal(start.size)
        offset = float(rng.uniform(0.0, SEED_OFFSET_PERIODS)) * float(m["period"])
    return start, origin, offset


def load_system(
    name: str,
    n: int = 10_000,
    pts_per_period: int = PTS_PER_PERIOD,
    transient: int | None = None,
    noise: float = 0.0,
    seed: int = 0,
    ic: np.ndarray | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
) -> TimeSeries:
    """A trajectory of dysts system ``name`` as a TimeSeries ``(n, D)`` in the system's units.

    Parameters
    ----------
    name: a name from :func:`list_systems` (case-insensitive).
    n: number of returned samples.
    pts_per_period: samples per dominant period; ``dt = period / pts_per_period``.
    transient: samples integrated and dropped first; default ``TRANSIENT_PERIODS`` periods
        (``10 · pts_per_period``), for delay systems at least ``TRANSIENT_DELAYS`` delays.
    noise: Gaussian observation noise with std ``noise × (per-channel std)``, drawn from ``seed``.
    seed: 0 starts from ``ic`` (default: dysts' stored initial condition); ``k > 0`` from
        ``ic + IC_PERTURBATION · std · ξ``, ``ξ ~ N(0, I)`` drawn from ``k``, and samples
        ``U(0, SEED_OFFSET_PERIODS)`` periods later (also drawn from ``k``).
    ic: initial state (``(D,)``; delay systems: the constant history, one value or dysts'
        ``(D,)`` vector whose first entry is used).
    cache: read and write the clean trajectory from/to the disk cache.
    cache_dir: cache folder (default ``$ATTRACTOR_CACHE/systems`` or
        ``~/.cache/attractor/systems``).

    Returns
    -------
    TimeSeries with ``dt`` the sampling interval, ``source = "dysts:<Name>"`` and ``meta``
    recording everything that determined the values.

    Raises UnknownNameError for an unknown system and DataError for bad settings or an
    integration that fails or leaves the finite numbers.
    """
    key = canonical_name(name)
    n = _check_int(n, "n", 2)
    pts_per_period = _check_int(pts_per_period, "pts_per_period", 2)
    seed = _check_int(seed, "seed", 0)
    if (
        isinstance(noise, bool)
        or not isinstance(noise, Real)
        or not (math.isfinite(noise) and noise >= 0)
    ):
        raise DataError(f"noise must be a finite number ≥ 0, got {noise!r}.")
    m = entry(key)
    delay = bool(m.get("delay"))
    period = float(m["period"])
    h = period / pts_per_period
    tau = float(m["parameters"]["tau"]) if delay else None
    if transient is None:
        transient = TRANSIENT_PERIODS * pts_per_period
        if delay:
            transient = max(transient, math.ceil(TRANSIENT_DELAYS * tau / h))
    transient = _check_int(transient, "transient", 0)
    start, origin, offset = _start_state(key, m, ic, seed)
    dim = int(m["embedding_dimension"])
    lags = np.linspace(0.0, tau, dim) if delay else None

    spec = {
        "format": CACHE_FORMAT,
        "system": key,
        "params": m["parameters"],
        "ic": start.tolist(),
        "n": n,
        "pts_per_period": pts_per_period,
        "period": period,
        "transient": transient,
        "time_offset": offset,
        "integrator": (
            f"method of steps + {METHOD} ({FALLBACK_METHOD} if stiff)"
            if delay
            else f"{METHOD} ({FALLBACK_METHOD} if stiff)"
        ),
        "rtol": RTOL,
        "atol": ATOL,
        "delay_lags": lags.tolist() if lags is not None else None,
        "dysts_version": dysts_version(),
    }
    spec_json = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    path = None
    if cache:
        folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        path = folder / f"{key}-{cache_key(spec)}.npz"

    hit = read_cache(path, spec_json, (n, dim)) if path is not None else None
    if hit is not None:
        values, extra = hit  # served without importing dysts
    else:
        cls = getattr(dysts_flows(), key)
        extra = {
            "names": list(channel_names(cls, dim, delay)),
            "postprocessed": hasattr(cls, "_postprocessing"),
        }
        t_eval = offset + (transient + np.arange(n)) * h
        values, extra["method"] = integrate.generate(cls(), start, t_eval, h, lags)
        if path is not None:
            write_cache(path, spec_json, values, extra)

    meta = {
        **{k: v for k, v in json.loads(spec_json).items() if k != "format"},  # fresh copies
        "postprocessed": bool(extra.get("postprocessed", False)),
        "method": extra.get("method", METHOD),
        "ic_origin": origin,
        "seed": seed,
        "ic_perturbation": IC_PERTURBATION if seed > 0 else 0.0,
        "t0": offset + transient * h,
        "noise": float(noise),
        "cache_format": CACHE_FORMAT,
        "cache_file": str(path) if path is not None else None,
    }
    series = TimeSeries(
        values,
        dt=h,
        names=extra["names"],
        source=f"dysts:{key}",
        meta=meta,
    )
    return series.add_noise(float(noise), seed=seed) if noise > 0 else series
